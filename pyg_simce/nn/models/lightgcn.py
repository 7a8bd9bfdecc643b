import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from pyg_simce.nn.conv.bipartite_conv import BipartiteConv
from pyg_simce.nn.conv.user_item_adjacency import UserItemAdjacency
from pyg_simce.nn.models.base import RecommenderBase

_HOOKS = ('_forward_hooks', '_forward_pre_hooks',
          '_propagate_forward_hooks', '_propagate_forward_pre_hooks',
          '_message_and_aggregate_forward_hooks',
          '_message_and_aggregate_forward_pre_hooks')


def _has_hooks(conv: torch.nn.Module) -> bool:
    return bool(getattr(conv, 'explain', False)) or any(
        len(getattr(conv, name, ())) > 0 for name in _HOOKS)


class LightGCN(RecommenderBase):
    r"""LightGCN from the `"LightGCN: Simplifying and Powering Graph
    Convolution Network for Recommendation"
    <https://arxiv.org/abs/2002.02126>`_ paper, with the normalisation
    exponents of the `"On the Effectiveness of Sampled Softmax Loss for Item
    Recommendation"
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

    Like :class:`torch_geometric.nn.models.LightGCN` with its
    :class:`~torch_geometric.nn.conv.LGConv` layers, the model is made of
    :obj:`self.convs`, :math:`K` :class:`~pyg_simce.nn.conv.BipartiteConv`
    layers (:obj:`cached=True`, the model's :math:`\alpha_0, \alpha_1`);
    layer :math:`k` maps :math:`\mathbf{E}^{(k)}` to
    :math:`\mathbf{E}^{(k+1)} = \text{conv}(\mathbf{E}^{(k)},
    \text{edge\_index}_{\text{homo}})` on the homogeneous user-item graph
    (users first, both edge directions), exactly how PyG's model calls its
    layers.

    While every layer is an unmodified cached
    :class:`~pyg_simce.nn.conv.BipartiteConv` with the same exponents (the
    default), the :math:`K` layers and the weighted sum run fused as one
    autograd node on the first layer's cached adjacency, held as its
    user :math:`\leftarrow` item and item :math:`\leftarrow` user blocks
    (:meth:`BipartiteConv.user_item_adjacency
    <pyg_simce.nn.conv.BipartiteConv.user_item_adjacency>`): :math:`K` CSR
    products forward, :math:`K` with the cached transposes backward, no
    intermediate layer stored and no concatenation of the tables.
    :meth:`get_embedding_rows` (and :meth:`forward`) restrict the last
    forward product and the first backward product to the requested rows.

    Any layer can be replaced by another
    :class:`~torch_geometric.nn.conv.MessagePassing` layer called as
    :obj:`conv(x, edge_index)` on the homogeneous graph, e.g.
    :obj:`model.convs[1] = LGConv()` or a non-cached
    :class:`~pyg_simce.nn.conv.BipartiteConv`; the model then calls the
    layers one by one (the same result for equal layers, only slower), and
    so it does while a layer has forward hooks or is explained.

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
        self.convs = torch.nn.ModuleList([
            BipartiteConv(self.alpha0, self.alpha1, cached=True)
            for _ in range(num_layers)
        ])

    def _fused_adjacency(self, edge_index: Tensor,
                         x: Tensor) -> Optional[UserItemAdjacency]:
        # The first layer's block adjacency if all layers may run fused.
        first = self.convs[0]
        for conv in self.convs:
            if type(conv) is not BipartiteConv or not conv.cached or \
                    (conv.alpha0, conv.alpha1) != (first.alpha0,
                                                   first.alpha1) or \
                    _has_hooks(conv):
                return None
        return first.user_item_adjacency(edge_index, self.num_users,
                                         self.num_items, x.dtype, x.device)

    def _homogeneous_edge_index(self, edge_index: Tensor,
                                device: torch.device) -> Tensor:
        # [2, 2E], users first, both directions; held by the model so that
        # cached layers see the same tensor at every call.
        def build() -> Tensor:
            user, item = edge_index.to(device).unbind(0)
            item = item + self.num_users
            return torch.stack([torch.cat([user, item]),
                                torch.cat([item, user])])

        return self.cached_adjacency(edge_index, ('homogeneous', str(device)),
                                     build)

    def _weights(self) -> List[float]:
        weights = self.layer_weights.tolist()
        if len(weights) != len(self.convs) + 1:
            raise ValueError(f"'convs' expected {len(weights) - 1} layers, "
                             f"one per layer weight after the first "
                             f"(got {len(self.convs)})")
        return weights

    def _layer_by_layer(self, edge_index: Tensor, user_x: Tensor,
                        item_x: Tensor) -> Tuple[Tensor, Tensor]:
        weights = self._weights()
        x = torch.cat([user_x, item_x])
        homo = self._homogeneous_edge_index(edge_index, x.device)
        out = x * weights[0]
        for conv, weight in zip(self.convs, weights[1:]):
            x = conv(x, homo)
            out = out + weight * x
        return out[:self.num_users], out[self.num_users:]

    def propagate_embedding(self, edge_index: Tensor, user_x: Tensor,
                            item_x: Tensor) -> Tuple[Tensor, Tensor]:
        weights = self._weights()
        if len(weights) == 1:
            return user_x * weights[0], item_x * weights[0]
        adj = self._fused_adjacency(edge_index, user_x)
        if adj is None:
            return self._layer_by_layer(edge_index, user_x, item_x)
        return adj.propagate(user_x, item_x, weights)

    def propagate_embedding_rows(self, edge_index: Tensor, user_x: Tensor,
                                 item_x: Tensor, user_index: Tensor,
                                 item_index: Tensor) -> Tuple[Tensor, Tensor]:
        weights = self._weights()
        if len(weights) == 1:
            return (user_x.index_select(0, user_index) * weights[0],
                    item_x.index_select(0, item_index) * weights[0])
        adj = self._fused_adjacency(edge_index, user_x)
        if adj is None:  # the layers one by one, then indexed
            return super().propagate_embedding_rows(edge_index, user_x,
                                                    item_x, user_index,
                                                    item_index)
        return adj.propagate(user_x, item_x, weights, user_index, item_index)

    def _extra_repr_args(self) -> str:
        return (f', num_layers={self.num_layers}, alpha0={self.alpha0}, '
                f'alpha1={self.alpha1}')
