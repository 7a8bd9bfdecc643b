r"""Row blocks of a cached CSR adjacency: the products behind a propagation
of which a loss reads only some rows.

With :math:`\mathbf{S}` the selection of the requested rows, the forward
product is :math:`(\mathbf{S}\hat{\mathbf{A}})\mathbf{X}` on the entries of
those rows only, and its backward is the transposed product
:math:`(\mathbf{S}\hat{\mathbf{A}})^{\top}\nabla` of the same block, so that
neither touches the rest of the graph.  Repeated ids are computed once and
their gradients summed.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from pyg_simce.nn.conv.sparse_adjacency import (
    csr_matmul,
    csr_select_rows,
    csr_spmm,
    csr_transpose,
)


def check_index(index: Tensor, size: int, name: str) -> None:
    r"""Raises a :class:`ValueError` naming :obj:`name` unless :obj:`index`
    is a 1-dimensional integer tensor of ids in :obj:`[0, size)`."""
    if not isinstance(index, Tensor) or index.dim() != 1 or \
            index.dtype.is_floating_point or index.is_complex() or \
            index.dtype == torch.bool:
        raise ValueError(f"'{name}' expected a 1-dimensional integer tensor "
                         f"(got {getattr(index, 'dtype', type(index))} "
                         f"with shape {list(getattr(index, 'shape', []))})")
    if index.numel() > 0:
        lo, hi = torch.aminmax(index)
        lo, hi = int(lo), int(hi)
        if lo < 0 or hi >= size:
            raise ValueError(f"'{name}' expected ids in [0, {size}) "
                             f"(got min {lo}, max {hi})")


def unique_rows(index: Tensor) -> Tuple[Tensor, Tensor]:
    r"""Returns the sorted distinct ids of :obj:`index` (as :obj:`torch.long`)
    and the map :obj:`inverse` with :obj:`unique[inverse] == index`."""
    unique, inverse = torch.unique(index.long(), sorted=True,
                                   return_inverse=True)
    return unique, inverse


def strictly_increasing(index: Tensor) -> bool:
    r"""Whether :obj:`index` holds distinct ids in increasing order (a
    coalesced sparse index: the rows a training step asks)."""
    return index.numel() < 2 or bool((index[1:] > index[:-1]).all())


def distinct_rows(index: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
    r"""Returns :obj:`(unique, inverse)` as :func:`unique_rows` does, with
    :obj:`inverse=None` when :obj:`index` already holds distinct increasing
    ids (the rows a training step asks), which are then used as they are:
    no sort, no identity gather, no re-summed gradient."""
    index = index.long()
    if strictly_increasing(index):
        return index, None
    return unique_rows(index)


def is_small_block(adj: Tensor, index: Tensor, fraction: float = 0.5) -> bool:
    r"""Whether the rows :obj:`index` of the CSR matrix :obj:`adj` (counted
    with repeats) hold at most :obj:`fraction` of its entries, i.e. whether
    restricting a product to them pays for building their transposed block
    in the backward, rather than using the cached transpose of the whole
    matrix."""
    crow = adj.crow_indices().long()
    index = index.long()
    count = crow.index_select(0, index + 1) - crow.index_select(0, index)
    return int(count.sum()) <= fraction * adj.values().numel()


def csr_transposed_matmul(adj: Tensor, x: Tensor,
                          alpha: float = 1.0) -> Tensor:
    r"""Returns :math:`\alpha\mathbf{A}^{\top}\mathbf{X}` for a CSR matrix
    :obj:`adj` whose transpose is not cached (a row block): the transpose is
    built from the block's entries only (one sort of their column indices),
    and :math:`\alpha` scales the (small) :obj:`x`."""
    return csr_spmm(csr_transpose(adj), x if alpha == 1.0 else x * alpha)


def rows_gradient(grad: Tensor, inverse: Tensor, num_unique: int) -> Tensor:
    r"""Sums the gradient of the repeated rows :obj:`unique[inverse]` onto
    the :obj:`num_unique` distinct rows."""
    out = grad.new_zeros(num_unique, grad.size(1))
    return out.index_add_(0, inverse, grad)


class _RowsMatmul(torch.autograd.Function):
    # y = (A @ x)[index] from A's rows `unique` only; dx = A[unique]^T dy'.
    @staticmethod
    def forward(ctx, x: Tensor, adj: Tensor, index: Tensor) -> Tensor:
        unique, inverse = distinct_rows(index)
        ctx.sub = csr_select_rows(adj, unique)
        ctx.inverse, ctx.num_unique = inverse, unique.numel()
        out = csr_spmm(ctx.sub, x)
        return out if inverse is None else out.index_select(0, inverse)

    @staticmethod
    def backward(ctx, grad: Tensor):
        grad = grad.contiguous()
        if ctx.inverse is not None:
            grad = rows_gradient(grad, ctx.inverse, ctx.num_unique)
        return csr_transposed_matmul(ctx.sub, grad), None, None


def csr_matmul_rows(x: Tensor, adj: Tensor, adj_t: Tensor,
                    index: Tensor) -> Tensor:
    r"""Differentiable :obj:`(adj @ x)[index]` (:obj:`index` may repeat ids).
    When the requested rows hold few of the entries (see
    :func:`is_small_block`), only those entries are used and the backward is
    the transposed product of that row block; otherwise the whole product
    is computed with the cached transpose :obj:`adj_t` and indexed."""
    if is_small_block(adj, index):
        return _RowsMatmul.apply(x, adj, index)
    return csr_matmul(x, adj, adj_t).index_select(0, index.long())
