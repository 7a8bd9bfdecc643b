r"""Shared machinery of the ranking losses: input validation, the dense and
ragged call forms, per-group (segment) reductions and the final reduction."""
import contextlib
import math
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.utils import segment

REDUCTIONS = ('mean', 'sum', 'none')


# Hyper-parameter checks ######################################################


def check_reduction(reduction: str) -> str:
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


# Ragged groups ###############################################################

_UNIFORM_FAST_PATH = [True]


@contextlib.contextmanager
def uniform_fast_path(enabled: bool) -> Iterator[None]:
    r"""Context manager that enables or disables the dense fast path for
    sorted ragged inputs whose groups all have the same size (used by tests
    and benchmarks to exercise the general segment path)."""
    old = _UNIFORM_FAST_PATH[0]
    _UNIFORM_FAST_PATH[0] = bool(enabled)
    try:
        yield
    finally:
        _UNIFORM_FAST_PATH[0] = old


# Average group size from which a sorted index is reduced with contiguous
# segment kernels: below it, locating the group boundaries
# (:func:`torch.searchsorted`, :math:`O(B \log E)`) costs more than the
# segment reductions save over :meth:`~torch.Tensor.index_add_`.
SEGMENT_MIN_GROUP_SIZE = 16


class _GroupSum(torch.autograd.Function):
    r"""Per-group segment sum :obj:`[E] -> [B]` of a sorted index whose
    backward is a plain gather (:meth:`index_select`)."""
    @staticmethod
    def forward(ctx, src: Tensor, groups: 'RaggedGroups') -> Tensor:
        ctx.groups = groups
        return groups._sum_kernel(src)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tuple[Tensor, None]:
        return ctx.groups.gather(grad), None


class _Gather(torch.autograd.Function):
    r"""Broadcast :obj:`[B] -> [E]` of a sorted index; its backward is the
    per-group segment sum."""
    @staticmethod
    def forward(ctx, src: Tensor, groups: 'RaggedGroups') -> Tensor:
        ctx.groups = groups
        return src.index_select(0, groups.index)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tuple[Tensor, None]:
        return ctx.groups.sum(grad), None


class _GroupMax(torch.autograd.Function):
    r"""Per-group maximum with :obj:`-inf` for empty groups.

    The backward pass splits the gradient evenly among tied maxima (as
    :meth:`torch.amax` does); ties are only counted when there are any.
    """
    @staticmethod
    def forward(ctx, src: Tensor, groups: 'RaggedGroups') -> Tensor:
        out = groups.max_detached(src)
        ctx.groups = groups
        ctx.save_for_backward(src, out)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: Tensor) -> Tuple[Tensor, None]:
        src, out = ctx.saved_tensors
        groups: RaggedGroups = ctx.groups
        index = groups.index
        mask = src == out.index_select(0, index)
        # Without ties, exactly one element per finite group matches.
        if int(mask.count_nonzero()) != int(out.isfinite().count_nonzero()):
            ties = groups._sum_kernel(mask.to(out.dtype))
            grad_out = grad_out / ties.clamp_min(1.0)
        grad = grad_out.index_select(0, index)
        return grad.masked_fill_(mask.logical_not_(), 0.0), None


class RaggedGroups:
    r"""A validated ragged index: element :obj:`e` belongs to group (row)
    :obj:`index[e]` of :obj:`num_groups` groups.

    A sorted index (as built by :func:`torch.repeat_interleave` or
    :func:`~pyg_simce.nn.loss.in_batch_negatives`) is detected with one
    comparison pass and validated by its first and last entries; an
    unsorted index is validated with one :meth:`aminmax`.  Sums and
    broadcasts use :meth:`~torch.Tensor.index_add_` and
    :meth:`~torch.Tensor.index_select`, whose gradients are each other; a
    sorted index with groups of :obj:`16` or more elements on average
    reduces with contiguous segment sums instead
    (:func:`torch_geometric.utils.segment`, which uses
    :obj:`torch_scatter.segment_csr` when installed), its group boundaries
    :attr:`ptr` found with :func:`torch.searchsorted` when first needed.
    An unsorted index is never sorted: a sort of the :obj:`E` elements
    costs more than the scatter reductions it would replace.  Maxima use
    :meth:`torch.Tensor.scatter_reduce_` with an :obj:`-inf` initial value,
    so an empty group has maximum :obj:`-inf`.

    A sorted index whose groups all have :obj:`N` elements is exactly the
    dense layout; :attr:`uniform` is then :obj:`N` and the losses reshape to
    :obj:`[B, N]` and take their dense path.  Sortedness makes this an
    :math:`O(B)` check of the first and last element of every block of
    :obj:`N`.

    Args:
        index (torch.Tensor): Group of every element, shape :obj:`[E]`.
        num_groups (int): Number of groups :obj:`B`.
    """
    def __init__(self, index: Tensor, num_groups: int):
        index = _check_index(index)
        E, B = index.numel(), num_groups
        self.index = index
        self.num_groups = B
        self.sorted = _is_sorted(index)
        if E > 0:
            if self.sorted:
                lo, hi = int(index[0]), int(index[-1])
            else:
                lo_t, hi_t = index.aminmax()
                lo, hi = int(lo_t), int(hi_t)
            if lo < 0 or hi >= B:
                raise ValueError(f"Expected 'index' values in [0, {B}) (the "
                                 f"rows of 'pos'; got range [{lo}, {hi}])")
        self._count: Optional[Tensor] = None
        self._ptr: Optional[Tensor] = None
        self._segment = False
        self.uniform: Optional[int] = None
        if not self.sorted or E == 0:
            return
        if E % B == 0 and _UNIFORM_FAST_PATH[0]:
            # Sorted: block k is all k iff its first and last entries are.
            blocks = index.view(B, E // B)
            rows = torch.arange(B, device=index.device)
            if (_all(blocks[:, 0] == rows)
                    and _all(blocks[:, -1] == rows)):
                self.uniform = E // B
                return
        self._segment = E >= SEGMENT_MIN_GROUP_SIZE * B

    @property
    def ptr(self) -> Optional[Tensor]:
        r"""Group boundaries :obj:`[B + 1]` of a sorted index reduced with
        segment kernels (found on first use), else :obj:`None`."""
        if self._segment and self._ptr is None:
            bounds = torch.arange(self.num_groups + 1,
                                  device=self.index.device)
            self._ptr = torch.searchsorted(self.index, bounds)
        return self._ptr

    def __len__(self) -> int:
        return self.index.numel()

    def count(self, dtype: Optional[torch.dtype] = None) -> Tensor:
        r"""Number of elements of each group, shape :obj:`[B]`."""
        if self._count is None:
            if self._segment:
                self._count = self.ptr.diff()
            elif self.uniform is not None:
                self._count = torch.full((self.num_groups, ), self.uniform,
                                         dtype=torch.long,
                                         device=self.index.device)
            else:  # (bincount would repeat the range check)
                ones = self.index.new_ones(1).expand(self.index.numel())
                self._count = self.index.new_zeros(
                    self.num_groups).index_add_(0, self.index, ones)
        return self._count if dtype is None else self._count.to(dtype)

    def _sum_kernel(self, src: Tensor) -> Tensor:
        if self.ptr is not None and src.numel() > 0:
            return segment(src, self.ptr, reduce='sum')
        return src.new_zeros(self.num_groups).index_add_(0, self.index, src)

    def sum(self, src: Tensor) -> Tensor:
        r"""Differentiable group sums :obj:`[E] -> [B]`."""
        if self.ptr is not None:
            return _GroupSum.apply(src, self)
        # Differentiable as is; the gradient of `src` is an index_select.
        return src.new_zeros(self.num_groups).index_add_(0, self.index, src)

    def mean(self, src: Tensor) -> Tensor:
        r"""Group means; an empty group has mean :obj:`0`."""
        return self.sum(src) / self.count(src.dtype).clamp_min(1.0)

    def max(self, src: Tensor) -> Tensor:
        r"""Differentiable group maxima; :obj:`-inf` for empty groups."""
        return _GroupMax.apply(src, self)

    def max_detached(self, src: Tensor) -> Tensor:
        r"""Group maxima without gradient; :obj:`-inf` for empty groups."""
        src = src.detach()
        out = src.new_full((self.num_groups, ), float('-inf'))
        return out.scatter_reduce_(0, self.index, src, reduce='amax',
                                   include_self=True)

    def gather(self, per_group: Tensor) -> Tensor:
        r"""Differentiable broadcast of a :obj:`[B]` tensor to the
        :obj:`[E]` elements."""
        if self.ptr is not None:
            return _Gather.apply(per_group, self)
        # Differentiable as is; the gradient is an index_add_.
        return per_group.index_select(0, self.index)


def _all(mask: Tensor) -> bool:
    r""":obj:`mask.all()` of a non-empty boolean tensor, as a vectorised
    :obj:`uint8` minimum (several times faster on CPU than the boolean
    reduction)."""
    return bool(mask.view(torch.uint8).amin())


def _is_sorted(index: Tensor) -> bool:
    r"""Whether :obj:`index` is non-decreasing.  A long index is first
    checked on a strided sample of about 1024 entries, which rejects an
    index in arbitrary order without a full pass."""
    E = index.numel()
    if E <= 1:
        return True
    if E > 4096:
        sample = index[::E // 1024]
        if not _all(sample[1:] >= sample[:-1]):
            return False
    return _all(index[1:] >= index[:-1])


def _check_index(index: Tensor) -> Tensor:
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


# Softmax cross-entropy core ##################################################


def softmax_ce_dense(pos: Tensor, neg: Tensor) -> Tensor:
    r""":math:`\log(e^{p} + \sum_j e^{n_j}) - p` per row, stably."""
    m = torch.maximum(pos, neg.amax(dim=1)).detach()
    total = (pos - m).exp() + (neg - m.unsqueeze(1)).exp().sum(dim=1)
    return total.log() + m - pos


class _ShiftedExpSum(torch.autograd.Function):
    r"""Per-group :math:`t_b = \sum_{j \in b} e^{x_j}` of the logits
    :math:`x_j = \alpha n_j - o_j - p_b`, with the gradients in closed form:
    :math:`\partial t_b / \partial n_j = \alpha e^{x_j}`,
    :math:`\partial t_b / \partial o_j = -e^{x_j}` and
    :math:`\partial t_b / \partial p_b = -t_b`.  The gradient of :obj:`pos`
    thus needs no pass over the :obj:`E` elements, and that of :obj:`neg`
    one gather and one product."""
    @staticmethod
    def forward(ctx, pos: Tensor, neg: Tensor, offset: Optional[Tensor],
                groups: 'RaggedGroups', scale: float) -> Tensor:
        x = torch.add(pos.neg().index_select(0, groups.index), neg,
                      alpha=scale)
        if offset is not None:
            x = x.sub_(offset)
        e = x.exp_()
        total = groups._sum_kernel(e)
        ctx.groups, ctx.scale = groups, scale
        ctx.save_for_backward(e, total)
        return total

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor
                 ) -> Tuple[Optional[Tensor], ...]:
        e, total = ctx.saved_tensors
        groups: RaggedGroups = ctx.groups
        grad_pos = grad_neg = grad_offset = None
        if ctx.needs_input_grad[0]:
            grad_pos = -(grad * total)
        if ctx.needs_input_grad[2]:
            grad_offset = (-grad).index_select(0, groups.index).mul_(e)
        if ctx.needs_input_grad[1]:
            grad_neg = (grad * ctx.scale).index_select(0, groups.index)
            grad_neg = grad_neg.mul_(e)
        return grad_pos, grad_neg, grad_offset, None, None


def softmax_ce_ragged(pos: Tensor, neg: Tensor, groups: RaggedGroups,
                      scale: float = 1.0,
                      neg_offset: Optional[Tensor] = None) -> Tensor:
    r"""Ragged form of :func:`softmax_ce_dense` on the logits :obj:`pos`
    and :obj:`scale * neg - neg_offset`; an empty group gives
    :math:`\log e^{p} - p = 0`.

    The loss equals :math:`\log(1 + \sum_j e^{n_j - p})`.  Shifting by the
    positive is exact whenever no :math:`e^{n_j - p}` overflows (underflow
    only drops terms below the precision of :math:`\log(1 + \cdot)`), and
    needs no per-group maximum; scaling, offset and shift are fused into one
    pass and the gradients are taken in closed form.  On overflow the
    per-group maximum shift is used instead.
    """
    total = _ShiftedExpSum.apply(pos, neg, neg_offset, groups, scale)
    if bool(torch.isfinite(total.detach()).all()):
        return torch.log1p(total)
    neg = neg * scale
    if neg_offset is not None:
        neg = neg - neg_offset
    m = torch.maximum(pos.detach(), groups.max_detached(neg))
    total = (pos - m).exp() + groups.sum((neg - groups.gather(m)).exp())
    return total.log() + m - pos


# Base class ##################################################################


class RankingLoss(torch.nn.Module):
    r"""Base class of the ranking losses of :mod:`pyg_simce.nn.loss`.

    Every loss scores one positive item against a set of negative items per
    row and accepts two call forms:

    * **dense** :obj:`loss(pos, neg)` with :obj:`pos` of shape :obj:`[B]`
      and :obj:`neg` of shape :obj:`[B, N]` (the same :obj:`N` negatives
      per positive);
    * **ragged** :obj:`loss(pos, neg, index)` with :obj:`neg` and
      :obj:`index` of shape :obj:`[E]`, where :obj:`index[e]` is the row of
      :obj:`pos` that negative :obj:`e` belongs to.  Rows may own different
      numbers of negatives, including none; this is how accidental hits and
      false negatives are *removed* rather than kept.  :obj:`index` needs
      not be sorted.

    Both forms give identical values and gradients when the ragged negatives
    are the dense ones (:obj:`index = arange(B).repeat_interleave(N)`).
    Subclasses implement :meth:`dense` and :meth:`ragged`, each returning the
    per-positive loss of shape :obj:`[B]`.

    Scores may be any finite numbers; :obj:`-inf` negatives are allowed and
    act as absent for the softmax- and hinge-type losses.  A non-finite loss
    raises :class:`ValueError` naming the offending input instead of
    returning :obj:`nan`.

    Args:
        reduction (str, optional): :obj:`"mean"` (average over the
            :obj:`B` positives), :obj:`"sum"`, or :obj:`"none"` (the
            per-positive loss :obj:`[B]`). (default: :obj:`"mean"`)
    """
    def __init__(self, reduction: str = 'mean'):
        super().__init__()
        self.reduction = check_reduction(reduction)

    # Interface -------------------------------------------------------------

    def dense(self, pos: Tensor, neg: Tensor) -> Tensor:  # pragma: no cover
        raise NotImplementedError

    def ragged(self, pos: Tensor, neg: Tensor,
               groups: RaggedGroups) -> Tensor:  # pragma: no cover
        raise NotImplementedError

    def forward(self, pos: Tensor, neg: Tensor,
                index: Optional[Tensor] = None) -> Tensor:
        r"""
        Args:
            pos (torch.Tensor): Positive scores :obj:`[B]`.
            neg (torch.Tensor): Negative scores, :obj:`[B, N]` (dense) or
                :obj:`[E]` (ragged).
            index (torch.Tensor, optional): Row of :obj:`pos` of every
                ragged negative, :obj:`[E]`. (default: :obj:`None`)
        """
        pos, neg, groups, _ = self._prepare(pos, neg, index)
        out = self._dispatch(pos, neg, groups)
        return self._finish(out, {'pos': pos, 'neg': neg})

    # Helpers ---------------------------------------------------------------

    def _dispatch(self, pos: Tensor, neg: Tensor,
                  groups: Optional[RaggedGroups], dense_fn=None,
                  ragged_fn=None) -> Tensor:
        dense_fn = self.dense if dense_fn is None else dense_fn
        ragged_fn = self.ragged if ragged_fn is None else ragged_fn
        if groups is None:
            return dense_fn(pos, neg)
        if groups.uniform is not None:  # sorted, equal sizes: dense layout
            return dense_fn(pos, neg.view(pos.numel(), groups.uniform))
        return ragged_fn(pos, neg, groups)

    def _prepare(
        self,
        pos: Tensor,
        neg: Tensor,
        index: Optional[Tensor],
        aux: Sequence[Tuple[str, Optional[Tensor]]] = (),
    ) -> Tuple[Tensor, Tensor, Optional[RaggedGroups], List[Optional[Tensor]]]:
        r"""Validates the inputs and returns :obj:`(pos, neg, groups, aux)`
        with a common floating dtype; :obj:`groups` is :obj:`None` for the
        dense form.  :obj:`aux` are optional tensors aligned with
        :obj:`neg` (e.g. :obj:`log_q`)."""
        for name, t in (('pos', pos), ('neg', neg)):
            if not isinstance(t, Tensor):
                raise ValueError(f"Expected '{name}' to be a tensor (got "
                                 f"{type(t).__name__})")
            if not t.is_floating_point():
                raise ValueError(f"Expected '{name}' to hold floating-point "
                                 f"scores (got dtype {t.dtype})")
        if pos.dim() != 1:
            raise ValueError(f"Expected 'pos' to be one-dimensional [B] (got "
                             f"shape {tuple(pos.shape)})")
        if pos.numel() == 0:
            raise ValueError("Expected a non-empty batch; 'pos' has no "
                             "elements (got shape [0])")
        if neg.device != pos.device:
            raise ValueError(f"Expected 'pos' and 'neg' on one device (got "
                             f"{pos.device} and {neg.device})")
        dtype = torch.promote_types(pos.dtype, neg.dtype)
        pos, neg = pos.to(dtype), neg.to(dtype)
        B = pos.numel()

        if index is None:
            if neg.dim() != 2 or neg.size(0) != B:
                raise ValueError(f"Expected 'neg' of shape [B, N] = [{B}, N] "
                                 f"in the dense form (got shape "
                                 f"{tuple(neg.shape)}); pass 'index' for "
                                 f"ragged negatives")
        else:
            if neg.dim() != 1:
                raise ValueError(f"Expected 'neg' to be one-dimensional [E] "
                                 f"in the ragged form (got shape "
                                 f"{tuple(neg.shape)})")
            if isinstance(index, Tensor) and index.shape != neg.shape:
                raise ValueError(f"Expected 'index' to match 'neg' in length "
                                 f"(got {tuple(index.shape)} and "
                                 f"{tuple(neg.shape)})")
            if isinstance(index, Tensor) and index.device != neg.device:
                raise ValueError(f"Expected 'index' on the device of 'neg' "
                                 f"(got {index.device} and {neg.device})")

        out_aux: List[Optional[Tensor]] = []
        for name, t in aux:
            if t is None:
                out_aux.append(None)
                continue
            if not isinstance(t, Tensor) or not t.is_floating_point():
                raise ValueError(f"Expected '{name}' to be a floating-point "
                                 f"tensor (got {t!r:.60})")
            if t.shape != neg.shape:
                raise ValueError(f"Expected '{name}' to have the shape of "
                                 f"'neg' {tuple(neg.shape)} (got "
                                 f"{tuple(t.shape)})")
            out_aux.append(t.to(device=neg.device, dtype=dtype))

        if index is None and neg.size(1) == 0:
            # No negatives at all: the ragged form with every group empty.
            neg = neg.reshape(0)
            out_aux = [None if t is None else t.reshape(0) for t in out_aux]
            index = torch.empty(0, dtype=torch.long, device=neg.device)

        groups = None if index is None else RaggedGroups(index, B)
        return pos, neg, groups, out_aux

    def _finish(self, out: Tensor, inputs: Dict[str, Optional[Tensor]]
                ) -> Tensor:
        if not bool(torch.isfinite(out.detach()).all()):
            _raise_non_finite(inputs)
        if self.reduction == 'mean':
            return out.mean()
        if self.reduction == 'sum':
            return out.sum()
        return out

    def _hparams(self) -> Dict[str, object]:
        return {}

    def __repr__(self) -> str:
        args = dict(self._hparams())
        args['reduction'] = self.reduction
        body = ', '.join(f'{k}={v!r}' for k, v in args.items())
        return f'{self.__class__.__name__}({body})'


def _raise_non_finite(inputs: Dict[str, Optional[Tensor]]) -> None:
    for name, t in inputs.items():
        if t is None:
            continue
        t = t.detach()
        if name != 'neg':
            bad = ~torch.isfinite(t)
        else:  # -inf negatives are allowed (they act as absent)
            bad = torch.isnan(t) | (t == float('inf'))
        if bool(bad.any()):
            raise ValueError(f"Expected finite scores; '{name}' holds "
                             f"{int(bad.sum())} non-finite value(s)")
    raise ValueError("The loss is non-finite for these inputs (check "
                     "'pos', 'neg' and any log-probabilities for infinite "
                     "values)")


def softplus(x: Tensor) -> Tensor:
    r"""Numerically stable :math:`\log(1 + e^x)`."""
    return F.softplus(x)


__all__ = ['RankingLoss', 'RaggedGroups', 'REDUCTIONS', 'uniform_fast_path']
