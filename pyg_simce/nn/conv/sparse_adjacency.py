r"""The cached normalised adjacency behind every fast propagation path.

A training step propagates the same graph over and over, so the normalised
adjacency :math:`\hat{\mathbf{A}}` is built once as a CSR matrix together with
its transpose :math:`\hat{\mathbf{A}}^{\top}` (also CSR).  The forward product
is a CSR-times-dense product and the backward product reuses the cached
transpose, instead of autograd's generic sparse backward, which rebuilds a
transposed COO matrix on every call.  :meth:`SparseAdjacency.propagate` fuses
:math:`K` propagation steps and their weighted sum into one autograd node that
stores no intermediate embeddings; when a loss needs only some rows (the
batch's users and items), the last forward product and the first backward
product are restricted to those rows' entries.  Indices are 32-bit whenever
they fit, which is what the CPU sparse kernels take.  The models propagate
the user-item graph as its two bipartite blocks instead
(:class:`~pyg_simce.nn.conv.UserItemAdjacency`), with the same scheme.
"""
import warnings
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

from pyg_simce.nn.conv.norm import bipartite_norm


_CSR_WARNED = False


def _csr(crow: Tensor, col: Tensor, value: Tensor,
         size: Tuple[int, int]) -> Tensor:
    # PyTorch warns once per process that sparse CSR is in beta; silence that
    # first call only (catch_warnings costs more than building the tensor).
    global _CSR_WARNED
    if _CSR_WARNED:
        return torch.sparse_csr_tensor(crow, col, value, size,
                                       check_invariants=False)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        out = torch.sparse_csr_tensor(crow, col, value, size,
                                      check_invariants=False)
    _CSR_WARNED = True
    return out


def _index_dtype(nnz: int, num_rows: int, num_cols: int) -> torch.dtype:
    # 32-bit indices whenever they fit: the CPU kernels (MKL) take 32-bit
    # indices, so 64-bit ones would be converted on every product.
    limit = 2**31 - 1
    if max(nnz, num_rows + 1, num_cols) < limit:
        return torch.int32
    return torch.long


def to_csr(row: Tensor, col: Tensor, value: Tensor,
           size: Tuple[int, int]) -> Tensor:
    r"""Builds a coalesced CSR matrix of shape :obj:`size` from COO triplets
    (duplicate entries are summed, exactly as a scatter-add of the messages
    would sum them).

    Args:
        row (torch.Tensor): Row indices :obj:`[nnz]`.
        col (torch.Tensor): Column indices :obj:`[nnz]`.
        value (torch.Tensor): Values :obj:`[nnz]`.
        size ((int, int)): :obj:`(num_rows, num_cols)`.
    """
    num_rows, num_cols = int(size[0]), int(size[1])
    row, col = row.long(), col.long()
    key = row * max(num_cols, 1) + col
    key, perm = torch.sort(key, stable=True)  # radix sort: much faster
    value = value[perm]
    if key.numel() > 1 and bool((key[1:] == key[:-1]).any()):
        key, inverse = torch.unique_consecutive(key, return_inverse=True)
        value = torch.zeros(key.numel(), dtype=value.dtype,
                            device=value.device).index_add_(0, inverse, value)
    row = torch.div(key, max(num_cols, 1), rounding_mode='floor')
    col = key - row * max(num_cols, 1)
    count = torch.bincount(row, minlength=num_rows)
    crow = torch.zeros(num_rows + 1, dtype=torch.long, device=row.device)
    torch.cumsum(count, 0, out=crow[1:])
    index_dtype = _index_dtype(key.numel(), num_rows, num_cols)
    return _csr(crow.to(index_dtype), col.to(index_dtype), value,
                (num_rows, num_cols))


def csr_select_rows(adj: Tensor, rows: Tensor) -> Tensor:
    r"""Returns the CSR matrix :obj:`adj[rows]` (rows may repeat) without
    densifying; cost proportional to the number of selected entries."""
    # In the index dtype of the matrix (32-bit when it fits), index_select
    # rather than advanced indexing: both much faster on CPU.
    crow, col, value = adj.crow_indices(), adj.col_indices(), adj.values()
    rows = rows.long()
    start = crow.index_select(0, rows)
    count = crow.index_select(0, rows + 1) - start
    sub_crow = torch.zeros(rows.numel() + 1, dtype=crow.dtype,
                           device=crow.device)
    torch.cumsum(count, 0, out=sub_crow[1:])
    nnz = int(sub_crow[-1])
    index = torch.repeat_interleave(start - sub_crow[:-1], count,
                                    output_size=nnz)
    index += torch.arange(nnz, dtype=index.dtype, device=index.device)
    return _csr(sub_crow, col.index_select(0, index),
                value.index_select(0, index), (rows.numel(), adj.size(1)))


def csr_transpose(adj: Tensor) -> Tensor:
    r"""Returns :math:`\mathbf{A}^{\top}` of a coalesced CSR matrix as a
    CSR matrix (one stable sort of the column indices)."""
    crow, col, value = adj.crow_indices().long(), adj.col_indices(), \
        adj.values()
    num_rows, num_cols = adj.size(0), adj.size(1)
    row = torch.repeat_interleave(
        torch.arange(num_rows, dtype=col.dtype, device=col.device),
        crow[1:] - crow[:-1], output_size=col.numel())
    perm = torch.sort(col, stable=True).indices
    crow_t = torch.zeros(num_cols + 1, dtype=torch.long, device=col.device)
    torch.cumsum(torch.bincount(col, minlength=num_cols), 0, out=crow_t[1:])
    return _csr(crow_t.to(col.dtype), row.index_select(0, perm),
                value.index_select(0, perm), (num_cols, num_rows))


def csr_spmm(adj: Tensor, x: Tensor) -> Tensor:
    r"""Returns :math:`\mathbf{A}\mathbf{X}` for a CSR matrix :obj:`adj`
    (not differentiable; see :func:`csr_matmul`).

    On CPU in :obj:`float32` the product runs as a weighted
    :func:`~torch.nn.functional.embedding_bag` (one bag per row, the
    entries' values as per-sample weights), whose kernel is several times
    faster than the sparse-times-dense kernel on the user-item graphs of
    this library; elsewhere it is :obj:`adj @ x`."""
    if x.device.type == 'cpu' and x.dtype == torch.float32 and \
            adj.dtype == x.dtype and x.dim() == 2:
        # detach: the kernel skips its backward bookkeeping.
        return torch.nn.functional.embedding_bag(
            adj.col_indices(), x.detach().contiguous(), adj.crow_indices(),
            mode='sum', per_sample_weights=adj.values(),
            include_last_offset=True)
    return adj @ x


class _CSRMatmul(torch.autograd.Function):
    # y = A @ x; dx = A^T @ dy with the cached A^T (no gradient for A).
    @staticmethod
    def forward(ctx, x: Tensor, adj: Tensor, adj_t: Tensor) -> Tensor:
        ctx.adj_t = adj_t
        return csr_spmm(adj, x)

    @staticmethod
    def backward(ctx, grad: Tensor):
        return csr_spmm(ctx.adj_t, grad.contiguous()), None, None


class _MultiHop(torch.autograd.Function):
    # out = sum_k w_k A^k x as one node.  The last product is fused into the
    # running sum (addmm), and the backward runs Horner's scheme on the cached
    # A^T, t <- w_k g + A^T t, so no intermediate embedding is stored.
    # With `rows`, only out[rows] is returned: the last forward product uses
    # the rows' entries of A only, and the first backward product their
    # transpose only (the incoming gradient is zero on every other row).
    @staticmethod
    def forward(ctx, x: Tensor, adj: Tensor, adj_t: Tensor,
                weights: Tuple[float, ...], rows: Optional[Tensor]) -> Tensor:
        K = len(weights) - 1
        ctx.adj_t, ctx.weights, ctx.rows = adj_t, weights, None
        if rows is None:
            out = x * weights[0]
            h = x
            for k in range(1, K):
                h = adj @ h
                out.add_(h, alpha=weights[k])
            if K >= 1:
                out = torch.addmm(out, adj, h, alpha=weights[K])
            return out
        unique, inverse = torch.unique(rows, return_inverse=True)
        ctx.rows, ctx.unique, ctx.inverse = rows, unique, inverse
        ctx.num_nodes = x.size(0)
        out = x[unique] * weights[0]
        h = x
        for k in range(1, K):
            h = adj @ h
            out.add_(h[unique], alpha=weights[k])
        if K >= 1:
            ctx.sub = csr_select_rows(adj, unique)
            out = torch.addmm(out, ctx.sub, h, alpha=weights[K])
        return out[inverse]

    @staticmethod
    def backward(ctx, grad: Tensor):
        weights, adj_t = ctx.weights, ctx.adj_t
        K = len(weights) - 1
        grad = grad.contiguous()
        if ctx.rows is None:
            t = grad * weights[K]
            for k in range(K - 1, -1, -1):
                t = torch.addmm(grad, adj_t, t, beta=weights[k])
            return t, None, None, None, None
        unique = ctx.unique
        g = grad.new_zeros(unique.numel(), grad.size(1))
        g.index_add_(0, ctx.inverse, grad)
        full = grad.new_zeros(ctx.num_nodes, grad.size(1))
        full[unique] = g
        if K == 0:
            return full.mul_(weights[0]), None, None, None, None
        # A^T S^T g = (S A)^T g: the transposed row block of the forward.
        t = torch.addmm(full, csr_transpose(ctx.sub), g,
                        beta=weights[K - 1], alpha=weights[K])
        for k in range(K - 2, -1, -1):
            t = torch.addmm(full, adj_t, t, beta=weights[k])
        return t, None, None, None, None


def csr_matmul(x: Tensor, adj: Tensor, adj_t: Tensor) -> Tensor:
    r"""Differentiable :math:`\mathbf{A}\mathbf{X}` for a CSR matrix
    :obj:`adj` whose backward reuses the cached CSR transpose :obj:`adj_t`
    (no gradient flows to the matrix values)."""
    return _CSRMatmul.apply(x, adj, adj_t)


class SparseAdjacency:
    r"""A normalised adjacency :math:`\hat{\mathbf{A}} =
    \mathbf{D}_{\text{dst}}^{-\alpha_0}\mathbf{A}\mathbf{D}_{\text{src}}^
    {-\alpha_1}` cached as a CSR matrix of shape :obj:`[num_dst, num_src]`
    together with its CSR transpose, for fast repeated propagation with
    exact gradients (see :func:`~pyg_simce.nn.conv.bipartite_norm` for the
    coefficients, from the `"On the Effectiveness of Sampled Softmax Loss for
    Item Recommendation" <https://arxiv.org/abs/2201.02327>`_ paper).

    The forward product is :math:`\hat{\mathbf{A}}\mathbf{X}` and its backward
    :math:`\hat{\mathbf{A}}^{\top}\nabla`, both CSR-times-dense; when the
    matrix is symmetric (the homogeneous user-item graph with
    :math:`\alpha_0 = \alpha_1`) the transpose is the matrix itself and is
    stored once.  Gradients flow to the features only, not to the matrix.

    Args:
        adj (torch.Tensor): The normalised matrix in CSR layout,
            :obj:`[num_dst, num_src]`.
        adj_t (torch.Tensor, optional): Its transpose in CSR layout; computed
            when not given. (default: :obj:`None`)
        symmetric (bool, optional): Declares :obj:`adj` symmetric, so that
            :obj:`adj_t` is :obj:`adj`. (default: :obj:`False`)
    """
    def __init__(self, adj: Tensor, adj_t: Optional[Tensor] = None,
                 symmetric: bool = False):
        if adj.layout != torch.sparse_csr:
            raise ValueError(f"'adj' expected a sparse CSR tensor "
                             f"(got layout {adj.layout})")
        self.adj = adj
        if symmetric:
            adj_t = adj
        self.adj_t = csr_transpose(adj) if adj_t is None else adj_t

    @classmethod
    def from_edge_index(
        cls,
        edge_index: Tensor,
        size: Tuple[int, int],
        alpha0: float = 0.5,
        alpha1: float = 0.5,
        dtype: Optional[torch.dtype] = None,
    ) -> 'SparseAdjacency':
        r"""Builds the matrix that sends messages from :obj:`edge_index[0]`
        (the :obj:`size[0]` sources) to :obj:`edge_index[1]` (the
        :obj:`size[1]` targets)."""
        weight = bipartite_norm(edge_index, size, alpha0, alpha1, dtype)
        src, dst = edge_index[0], edge_index[1]
        adj = to_csr(dst, src, weight, (size[1], size[0]))
        adj_t = to_csr(src, dst, weight, (size[0], size[1]))
        return cls(adj, adj_t)

    @classmethod
    def from_user_item(
        cls,
        edge_index: Tensor,
        num_users: int,
        num_items: int,
        alpha0: float = 0.5,
        alpha1: float = 0.5,
        dtype: Optional[torch.dtype] = None,
    ) -> 'SparseAdjacency':
        r"""Builds the :obj:`[U + I, U + I]` matrix of the homogeneous graph
        (users first, then items) from the :obj:`('user', 'rates', 'item')`
        edges, messages flowing both ways:

        .. math::
            \hat{\mathbf{A}} = \begin{bmatrix} \mathbf{0} &
            \mathbf{D}_u^{-\alpha_0}\mathbf{R}\mathbf{D}_i^{-\alpha_1} \\
            \mathbf{D}_i^{-\alpha_0}\mathbf{R}^{\top}\mathbf{D}_u^{-\alpha_1}
            & \mathbf{0} \end{bmatrix}.
        """
        user, item = edge_index[0], edge_index[1] + num_users
        homo = torch.stack([torch.cat([user, item]), torch.cat([item, user])])
        n = num_users + num_items
        weight = bipartite_norm(homo, (n, n), alpha0, alpha1, dtype)
        adj = to_csr(homo[1], homo[0], weight, (n, n))
        if float(alpha0) == float(alpha1):
            return cls(adj, symmetric=True)
        return cls(adj, to_csr(homo[0], homo[1], weight, (n, n)))

    @property
    def size(self) -> Tuple[int, int]:
        r"""The shape :obj:`(num_dst, num_src)`."""
        return (self.adj.size(0), self.adj.size(1))

    @property
    def dtype(self) -> torch.dtype:
        return self.adj.dtype

    def nnz(self) -> int:
        r"""The number of stored entries."""
        return self.adj.values().numel()

    def matmul(self, x: Tensor) -> Tensor:
        r"""Returns :math:`\hat{\mathbf{A}}\mathbf{X}` (differentiable in
        :obj:`x`)."""
        return _CSRMatmul.apply(x, self.adj, self.adj_t)

    def propagate(self, x: Tensor, weights: Sequence[float],
                  rows: Optional[Tensor] = None) -> Tensor:
        r"""Returns :math:`\sum_{k=0}^{K} w_k \hat{\mathbf{A}}^k \mathbf{X}`
        with :math:`K = \text{len(weights)} - 1` (square matrices only), as a
        single autograd node that stores no intermediate embedding.

        With :obj:`rows` (a 1-D index, repeats allowed) only those rows of the
        result are returned, exactly as :obj:`propagate(x, weights)[rows]`,
        but cheaper: the last forward product touches only the entries of
        those rows, and the first backward product only their transpose."""
        if self.adj.size(0) != self.adj.size(1):
            raise ValueError(f"'propagate' expected a square adjacency "
                             f"(got {list(self.adj.shape)})")
        weights = tuple(float(w) for w in weights)
        if len(weights) == 0:
            raise ValueError("'weights' expected at least one entry (got 0)")
        if rows is not None and (rows.dim() != 1
                                 or rows.dtype.is_floating_point
                                 or rows.dtype == torch.bool):
            raise ValueError(f"'rows' expected a 1-dimensional integer "
                             f"tensor (got {rows.dtype}, shape "
                             f"{list(rows.shape)})")
        return _MultiHop.apply(x, self.adj, self.adj_t, weights, rows)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={list(self.size)}, '
                f'nnz={self.nnz()})')
