r"""Input checks of the ranking losses: hyper-parameters, ragged indices and
the error raised on a non-finite loss."""
import math
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor

REDUCTIONS = ('mean', 'sum', 'none')


def check_reduction(reduction: str) -> str:
    r"""Validates a :obj:`reduction` argument (one of :obj:`REDUCTIONS`)
    and returns it."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"Expected 'reduction' to be one of {REDUCTIONS} "
                         f"(got {reduction!r})")
    return reduction


def check_float(name: str, value: float, *, positive: bool = False,
                non_negative: bool = False) -> float:
    r"""Validates a scalar hyper-parameter and returns it as :obj:`float`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"Expected '{name}' to be a number (got "
                         f"{value!r})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"Expected '{name}' to be finite (got {value})")
    if positive and not value > 0:
        raise ValueError(f"Expected '{name}' to be positive (got {value})")
    if non_negative and value < 0:
        raise ValueError(f"Expected '{name}' to be non-negative (got "
                         f"{value})")
    return value


def check_scores(name: str, scores: Tensor) -> None:
    r"""Validates that the input :obj:`name` is a floating-point tensor."""
    if not isinstance(scores, Tensor):
        raise ValueError(f"Expected '{name}' to be a tensor (got "
                         f"{type(scores).__name__})")
    if not scores.is_floating_point():
        raise ValueError(f"Expected '{name}' to hold floating-point "
                         f"scores (got dtype {scores.dtype})")


#: Floating dtypes that the losses compute in :obj:`torch.float32`.
HALF_DTYPES = (torch.float16, torch.bfloat16)


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    r"""The dtype a loss computes in for inputs of :obj:`dtype`:
    :obj:`torch.float32` for half precision (:obj:`torch.float16`,
    :obj:`torch.bfloat16`), where :math:`s / \tau` overflows and a
    log-sum-exp loses the loss to rounding, else :obj:`dtype` itself."""
    return torch.float32 if dtype in HALF_DTYPES else dtype


def check_index(index: Tensor) -> Tensor:
    r"""Validates a one-dimensional integer :obj:`index` and returns it as
    :obj:`torch.long` (its range is checked by
    :class:`~pyg_simce.nn.loss.ragged_groups.RaggedGroups`)."""
    if not isinstance(index, Tensor):
        raise ValueError(f"Expected 'index' to be a tensor (got "
                         f"{type(index).__name__})")
    if index.dtype not in (torch.long, torch.int, torch.short,
                           torch.uint8, torch.int8):
        raise ValueError(f"Expected 'index' to hold integers (got dtype "
                         f"{index.dtype})")
    if index.dim() != 1:
        raise ValueError(f"Expected 'index' to be one-dimensional [E] (got "
                         f"shape {tuple(index.shape)})")
    return index.long()


def raise_non_finite(inputs: Dict[str, Optional[Tensor]],
                     neg_inf_ok: Sequence[str] = ('neg', )) -> None:
    r"""Raises the :class:`ValueError` of a non-finite loss, naming the
    first input of :obj:`inputs` that holds a non-finite value.

    Args:
        inputs (Dict[str, torch.Tensor]): The inputs by argument name;
            :obj:`None` entries are skipped.
        neg_inf_ok (Sequence[str], optional): Names of the inputs in which
            :obj:`-inf` is allowed (it marks an absent negative).
            (default: :obj:`('neg', )`)
    """
    for name, t in inputs.items():
        if t is None:
            continue
        t = t.detach()
        if name not in neg_inf_ok:
            bad = ~torch.isfinite(t)
        else:  # -inf negatives are allowed (they act as absent)
            bad = torch.isnan(t) | (t == float('inf'))
        if bool(bad.any()):
            raise ValueError(f"Expected finite scores; '{name}' holds "
                             f"{int(bad.sum())} non-finite value(s)")
    raise ValueError("The loss is non-finite for these inputs (check "
                     "'pos', 'neg' and any log-probabilities for infinite "
                     "values)")


__all__ = [
    'REDUCTIONS',
    'check_reduction',
    'check_float',
    'check_scores',
    'check_index',
    'compute_dtype',
    'raise_non_finite',
]
