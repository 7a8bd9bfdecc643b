import math
from typing import Optional, Tuple, Union

import torch
from torch import Tensor
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.typing import OptPairTensor, OptTensor  # noqa: F401
from torch_geometric.utils import is_torch_sparse_tensor, spmm

from pyg_simce.nn.conv.adjacency_cache import AdjacencyCache
from pyg_simce.nn.conv.norm import bipartite_norm, check_edge_index
from pyg_simce.nn.conv.row_block import check_index, csr_matmul_rows
from pyg_simce.nn.conv.sparse_adjacency import (
    SparseAdjacency,
    csr_matmul,
    to_csr,
)
from pyg_simce.nn.conv.user_item_adjacency import UserItemAdjacency
from pyg_simce.typing import WITH_TORCH_SPARSE

if WITH_TORCH_SPARSE:  # pragma: no cover - depends on the environment
    from torch_sparse import SparseTensor
else:
    SparseTensor = None


def _is_torch_sparse_tensor(obj) -> bool:
    return WITH_TORCH_SPARSE and isinstance(obj, SparseTensor)


class BipartiteConv(MessagePassing):
    r"""The normalised bipartite propagation of the `"On the Effectiveness of
    Sampled Softmax Loss for Item Recommendation"
    <https://arxiv.org/abs/2201.02327>`_ paper (eqs. 23, 24 and 31), which
    contains SVD++'s implicit-feedback term (`Koren, KDD 2008
    <https://doi.org/10.1145/1401890.1401944>`_) and the light graph
    convolution of `"LightGCN" <https://arxiv.org/abs/2002.02126>`_:

    .. math::
        \mathbf{x}^{\prime}_i = \sum_{j \in \mathcal{N}(i)}
        \frac{1}{|\mathcal{N}(i)|^{\alpha_0} \, |\mathcal{N}(j)|^{\alpha_1}}
        \mathbf{x}_j,

    i.e. :math:`\mathbf{X}^{\prime}_{\text{dst}} =
    \mathbf{D}_{\text{dst}}^{-\alpha_0} \mathbf{A}
    \mathbf{D}_{\text{src}}^{-\alpha_1} \mathbf{X}_{\text{src}}`, where
    :math:`\alpha_0` always acts on the receiving node :math:`i` and
    :math:`\alpha_1` on the sending node :math:`j`.  With users receiving
    from items, :math:`|\mathcal{N}(i)| = |\mathcal{P}_u|` and
    :math:`|\mathcal{N}(j)| = |\mathcal{P}_i|`.  :math:`\alpha_0 =
    \alpha_1 = 0.5` on the homogeneous user-item graph is LightGCN's
    :class:`~torch_geometric.nn.conv.LGConv`; :math:`\alpha_0` sets how the
    output magnitude grows with the receiver's degree (see
    :func:`pyg_simce.nn.magnitude.predicted_magnitude_slope`).
    Nodes without incoming edges receive exactly zero.  The layer has no
    parameters and does not add the receiver's own features.

    Three equivalent paths compute the product:

    * an :obj:`edge_index` tensor with :obj:`cached=False`: per-edge
      :meth:`message` and scatter-add;
    * a sparse adjacency :obj:`adj_t` of shape :obj:`[num_dst, num_src]`
      (:class:`torch.sparse` or :class:`torch_sparse.SparseTensor`):
      :meth:`message_and_aggregate` with
      :func:`torch_geometric.utils.spmm`.  Only its sparsity pattern is
      used; the values are replaced by the normalised coefficients;
    * :obj:`cached=True`: the normalised matrix and its transpose are built
      once as CSR (:class:`~pyg_simce.nn.conv.SparseAdjacency`); the forward
      is a CSR product and the backward reuses the cached transpose.  The
      cache is reused only while the same graph is passed (see
      :class:`~pyg_simce.nn.conv.AdjacencyCache`): another or a modified
      :obj:`edge_index` rebuilds it, and :meth:`reset_parameters` clears it.

    With :obj:`dst_index`, only those target rows are returned; on the cached
    path the product and its backward touch only their entries.
    :meth:`user_item_adjacency` gives the layer's matrix on the homogeneous
    user-item graph as its two bipartite blocks, with which
    :class:`~pyg_simce.nn.models.LightGCN` fuses its layers.  On CPU in
    :obj:`float32` the cached products run on
    :func:`~pyg_simce.nn.conv.csr_spmm`'s weighted embedding-bag kernel.

    Args:
        alpha0 (float, optional): Exponent of the receiver's degree.
            (default: :obj:`0.5`)
        alpha1 (float, optional): Exponent of the sender's degree.
            (default: :obj:`0.5`)
        cached (bool, optional): If set to :obj:`True`, caches the normalised
            adjacency for full-graph training. (default: :obj:`False`)
        **kwargs (optional): Additional arguments of
            :class:`torch_geometric.nn.conv.MessagePassing` (only
            :obj:`aggr='add'` and :obj:`flow='source_to_target'` are
            meaningful for this normalisation).

    Shapes:
        - **input:**
          node features :math:`(|\mathcal{V}|, F)` or
          :math:`((|\mathcal{V_s}|, F), (|\mathcal{V_t}|, F))` where the
          target features may be :obj:`None` if :obj:`size` is given,
          edge indices :math:`(2, |\mathcal{E}|)` (row 0 the sources) or a
          sparse :math:`(|\mathcal{V_t}|, |\mathcal{V_s}|)` matrix
        - **output:** node features :math:`(|\mathcal{V}_t|, F)`
    """
    # The arguments of `propagate`, so that PyG generates its fast template.
    propagate_type = {'x': 'OptPairTensor', 'edge_weight': 'OptTensor',
                      'dst_index': 'OptTensor'}

    def __init__(self, alpha0: float = 0.5, alpha1: float = 0.5,
                 cached: bool = False, **kwargs):
        kwargs.setdefault('aggr', 'add')
        if kwargs['aggr'] not in ('add', 'sum'):
            raise ValueError(f"'aggr' expected 'add' for the normalised "
                             f"propagation (got {kwargs['aggr']!r})")
        if kwargs.get('flow', 'source_to_target') != 'source_to_target':
            raise ValueError(f"'flow' expected 'source_to_target'; pass the "
                             f"flipped edge_index instead "
                             f"(got {kwargs['flow']!r})")
        super().__init__(**kwargs)
        for name, value in (('alpha0', alpha0), ('alpha1', alpha1)):
            if isinstance(value, bool) or not isinstance(
                    value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"'{name}' expected a finite float "
                                 f"(got {value!r})")
        self.alpha0 = float(alpha0)
        self.alpha1 = float(alpha1)
        self.cached = bool(cached)
        self._cache = AdjacencyCache()

    def reset_parameters(self):
        r"""Clears the cached adjacency (the layer has no parameters)."""
        super().reset_parameters()
        self._cache.clear()

    def forward(
        self,
        x: Union[Tensor, Tuple[Tensor, Optional[Tensor]]],
        edge_index,
        size: Optional[Tuple[int, int]] = None,
        dst_index: Optional[Tensor] = None,
    ) -> Tensor:
        r"""Runs the forward pass.

        Args:
            x (torch.Tensor or (torch.Tensor, torch.Tensor)): Source features,
                or the pair :obj:`(x_src, x_dst)`; :obj:`x_dst` only fixes the
                number of targets and may be :obj:`None` when :obj:`size`
                is given.
            edge_index (torch.Tensor or sparse matrix): Edges :obj:`[2, E]`
                from :obj:`edge_index[0]` to :obj:`edge_index[1]`, or the
                transposed adjacency :obj:`adj_t` :obj:`[num_dst, num_src]`.
            size ((int, int), optional): :obj:`(num_src, num_dst)`.
                (default: :obj:`None`)
            dst_index (torch.Tensor, optional): If given, only these target
                rows (a 1-D index, repeats allowed) are returned, equal in
                value and gradient to indexing the full output; with
                :obj:`cached=True` only their entries of the adjacency are
                touched, forward and backward. (default: :obj:`None`)
        """
        if isinstance(x, Tensor):
            x = (x, x)
        x_src, x_dst = x
        if not isinstance(x_src, Tensor) or x_src.dim() != 2:
            raise ValueError(f"'x' expected a 2-dimensional source feature "
                             f"tensor (got {type(x_src).__name__} with shape "
                             f"{getattr(x_src, 'shape', None)})")

        sparse = not isinstance(edge_index, Tensor) or is_torch_sparse_tensor(
            edge_index)
        if sparse and not (is_torch_sparse_tensor(edge_index)
                           or _is_torch_sparse_tensor(edge_index)):
            raise ValueError(f"'edge_index' expected a [2, num_edges] tensor "
                             f"or a sparse adjacency "
                             f"(got {type(edge_index).__name__})")
        if sparse:
            size = (int(edge_index.size(1)), int(edge_index.size(0)))
        elif size is None:
            if x_dst is None:
                raise ValueError("'size' expected (num_src, num_dst) "
                                 "when 'x_dst' is None (got None)")
            size = (x_src.size(0), x_dst.size(0))
        size = (int(size[0]), int(size[1]))
        self._check_sizes(x_src, x_dst, size)
        if dst_index is not None:
            check_index(dst_index, size[1], 'dst_index')

        if self.cached:
            adj = self._cache.get(
                edge_index, (size, self.alpha0, self.alpha1, x_src.dtype),
                lambda: self._build_from_edge_index(
                    self._sparse_to_edge_index(edge_index)
                    if sparse else edge_index, size, x_src.dtype))
            return self.propagate(adj.adj, x=(x_src, x_dst),
                                  edge_weight=None, dst_index=dst_index)
        if sparse:
            out = self.propagate(
                self._normalize_sparse(edge_index, x_src.dtype),
                x=(x_src, x_dst), edge_weight=None, dst_index=None)
        else:
            check_edge_index(edge_index, size)
            weight = bipartite_norm(edge_index, size, self.alpha0,
                                    self.alpha1, dtype=x_src.dtype)
            out = self.propagate(edge_index, x=(x_src, x_dst),
                                 edge_weight=weight, dst_index=None,
                                 size=size)
        return out if dst_index is None else out.index_select(0, dst_index)

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        return x_j if edge_weight is None else edge_weight.view(-1, 1) * x_j

    def message_and_aggregate(self, adj_t, x: Tuple[Tensor, Optional[Tensor]],
                              dst_index: Optional[Tensor] = None) -> Tensor:
        cached = self._cache.value
        if isinstance(cached, SparseAdjacency) and adj_t is cached.adj:
            if dst_index is None:
                return csr_matmul(x[0], cached.adj, cached.adj_t)
            return csr_matmul_rows(x[0], cached.adj, cached.adj_t,
                                   dst_index)
        out = spmm(adj_t, x[0], reduce='sum')
        return out if dst_index is None else out.index_select(0, dst_index)

    def user_item_adjacency(
        self,
        edge_index: Tensor,
        num_users: int,
        num_items: int,
        dtype: Optional[torch.dtype] = None,
        device: Optional[torch.device] = None,
    ) -> UserItemAdjacency:
        r"""Returns this layer's normalisation of the user-item graph
        :obj:`edge_index` (row 0 users, row 1 items) in both directions, as
        the two bipartite blocks of
        :class:`~pyg_simce.nn.conv.UserItemAdjacency`: the matrix with which
        the layer propagates the homogeneous user-item graph, used by models
        that fuse several layers.  Cached like :meth:`forward`'s adjacency
        when :obj:`cached=True`.

        Args:
            edge_index (torch.Tensor): The :obj:`('user', 'rates', 'item')`
                edges :obj:`[2, E]`.
            num_users (int): The number of users.
            num_items (int): The number of items.
            dtype (torch.dtype, optional): The dtype of the coefficients.
                (default: :obj:`torch.get_default_dtype()`)
            device (torch.device, optional): Where to build it.
                (default: :obj:`edge_index.device`)
        """
        size = (int(num_users), int(num_items))
        dtype = dtype or torch.get_default_dtype()
        device = edge_index.device if device is None else torch.device(device)

        def build() -> UserItemAdjacency:
            index = edge_index.to(device)
            check_edge_index(index, size)
            return UserItemAdjacency.from_edge_index(index, *size, self.alpha0,
                                                     self.alpha1, dtype)

        if not self.cached:
            return build()
        params = ('user_item', size, self.alpha0, self.alpha1, dtype,
                  str(device))
        return self._cache.get(edge_index, params, build)

    # Helpers #################################################################

    @staticmethod
    def _check_sizes(x_src: Tensor, x_dst: Optional[Tensor],
                     size: Tuple[int, int]) -> None:
        if x_src.size(0) != size[0]:
            raise ValueError(f"'x' expected {size[0]} source rows "
                             f"(got {x_src.size(0)})")
        if x_dst is not None and x_dst.size(0) != size[1]:
            raise ValueError(f"'x' expected {size[1]} target rows "
                             f"(got {x_dst.size(0)})")

    def _build_from_edge_index(self, edge_index: Tensor,
                               size: Tuple[int, int],
                               dtype: torch.dtype) -> SparseAdjacency:
        check_edge_index(edge_index, size)
        return SparseAdjacency.from_edge_index(edge_index, size, self.alpha0,
                                               self.alpha1, dtype=dtype)

    @staticmethod
    def _sparse_to_edge_index(adj_t) -> Tensor:
        # [2, nnz] with row 0 the sources (= the matrix's columns).
        if _is_torch_sparse_tensor(adj_t):
            row, col, _ = adj_t.coo()
        else:
            index = adj_t.to_sparse_coo().coalesce().indices()
            row, col = index[0], index[1]
        return torch.stack([col, row])

    def _normalize_sparse(self, adj_t, dtype: torch.dtype):
        size = (int(adj_t.size(1)), int(adj_t.size(0)))
        edge_index = self._sparse_to_edge_index(adj_t)
        weight = bipartite_norm(edge_index, size, self.alpha0, self.alpha1,
                                dtype=dtype)
        if _is_torch_sparse_tensor(adj_t):
            return SparseTensor(row=edge_index[1], col=edge_index[0],
                                value=weight, sparse_sizes=(size[1], size[0]))
        return to_csr(edge_index[1], edge_index[0], weight,
                      (size[1], size[0]))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(alpha0={self.alpha0}, '
                f'alpha1={self.alpha1})')
