r"""The :math:`L_2` penalty of a training step on the rows of the embedding
tables that the batch uses, with a gradient that touches those rows only."""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

from pyg_simce.nn.conv.row_block import strictly_increasing

Rows = Tuple[Tensor, Tensor, Tensor]  # (table, distinct sorted rows, counts)


class _RowsL2(torch.autograd.Function):
    # sum_t sum_r counts[r] * ||table_t[r]||^2 * scale, whose gradient on
    # table t is 2 * scale * counts[r] * table_t[r] on the rows r and zero
    # elsewhere: returned as a sparse COO tensor, which the autograd engine
    # adds in place into the table's dense gradient from the rest of the
    # step (no zero-filled table, no sort of the rows).
    @staticmethod
    def forward(ctx, scale: float, rows: Tuple[Tensor, ...],
                counts: Tuple[Tensor, ...], *tables: Tensor) -> Tensor:
        picked = [t.index_select(0, r) for t, r in zip(tables, rows)]
        total = tables[0].new_zeros(())
        for p, c in zip(picked, counts):
            total = total + (p.square().sum(dim=1) * c).sum()
        ctx.scale, ctx.rows, ctx.counts = scale, rows, counts
        ctx.shapes = [t.shape for t in tables]
        ctx.save_for_backward(*picked)
        return total * scale

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor) -> Tuple[Optional[Tensor], ...]:
        out = []
        for k, p in enumerate(ctx.saved_tensors):
            if not ctx.needs_input_grad[3 + k]:
                out.append(None)
                continue
            rows, counts = ctx.rows[k], ctx.counts[k]
            values = p * (counts * (2.0 * ctx.scale) * grad).unsqueeze(1)
            # Distinct increasing rows are a coalesced index, which keeps
            # the engine's dense += sparse a plain indexed add.
            out.append(torch.sparse_coo_tensor(
                rows.unsqueeze(0), values, ctx.shapes[k],
                is_coalesced=strictly_increasing(rows),
                check_invariants=False))
        return (None, None, None, *out)


def rows_l2_penalty(rows: Sequence[Rows], batch_size: int,
                    weight: float) -> Tensor:
    r"""The :math:`L_2` penalty of the `LightGCN
    <https://arxiv.org/abs/2002.02126>`_ convention on the layer-0 rows a
    batch uses, every row counted as often as the batch uses it,

    .. math::
        \mathcal{R} = \frac{\lambda}{2B} \sum_{(\mathbf{E}, r, c)}
        c_r \, \|\mathbf{E}_r\|_2^2,

    equal in value and gradient to
    :func:`~pyg_simce.nn.loss.l2_regularization` of the rows repeated
    :math:`c_r` times.  The gradient of each table is sparse, on its rows
    only; the autograd engine adds it into the table's dense gradient from
    the rest of the step, so the penalty allocates nothing of the size of a
    table.  A table that receives no other gradient gets a sparse
    :obj:`.grad` (:meth:`~pyg_simce.train.Trainer.fit` turns it dense
    before the optimizer step).

    Args:
        rows (sequence of (torch.Tensor, torch.Tensor, torch.Tensor)):
            :obj:`(table, index, counts)`: an embedding table :math:`[N,
            d]`, its distinct rows :obj:`[R]` (in increasing order, the
            fastest) and how often the batch uses each :obj:`[R]`.
        batch_size (int): The number of positive pairs :math:`B > 0`.
        weight (float): :math:`\lambda \geq 0`.
    """
    tables = tuple(t for t, _, _ in rows)
    index = tuple(r for _, r, _ in rows)
    counts = tuple(c.to(t.dtype) for t, _, c in rows)
    return _RowsL2.apply(float(weight) / (2.0 * batch_size), index, counts,
                         *tables)


def densify_gradients(params: Sequence[Tensor]) -> None:
    r"""Turns a sparse :obj:`.grad` (a table that received only the sparse
    gradient of :func:`rows_l2_penalty`) into a dense one, which every
    optimizer of the trainer expects."""
    for p in params:
        if p.grad is not None and p.grad.layout != torch.strided:
            p.grad = p.grad.to_dense()
