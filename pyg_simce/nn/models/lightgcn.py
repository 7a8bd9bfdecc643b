import math
from typing import Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from pyg_simce.nn.conv.norm import check_edge_index
from pyg_simce.nn.conv.sparse_adjacency import SparseAdjacency
from pyg_simce.nn.models.base import RecommenderBase


class LightGCN(RecommenderBase):
    r"""LightGCN from the `"LightGCN: Simplifying and Powering Graph
    Convolution Network for Recommendation"
    <https://arxiv.org/abs/2002.02126>`_ paper, with the normalisation exponents of the `"On the Effectiveness of
    Sampled Softmax Loss for Item Recommendation"
    <https://arxiv.org/abs/2201.02327>`_ paper.  With
    :math:`\mathbf{E}^{(0)} = [\mathbf{P}^{(0)}; \mathbf{Q}^{(0)}]` (users
    first) and :math:`\mathbf{R}` the user-item interaction matrix,

    .. math::
        \hat{\mathbf{A}} = \begin{bmatrix} \mathbf{0} &
        \mathbf{D}_u^{-\alpha_0}\mathbf{R}\mathbf{D}_i^{-\alpha_1} \\
        \mathbf{D}_i^{-\alpha_0}\mathbf{R}^{\top}\mathbf{D}_u^{-\alpha_1}
        & \mathbf{0} \end{bmatrix}, \qquad
        \mathbf{E}^{(k+1)} = \hat{\mathbf{A}} \mathbf{E}^{(k)}, \qquad
        \mathbf{E} = \sum_{k=0}^{K} a_k \mathbf{E}^{(k)},

    i.e. every layer sends
    :math:`\mathbf{e}_u^{(k+1)} = \sum_{i \in \mathcal{P}_u}
    \mathbf{e}_i^{(k)} / (|\mathcal{P}_u|^{\alpha_0}
    |\mathcal{P}_i|^{\alpha_1})` and symmetrically to items.
    :math:`\alpha_0 = \alpha_1 = 0.5` is LightGCN (equal to
    :class:`torch_geometric.nn.models.LightGCN` on the homogeneous graph with
    the same initial embeddings); :math:`a_k = 1/(K+1)` by default, and
    :math:`K = 0` is :class:`~pyg_simce.nn.models.MF`.

    The :math:`K` layers and the weighted sum run as one autograd node on the
    cached CSR adjacency (:meth:`pyg_simce.nn.conv.SparseAdjacency.propagate`):
    :math:`K` CSR products forward, :math:`K` with the cached transpose
    backward, no intermediate layer stored.  :meth:`forward` computes only
    the rows of the scored users and items, which restricts the last forward
    product and the first backward product to the edges of those rows (the
    result and its gradients are the same as from :meth:`get_embedding`).

    Args:
        num_users (int): The number of users.
        num_items (int): The number of items.
        embedding_dim (int, optional): The embedding size.
            (default: :obj:`64`)
        num_layers (int, optional): The number of layers :math:`K \geq 0`.
            (default: :obj:`3`)
        alpha0 (float, optional): Exponent of the receiver's degree.
            (default: :obj:`0.5`)
        alpha1 (float, optional): Exponent of the sender's degree.
            (default: :obj:`0.5`)
        layer_weights (sequence of float or torch.Tensor, optional): The
            :math:`K + 1` weights :math:`a_k`; :math:`1/(K+1)` each when
            :obj:`None`. (default: :obj:`None`)
    """
    def __init__(
        self,
        num_users: int,
        num_items: int,
        embedding_dim: int = 64,
        num_layers: int = 3,
        alpha0: float = 0.5,
        alpha1: float = 0.5,
        layer_weights: Optional[Union[Sequence[float], Tensor]] = None,
    ):
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) \
                or num_layers < 0:
            raise ValueError(f"'num_layers' expected an int >= 0 "
                             f"(got {num_layers!r})")
        for name, value in (('alpha0', alpha0), ('alpha1', alpha1)):
            if isinstance(value, bool) or not isinstance(
                    value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"'{name}' expected a finite float "
                                 f"(got {value!r})")
        if layer_weights is None:
            weights = torch.full((num_layers + 1, ), 1.0 / (num_layers + 1))
        else:
            try:
                weights = torch.as_tensor(layer_weights,
                                          dtype=torch.float64).flatten()
            except (TypeError, ValueError, RuntimeError):
                raise ValueError(f"'layer_weights' expected {num_layers + 1} "
                                 f"floats (got {layer_weights!r})") from None
            if weights.numel() != num_layers + 1:
                raise ValueError(f"'layer_weights' expected num_layers + 1 = "
                                 f"{num_layers + 1} values (got "
                                 f"{weights.numel()})")
            if not bool(torch.isfinite(weights).all()):
                raise ValueError(f"'layer_weights' expected finite values "
                                 f"(got {weights.tolist()})")
        super().__init__(num_users, num_items, embedding_dim)
        self.num_layers = num_layers
        self.alpha0 = float(alpha0)
        self.alpha1 = float(alpha1)
        self.register_buffer('layer_weights', weights.float())

    def _adjacency(self, edge_index: Tensor, x: Tensor) -> SparseAdjacency:
        U, I = self.num_users, self.num_items
        params = ('lightgcn', U, I, self.alpha0, self.alpha1, x.dtype,
                  str(x.device))
        return self.cached_adjacency(
            edge_index, params, lambda: SparseAdjacency.from_user_item(
                edge_index.to(x.device), U, I, self.alpha0, self.alpha1,
                x.dtype))

    def _propagate_stacked(self, edge_index: Tensor, x: Tensor,
                           rows: Optional[Tensor] = None) -> Tensor:
        # sum_k a_k A^k x for the stacked [U + I, d] embeddings, users first
        # (only `rows` of it when given).
        weights = self.layer_weights.tolist()
        if self.num_layers == 0:
            return (x if rows is None else x[rows]) * weights[0]
        return self._adjacency(edge_index, x).propagate(
            x, weights, rows)

    def propagate_embedding(self, edge_index: Tensor, user_x: Tensor,
                            item_x: Tensor) -> Tuple[Tensor, Tensor]:
        out = self._propagate_stacked(edge_index, torch.cat([user_x, item_x]))
        return out[:self.num_users], out[self.num_users:]

    def forward(self, edge_index: Tensor,
                edge_label_index: Tensor) -> Tensor:
        r"""Returns the dot-product score of every pair in
        :obj:`edge_label_index` (row 0 users, row 1 items), equal to scoring
        :meth:`get_embedding`'s output, but only the scored rows are
        propagated in the last layer.  Score positives and negatives in one
        call (concatenated) so that the graph is propagated once.

        Shapes:
            - **input:** :obj:`edge_index` :math:`(2, |\mathcal{E}|)`,
              :obj:`edge_label_index` :math:`(2, B)`
            - **output:** :math:`(B)`
        """
        check_edge_index(edge_label_index, (self.num_users, self.num_items),
                         name='edge_label_index')
        self.check_edge_index(edge_index)
        x = torch.cat([self.user_embedding.weight, self.item_embedding.weight])
        rows = torch.cat([edge_label_index[0],
                          edge_label_index[1] + self.num_users])
        src, dst = self._propagate_stacked(edge_index, x, rows).chunk(2)
        return (src * dst).sum(dim=-1)

    def _extra_repr_args(self) -> str:
        return (f', num_layers={self.num_layers}, alpha0={self.alpha0}, '
                f'alpha1={self.alpha1}')
