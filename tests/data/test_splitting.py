import math
from collections import Counter, defaultdict

import numpy as np
import pytest
import torch

from pyg_simce.data import (
    RATED_BY,
    RATES,
    Interactions,
    InteractionSplit,
    build_hetero_data,
    check_ratios,
    given_split,
    leave_one_out_split,
    random_split,
    split_data,
    temporal_split,
)


def make_data(seed=0, num_users=60, num_items=40, with_time=True):
    rng = np.random.default_rng(seed)
    deg = rng.integers(1, 25, size=num_users)
    user = np.repeat(np.arange(num_users) * 3 + 100, deg)
    item = np.concatenate(
        [rng.choice(num_items, size=d, replace=False) for d in deg]) * 2
    time = rng.integers(0, 50, size=len(user)) if with_time else None
    return build_hetero_data(user, item, timestamp=time)


def pairs(index):
    return list(map(tuple, index.t().tolist()))


def check_split(split, data):
    assert isinstance(split, InteractionSplit)
    all_pairs = pairs(data[RATES].edge_index)
    parts = [p for p in split if p is not None]
    train = split.train[RATES].edge_index
    targets = [pairs(p[RATES].edge_label_index) for p in parts]
    # Disjoint, and the union is the input.
    assert sum(len(t) for t in targets) == len(all_pairs)
    assert set().union(*map(set, targets)) == set(all_pairs)
    # Every part trains on the training edges, both directions.
    for part in parts:
        assert torch.equal(part[RATES].edge_index, train)
        assert torch.equal(part[RATED_BY].edge_index, train.flip([0]))
        assert part['user'].num_nodes == data['user'].num_nodes
        assert part['item'].num_nodes == data['item'].num_nodes
        assert torch.equal(part['user'].raw_id, data['user'].raw_id)
        assert torch.equal(part['item'].raw_id, data['item'].raw_id)
        part.validate()
    assert torch.equal(split.train[RATES].edge_label_index, train)
    # Every user with interactions keeps at least one for training.
    users = set(data[RATES].edge_index[0].tolist())
    assert set(train[0].tolist()) == users
    # Edge attributes follow the training edges.
    if 'time' in data[RATES]:
        lookup = dict(zip(all_pairs, data[RATES].time.tolist()))
        assert split.train[RATES].time.tolist() == [
            lookup[p] for p in pairs(train)
        ]


@pytest.mark.parametrize('ratios', [(0.7, 0.1, 0.2), (0.8, 0.0, 0.2),
                                    (0.8, 0.2), (0.5, 0.25, 0.25)])
def test_random_split_invariants_and_counts(ratios):
    data = make_data()
    split = random_split(data, ratios, seed=3)
    check_split(split, data)
    r_train, r_val, r_test = check_ratios(ratios)
    assert (split.val is None) == (r_val == 0)
    deg = Counter(data[RATES].edge_index[0].tolist())
    got = defaultdict(Counter)
    for name, part in split._asdict().items():
        if part is not None:
            for u in part[RATES].edge_label_index[0].tolist():
                got[u][name] += 1
    for u, d in deg.items():
        n_test = math.floor(d * r_test + 0.5)
        n_val = math.floor(d * r_val + 0.5)
        n_test = min(n_test, d - 1)
        n_val = min(n_val, d - 1 - n_test)
        assert got[u]['test'] == n_test
        assert got[u]['val'] == n_val
        assert got[u]['train'] == d - n_val - n_test


@pytest.mark.parametrize('fn', [
    lambda d, s: random_split(d, (0.6, 0.2, 0.2), seed=s),
    lambda d, s: leave_one_out_split(d, validation=True, by_time=False,
                                     seed=s),
    lambda d, s: temporal_split(d, (0.7, 0.1, 0.2), seed=s),
])
def test_reproducible_from_seed(fn):
    data = make_data()
    a, b, c = fn(data, 1), fn(data, 1), fn(data, 2)
    check_split(a, data)
    for x, y in zip(a, b):
        assert torch.equal(x[RATES].edge_label_index,
                           y[RATES].edge_label_index)
        assert torch.equal(x[RATES].edge_index, y[RATES].edge_index)
    # Another seed gives another split (for temporal: other tie breaks,
    # timestamps here have many ties).
    assert set(pairs(a.test[RATES].edge_label_index)) != set(
        pairs(c.test[RATES].edge_label_index))


def test_different_seeds_differ():
    data = make_data()
    a = random_split(data, (0.8, 0.2), seed=0)
    b = random_split(data, (0.8, 0.2), seed=1)
    assert set(pairs(a.test[RATES].edge_label_index)) != set(
        pairs(b.test[RATES].edge_label_index))


def test_leave_one_out():
    data = make_data()
    split = leave_one_out_split(data, validation=True, seed=0)
    check_split(split, data)
    deg = Counter(data[RATES].edge_index[0].tolist())
    test_users = Counter(split.test[RATES].edge_label_index[0].tolist())
    val_users = Counter(split.val[RATES].edge_label_index[0].tolist())
    for u, d in deg.items():
        assert test_users[u] == (1 if d >= 2 else 0)
        assert val_users[u] == (1 if d >= 3 else 0)
    # by time (the default with timestamps): the held-out item is the latest
    time = dict(zip(pairs(data[RATES].edge_index), data[RATES].time.tolist()))
    train_max = defaultdict(int)
    for p in pairs(split.train[RATES].edge_index):
        train_max[p[0]] = max(train_max[p[0]], time[p])
    for p in pairs(split.test[RATES].edge_label_index):
        assert time[p] >= train_max[p[0]]
    assert leave_one_out_split(data).val is None


def test_temporal_split_orders_by_time():
    data = make_data()
    split = temporal_split(data, (0.6, 0.2, 0.2), seed=0)
    check_split(split, data)
    time = dict(zip(pairs(data[RATES].edge_index), data[RATES].time.tolist()))
    latest_train = defaultdict(lambda: -1)
    for p in pairs(split.train[RATES].edge_index):
        latest_train[p[0]] = max(latest_train[p[0]], time[p])
    for part in (split.val, split.test):
        for p in pairs(part[RATES].edge_label_index):
            assert time[p] >= latest_train[p[0]]
    with pytest.raises(ValueError, match='timestamps'):
        temporal_split(make_data(with_time=False))
    with pytest.raises(ValueError, match='timestamps'):
        leave_one_out_split(make_data(with_time=False), by_time=True)


@pytest.mark.parametrize('ratios', [(0.5, 0.6), (1.0, 0.0), (0.0, 1.0),
                                    (0.5, 0.2, 0.2, 0.1), (0.5, float('nan')),
                                    (1.2, -0.2), 'ab', 5])
def test_invalid_ratios(ratios):
    with pytest.raises(ValueError, match="'ratios'"):
        random_split(make_data(), ratios)


def test_split_data_dispatch_and_errors():
    data = make_data()
    a = split_data(data, 'random', (0.8, 0.2), seed=4)
    b = random_split(data, (0.8, 0.2), seed=4)
    assert torch.equal(a.test[RATES].edge_label_index,
                       b.test[RATES].edge_label_index)
    loo = split_data(data, 'leave_one_out', (0.8, 0.1, 0.1))
    assert loo.val is not None
    with pytest.raises(ValueError, match="'split'.*'random'"):
        split_data(data, 'bogus')
    with pytest.raises(ValueError, match="'seed'"):
        random_split(data, seed=-1)


def test_given_split_shares_ids_and_counts_duplicates():
    train = Interactions(np.array([10, 10, 20, 10]), np.array([1, 2, 1, 1]))
    test = Interactions(np.array([20, 30]), np.array([5, 1]))
    split = given_split(train, test)
    assert split.val is None
    assert split.train['user'].raw_id.tolist() == [10, 20, 30]
    assert split.train['item'].raw_id.tolist() == [1, 2, 5]
    assert split.train.num_duplicates == 1
    assert split.train[RATES].edge_index.tolist() == [[0, 0, 1], [0, 1, 0]]
    assert split.test[RATES].edge_label_index.tolist() == [[1, 2], [2, 0]]
    assert torch.equal(split.test[RATES].edge_index,
                       split.train[RATES].edge_index)
    val = Interactions(np.array([10]), np.array([5]))
    split = given_split(train, test, val)
    assert split.val[RATES].edge_label_index.tolist() == [[0], [2]]
