r"""Iterated k-core filtering of the bipartite user-item graph."""
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from pyg_simce.data.bipartite_data import RATED_BY, RATES


def _check_k(k: int, name: str) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"expected '{name}' to be a non-negative integer "
                         f'(got {k!r})')
    return int(k)


def k_core_mask(user: np.ndarray, item: np.ndarray, user_k: int,
                item_k: int) -> Tuple[np.ndarray, int]:
    r"""Boolean mask of the edges of the maximal subgraph in which every user
    has at least :obj:`user_k` and every item at least :obj:`item_k` edges,
    and the number of peeling rounds it took.

    Each round drops, at once, every edge touching a node below its
    threshold; the rounds repeat until nothing changes, which yields the
    unique maximal such subgraph.
    """
    user = np.asarray(user, dtype=np.int64)
    item = np.asarray(item, dtype=np.int64)
    keep = np.ones(len(user), dtype=bool)
    num_users = int(user.max()) + 1 if len(user) else 0
    num_items = int(item.max()) + 1 if len(item) else 0
    rounds = 0
    while True:
        rounds += 1
        u, i = user[keep], item[keep]
        du = np.bincount(u, minlength=num_users)
        di = np.bincount(i, minlength=num_items)
        ok = (du[u] >= user_k) & (di[i] >= item_k)
        if ok.all():
            return keep, rounds
        idx = np.flatnonzero(keep)
        keep[idx[~ok]] = False


def k_core(data: HeteroData, k: int = 10, user_k: Optional[int] = None,
           item_k: Optional[int] = None) -> HeteroData:
    r"""Returns the k-core of a bipartite user-item graph: the maximal
    subgraph in which every user has at least :obj:`user_k` interactions
    and every item at least :obj:`item_k`, found by peeling low-degree
    nodes until stable (as in the preprocessing of `"Neural Graph
    Collaborative Filtering" <https://arxiv.org/abs/1905.08108>`_).

    Nodes left without interactions are dropped and the remaining ones get
    contiguous ids; ``raw_id`` keeps mapping them to the original raw ids and
    node features are sliced alike.  Edge attributes (``rating``, ``time``)
    follow their edges; ``num_duplicates`` is kept.

    Args:
        data (HeteroData): A full interaction graph (not a split part).
        k (int): Threshold for both sides. (default: :obj:`10`)
        user_k (int, optional): Threshold for users, overriding :obj:`k`.
            (default: :obj:`None`)
        item_k (int, optional): Threshold for items, overriding :obj:`k`.
            (default: :obj:`None`)
    """
    k = _check_k(k, 'k')
    user_k = k if user_k is None else _check_k(user_k, 'user_k')
    item_k = k if item_k is None else _check_k(item_k, 'item_k')
    if not isinstance(data, HeteroData) or RATES not in data.edge_types:
        raise ValueError(f"expected a HeteroData with edge type {RATES} "
                         f'(got {type(data).__name__})')
    edge_index = data[RATES].edge_index
    user = edge_index[0].numpy()
    item = edge_index[1].numpy()
    keep, _ = k_core_mask(user, item, user_k, item_k)
    num_users = int(data['user'].num_nodes)
    num_items = int(data['item'].num_nodes)
    keep_user = np.bincount(user[keep], minlength=num_users) > 0
    keep_item = np.bincount(item[keep], minlength=num_items) > 0
    new_user = np.cumsum(keep_user) - 1
    new_item = np.cumsum(keep_item) - 1
    keep_t = torch.from_numpy(keep)
    out = HeteroData()
    for node_type, mask in (('user', keep_user), ('item', keep_item)):
        n = int(data[node_type].num_nodes)
        mask_t = torch.from_numpy(mask)
        for key, value in data[node_type].items():
            if key == 'num_nodes':
                continue
            if isinstance(value, (Tensor, np.ndarray)) and len(value) == n:
                value = value[mask_t] if isinstance(value, Tensor) \
                    else value[mask]
            out[node_type][key] = value
        out[node_type].num_nodes = int(mask.sum())
    new_index = torch.from_numpy(
        np.stack([new_user[user[keep]], new_item[item[keep]]]))
    out[RATES].edge_index = new_index
    out[RATED_BY].edge_index = new_index.flip([0])
    for key, value in data[RATES].items():
        if key == 'edge_index' or not isinstance(value, Tensor):
            continue
        if value.dim() >= 1 and value.size(0) == edge_index.size(1):
            out[RATES][key] = value[keep_t]
            out[RATED_BY][key] = out[RATES][key]
    num_duplicates = getattr(data, 'num_duplicates', None)
    if num_duplicates is not None:
        out.num_duplicates = num_duplicates
    return out
