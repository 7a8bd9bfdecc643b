import math
from typing import Tuple

import torch
from torch import Tensor

from pyg_simce.nn.conv.bipartite_conv import BipartiteConv
from pyg_simce.nn.models.base import RecommenderBase


class SVDPP(RecommenderBase):
    r"""SVD++ (`Koren, "Factorization Meets the Neighborhood", KDD 2008
    <https://doi.org/10.1145/1401890.1401944>`_) written as single-layer,
    single-side message passing, as in eqs. (23) and (31) of the `"On the
    Effectiveness of Sampled Softmax Loss for Item Recommendation"
    <https://arxiv.org/abs/2201.02327>`_ paper.

    User side (:obj:`side='user'`, eq. 23; vanilla SVD++ has
    :math:`\alpha_1 = 0`):

    .. math::
        \mathbf{p}_u = \mathbf{p}_u^{(0)} + \sum_{i \in \mathcal{P}_u}
        \frac{1}{|\mathcal{P}_u|^{\alpha_0} |\mathcal{P}_i|^{\alpha_1}}
        \mathbf{q}_i^{(0)}, \qquad \mathbf{q}_i = \mathbf{q}_i^{(0)}.

    Item side (:obj:`side='item'`, eq. 31):

    .. math::
        \mathbf{p}_u = \mathbf{p}_u^{(0)}, \qquad
        \mathbf{q}_i = \mathbf{q}_i^{(0)} + \sum_{u \in \mathcal{P}_i}
        \frac{1}{|\mathcal{P}_i|^{\alpha_0} |\mathcal{P}_u|^{\alpha_1}}
        \mathbf{p}_u^{(0)}.

    :math:`\mathcal{P}_u` are the training items of user :math:`u` and
    :math:`\mathcal{P}_i` the training users of item :math:`i`;
    :math:`\alpha_0` acts on the receiving side and sets how the propagated
    magnitude scales with its degree (§4.2 of the paper).  The paper's best
    settings (Table 5) are :math:`(\alpha_0, \alpha_1) = (1, 0)` on the user
    side and :math:`(0.5, 0.5)` on the item side.

    The propagation is one :class:`~pyg_simce.nn.conv.BipartiteConv` layer,
    :obj:`self.conv` (:obj:`cached=True`, the model's exponents), called as
    :obj:`conv((x_src, x_dst), edge_index, size=(n_src, n_dst))` from items
    to users (user side) or from users to items (item side): a CSR product on
    the cached adjacency whose backward uses the cached transpose.
    :meth:`get_embedding_rows` propagates only the requested rows of the
    receiving side (the layer's :obj:`dst_index`); the other side is the
    plain table.  The layer may be replaced by any
    :class:`~torch_geometric.nn.conv.MessagePassing` layer with that call
    signature (it is then called on the whole graph and indexed).

    Args:
        num_users (int): The number of users.
        num_items (int): The number of items.
        embedding_dim (int, optional): The embedding size.
            (default: :obj:`64`)
        side (str, optional): :obj:`'user'` or :obj:`'item'`, the side that
            receives messages. (default: :obj:`'user'`)
        alpha0 (float, optional): Exponent of the receiver's degree.
            (default: :obj:`1.0`)
        alpha1 (float, optional): Exponent of the sender's degree.
            (default: :obj:`0.0`)
    """
    def __init__(self, num_users: int, num_items: int,
                 embedding_dim: int = 64, side: str = 'user',
                 alpha0: float = 1.0, alpha1: float = 0.0):
        if side not in ('user', 'item'):
            raise ValueError(f"'side' expected 'user' or 'item' "
                             f"(got {side!r})")
        for name, value in (('alpha0', alpha0), ('alpha1', alpha1)):
            if isinstance(value, bool) or not isinstance(
                    value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"'{name}' expected a finite float "
                                 f"(got {value!r})")
        super().__init__(num_users, num_items, embedding_dim)
        self.side = side
        self.alpha0 = float(alpha0)
        self.alpha1 = float(alpha1)
        self.conv = BipartiteConv(self.alpha0, self.alpha1, cached=True)

    def _graph(self, edge_index: Tensor,
               device: torch.device) -> Tuple[Tensor, Tuple[int, int]]:
        # The edges in the direction messages flow, and (n_src, n_dst); held
        # by the model so that the cached layer sees the same tensor.
        U, I = self.num_users, self.num_items
        size = (U, I) if self.side == 'item' else (I, U)
        if self.side == 'item' and edge_index.device == device:
            return edge_index, size

        def build() -> Tensor:
            index = edge_index.to(device)
            return index if self.side == 'item' else index.flip(0)

        return self.cached_adjacency(edge_index, (self.side, str(device)),
                                     build), size

    def _sides(self, user_x: Tensor, item_x: Tensor):
        # (receiver, sender) tables.
        if self.side == 'user':
            return user_x, item_x
        return item_x, user_x

    def propagate_embedding(self, edge_index: Tensor, user_x: Tensor,
                            item_x: Tensor) -> Tuple[Tensor, Tensor]:
        dst, src = self._sides(user_x, item_x)
        graph, size = self._graph(edge_index, dst.device)
        out = dst + self.conv((src, dst), graph, size=size)
        return (out, item_x) if self.side == 'user' else (user_x, out)

    def propagate_embedding_rows(self, edge_index: Tensor, user_x: Tensor,
                                 item_x: Tensor, user_index: Tensor,
                                 item_index: Tensor) -> Tuple[Tensor, Tensor]:
        dst, src = self._sides(user_x, item_x)
        index, other = (user_index, item_x.index_select(0, item_index)) \
            if self.side == 'user' else \
            (item_index, user_x.index_select(0, user_index))
        graph, size = self._graph(edge_index, dst.device)
        if isinstance(self.conv, BipartiteConv):
            out = dst.index_select(0, index) + self.conv(
                (src, None), graph, size=size, dst_index=index)
        else:
            out = (dst + self.conv((src, dst), graph, size=size)).index_select(
                0, index)
        return (out, other) if self.side == 'user' else (other, out)

    def _extra_repr_args(self) -> str:
        return (f", side='{self.side}', alpha0={self.alpha0}, "
                f"alpha1={self.alpha1}")
