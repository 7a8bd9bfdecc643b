r""":class:`Trainer` refuses validation or test targets that are training
pairs (they can never be hit: training items are masked at evaluation), or
drops them with ``drop_overlap=True``."""
import copy

import pytest
import torch

from pyg_simce.data import load_dataset
from pyg_simce.nn.loss import BPRLoss
from pyg_simce.nn.models import MF
from pyg_simce.train import Trainer

RATES = ('user', 'rates', 'item')


@pytest.fixture(scope='module')
def split():
    return load_dataset('synthetic', num_users=60, num_items=40, seed=0)


def _with_overlap(split, part, num):
    r"""A copy of :obj:`part` whose targets gain the first :obj:`num`
    training pairs."""
    out = copy.copy(getattr(split, part))
    train = split.train[RATES].edge_index
    out[RATES].edge_label_index = torch.cat(
        [out[RATES].edge_label_index, train[:, :num]], 1)
    return out


def _trainer(split, val=None, test=None, **kwargs):
    model = MF(split.num_users, split.num_items, embedding_dim=8)
    return Trainer(model, BPRLoss(), split.train,
                   val_data=split.val if val is None else val,
                   test_data=split.test if test is None else test,
                   batch_size=64, ks=(5, ), quiet=True, **kwargs)


def _pairs(data):
    return {tuple(p) for p in data[RATES].edge_label_index.t().tolist()}


def test_clean_split_is_accepted(split):
    trainer = _trainer(split)
    assert trainer.test_data is split.test and trainer.val_data is split.val


def test_test_overlap_is_refused_with_count(split):
    test = _with_overlap(split, 'test', 5)
    with pytest.raises(ValueError) as e:
        _trainer(split, test=test)
    msg = str(e.value)
    assert msg.startswith('Trainer: 5 test pairs are also training pairs; ')
    assert 'training items are masked at evaluation' in msg
    assert 'drop_overlap=True' in msg


def test_validation_overlap_is_refused(split):
    val = _with_overlap(split, 'val', 3)
    with pytest.raises(ValueError, match='3 validation pairs are also '
                       'training pairs'):
        _trainer(split, val=val)


def test_test_pair_in_validation_is_refused(split):
    test = copy.copy(split.test)
    val_pairs = split.val[RATES].edge_label_index[:, :2]
    test[RATES].edge_label_index = torch.cat(
        [test[RATES].edge_label_index, val_pairs], 1)
    with pytest.raises(ValueError, match='2 test pairs are also validation '
                       'pairs'):
        _trainer(split, test=test)


def test_drop_overlap_drops_and_warns(split):
    test = _with_overlap(split, 'test', 4)
    val = _with_overlap(split, 'val', 2)
    before = test[RATES].edge_label_index.clone()
    with pytest.warns(UserWarning, match='2 validation pairs and 4 test '
                      'pairs are also training pairs'):
        trainer = _trainer(split, val=val, test=test, drop_overlap=True)
    train = {tuple(p) for p in split.train[RATES].edge_index.t().tolist()}
    assert _pairs(trainer.test_data) == _pairs(split.test)
    assert _pairs(trainer.val_data) == _pairs(split.val)
    assert not _pairs(trainer.test_data) & train
    assert trainer.test_data.num_overlap_dropped == 4
    assert trainer.val_data.num_overlap_dropped == 2
    assert torch.equal(test[RATES].edge_label_index, before)  # untouched
    metrics = trainer.evaluate('test')
    assert 0.0 <= metrics['recall@5'] <= 1.0
