import math
from typing import Tuple

from torch import Tensor

from pyg_simce.nn.conv.sparse_adjacency import SparseAdjacency
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
    side and :math:`(0.5, 0.5)` on the item side.  The propagation uses the
    cached CSR adjacency of :class:`~pyg_simce.nn.conv.SparseAdjacency`.

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

    def _adjacency(self, edge_index: Tensor, x: Tensor) -> SparseAdjacency:
        U, I = self.num_users, self.num_items

        def build() -> SparseAdjacency:
            index = edge_index.to(x.device)
            if self.side == 'user':  # items -> users, [U, I]
                return SparseAdjacency.from_edge_index(
                    index.flip(0), (I, U), self.alpha0, self.alpha1, x.dtype)
            # users -> items, [I, U]
            return SparseAdjacency.from_edge_index(index, (U, I), self.alpha0,
                                                   self.alpha1, x.dtype)

        params = (self.side, U, I, self.alpha0, self.alpha1, x.dtype,
                  str(x.device))
        return self.cached_adjacency(edge_index, params, build)

    def propagate_embedding(self, edge_index: Tensor, user_x: Tensor,
                            item_x: Tensor) -> Tuple[Tensor, Tensor]:
        adj = self._adjacency(edge_index, user_x)
        if self.side == 'user':
            return user_x + adj.matmul(item_x), item_x
        return user_x, item_x + adj.matmul(user_x)

    def _extra_repr_args(self) -> str:
        return (f", side='{self.side}', alpha0={self.alpha0}, "
                f"alpha1={self.alpha1}")
