r"""Validation or test pairs that are also training pairs can never be hit at
evaluation: every pre-made split refuses them with their count, or drops
them on request; the seeded splits never produce them, even from repeated
rows.  Overlaps are counted here with Python sets of raw pairs, independently
of the library."""
import json
import warnings

import numpy as np
import pytest
import torch
from torch_geometric.data import HeteroData

from pyg_simce.cli import main
from pyg_simce.data import (
    Interactions,
    dataset_statistics,
    given_split,
    leave_one_out_split,
    load_data_dir,
    overlap_counts,
    pyg_to_split,
    random_split,
    split_data,
    temporal_split,
)

RATES = ('user', 'rates', 'item')


def inter(pairs):
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return Interactions(pairs[:, 0], pairs[:, 1])


def raw_pairs(data, key, part=None):
    r"""The (raw user, raw item) pairs of :obj:`key` of a part."""
    ei = getattr(data[RATES], key)
    ref = data if part is None else part
    users = ref['user'].raw_id[ei[0]].tolist()
    items = ref['item'].raw_id[ei[1]].tolist()
    return list(zip(users, items))


TRAIN = [(0, 1), (0, 2), (1, 2), (1, 3), (2, 0), (2, 4)]
# 2 test pairs that are training pairs, (0, 2) twice in the file.
TEST = [(0, 2), (0, 2), (1, 0), (2, 4), (2, 3)]


def test_given_split_refuses_overlap_with_count():
    with pytest.raises(ValueError) as e:
        given_split(inter(TRAIN), inter(TEST), source='toy')
    msg = str(e.value)
    assert msg.startswith('toy: 2 test pairs are also training pairs; ')
    assert 'can never be recommended because training items are masked at ' \
        'evaluation, so Recall/NDCG would be too low' in msg
    assert 'drop_overlap=True / --drop-overlap' in msg


def test_given_split_drops_overlap_and_warns():
    with pytest.warns(UserWarning, match='dropped .*2 test pairs are also '
                      'training pairs'):
        split = given_split(inter(TRAIN), inter(TEST), drop_overlap=True)
    train = set(raw_pairs(split.train, 'edge_index'))
    test = raw_pairs(split.test, 'edge_label_index')
    assert train == set(TRAIN)
    assert sorted(test) == [(1, 0), (2, 3)]
    assert not set(test) & train
    assert split.test.num_overlap_dropped == 2
    stats = dataset_statistics(split)
    assert stats['overlap'] == 0 and stats['overlap_dropped'] == 2


def test_given_split_validation_overlaps():
    val = [(0, 1), (1, 4)]  # (0, 1) is a training pair
    test = [(1, 4), (2, 3)]  # (1, 4) is a validation pair
    with pytest.raises(ValueError, match='1 validation pair is also a '
                       'training pair; 1 test pair is also a validation '
                       'pair'):
        given_split(inter(TRAIN), inter(test), inter(val))
    with pytest.warns(UserWarning):
        split = given_split(inter(TRAIN), inter(test), inter(val),
                            drop_overlap=True)
    assert raw_pairs(split.val, 'edge_label_index') == [(1, 4)]
    assert raw_pairs(split.test, 'edge_label_index') == [(2, 3)]
    assert overlap_counts(split) == {'val': 0, 'test': 0, 'test_val': 0}


def test_no_overlap_passes_silently():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        split = given_split(inter(TRAIN), inter([(1, 0), (2, 3)]))
    assert getattr(split.test, 'num_overlap_dropped', None) is None


def test_dropping_every_test_pair_is_refused():
    with pytest.raises(ValueError, match='expected test pairs left'):
        given_split(inter(TRAIN), inter([(0, 1), (1, 2)]), drop_overlap=True)


def _write(folder, train, test):
    folder.mkdir()
    for name, pairs in (('train.txt', train), ('test.txt', test)):
        lines = {}
        for u, i in pairs:
            lines.setdefault(u, []).append(str(i))
        (folder / name).write_text(''.join(f"{u} {' '.join(v)}\n"
                                           for u, v in lines.items()))
    return folder


def test_load_data_dir_names_files_and_count(tmp_path):
    folder = _write(tmp_path / 'lg', TRAIN, TEST)
    with pytest.raises(ValueError) as e:
        load_data_dir(folder, 'lightgcn')
    msg = str(e.value)
    assert str(folder / 'test.txt') in msg and str(folder / 'train.txt') in msg
    assert '2 test pairs are also training pairs' in msg
    with pytest.warns(UserWarning):
        split = load_data_dir(folder, 'lightgcn', drop_overlap=True)
    assert split.test.num_overlap_dropped == 2
    # Re-splitting merges the files: a pair is one interaction, in one part.
    split = load_data_dir(folder, 'lightgcn', split='random', seed=1)
    assert overlap_counts(split)['test'] == 0


def test_cli_data_stats(tmp_path, capsys):
    folder = _write(tmp_path / 'lg', TRAIN, TEST)
    args = ['data', 'stats', '--data', str(folder), '--format', 'lightgcn',
            '--json']
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code != 0
    err = capsys.readouterr().err
    assert '2 test pairs are also training pairs' in err
    assert '--drop-overlap' in err
    with pytest.warns(UserWarning):
        assert main(args + ['--drop-overlap']) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats['overlap_dropped'] == 2 and stats['overlap'] == 0
    # 6 training pairs and 2 test pairs (1, 0), (2, 3):
    assert (stats['interactions'], stats['train'], stats['test']) == (8, 6,
                                                                      2)


def test_statistics_count_an_overlapping_pair_once():
    split = given_split(inter(TRAIN), inter([(1, 0)]))
    # Build an overlapping split by hand, as a user could.
    test = split.test
    test[RATES].edge_label_index = torch.cat(
        [test[RATES].edge_label_index, split.train[RATES].edge_index[:, :3]],
        1)
    stats = dataset_statistics(split)
    assert stats['overlap'] == 3
    assert stats['interactions'] == len(set(TRAIN) | {(1, 0)}) == 7


def test_pyg_adapter_refuses_overlap():
    data = HeteroData()
    data['user'].num_nodes = 3
    data['item'].num_nodes = 5
    data[RATES].edge_index = torch.tensor(TRAIN).t()
    data[RATES].edge_label_index = torch.tensor([(0, 2), (1, 0)]).t()
    with pytest.raises(ValueError, match='1 test pair is also a training '
                       'pair'):
        pyg_to_split(data)
    with pytest.warns(UserWarning):
        split = pyg_to_split(data, drop_overlap=True)
    assert split.test[RATES].edge_label_index.tolist() == [[1], [0]]


def hand_made(with_time=False):
    r"""30 users, each with 6 distinct items, every row written 3 times."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(30):
        for i in rng.choice(40, 6, replace=False):
            rows += [(u, int(i))] * 3
    rows = np.array(rows)[rng.permutation(len(rows))]
    data = HeteroData()
    data['user'].num_nodes = 30
    data['item'].num_nodes = 40
    data[RATES].edge_index = torch.from_numpy(rows.T.copy())
    data[RATES].rating = torch.arange(len(rows), dtype=torch.float)
    if with_time:
        data[RATES].time = torch.from_numpy(rng.integers(0, 5, len(rows)))
    return data, {tuple(r) for r in rows.tolist()}, len(rows)


@pytest.mark.parametrize('how', ['random', 'random_val', 'loo', 'loo_val',
                                 'temporal', 'split_data'])
def test_splits_of_repeated_rows_do_not_overlap(how):
    data, distinct, num_rows = hand_made(with_time=True)
    before = data[RATES].edge_index.clone()
    with pytest.warns(UserWarning, match=f'got {num_rows - len(distinct)} '
                      'repeated rows'):
        split = {
            'random': lambda: random_split(data, (0.5, 0.5), seed=2),
            'random_val': lambda: random_split(data, (0.4, 0.3, 0.3)),
            'loo': lambda: leave_one_out_split(data),
            'loo_val': lambda: leave_one_out_split(data, validation=True),
            'temporal': lambda: temporal_split(data, (0.5, 0.5)),
            'split_data': lambda: split_data(data, 'random', (0.5, 0.5)),
        }[how]()
    train = [tuple(p) for p in split.train[RATES].edge_index.t().tolist()]
    parts = [[tuple(p) for p in part[RATES].edge_label_index.t().tolist()]
             for part in (split.val, split.test) if part is not None]
    assert len(train) == len(set(train))
    seen = set(train)
    for pairs in parts:
        assert len(pairs) == len(set(pairs)) > 0
        assert not set(pairs) & seen
        seen |= set(pairs)
    assert seen == distinct
    assert split.train.num_duplicates == num_rows - len(distinct)
    # The training edges keep the rating of their first row.
    rows = before.t().tolist()
    first = {}
    for k, pair in enumerate(rows):
        first.setdefault(tuple(pair), float(k))
    assert split.train[RATES].rating.tolist() == [first[p] for p in train]
    assert torch.equal(data[RATES].edge_index, before)  # input untouched
