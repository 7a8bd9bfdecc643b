r"""Ragged (segment) groups of the ranking losses: a validated index of
negatives into the rows of the positives, with differentiable per-group sums,
means, maxima and broadcasts."""
import contextlib
from typing import Iterator, Optional, Tuple

import torch
from torch import Tensor
from torch_geometric.utils import segment

from pyg_simce.nn.loss.checks import check_index

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
        index = check_index(index)
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


__all__ = ['RaggedGroups', 'SEGMENT_MIN_GROUP_SIZE', 'uniform_fast_path']
