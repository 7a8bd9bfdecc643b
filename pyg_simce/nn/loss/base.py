r"""Kept for backward compatibility: re-exports the shared machinery of the
ranking losses from the modules that now hold it,

* :mod:`pyg_simce.nn.loss.checks` (input checks and the non-finite error),
* :mod:`pyg_simce.nn.loss.ragged_groups` (:class:`RaggedGroups`, its
  autograd group kernels and :func:`uniform_fast_path`),
* :mod:`pyg_simce.nn.loss.softmax_kernels` (softmax cross-entropy kernels
  and :func:`softplus`),
* :mod:`pyg_simce.nn.loss.ranking_loss` (:class:`RankingLoss`).

New code should import from those modules (or from :mod:`pyg_simce.nn.loss`).
"""
from pyg_simce.nn.loss.checks import (  # noqa: F401
    REDUCTIONS,
    check_float,
    check_index,
    check_reduction,
    raise_non_finite,
)
from pyg_simce.nn.loss.ragged_groups import (  # noqa: F401
    _UNIFORM_FAST_PATH,
    SEGMENT_MIN_GROUP_SIZE,
    RaggedGroups,
    _all,
    _Gather,
    _GroupMax,
    _GroupSum,
    _is_sorted,
    uniform_fast_path,
)
from pyg_simce.nn.loss.ranking_loss import RankingLoss  # noqa: F401
from pyg_simce.nn.loss.softmax_kernels import (  # noqa: F401
    _ShiftedExpSum,
    softmax_ce_dense,
    softmax_ce_logits,
    softmax_ce_ragged,
    softplus,
)

# The former private names of the checks:
_check_index = check_index
_raise_non_finite = raise_non_finite

__all__ = ['RankingLoss', 'RaggedGroups', 'REDUCTIONS', 'uniform_fast_path']
