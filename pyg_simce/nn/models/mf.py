from typing import Optional, Tuple

from torch import Tensor

from pyg_simce.nn.models.base import RecommenderBase


class MF(RecommenderBase):
    r"""Matrix factorisation (`Koren, Bell and Volinsky, 2009
    <https://doi.org/10.1109/MC.2009.263>`_), the ID-based backbone of the
    `"On the Effectiveness of Sampled Softmax Loss for Item Recommendation"
    <https://arxiv.org/abs/2201.02327>`_ paper: no propagation,

    .. math::
        \mathbf{p}_u = \mathbf{p}^{(0)}_u, \quad
        \mathbf{q}_i = \mathbf{q}^{(0)}_i, \quad
        s_{ui} = \mathbf{p}_u^{\top} \mathbf{q}_i.

    It is :class:`~pyg_simce.nn.models.LightGCN` with :obj:`num_layers=0`.
    :obj:`edge_index` is accepted (and validated) for a uniform interface;
    it may be :obj:`None`.  :meth:`get_embedding` returns the tables
    themselves and :meth:`get_embedding_rows` indexes them.

    Args:
        num_users (int): The number of users.
        num_items (int): The number of items.
        embedding_dim (int, optional): The embedding size.
            (default: :obj:`64`)
    """
    def check_edge_index(self, edge_index: Optional[Tensor]) -> None:
        if edge_index is not None:
            super().check_edge_index(edge_index)

    def propagate_embedding(self, edge_index: Optional[Tensor],
                            user_x: Tensor,
                            item_x: Tensor) -> Tuple[Tensor, Tensor]:
        return user_x, item_x

    def propagate_embedding_rows(self, edge_index: Optional[Tensor],
                                 user_x: Tensor, item_x: Tensor,
                                 user_index: Tensor,
                                 item_index: Tensor) -> Tuple[Tensor, Tensor]:
        return (user_x.index_select(0, user_index),
                item_x.index_select(0, item_index))

    _needs_graph = False
