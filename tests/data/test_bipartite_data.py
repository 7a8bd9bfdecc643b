import numpy as np
import pytest
import torch

from pyg_simce.data import (
    RATED_BY,
    RATES,
    Interactions,
    build_hetero_data,
    raw_to_id,
    remap_ids,
)


def check_invariants(data):
    num_users = data['user'].num_nodes
    num_items = data['item'].num_nodes
    ei = data[RATES].edge_index
    assert ei.dtype == torch.long and ei.dim() == 2 and ei.size(0) == 2
    assert int(ei[0].min()) >= 0 and int(ei[0].max()) < num_users
    assert int(ei[1].min()) >= 0 and int(ei[1].max()) < num_items
    assert torch.equal(data[RATED_BY].edge_index, ei.flip([0]))
    assert len(data['user'].raw_id) == num_users
    assert len(data['item'].raw_id) == num_items
    pairs = set(map(tuple, ei.t().tolist()))
    assert len(pairs) == ei.size(1)
    data.validate()


def test_remap_dedup_and_round_trip():
    rng = np.random.default_rng(0)
    user = rng.choice([5, 17, 99, 1000, 3], size=300)
    item = rng.choice(np.arange(40) * 7 + 11, size=300)
    rating = rng.integers(1, 6, size=300).astype(float)
    time = rng.integers(0, 10**9, size=300)
    data = build_hetero_data(user, item, rating, time)
    check_invariants(data)
    first = {}
    for k, (u, i) in enumerate(zip(user.tolist(), item.tolist())):
        first.setdefault((u, i), k)
    assert data.num_duplicates == 300 - len(first)
    assert data['user'].num_nodes == len(set(user.tolist()))
    raw_u = data['user'].raw_id[data[RATES].edge_index[0]]
    raw_i = data['item'].raw_id[data[RATES].edge_index[1]]
    got = list(zip(raw_u.tolist(), raw_i.tolist()))
    assert got == sorted(first)  # sorted by (user, item), as raw ids sort
    keep = [first[p] for p in got]
    assert data[RATES].rating.tolist() == rating[keep].tolist()
    assert data[RATES].time.tolist() == time[keep].tolist()
    assert torch.equal(data[RATED_BY].time, data[RATES].time)
    # raw -> contiguous -> raw
    index = raw_to_id(data, 'user', user)
    assert data['user'].raw_id[index].tolist() == user.tolist()
    with pytest.raises(ValueError, match='unknown id 4'):
        raw_to_id(data, 'user', [5, 4])


def test_string_ids_round_trip():
    inter = Interactions(np.array(['bob', 'alice', 'bob', 'bob']),
                         np.array(['x', 'y', 'x', 'z']))
    data = build_hetero_data(*inter)
    check_invariants(data)
    assert data['user'].raw_id.tolist() == ['alice', 'bob']
    assert data['item'].raw_id.tolist() == ['x', 'y', 'z']
    assert data.num_duplicates == 1
    assert data[RATES].edge_index.tolist() == [[0, 1, 1], [1, 0, 2]]
    assert raw_to_id(data, 'item', ['z', 'x']).tolist() == [2, 0]


def test_vocabularies_keep_isolated_nodes():
    data = build_hetero_data([3, 3], [1, 2], user_vocab=np.array([0, 3, 8]),
                             item_vocab=np.arange(5))
    assert data['user'].num_nodes == 3 and data['item'].num_nodes == 5
    assert data[RATES].edge_index.tolist() == [[1, 1], [1, 2]]
    with pytest.raises(ValueError, match='unknown id 9'):
        build_hetero_data([9], [1], user_vocab=np.array([0, 3]))


def test_remap_ids_dense_and_sparse_paths_agree():
    raw = np.array([10**12, 5, 5, 7, 10**12])
    index, vocab = remap_ids(raw)
    assert vocab.tolist() == [5, 7, 10**12]
    assert index.tolist() == [2, 0, 0, 1, 2]
    index, vocab = remap_ids(np.array([4, 0, 4, 9]))
    assert vocab.tolist() == [0, 4, 9] and index.tolist() == [1, 0, 1, 2]


@pytest.mark.parametrize('user,item,fragment', [
    ([0, -1], [0, 1], "non-negative ids in 'user'"),
    ([0, 1], [0.5, 1], "integer ids in 'item'"),
    ([0, 1], [np.nan, 1], "finite ids in 'item'"),
    ([0, 1], [0], 'equal length'),
    ([], [], 'at least one interaction'),
    ([[0, 1]], [[0, 1]], 'one-dimensional'),
])
def test_bad_input(user, item, fragment):
    with pytest.raises(ValueError, match=fragment):
        build_hetero_data(np.array(user), np.array(item))


def test_bad_attributes():
    with pytest.raises(ValueError, match="'rating' of length 2"):
        build_hetero_data([0, 1], [0, 1], rating=[1.0])
    with pytest.raises(ValueError, match="finite values in 'time'"):
        build_hetero_data([0, 1], [0, 1], timestamp=[1.0, np.nan])


def test_tensor_input():
    data = build_hetero_data(torch.tensor([1, 0, 1]), torch.tensor([0, 0, 0]))
    check_invariants(data)
    assert data.num_duplicates == 1
    assert data[RATES].edge_index.tolist() == [[0, 1], [0, 0]]
