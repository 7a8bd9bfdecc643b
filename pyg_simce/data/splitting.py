r"""Seeded train/validation/test splits of a bipartite user-item graph.

Every split returns an :class:`InteractionSplit` whose parts follow
:class:`torch_geometric.transforms.RandomLinkSplit`: ``edge_index`` holds the
training interactions, ``edge_label_index`` the part's targets.  All
per-user work is vectorised (one :func:`numpy.lexsort` over the edges).
"""
import copy
import math
import warnings
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from pyg_simce.data.bipartite_data import (
    RATED_BY,
    RATES,
    raw_id_tensor,
    remap_ids,
)
from pyg_simce.data.interaction_split import InteractionSplit
from pyg_simce.data.interactions import Interactions
from pyg_simce.data.split_overlap import check_split_overlap

#: Names accepted by :func:`split_data`.
SPLITS = ('random', 'leave-one-out', 'temporal')


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or seed < 0:
        raise ValueError(f"expected 'seed' to be a non-negative integer "
                         f'(got {seed!r})')
    return int(seed)


def check_ratios(ratios: Sequence[float]) -> Tuple[float, float, float]:
    r"""Validates split ratios ``(train, test)`` or ``(train, val, test)``
    and returns them as a ``(train, val, test)`` triple.

    Raises:
        ValueError: naming ``ratios`` unless there are 2 or 3 finite
            non-negative values summing to 1 with ``train > 0`` and
            ``test > 0``.
    """
    try:
        values = [float(r) for r in ratios]
    except (TypeError, ValueError):
        raise ValueError(f"expected 'ratios' to be 2 or 3 numbers "
                         f'(train, [val,] test) (got {ratios!r})') from None
    if len(values) == 2:
        values = [values[0], 0.0, values[1]]
    if len(values) != 3:
        raise ValueError(f"expected 'ratios' to be 2 or 3 numbers "
                         f'(train, [val,] test) (got {ratios!r})')
    if not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in values):
        raise ValueError(f"expected 'ratios' in [0, 1] (got {ratios!r})")
    if abs(sum(values) - 1.0) > 1e-6:
        raise ValueError(f"expected 'ratios' to sum to 1 (got {ratios!r}, "
                         f'sum {sum(values):g})')
    if values[0] <= 0.0 or values[2] <= 0.0:
        raise ValueError(f"expected 'ratios' with a positive train and test "
                         f'share (got {ratios!r})')
    return values[0], values[1], values[2]


def _edges(data: HeteroData) -> Tuple[HeteroData, Tensor, int]:
    r"""Validates :obj:`data` and returns ``(data, edge_index, num_users)``,
    with repeated (user, item) rows removed first (see :func:`_unique`)."""
    if not isinstance(data, HeteroData) or RATES not in data.edge_types:
        raise ValueError(f"expected a HeteroData with edge type {RATES} "
                         f'(got {type(data).__name__})')
    edge_index = data[RATES].edge_index
    if edge_index.numel() == 0:
        raise ValueError('expected at least one interaction to split '
                         '(got 0)')
    data = _unique(data)
    return data, data[RATES].edge_index, int(data['user'].num_nodes)


def _unique(data: HeteroData) -> HeteroData:
    r"""Returns :obj:`data` itself when its (user, item) pairs are distinct,
    else a copy keeping the first row of every pair (with its edge
    attributes), the count added to ``num_duplicates`` and a warning: a
    pair in two parts could never be hit at evaluation."""
    edge_index = data[RATES].edge_index
    ei = edge_index.cpu().numpy().astype(np.int64)
    key = ei[0] * (int(ei[1].max()) + 1) + ei[1]
    _, first = np.unique(key, return_index=True)
    num = len(key) - len(first)
    if num == 0:
        return data
    keep = torch.from_numpy(np.sort(first)).to(edge_index.device)
    out = copy.copy(data)
    store = out[RATES]  # the parts are built from this store alone
    for name, value in list(store.items()):
        if name == 'edge_index':
            store.edge_index = edge_index[:, keep]
        elif name != 'edge_label_index' and isinstance(value, Tensor) and \
                value.dim() >= 1 and value.size(0) == len(key):
            store[name] = value[keep]
    out.num_duplicates = int(getattr(data, 'num_duplicates', None) or 0) + num
    warnings.warn(f'expected distinct (user, item) pairs to split (got {num} '
                  f'repeated rows); kept the first row of every pair, so '
                  f'that no pair lands in two parts', stacklevel=4)
    return out


def _rank_within_user(user: np.ndarray, num_users: int,
                      rng: np.random.Generator,
                      key: Optional[np.ndarray] = None
                      ) -> Tuple[np.ndarray, np.ndarray]:
    r"""Rank of every edge within its user's edges, ordered by :obj:`key`
    (ties and the no-key case broken at random), and each edge's user
    degree."""
    tie = rng.random(len(user))
    keys = (tie, user) if key is None else (tie, key, user)
    perm = np.lexsort(keys)
    deg = np.bincount(user, minlength=num_users)
    start = np.cumsum(deg) - deg
    rank = np.empty(len(user), dtype=np.int64)
    rank[perm] = np.arange(len(user)) - start[user[perm]]
    return rank, deg[user]


def _assign(rank: np.ndarray, deg: np.ndarray, n_val: np.ndarray,
            n_test: np.ndarray) -> np.ndarray:
    r"""Part (0 train, 1 val, 2 test) of every edge so that each user keeps
    at least one training edge; the last ranks go to test."""
    n_test = np.minimum(n_test, deg - 1)
    n_val = np.minimum(n_val, deg - 1 - n_test)
    n_train = deg - n_val - n_test
    part = np.zeros(len(rank), dtype=np.int8)
    part[rank >= n_train] = 1
    part[rank >= n_train + n_val] = 2
    return part


def make_parts(base: HeteroData, edge_index: Tensor, part: np.ndarray,
               edge_attrs: Optional[Dict[str, Tensor]] = None
               ) -> InteractionSplit:
    r"""Assembles an :class:`InteractionSplit` from all interactions and
    their part labels (0 train, 1 validation, 2 test).

    Node attributes (``num_nodes``, ``raw_id``, features) and the
    ``num_duplicates`` count of :obj:`base` are copied into every part;
    edge attributes (``rating``, ``time``) follow the training edges.
    """
    part = np.asarray(part)
    edges = edge_index.numpy()
    index = [np.flatnonzero(part == p) for p in (0, 1, 2)]
    train_pos = torch.from_numpy(index[0])
    train_index = torch.from_numpy(edges[:, index[0]])
    reverse_index = train_index.flip([0])
    train_attrs = {
        key: value[train_pos]
        for key, value in (edge_attrs or {}).items()
    }
    parts = []
    for p in (0, 1, 2):
        if p == 1 and len(index[1]) == 0:
            parts.append(None)
            continue
        out = HeteroData()
        for node_type in ('user', 'item'):
            for key, value in base[node_type].items():
                out[node_type][key] = value
        out[RATES].edge_index = train_index
        out[RATED_BY].edge_index = reverse_index
        for key, value in train_attrs.items():
            out[RATES][key] = value
            out[RATED_BY][key] = value
        out[RATES].edge_label_index = (train_index if p == 0 else
                                       torch.from_numpy(edges[:, index[p]]))
        num_duplicates = getattr(base, 'num_duplicates', None)
        if num_duplicates is not None:
            out.num_duplicates = num_duplicates
        parts.append(out)
    return InteractionSplit(*parts)


def _split_from_part(data: HeteroData, part: np.ndarray) -> InteractionSplit:
    edge_index = data[RATES].edge_index
    attrs = {
        key: value
        for key, value in data[RATES].items()
        if key not in ('edge_index', 'edge_label_index')
        and isinstance(value, Tensor) and value.dim() >= 1
        and value.size(0) == edge_index.size(1)
    }
    return make_parts(data, edge_index, part, attrs)


def random_split(data: HeteroData, ratios: Sequence[float] = (0.8, 0.0, 0.2),
                 seed: int = 0) -> InteractionSplit:
    r"""Splits every user's interactions at random by :obj:`ratios`, the
    protocol of the NGCF/LightGCN benchmark splits.

    A user of degree :math:`d` gets :math:`\lfloor d\,r_{test} + 1/2
    \rfloor` test and :math:`\lfloor d\,r_{val} + 1/2 \rfloor` validation
    interactions, reduced (validation first) so that at least one training
    interaction remains.

    Args:
        data (HeteroData): The full interaction graph.
        ratios (tuple): ``(train, val, test)`` or ``(train, test)``, summing
            to 1. (default: :obj:`(0.8, 0.0, 0.2)`)
        seed (int): Random seed; the same seed gives the same split.
            (default: :obj:`0`)
    """
    _, r_val, r_test = check_ratios(ratios)
    rng = np.random.default_rng(_check_seed(seed))
    data, edge_index, num_users = _edges(data)
    user = edge_index[0].numpy()
    rank, deg = _rank_within_user(user, num_users, rng)
    n_val = np.floor(deg * r_val + 0.5).astype(np.int64)
    n_test = np.floor(deg * r_test + 0.5).astype(np.int64)
    return _split_from_part(data, _assign(rank, deg, n_val, n_test))


def leave_one_out_split(data: HeteroData, validation: bool = False,
                        by_time: Optional[bool] = None,
                        seed: int = 0) -> InteractionSplit:
    r"""Holds out one interaction per user for testing (and one more for
    validation), as in `"Neural Collaborative Filtering"
    <https://arxiv.org/abs/1708.05031>`_.  Users with a single interaction
    keep it for training (with two, there is no validation one).

    Args:
        data (HeteroData): The full interaction graph.
        validation (bool): Whether to hold out a validation interaction too.
            (default: :obj:`False`)
        by_time (bool, optional): Hold out the latest interactions (needs
            the edge attribute ``time``); :obj:`None` uses the timestamps
            when present and picks at random otherwise.
            (default: :obj:`None`)
        seed (int): Random seed (picks, and ties of equal timestamps).
            (default: :obj:`0`)
    """
    rng = np.random.default_rng(_check_seed(seed))
    data, edge_index, num_users = _edges(data)
    has_time = 'time' in data[RATES]
    if by_time and not has_time:
        raise ValueError("expected timestamps ('time' on the edge type "
                         f'{RATES}) for by_time=True (got none)')
    use_time = has_time if by_time is None else bool(by_time)
    key = data[RATES].time.numpy() if use_time else None
    user = edge_index[0].numpy()
    rank, deg = _rank_within_user(user, num_users, rng, key)
    n_test = np.ones_like(deg)
    n_val = np.full_like(deg, 1 if validation else 0)
    return _split_from_part(data, _assign(rank, deg, n_val, n_test))


def temporal_split(data: HeteroData,
                   ratios: Sequence[float] = (0.8, 0.0, 0.2),
                   seed: int = 0) -> InteractionSplit:
    r"""Splits every user's interactions by time: the earliest
    :obj:`ratios[0]` share trains, the latest share tests (counts rounded
    as in :func:`random_split`, each user keeping at least one training
    interaction).

    Args:
        data (HeteroData): The full interaction graph with the edge
            attribute ``time``.
        ratios (tuple): ``(train, val, test)`` or ``(train, test)``.
            (default: :obj:`(0.8, 0.0, 0.2)`)
        seed (int): Random seed breaking ties of equal timestamps.
            (default: :obj:`0`)

    Raises:
        ValueError: if :obj:`data` has no timestamps.
    """
    _, r_val, r_test = check_ratios(ratios)
    rng = np.random.default_rng(_check_seed(seed))
    data, edge_index, num_users = _edges(data)
    if 'time' not in data[RATES]:
        raise ValueError("expected timestamps ('time' on the edge type "
                         f'{RATES}) for a temporal split (got a data set '
                         f'without timestamps)')
    user = edge_index[0].numpy()
    rank, deg = _rank_within_user(user, num_users, rng,
                                  data[RATES].time.numpy())
    n_val = np.floor(deg * r_val + 0.5).astype(np.int64)
    n_test = np.floor(deg * r_test + 0.5).astype(np.int64)
    return _split_from_part(data, _assign(rank, deg, n_val, n_test))


def split_data(data: HeteroData, split: str = 'random',
               ratios: Optional[Sequence[float]] = None,
               seed: int = 0) -> InteractionSplit:
    r"""Splits :obj:`data` by name: :obj:`'random'` (:func:`random_split`),
    :obj:`'leave-one-out'` (:func:`leave_one_out_split`, with a validation
    interaction when :obj:`ratios` has a positive validation share) or
    :obj:`'temporal'` (:func:`temporal_split`).

    Args:
        data (HeteroData): The full interaction graph.
        split (str): The split name. (default: :obj:`'random'`)
        ratios (tuple, optional): Split ratios; :obj:`(0.8, 0.0, 0.2)` when
            :obj:`None`. (default: :obj:`None`)
        seed (int): Random seed. (default: :obj:`0`)
    """
    name = str(split).lower().replace('_', '-')
    if name in ('loo', 'leave-one-out'):
        validation = ratios is not None and check_ratios(ratios)[1] > 0
        return leave_one_out_split(data, validation=validation, seed=seed)
    if ratios is None:
        ratios = (0.8, 0.0, 0.2)
    if name == 'random':
        return random_split(data, ratios, seed)
    if name == 'temporal':
        return temporal_split(data, ratios, seed)
    raise ValueError(f"expected 'split' to be one of {list(SPLITS)} "
                     f'(got {split!r})')


def given_split(train: Interactions, test: Interactions,
                val: Optional[Interactions] = None,
                drop_overlap: bool = False,
                source: Optional[str] = None) -> InteractionSplit:
    r"""Builds the split given by pre-split files (e.g. LightGCN's
    ``train.txt`` / ``test.txt``).

    Raw ids of all parts are mapped together to contiguous ids (kept as
    ``raw_id``); repeated pairs within a part are removed and counted in
    ``num_duplicates``.  Validation or test pairs that are also training
    pairs (and test pairs that are also validation pairs) can never be hit,
    since those items are masked at evaluation: they raise a
    :class:`ValueError` with their count, or are dropped with a warning
    (and counted in ``num_overlap_dropped`` of the part) when
    :obj:`drop_overlap` is set; see
    :func:`~pyg_simce.data.resolve_overlap`.

    Args:
        train (Interactions): Training interactions.
        test (Interactions): Test interactions.
        val (Interactions, optional): Validation interactions.
            (default: :obj:`None`)
        drop_overlap (bool): Drop the overlapping pairs instead of raising.
            (default: :obj:`False`)
        source (str, optional): Where the parts come from (*e.g.* the file
            names), named in the message. (default: :obj:`None`)
    """
    parts = [train] + ([val] if val is not None else []) + [test]
    labels = [0] + ([1] if val is not None else []) + [2]
    if train.num_interactions == 0 or test.num_interactions == 0:
        raise ValueError(f'expected training and test interactions (got '
                         f'{train.num_interactions} and '
                         f'{test.num_interactions})')
    both = Interactions.concat(*parts)
    part = np.concatenate([
        np.full(p.num_interactions, label, dtype=np.int8)
        for p, label in zip(parts, labels)
    ])
    u, user_vocab = remap_ids(both.user, name='user')
    i, item_vocab = remap_ids(both.item, name='item')
    key = (u * max(len(item_vocab), 1) + i) * 3 + part
    _, first = np.unique(key, return_index=True)
    num_duplicates = len(key) - len(first)
    base = HeteroData()
    base['user'].num_nodes = len(user_vocab)
    base['user'].raw_id = raw_id_tensor(user_vocab)
    base['item'].num_nodes = len(item_vocab)
    base['item'].raw_id = raw_id_tensor(item_vocab)
    base.num_duplicates = int(num_duplicates)
    edge_index = torch.from_numpy(np.stack([u[first], i[first]]))
    attrs = {}
    if both.rating is not None:
        attrs['rating'] = torch.from_numpy(both.rating[first]).float()
    if both.timestamp is not None:
        attrs['time'] = torch.from_numpy(both.timestamp[first])
    return check_split_overlap(
        make_parts(base, edge_index, part[first], attrs), drop_overlap,
        source)
