import os
import pathlib
from typing import Any, Callable, Dict, Hashable, Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn import Embedding

from pyg_simce.nn.conv.adjacency_cache import AdjacencyCache
from pyg_simce.nn.conv.norm import check_edge_index
from pyg_simce.nn.conv.row_block import check_index


def _check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or \
            value < minimum:
        raise ValueError(f"'{name}' expected an int >= {minimum} "
                         f"(got {value!r})")
    return value


class RecommenderBase(torch.nn.Module):
    r"""The shared skeleton of the collaborative-filtering backbones:
    layer-0 ID embeddings :math:`\mathbf{p}^{(0)}_u` and
    :math:`\mathbf{q}^{(0)}_i` (:class:`torch.nn.Embedding`, Xavier-uniform
    initialised as in the `"On the Effectiveness of Sampled Softmax Loss for
    Item Recommendation" <https://arxiv.org/abs/2201.02327>`_ paper's
    official settings), a propagation over the training interactions that
    subclasses define in :meth:`propagate_embedding`, and dot-product scores

    .. math::
        s_{ui} = \mathbf{p}_u^{\top} \mathbf{q}_i.

    The normalised adjacency of the training graph is built once and cached
    by the propagation layers (see :class:`~pyg_simce.nn.conv.AdjacencyCache`
    for when it is rebuilt); :meth:`reset_parameters` also clears it.  A loss
    that reads only some rows of the final embeddings gets them from
    :meth:`get_embedding_rows`, which propagates only what those rows need.

    Args:
        num_users (int): The number of users :math:`|\mathcal{U}|`.
        num_items (int): The number of items :math:`|\mathcal{I}|`.
        embedding_dim (int, optional): The embedding size :math:`d`.
            (default: :obj:`64`)
    """
    def __init__(self, num_users: int, num_items: int,
                 embedding_dim: int = 64):
        super().__init__()
        self.num_users = _check_positive_int('num_users', num_users)
        self.num_items = _check_positive_int('num_items', num_items)
        self.embedding_dim = _check_positive_int('embedding_dim',
                                                 embedding_dim)
        self.user_embedding = Embedding(num_users, embedding_dim)
        self.item_embedding = Embedding(num_items, embedding_dim)
        self._cache = AdjacencyCache()
        self._checked = AdjacencyCache()
        #: The training graph a loaded model propagates over and excludes
        #: with :obj:`exclude_seen` (set by :meth:`load`), and the raw-id
        #: vocabularies of users and items (:obj:`None` when unknown).
        self.train_edge_index: Optional[Tensor] = None
        self.user_raw_id: Any = None
        self.item_raw_id: Any = None
        self.reset_parameters()

    def reset_parameters(self):
        r"""Re-initialises both tables (Xavier uniform), resets the
        propagation layers and clears the cached adjacencies."""
        torch.nn.init.xavier_uniform_(self.user_embedding.weight)
        torch.nn.init.xavier_uniform_(self.item_embedding.weight)
        for module in self.modules():
            if module is not self and not isinstance(module, Embedding) and \
                    callable(getattr(module, 'reset_parameters', None)):
                module.reset_parameters()
        self._cache.clear()
        self._checked.clear()

    # To be defined by subclasses #############################################

    def propagate_embedding(self, edge_index: Tensor, user_x: Tensor,
                            item_x: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Maps layer-0 embeddings to the final :obj:`(user_out, item_out)`
        over the training edges :obj:`edge_index` (already validated)."""
        raise NotImplementedError

    def propagate_embedding_rows(self, edge_index: Tensor, user_x: Tensor,
                                 item_x: Tensor, user_index: Tensor,
                                 item_index: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Returns the rows :obj:`user_index` and :obj:`item_index` of
        :meth:`propagate_embedding` (all arguments already validated).
        Subclasses override it to propagate only what those rows need."""
        user_out, item_out = self.propagate_embedding(edge_index, user_x,
                                                      item_x)
        return (user_out.index_select(0, user_index),
                item_out.index_select(0, item_index))

    # Public API ##############################################################

    def get_embedding(self, edge_index: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Returns the final embeddings :obj:`(user_out, item_out)`.

        Args:
            edge_index (torch.Tensor): The :obj:`('user', 'rates', 'item')`
                training edges :obj:`[2, E]`, row 0 user ids in
                :obj:`[0, num_users)`, row 1 item ids in
                :obj:`[0, num_items)`.

        Shapes:
            - **output:** :math:`(|\mathcal{U}|, d)`, :math:`(|\mathcal{I}|,
              d)`
        """
        self.check_edge_index(edge_index)
        return self.propagate_embedding(edge_index, self.user_embedding.weight,
                                        self.item_embedding.weight)

    def get_embedding_rows(self, edge_index: Tensor, user_index: Tensor,
                           item_index: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Returns the rows :obj:`user_index` of the final user embeddings
        and the rows :obj:`item_index` of the final item embeddings,

        .. math::
            \left(\mathbf{P}[\text{user\_index}],\;
            \mathbf{Q}[\text{item\_index}]\right),

        equal in value and in gradient (with respect to the layer-0 tables)
        to indexing :meth:`get_embedding`'s output, but propagating only
        what those rows need: for :class:`~pyg_simce.nn.models.LightGCN` the
        last layer and the first product of the backward are restricted to
        the edges of the requested rows; for
        :class:`~pyg_simce.nn.models.SVDPP` only the requested rows of the
        receiving side are propagated; :class:`~pyg_simce.nn.models.MF`
        indexes its tables.  This is what a training step calls with the
        batch's users and its positive and negative items.

        Args:
            edge_index (torch.Tensor): The :obj:`('user', 'rates', 'item')`
                training edges :obj:`[2, E]`, as in :meth:`get_embedding`.
            user_index (torch.Tensor): User ids :obj:`[B_u]` (1-D integer,
                repeats allowed, on the model's device).
            item_index (torch.Tensor): Item ids :obj:`[B_i]` (1-D integer,
                repeats allowed, on the model's device).

        Shapes:
            - **input:** :obj:`edge_index` :math:`(2, |\mathcal{E}|)`,
              :obj:`user_index` :math:`(B_u)`, :obj:`item_index`
              :math:`(B_i)`
            - **output:** :math:`(B_u, d)`, :math:`(B_i, d)`
        """
        self.check_edge_index(edge_index)
        device = self.user_embedding.weight.device
        for name, index, size in (('user_index', user_index, self.num_users),
                                  ('item_index', item_index, self.num_items)):
            if isinstance(index, Tensor) and index.device != device:
                raise ValueError(f"'{name}' expected a tensor on the model's "
                                 f"device {device} (got {index.device})")
            check_index(index, size, name)
        return self.propagate_embedding_rows(edge_index,
                                             self.user_embedding.weight,
                                             self.item_embedding.weight,
                                             user_index, item_index)

    def forward(self, edge_index: Tensor,
                edge_label_index: Tensor) -> Tensor:
        r"""Returns the dot-product score of every pair in
        :obj:`edge_label_index` (row 0 users, row 1 items), propagating over
        :obj:`edge_index`; equal to scoring :meth:`get_embedding`'s output,
        but only the scored rows are propagated
        (:meth:`get_embedding_rows`).  Score positives and negatives in one
        call (concatenated) so that the graph is propagated once.

        Shapes:
            - **input:** :obj:`edge_index` :math:`(2, |\mathcal{E}|)`,
              :obj:`edge_label_index` :math:`(2, B)`
            - **output:** :math:`(B)`
        """
        check_edge_index(edge_label_index, (self.num_users, self.num_items),
                         name='edge_label_index')
        index = edge_label_index.to(self.user_embedding.weight.device)
        user_out, item_out = self.get_embedding_rows(edge_index, index[0],
                                                     index[1])
        return (user_out * item_out).sum(dim=-1)

    @torch.no_grad()
    def recommend(
        self,
        edge_index: Optional[Tensor] = None,
        src_index: Optional[Tensor] = None,
        k: int = 20,
        exclude_edge_index: Any = None,
        *,
        exclude_seen: bool = False,
        return_scores: bool = False,
        chunk_size: Optional[int] = None,
    ) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        r"""Returns the top-:obj:`k` items of every user in :obj:`src_index`
        by dot-product score over the whole catalogue, scored in user chunks
        (memory bounded by the chunk, never users :math:`\times` items), never
        returning an excluded pair.

        A user with fewer than :obj:`k` admissible items gets the id
        :obj:`-1` with score :math:`-\infty` in the remaining slots (the
        shape stays :obj:`[n, k]`); it is not an item:
        :func:`~pyg_simce.data.to_raw_ids` refuses it.

        Args:
            edge_index (torch.Tensor, optional): The training edges to
                propagate over; the model's :attr:`train_edge_index` (set by
                :meth:`load`) when :obj:`None`. (default: :obj:`None`)
            src_index (torch.Tensor, optional): User ids; all users when
                :obj:`None`. (default: :obj:`None`)
            k (int, optional): Items per user. (default: :obj:`20`)
            exclude_edge_index (torch.Tensor or list, optional):
                :obj:`[2, E']` (user, item) pairs never to recommend, or a
                list/tuple of such tensors (e.g. training and validation
                edges). (default: :obj:`None`)
            exclude_seen (bool, optional): Also exclude the training edges
                (:obj:`edge_index`, else :attr:`train_edge_index`).
                (default: :obj:`False`)
            return_scores (bool, optional): Return :obj:`(ids, scores)`
                instead of :obj:`ids`. (default: :obj:`False`)
            chunk_size (int, optional): Users scored at once (by default
                about 128 MB of scores). (default: :obj:`None`)

        Shapes:
            - **output:** :math:`(|\text{src\_index}|, k)` (twice with
              :obj:`return_scores`)
        """
        from pyg_simce.metrics.topk import exclusion_list, topk_items

        _check_positive_int('k', k)
        if k > self.num_items:
            raise ValueError(f"'k' expected at most num_items="
                             f"{self.num_items} (got {k})")
        if src_index is not None:
            if not isinstance(src_index, Tensor) or src_index.dim() != 1 or \
                    src_index.dtype.is_floating_point or \
                    src_index.dtype == torch.bool:
                raise ValueError(f"'src_index' expected a 1-dimensional "
                                 f"integer tensor (got "
                                 f"{getattr(src_index, 'shape', src_index)})")
            if src_index.numel() > 0 and (
                    int(src_index.min()) < 0
                    or int(src_index.max()) >= self.num_users):
                raise ValueError(f"'src_index' expected user ids in "
                                 f"[0, {self.num_users}) (got min "
                                 f"{int(src_index.min())}, max "
                                 f"{int(src_index.max())})")
        edge_index = self._graph_or_attached(edge_index, exclude_seen)
        exclude = exclusion_list(exclude_edge_index, self.num_users,
                                 self.num_items)
        if exclude_seen:
            exclude.append(edge_index)
        user_out, item_out = self.get_embedding(edge_index)
        return topk_items(user_out, item_out, k, src_index=src_index,
                          exclude_edge_index=exclude or None,
                          chunk_size=chunk_size, return_scores=return_scores)

    def _graph_or_attached(self, edge_index: Optional[Tensor],
                           exclude_seen: bool) -> Optional[Tensor]:
        if edge_index is None and self.train_edge_index is not None:
            device = self.user_embedding.weight.device
            if self.train_edge_index.device != device:
                self.train_edge_index = self.train_edge_index.to(device)
            edge_index = self.train_edge_index
        if edge_index is None and exclude_seen:
            raise ValueError("'exclude_seen' expected the training edges "
                             "(got edge_index=None and no train_edge_index: "
                             "pass edge_index, or load a model saved with "
                             "its training graph)")
        return edge_index

    # Saving and loading ######################################################

    def init_args(self) -> Dict[str, Any]:
        r"""The constructor arguments that rebuild this model (read from
        the attributes named like the arguments)."""
        from pyg_simce.model_file import constructor_args
        return constructor_args(self)

    def save(self, path: Union[str, os.PathLike], train_data: Any = None,
             *, user_raw_id: Any = None, item_raw_id: Any = None,
             metadata: Optional[Dict[str, Any]] = None) -> pathlib.Path:
        r"""Writes the model to one file that :meth:`load` (or
        :func:`pyg_simce.load`) rebuilds, readable with
        :obj:`torch.load(weights_only=True)`: the constructor arguments, the
        weights, the training graph and the raw-id maps (see
        :mod:`pyg_simce.model_file`).  The file is written atomically.

        Args:
            path (str or os.PathLike): The file; its folder must exist.
            train_data (torch.Tensor or HeteroData, optional): The training
                edges :obj:`[2, E]`, or the training
                :class:`~torch_geometric.data.HeteroData` (its
                :obj:`('user', 'rates', 'item')` edges and :obj:`raw_id`
                maps); :attr:`train_edge_index` when :obj:`None`. Needed by
                every model that propagates (all but
                :class:`~pyg_simce.nn.models.MF`). (default: :obj:`None`)
            user_raw_id (torch.Tensor or list, optional): Raw user ids, one
                per user; those of :obj:`train_data` (or
                :attr:`user_raw_id`) by default. (default: :obj:`None`)
            item_raw_id (torch.Tensor or list, optional): Raw item ids.
                (default: :obj:`None`)
            metadata (dict, optional): Plain values stored with the model.
                (default: :obj:`None`)
        """
        from pyg_simce.model_file import save_model_file, train_graph
        edge_index, user_raw, item_raw = train_graph(
            train_data, self.num_users, self.num_items)
        if edge_index is None and self.train_edge_index is not None:
            edge_index = self.train_edge_index.detach().cpu()
        if edge_index is None and self._needs_graph:
            raise ValueError(f"'train_data' expected the training edges "
                             f"({self.__class__.__name__} propagates over "
                             f"them; got None)")
        user_raw = next((r for r in (user_raw_id, user_raw, self.user_raw_id)
                         if r is not None), None)
        item_raw = next((r for r in (item_raw_id, item_raw, self.item_raw_id)
                         if r is not None), None)
        state = {k: v.detach().cpu() for k, v in self.state_dict().items()}
        args = {k: (v.detach().cpu() if isinstance(v, Tensor) else v)
                for k, v in self.init_args().items()}
        return save_model_file(self, path, init_args=args, state=state,
                               num_users=self.num_users,
                               num_items=self.num_items,
                               edge_index=edge_index, user_raw_id=user_raw,
                               item_raw_id=item_raw, metadata=metadata)

    @classmethod
    def load(cls, path: Union[str, os.PathLike],
             map_location: Any = 'cpu') -> 'RecommenderBase':
        r"""Rebuilds a model written by :meth:`save`, with its weights,
        :attr:`train_edge_index`, :attr:`user_raw_id` and
        :attr:`item_raw_id`; refuses a file of another class.

        Args:
            path (str or os.PathLike): The model file.
            map_location (str or torch.device, optional): The device of the
                model. (default: :obj:`'cpu'`)
        """
        from pyg_simce.model_file import load_model
        return load_model(path, map_location, expected=cls)

    @classmethod
    def _from_model_file(cls, content: Dict[str, Any],
                         map_location: Any) -> 'RecommenderBase':
        model = cls(**content['init_args'])
        model.load_state_dict(content['state'])
        if map_location is not None:
            model = model.to(map_location)
        model.train_edge_index = content.get('edge_index')
        model.user_raw_id = content.get('user_raw_id')
        model.item_raw_id = content.get('item_raw_id')
        model.eval()
        return model

    #: Whether the model propagates over the training graph.
    _needs_graph = True

    # Helpers for subclasses ##################################################

    def check_edge_index(self, edge_index: Tensor) -> None:
        r"""Raises a :class:`ValueError` unless :obj:`edge_index` is a valid
        :obj:`[2, E]` user-item edge tensor for this model (checked once per
        graph, see :class:`~pyg_simce.nn.conv.AdjacencyCache`)."""
        size = (self.num_users, self.num_items)

        def check() -> bool:
            check_edge_index(edge_index, size)
            return True

        if not isinstance(edge_index, Tensor):
            check()
        self._checked.get(edge_index, size, check)

    def cached_adjacency(self, edge_index: Tensor, params: Hashable,
                         build: Callable[[], Any]) -> Any:
        r"""Returns :obj:`build()` cached for :obj:`(edge_index, params)`."""
        return self._cache.get(edge_index, params, build)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_users}, '
                f'{self.num_items}, embedding_dim={self.embedding_dim}'
                f'{self._extra_repr_args()})')

    def _extra_repr_args(self) -> str:
        return ''
