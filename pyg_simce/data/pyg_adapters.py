r"""Adapters that turn PyG's own recommendation data sets into the
``'user'``/``'item'`` layout of this library."""
from typing import Any, Optional

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from pyg_simce.data.bipartite_data import RATED_BY, RATES
from pyg_simce.data.interaction_split import InteractionSplit
from pyg_simce.data.split_overlap import check_split_overlap
from pyg_simce.data.splitting import make_parts

def _as_hetero(data_or_dataset: Any) -> HeteroData:
    if isinstance(data_or_dataset, HeteroData):
        return data_or_dataset
    try:
        data = data_or_dataset[0]
    except Exception:
        data = None
    if not isinstance(data, HeteroData):
        raise ValueError(f"expected a HeteroData or a PyG dataset holding "
                         f'one (got {type(data_or_dataset).__name__})')
    return data


def normalize_node_types(data_or_dataset: Any,
                         item_type: Optional[str] = None) -> HeteroData:
    r"""Renames the item node type of a PyG user-item data set (``'book'``
    in :class:`~torch_geometric.datasets.AmazonBook`, ``'movie'`` in
    :class:`~torch_geometric.datasets.MovieLens100K`) to ``'item'`` and its
    edge types to ``('user', 'rates', 'item')`` and ``('item', 'rated_by',
    'user')``.  Node and edge attributes (``x``, ``edge_label_index``,
    ``rating``, ``time``, ``edge_label``) are kept; ``num_nodes`` is set on
    both node types and ``raw_id`` (the identity: PyG's ids are already
    contiguous) added.

    Args:
        data_or_dataset (HeteroData or Dataset): The PyG data set or its
            data object.
        item_type (str, optional): The item node type; inferred as the node
            type other than ``'user'`` when :obj:`None`.
            (default: :obj:`None`)
    """
    data = _as_hetero(data_or_dataset)
    node_types = list(data.node_types)
    if 'user' not in node_types:
        raise ValueError(f"expected a node type 'user' (got {node_types})")
    if item_type is None:
        others = [t for t in node_types if t != 'user']
        if len(others) != 1:
            raise ValueError(f"expected exactly one node type besides "
                             f"'user' (got {node_types}); pass 'item_type'")
        item_type = others[0]
    if item_type not in node_types:
        raise ValueError(f"expected 'item_type' to be one of {node_types} "
                         f'(got {item_type!r})')
    forward = [e for e in data.edge_types
               if e[0] == 'user' and e[2] == item_type]
    if len(forward) != 1:
        raise ValueError(f"expected one edge type from 'user' to "
                         f"'{item_type}' (got {data.edge_types})")
    out = HeteroData()
    for src, dst in (('user', 'user'), (item_type, 'item')):
        for key, value in data[src].items():
            out[dst][key] = value
        n = int(data[src].num_nodes)
        out[dst].num_nodes = n
        if 'raw_id' not in out[dst]:
            out[dst].raw_id = torch.arange(n)
    store = data[forward[0]]
    for key, value in store.items():
        out[RATES][key] = value
    edge_index = out[RATES].edge_index
    out[RATED_BY].edge_index = edge_index.flip([0])
    for key in ('rating', 'time'):
        if key in out[RATES]:
            out[RATED_BY][key] = out[RATES][key]
    return out


def pyg_to_split(data_or_dataset: Any, item_type: Optional[str] = None,
                 rating_threshold: Optional[float] = None,
                 drop_overlap: bool = False) -> InteractionSplit:
    r"""Turns a PyG user-item data set whose ``edge_index`` holds the
    training and ``edge_label_index`` the test interactions (the layout of
    :class:`~torch_geometric.datasets.AmazonBook` and
    :class:`~torch_geometric.datasets.MovieLens100K`) into an
    :class:`InteractionSplit` ``(train, None, test)``.

    Args:
        data_or_dataset (HeteroData or Dataset): The PyG data set or its
            data object.
        item_type (str, optional): The item node type (inferred when
            :obj:`None`). (default: :obj:`None`)
        rating_threshold (float, optional): Keep training edges with
            ``rating >= rating_threshold`` and test edges with
            ``edge_label >= rating_threshold``. (default: :obj:`None`)
        drop_overlap (bool): Drop test pairs that are also training pairs
            (they can never be hit) with a warning instead of raising a
            :class:`ValueError`; see :func:`~pyg_simce.data.given_split`.
            (default: :obj:`False`)
    """
    data = normalize_node_types(data_or_dataset, item_type)
    store = data[RATES]
    train = store.edge_index
    if 'edge_label_index' not in store:
        raise ValueError("expected the test interactions in "
                         "'edge_label_index' (got none)")
    test = store.edge_label_index
    train_keep = torch.ones(train.size(1), dtype=torch.bool)
    test_keep = torch.ones(test.size(1), dtype=torch.bool)
    if rating_threshold is not None:
        if 'rating' not in store or 'edge_label' not in store:
            raise ValueError("expected ratings ('rating' and 'edge_label') "
                             f'for rating_threshold={rating_threshold} '
                             f'(got none)')
        train_keep = store.rating >= rating_threshold
        test_keep = store.edge_label >= rating_threshold
    edge_index = torch.cat([train[:, train_keep], test[:, test_keep]], 1)
    part = np.concatenate([
        np.zeros(int(train_keep.sum()), dtype=np.int8),
        np.full(int(test_keep.sum()), 2, dtype=np.int8)
    ])
    num_items = int(data['item'].num_nodes)
    ei = edge_index.numpy().astype(np.int64)
    key = (ei[0] * num_items + ei[1]) * 3 + part
    _, first = np.unique(key, return_index=True)
    attrs = {}
    for key_name in ('rating', 'time'):
        value = store.get(key_name)
        if isinstance(value, Tensor) and value.numel() == train.size(1):
            kept = value[train_keep]
            pad = kept.new_zeros((int(test_keep.sum()), ) + kept.shape[1:])
            attrs[key_name] = torch.cat([kept, pad])[torch.from_numpy(first)]
    base = HeteroData()
    for node_type in ('user', 'item'):
        for k, v in data[node_type].items():
            base[node_type][k] = v
    base.num_duplicates = int(len(key) - len(first))
    first_t = torch.from_numpy(first)
    return check_split_overlap(
        make_parts(base, edge_index[:, first_t], part[first], attrs),
        drop_overlap, type(data_or_dataset).__name__)


def from_amazon_book(data_or_dataset: Any,
                     drop_overlap: bool = False) -> InteractionSplit:
    r"""Adapts PyG's :class:`~torch_geometric.datasets.AmazonBook` (the
    LightGCN split of `"LightGCN: Simplifying and Powering Graph Convolution
    Network for Recommendation" <https://arxiv.org/abs/2002.02126>`_, node
    type ``'book'``) to an :class:`InteractionSplit` with node types
    ``'user'`` and ``'item'``.

    Args:
        data_or_dataset (AmazonBook or HeteroData): The data set or its data
            object.
        drop_overlap (bool): See :func:`pyg_to_split`.
            (default: :obj:`False`)
    """
    return pyg_to_split(data_or_dataset, item_type='book',
                        drop_overlap=drop_overlap)


def from_movielens_100k(data_or_dataset: Any,
                        rating_threshold: Optional[float] = None,
                        drop_overlap: bool = False) -> InteractionSplit:
    r"""Adapts PyG's :class:`~torch_geometric.datasets.MovieLens100K`
    (``u1.base`` / ``u1.test``, node type ``'movie'``, user and movie
    features ``x``) to an :class:`InteractionSplit` with node types
    ``'user'`` and ``'item'``.

    Args:
        data_or_dataset (MovieLens100K or HeteroData): The data set or its
            data object.
        rating_threshold (float, optional): Keep only ratings
            ``>= rating_threshold`` as interactions. (default: :obj:`None`)
        drop_overlap (bool): See :func:`pyg_to_split`.
            (default: :obj:`False`)
    """
    return pyg_to_split(data_or_dataset, item_type='movie',
                        rating_threshold=rating_threshold,
                        drop_overlap=drop_overlap)
