r""":mod:`pyg_simce.nn.loss.base` is kept for backward compatibility: every
name it used to define is re-exported from the module that now holds it."""
import pyg_simce.nn.loss as loss_pkg
from pyg_simce.nn.loss import base, checks, ragged_groups, ranking_loss
from pyg_simce.nn.loss import softmax_kernels


def test_base_reexports_the_new_homes():
    homes = {
        checks: ['REDUCTIONS', 'check_reduction', 'check_float'],
        ragged_groups: [
            'RaggedGroups', 'SEGMENT_MIN_GROUP_SIZE', 'uniform_fast_path',
            '_UNIFORM_FAST_PATH', '_GroupSum', '_Gather', '_GroupMax',
            '_all', '_is_sorted'
        ],
        softmax_kernels: [
            'softmax_ce_dense', 'softmax_ce_ragged', 'softplus',
            '_ShiftedExpSum'
        ],
        ranking_loss: ['RankingLoss'],
    }
    for module, names in homes.items():
        for name in names:
            assert getattr(base, name) is getattr(module, name), name
    assert base._check_index is checks.check_index
    assert base._raise_non_finite is checks.raise_non_finite
    assert base.__all__ == ['RankingLoss', 'RaggedGroups', 'REDUCTIONS',
                            'uniform_fast_path']
    assert loss_pkg.RankingLoss is base.RankingLoss


def test_uniform_fast_path_switch_is_shared():
    with base.uniform_fast_path(False):
        assert ragged_groups._UNIFORM_FAST_PATH == [False]
    assert ragged_groups._UNIFORM_FAST_PATH == [True]
