r"""The normalised user-item graph as its two bipartite blocks, for fused
multi-layer propagation without stacking the user and item tables."""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

from pyg_simce.nn.conv.norm import bipartite_norm
from pyg_simce.nn.conv.row_block import (
    csr_transposed_matmul,
    distinct_rows,
    is_small_block,
    rows_gradient,
)
from pyg_simce.nn.conv.sparse_adjacency import (
    csr_select_rows,
    csr_spmm,
    to_csr,
)

# (unique, inverse, num_unique); inverse None when the index is `unique`
# itself (distinct increasing ids, as a training step asks).
Rows = Optional[Tuple[Tensor, Optional[Tensor], int]]


def _take(x: Tensor, rows: Rows) -> Tensor:
    return x if rows is None else x.index_select(0, rows[0])


def _add_rows(t: Tensor, g: Tensor, rows: Rows, alpha: float) -> Tensor:
    # t += alpha * G, with G the gradient g placed on the (distinct) rows;
    # gather-add-copy is much faster than index_add_ on CPU.
    if rows is None:
        return t.add_(g, alpha=alpha)
    part = t.index_select(0, rows[0]).add_(g, alpha=alpha)
    return t.index_copy_(0, rows[0], part)


def _first_backward(g: Tensor, rows: Rows, sub: Tensor, adj_t: Tensor,
                    alpha: float) -> Tensor:
    # alpha * (S A)^T g: the cached transpose, or the row block's own.
    if rows is None:
        return csr_spmm(adj_t, g if alpha == 1.0 else g * alpha)
    return csr_transposed_matmul(sub, g, alpha)


class _UserItemMultiHop(torch.autograd.Function):
    # (out_u, out_i) = sum_k w_k A^k (x_u, x_i) with A = [[0, M], [N, 0]]
    # as one node: M is user <- item, N item <- user.  The last product is
    # restricted to the requested (distinct) rows of each side; the backward
    # is Horner's scheme on the cached transposes, t <- w_k G + A^T t, whose
    # first product is the transposed row block (the incoming gradient G is
    # zero outside the requested rows), and no intermediate layer is stored.
    @staticmethod
    def forward(ctx, x_user: Tensor, x_item: Tensor, adj: 'UserItemAdjacency',
                weights: Tuple[float, ...], user_rows: Rows,
                item_rows: Rows) -> Tuple[Tensor, Tensor]:
        K = len(weights) - 1
        ctx.adj, ctx.weights = adj, weights
        ctx.rows = (user_rows, item_rows)
        ctx.sizes = (x_user.size(0), x_item.size(0))
        out_u = _take(x_user, user_rows) * weights[0]
        out_i = _take(x_item, item_rows) * weights[0]
        h_u, h_i = x_user, x_item
        for k in range(1, K):
            h_u, h_i = csr_spmm(adj.user_adj, h_i), csr_spmm(adj.item_adj, h_u)
            out_u.add_(_take(h_u, user_rows), alpha=weights[k])
            out_i.add_(_take(h_i, item_rows), alpha=weights[k])
        if K >= 1:
            ctx.sub_u = adj.user_adj if user_rows is None else \
                csr_select_rows(adj.user_adj, user_rows[0])
            ctx.sub_i = adj.item_adj if item_rows is None else \
                csr_select_rows(adj.item_adj, item_rows[0])
            out_u.add_(csr_spmm(ctx.sub_u, h_i), alpha=weights[K])
            out_i.add_(csr_spmm(ctx.sub_i, h_u), alpha=weights[K])
        if user_rows is not None and user_rows[1] is not None:
            out_u = out_u.index_select(0, user_rows[1])
        if item_rows is not None and item_rows[1] is not None:
            out_i = out_i.index_select(0, item_rows[1])
        return out_u, out_i

    @staticmethod
    def backward(ctx, grad_u: Tensor, grad_i: Tensor):
        adj, weights = ctx.adj, ctx.weights
        user_rows, item_rows = ctx.rows
        K = len(weights) - 1
        g_u, g_i = grad_u.contiguous(), grad_i.contiguous()
        if user_rows is not None and user_rows[1] is not None:
            g_u = rows_gradient(g_u, user_rows[1], user_rows[2])
        if item_rows is not None and item_rows[1] is not None:
            g_i = rows_gradient(g_i, item_rows[1], item_rows[2])
        if K == 0:
            t_u = g_u.new_zeros(ctx.sizes[0], g_u.size(1))
            t_i = g_i.new_zeros(ctx.sizes[1], g_i.size(1))
        else:  # w_K A^T G: users get N^T g_i, items M^T g_u.
            t_u = _first_backward(g_i, item_rows, ctx.sub_i, adj.item_adj_t,
                                  weights[K])
            t_i = _first_backward(g_u, user_rows, ctx.sub_u, adj.user_adj_t,
                                  weights[K])
        for k in range(max(K - 1, 0), -1, -1):
            if k < K - 1:
                t_u, t_i = (csr_spmm(adj.item_adj_t, t_i),
                            csr_spmm(adj.user_adj_t, t_u))
            _add_rows(t_u, g_u, user_rows, weights[k])
            _add_rows(t_i, g_i, item_rows, weights[k])
        return t_u, t_i, None, None, None, None


def _restrict(index: Optional[Tensor]) -> Rows:
    if index is None:
        return None
    unique, inverse = distinct_rows(index)
    return unique, inverse, unique.numel()


class UserItemAdjacency:
    r"""The normalised user-item adjacency of the `"On the Effectiveness of
    Sampled Softmax Loss for Item Recommendation"
    <https://arxiv.org/abs/2201.02327>`_ paper held as its two bipartite
    blocks, each a CSR matrix cached together with its CSR transpose:

    .. math::
        \mathbf{M} = \mathbf{D}_u^{-\alpha_0}\mathbf{R}
        \mathbf{D}_i^{-\alpha_1} \in \mathbb{R}^{|\mathcal{U}| \times
        |\mathcal{I}|}, \qquad
        \mathbf{N} = \mathbf{D}_i^{-\alpha_0}\mathbf{R}^{\top}
        \mathbf{D}_u^{-\alpha_1} \in \mathbb{R}^{|\mathcal{I}| \times
        |\mathcal{U}|},

    the user :math:`\leftarrow` item and item :math:`\leftarrow` user halves
    of the homogeneous matrix :math:`\hat{\mathbf{A}} =
    \left[\begin{smallmatrix} \mathbf{0} & \mathbf{M} \\ \mathbf{N} &
    \mathbf{0}\end{smallmatrix}\right]` of
    :meth:`SparseAdjacency.from_user_item
    <pyg_simce.nn.conv.SparseAdjacency.from_user_item>`.  Working on the
    blocks, a propagation takes the user and item tables as they are (no
    :math:`(|\mathcal{U}| + |\mathcal{I}|) \times d` concatenation) and
    returns their gradients separately.  When :math:`\alpha_0 = \alpha_1`,
    :math:`\mathbf{N} = \mathbf{M}^{\top}` and only two matrices are stored.

    Args:
        user_adj (torch.Tensor): :math:`\mathbf{M}`, CSR.
        user_adj_t (torch.Tensor): :math:`\mathbf{M}^{\top}`, CSR.
        item_adj (torch.Tensor, optional): :math:`\mathbf{N}`, CSR;
            :math:`\mathbf{M}^{\top}` when :obj:`None`. (default: :obj:`None`)
        item_adj_t (torch.Tensor, optional): :math:`\mathbf{N}^{\top}`, CSR;
            :math:`\mathbf{M}` when :obj:`None`. (default: :obj:`None`)
    """
    def __init__(self, user_adj: Tensor, user_adj_t: Tensor,
                 item_adj: Optional[Tensor] = None,
                 item_adj_t: Optional[Tensor] = None):
        for name, adj in (('user_adj', user_adj), ('user_adj_t', user_adj_t),
                          ('item_adj', item_adj), ('item_adj_t', item_adj_t)):
            if adj is not None and adj.layout != torch.sparse_csr:
                raise ValueError(f"'{name}' expected a sparse CSR tensor "
                                 f"(got layout {adj.layout})")
        self.user_adj, self.user_adj_t = user_adj, user_adj_t
        self.item_adj = user_adj_t if item_adj is None else item_adj
        self.item_adj_t = user_adj if item_adj_t is None else item_adj_t

    @classmethod
    def from_edge_index(cls, edge_index: Tensor, num_users: int,
                        num_items: int, alpha0: float = 0.5,
                        alpha1: float = 0.5,
                        dtype: Optional[torch.dtype] = None
                        ) -> 'UserItemAdjacency':
        r"""Builds both blocks from the :obj:`('user', 'rates', 'item')`
        edges :obj:`[2, E]` (row 0 users, row 1 items; duplicates summed)."""
        user, item = edge_index[0], edge_index[1]
        U, I = int(num_users), int(num_items)
        # user <- item: |P_u|^-alpha0 |P_i|^-alpha1.
        weight = bipartite_norm(edge_index.flip(0), (I, U), alpha0, alpha1,
                                dtype)
        user_adj = to_csr(user, item, weight, (U, I))
        user_adj_t = to_csr(item, user, weight, (I, U))
        if float(alpha0) == float(alpha1):
            return cls(user_adj, user_adj_t)
        # item <- user: |P_i|^-alpha0 |P_u|^-alpha1.
        weight = bipartite_norm(edge_index, (U, I), alpha0, alpha1, dtype)
        return cls(user_adj, user_adj_t, to_csr(item, user, weight, (I, U)),
                   to_csr(user, item, weight, (U, I)))

    @property
    def num_users(self) -> int:
        return self.user_adj.size(0)

    @property
    def num_items(self) -> int:
        return self.user_adj.size(1)

    @property
    def symmetric(self) -> bool:
        r"""Whether :math:`\mathbf{N} = \mathbf{M}^{\top}` is stored once."""
        return self.item_adj is self.user_adj_t

    def propagate(
        self,
        x_user: Tensor,
        x_item: Tensor,
        weights: Sequence[float],
        user_index: Optional[Tensor] = None,
        item_index: Optional[Tensor] = None,
    ) -> Tuple[Tensor, Tensor]:
        r"""Returns :math:`\sum_{k=0}^{K} w_k \hat{\mathbf{A}}^k
        [\mathbf{X}_u; \mathbf{X}_i]` split into its user and item parts,
        with :math:`K = \text{len(weights)} - 1`, as one autograd node that
        stores no intermediate embedding.

        With :obj:`user_index` (:obj:`item_index`), a 1-D index that may
        repeat ids, only those user (item) rows are returned, equal in value
        and gradient to indexing the full result: the last forward product
        and the first backward product touch only the entries of those rows.
        A side whose rows hold more than half of its block's entries
        (:func:`~pyg_simce.nn.conv.row_block.is_small_block`) is propagated
        whole and indexed instead, which is then cheaper.

        Shapes:
            - **input:** :obj:`x_user` :math:`(|\mathcal{U}|, d)`,
              :obj:`x_item` :math:`(|\mathcal{I}|, d)`
            - **output:** :math:`(|\mathcal{U}|, d)` or
              :math:`(|\text{user\_index}|, d)`, and
              :math:`(|\mathcal{I}|, d)` or :math:`(|\text{item\_index}|, d)`
        """
        weights = tuple(float(w) for w in weights)
        if len(weights) == 0:
            raise ValueError("'weights' expected at least one entry (got 0)")
        for name, x, n in (('x_user', x_user, self.num_users),
                           ('x_item', x_item, self.num_items)):
            if x.dim() != 2 or x.size(0) != n:
                raise ValueError(f"'{name}' expected shape [{n}, d] "
                                 f"(got {list(x.shape)})")
        user_full = user_index is not None and len(weights) > 1 and \
            not is_small_block(self.user_adj, user_index)
        item_full = item_index is not None and len(weights) > 1 and \
            not is_small_block(self.item_adj, item_index)
        out_u, out_i = _UserItemMultiHop.apply(
            x_user, x_item, self, weights,
            _restrict(None if user_full else user_index),
            _restrict(None if item_full else item_index))
        if user_full:
            out_u = out_u.index_select(0, user_index)
        if item_full:
            out_i = out_i.index_select(0, item_index)
        return out_u, out_i

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_users={self.num_users}, '
                f'num_items={self.num_items}, '
                f'nnz={self.user_adj.values().numel()}, '
                f'symmetric={self.symmetric})')
