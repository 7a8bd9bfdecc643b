import re

import pytest
import torch

from pyg_simce.data import RATES, dataset_statistics, load_dataset
from pyg_simce.testing import require_shared_data

PRESPLIT = {
    # name: (directory, users, items, train, test)
    'gowalla': ('gowalla', 29_858, 40_981, 810_128, 217_242),
    'yelp2018': ('yelp2018', 31_668, 38_048, 1_237_259, 324_147),
    'ml-1m': ('ml-1m-ultragcn', 6_022, 3_043, 796_244, 99_455),
}


@pytest.mark.parametrize('name', list(PRESPLIT))
def test_presplit_statistics(name):
    directory, users, items, train, test = PRESPLIT[name]
    root = require_shared_data(directory).parent
    split = load_dataset(name, root=root)
    stats = dataset_statistics(split)
    assert (stats['users'], stats['items'], stats['train'],
            stats['test']) == (users, items, train, test)
    assert stats['interactions'] == train + test
    assert stats['duplicates_removed'] == 0
    assert split.val is None
    # The ids are already contiguous and 0-based: the mapping is the
    # identity, so results stay comparable with the reference code.
    assert torch.equal(split.train['user'].raw_id, torch.arange(users))
    assert torch.equal(split.train['item'].raw_id, torch.arange(items))
    tr = split.train[RATES].edge_index
    te = split.test[RATES].edge_label_index
    key_tr = tr[0] * items + tr[1]
    key_te = te[0] * items + te[1]
    assert not torch.isin(key_te, key_tr).any()  # disjoint parts


def test_ml100k_statistics():
    root = require_shared_data('ml-100k', 'u.data').parent.parent
    split = load_dataset('ml-100k', root=root)
    stats = dataset_statistics(split)
    assert (stats['users'], stats['items'], stats['interactions']) == (
        943, 1_682, 100_000)
    assert stats['duplicates_removed'] == 0
    # 80/20 per user: every user has >= 20 ratings, so exactly round(0.2 d)
    deg = torch.bincount(
        torch.cat([split.train[RATES].edge_index[0],
                   split.test[RATES].edge_label_index[0]]), minlength=943)
    n_test = torch.bincount(split.test[RATES].edge_label_index[0],
                            minlength=943)
    assert torch.equal(n_test, torch.floor(deg * 0.2 + 0.5).long())
    assert stats['train'] == 100_000 - int(n_test.sum())
    assert 'time' in split.train[RATES] and 'rating' in split.train[RATES]
    positive = load_dataset('ml-100k', root=root, rating_threshold=4)
    assert dataset_statistics(positive)['interactions'] == 34_174 + 21_201


def test_irbench_against_summary():
    directory = require_shared_data('irbench', 'amazon2014-health')
    text = (directory / 'summary.txt').read_text()

    def field(name):
        return int(re.search(rf'{name}: (\d+)', text).group(1))

    split = load_dataset('irbench/amazon2014-health',
                         root=directory.parent.parent)
    stats = dataset_statistics(split)
    assert stats['users'] == field('Number of users')
    assert stats['items'] == field('Number of items')
    assert stats['train'] == field('Number of train interactions')
    assert stats['test'] == field('Number of test interactions')
    assert stats['interactions'] == field('Number of interactions')
    assert f"{stats['density']:.5f}" == re.search(r'Density: ([\d.]+)',
                                                  text).group(1)
    test_items = split.test[RATES].edge_label_index[1].unique().numel()
    assert test_items == field('Number of unique items in test')
