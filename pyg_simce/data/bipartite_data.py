r"""Construction of the bipartite user-item :class:`HeteroData`."""
from typing import Any, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

#: The forward and reverse edge types of every data object of the library.
RATES = ('user', 'rates', 'item')
RATED_BY = ('item', 'rated_by', 'user')

ArrayLike = Union[np.ndarray, Tensor, list, tuple]


def _as_array(x: Any, name: str) -> np.ndarray:
    if isinstance(x, Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"expected '{name}' to be one-dimensional "
                         f'(got shape {tuple(x.shape)})')
    return x


def _check_ids(x: np.ndarray, name: str) -> None:
    if x.dtype.kind == 'f':
        if not np.isfinite(x).all():
            raise ValueError(f"expected finite ids in '{name}' (got NaN or "
                             f'infinity)')
        if (x != np.round(x)).any():
            bad = x[x != np.round(x)][0].tolist()
            raise ValueError(f"expected integer ids in '{name}' (got {bad})")
    if x.dtype.kind in 'iuf' and len(x) > 0 and x.min() < 0:
        raise ValueError(f"expected non-negative ids in '{name}' "
                         f'(got {x.min().tolist()})')
    if x.dtype.kind not in 'iufUSO':
        raise ValueError(f"expected integer or string ids in '{name}' "
                         f'(got dtype {x.dtype})')


def remap_ids(raw: np.ndarray, vocab: Optional[np.ndarray] = None,
              name: str = 'ids') -> Tuple[np.ndarray, np.ndarray]:
    r"""Maps raw ids to contiguous ids ``0..n-1``.

    Args:
        raw (numpy.ndarray): Raw ids (integers or strings).
        vocab (numpy.ndarray, optional): The sorted unique raw ids to map
            onto; by default the unique values of :obj:`raw`.
            (default: :obj:`None`)
        name (str): Name used in error messages. (default: :obj:`'ids'`)

    Returns:
        ``(index, vocab)`` with ``vocab[index] == raw``.
    """
    raw = _as_array(raw, name)
    if raw.dtype.kind == 'f':
        raw = raw.astype(np.int64)
    if vocab is None:
        if (raw.dtype.kind in 'iu' and len(raw) > 0 and raw.min() >= 0
                and raw.max() < 4 * len(raw) + 2**20):
            # Dense small integers: an O(E) counting pass instead of a sort.
            present = np.bincount(raw, minlength=1) > 0
            vocab = np.flatnonzero(present).astype(raw.dtype)
            position = np.cumsum(present) - 1
            return position[raw].astype(np.int64), vocab
        vocab, index = np.unique(raw, return_inverse=True)
        return index.reshape(-1).astype(np.int64), vocab
    index = np.searchsorted(vocab, raw)
    index = np.minimum(index, max(len(vocab) - 1, 0))
    if len(raw) > 0 and (len(vocab) == 0 or (vocab[index] != raw).any()):
        bad = (raw[vocab[index] != raw][0] if len(vocab) else raw[0]).tolist()
        raise ValueError(f"expected every id of '{name}' in the vocabulary "
                         f'(got unknown id {bad!r})')
    return index.astype(np.int64), vocab


def raw_id_tensor(vocab: np.ndarray) -> Union[Tensor, np.ndarray]:
    r"""Integer vocabularies become a :class:`torch.LongTensor`, string ones
    stay a :class:`numpy.ndarray`."""
    if vocab.dtype.kind in 'iu':
        return torch.from_numpy(vocab.astype(np.int64))
    return vocab


def deduplicate(user: np.ndarray, item: np.ndarray,
                num_items: int) -> Tuple[np.ndarray, int]:
    r"""Positions of the first occurrence of every distinct (user, item) pair,
    ordered by (user, item), and the number of duplicate rows dropped."""
    key = user.astype(np.int64) * max(int(num_items), 1) + item
    _, first = np.unique(key, return_index=True)
    return first, len(key) - len(first)


def build_hetero_data(
    user: ArrayLike,
    item: ArrayLike,
    rating: Optional[ArrayLike] = None,
    timestamp: Optional[ArrayLike] = None,
    *,
    user_vocab: Optional[np.ndarray] = None,
    item_vocab: Optional[np.ndarray] = None,
) -> HeteroData:
    r"""Builds the bipartite user-item graph from (user, item) pairs.

    Raw ids (any integers or strings) are mapped to contiguous ids in sorted
    order of the raw ids; the mapping is kept as ``data['user'].raw_id`` and
    ``data['item'].raw_id`` (``raw_id[i]`` is the raw id of node ``i``: a
    :class:`torch.LongTensor` for integer ids, a :class:`numpy.ndarray` for
    string ids).  Repeated pairs are removed (the first occurrence keeps its
    rating and timestamp) and counted in ``data.num_duplicates``.  Edges are
    sorted by (user, item).

    The result follows :class:`torch_geometric.datasets.AmazonBook`: node
    types ``'user'`` and ``'item'`` with ``num_nodes``, edge type
    ``('user', 'rates', 'item')`` and its reverse ``('item', 'rated_by',
    'user')``; ratings and timestamps become the edge attributes ``rating``
    and ``time`` of both edge types.

    Since :class:`Interactions` is a named tuple in this argument order,
    ``build_hetero_data(*read_movielens(path))`` works.

    Args:
        user (array-like): Raw user id of every interaction.
        item (array-like): Raw item id of every interaction.
        rating (array-like, optional): Rating of every interaction.
            (default: :obj:`None`)
        timestamp (array-like, optional): Timestamp of every interaction.
            (default: :obj:`None`)
        user_vocab (numpy.ndarray, optional): Sorted raw user ids defining
            the user nodes (e.g. to keep users without interactions).
            (default: :obj:`None`)
        item_vocab (numpy.ndarray, optional): Sorted raw item ids defining
            the item nodes. (default: :obj:`None`)

    Shapes:
        - **user**, **item**, **rating**, **timestamp**: :math:`(E,)`
        - **output** edge_index: :math:`(2, E')` with :math:`E' \le E`
          distinct pairs
    """
    user = _as_array(user, 'user')
    item = _as_array(item, 'item')
    if len(user) != len(item):
        raise ValueError(f"expected 'user' and 'item' of equal length "
                         f'(got {len(user)} and {len(item)})')
    if len(user) == 0:
        raise ValueError("expected at least one interaction (got 0)")
    _check_ids(user, 'user')
    _check_ids(item, 'item')
    extras = {}
    for name, value in (('rating', rating), ('time', timestamp)):
        if value is not None:
            value = _as_array(value, name)
            if len(value) != len(user):
                raise ValueError(f"expected '{name}' of length {len(user)} "
                                 f'(got {len(value)})')
            if value.dtype.kind == 'f' and not np.isfinite(value).all():
                raise ValueError(f"expected finite values in '{name}' "
                                 f'(got NaN or infinity)')
            extras[name] = value
    u, user_vocab = remap_ids(user, user_vocab, 'user')
    i, item_vocab = remap_ids(item, item_vocab, 'item')
    keep, num_duplicates = deduplicate(u, i, len(item_vocab))
    data = HeteroData()
    data['user'].num_nodes = len(user_vocab)
    data['user'].raw_id = raw_id_tensor(user_vocab)
    data['item'].num_nodes = len(item_vocab)
    data['item'].raw_id = raw_id_tensor(item_vocab)
    edge_index = torch.from_numpy(np.stack([u[keep], i[keep]]))
    data[RATES].edge_index = edge_index
    data[RATED_BY].edge_index = edge_index.flip([0])
    for name, value in extras.items():
        value = torch.from_numpy(np.ascontiguousarray(value[keep]))
        if name == 'rating':
            value = value.to(torch.float)
        data[RATES][name] = value
        data[RATED_BY][name] = value
    data.num_duplicates = int(num_duplicates)
    return data


def raw_to_id(data: HeteroData, node_type: str, raw: ArrayLike) -> Tensor:
    r"""Maps raw ids back to the contiguous node ids of :obj:`data` (the
    inverse of ``data[node_type].raw_id[index]``).

    Raises:
        ValueError: if a raw id is not a node of :obj:`data`.
    """
    vocab = data[node_type].raw_id
    if isinstance(vocab, Tensor):
        vocab = vocab.numpy()
    raw = _as_array(raw, 'raw')
    if vocab.dtype.kind in 'iu' and raw.dtype.kind in 'US':
        raise ValueError(f"expected integer raw ids for node type "
                         f"'{node_type}' (got strings)")
    index, _ = remap_ids(raw, vocab, name=f'{node_type} raw ids')
    return torch.from_numpy(index)
