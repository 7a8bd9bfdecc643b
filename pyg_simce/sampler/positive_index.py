from typing import Optional, Tuple

import torch
from torch import Tensor


def _check_edge_index(edge_index: Tensor, name: str = 'edge_index') -> Tensor:
    if not isinstance(edge_index, Tensor):
        raise ValueError(f"'{name}' expected a torch.Tensor of shape [2, E] "
                         f"(got {type(edge_index).__name__})")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"'{name}' expected shape [2, E] "
                         f"(got {list(edge_index.size())})")
    if edge_index.dtype.is_floating_point or edge_index.dtype == torch.bool:
        raise ValueError(f"'{name}' expected an integer tensor "
                         f"(got dtype {edge_index.dtype})")
    return edge_index.long()


class PositiveIndex:
    r"""A compressed sparse row (CSR) index of every user's training items,
    built vectorised from a :obj:`('user', 'rates', 'item')` edge index.

    It answers the two questions that negative sampling and all-ranking
    evaluation ask many times per batch, without a Python loop over users:

    * :meth:`contains` -- is item :math:`i` a positive of user :math:`u`?
      Every pair :math:`(u, i)` is encoded as the key
      :math:`u \cdot |\mathcal{I}| + i`; the keys of the index are kept
      sorted, so a batch of queries is answered by one
      :func:`torch.searchsorted` in :math:`O(\log |E|)` per query.  When
      :math:`|\mathcal{U}| \cdot |\mathcal{I}|` is at most
      :obj:`dense_max_cells`, a table of one bit per pair is built on first
      use instead and a query is a single gather and shift (Gowalla's 1.2G
      pairs take 153 MB; the tens of thousands of queries per training step
      that per-positive negatives ask are then no longer a search each).
    * :meth:`neighbors` -- the (ragged) training items of a batch of users,
      gathered from the CSR arrays :obj:`rowptr` / :obj:`col`.

    Duplicate edges are removed; the items of each user are sorted.

    Args:
        edge_index (torch.Tensor): The interactions of shape :obj:`[2, E]`,
            row 0 holding user ids and row 1 item ids.
        num_users (int, optional): The number of users. Inferred as
            :obj:`edge_index[0].max() + 1` when not given.
            (default: :obj:`None`)
        num_items (int, optional): The number of items. Inferred as
            :obj:`edge_index[1].max() + 1` when not given.
            (default: :obj:`None`)

    Shapes:
        - **rowptr**: :obj:`[num_users + 1]`
        - **col**: :obj:`[num_unique_edges]`
        - **degree**: :obj:`[num_users]`
    """
    #: Largest :math:`|\mathcal{U}| \cdot |\mathcal{I}|` (one bit each, at
    #: most 256 MB) for which :meth:`contains` uses a dense membership table.
    dense_max_cells: int = 1 << 31

    def __init__(
        self,
        edge_index: Tensor,
        num_users: Optional[int] = None,
        num_items: Optional[int] = None,
    ) -> None:
        edge_index = _check_edge_index(edge_index)
        device = edge_index.device
        row, col = edge_index[0], edge_index[1]
        if row.numel() > 0:
            if int(row.min()) < 0 or int(col.min()) < 0:
                raise ValueError(f"'edge_index' expected non-negative ids "
                                 f"(got min user {int(row.min())}, "
                                 f"min item {int(col.min())})")
            max_user, max_item = int(row.max()), int(col.max())
        else:
            max_user = max_item = -1
        if num_users is None:
            num_users = max_user + 1
        if num_items is None:
            num_items = max_item + 1
        num_users, num_items = int(num_users), int(num_items)
        if num_users < 0 or max_user >= num_users:
            raise ValueError(f"'num_users' expected to exceed every user id "
                             f"in 'edge_index' (got num_users={num_users}, "
                             f"max user id {max_user})")
        if num_items < 0 or max_item >= num_items:
            raise ValueError(f"'num_items' expected to exceed every item id "
                             f"in 'edge_index' (got num_items={num_items}, "
                             f"max item id {max_item})")

        self.num_users = num_users
        self.num_items = num_items
        key = torch.unique(row * num_items + col)  # sorted, de-duplicated
        self._key = key
        self._col = key % max(num_items, 1)
        count = torch.bincount(key // max(num_items, 1), minlength=num_users)
        self._degree = count
        rowptr = torch.zeros(num_users + 1, dtype=torch.long, device=device)
        torch.cumsum(count, dim=0, out=rowptr[1:])
        self._rowptr = rowptr
        self._dense: Optional[Tensor] = None

    # Accessors ###############################################################

    @property
    def rowptr(self) -> Tensor:
        r"""The CSR row pointer of shape :obj:`[num_users + 1]`."""
        return self._rowptr

    @property
    def col(self) -> Tensor:
        r"""The item ids, grouped by user and sorted within each user, of
        shape :obj:`[num_unique_edges]`."""
        return self._col

    @property
    def degree(self) -> Tensor:
        r"""The number of distinct training items of each user, of shape
        :obj:`[num_users]`."""
        return self._degree

    @property
    def keys(self) -> Tensor:
        r"""The sorted pair keys :math:`u \cdot |\mathcal{I}| + i`."""
        return self._key

    @property
    def num_edges(self) -> int:
        r"""The number of distinct (user, item) pairs."""
        return self._key.numel()

    @property
    def device(self) -> torch.device:
        return self._key.device

    def item_degree(self) -> Tensor:
        r"""The number of distinct users of each item, of shape
        :obj:`[num_items]`."""
        return torch.bincount(self._col, minlength=self.num_items)

    def to(self, device) -> 'PositiveIndex':
        r"""Moves the index to :obj:`device` (in place) and returns it."""
        self._key = self._key.to(device)
        self._col = self._col.to(device)
        self._degree = self._degree.to(device)
        self._rowptr = self._rowptr.to(device)
        self._dense = None
        return self

    # Queries #################################################################

    def _check_ids(self, ids: Tensor, bound: int, name: str) -> Tensor:
        if not isinstance(ids, Tensor):
            ids = torch.as_tensor(ids)
        if ids.dtype.is_floating_point or ids.dtype == torch.bool:
            raise ValueError(f"'{name}' expected an integer tensor "
                             f"(got dtype {ids.dtype})")
        ids = ids.to(self.device, torch.long)
        if ids.numel() > 0:
            lo, hi = (int(v) for v in torch.aminmax(ids))
            if lo < 0 or hi >= bound:
                raise ValueError(f"'{name}' expected ids in [0, {bound}) "
                                 f"(got range [{lo}, {hi}])")
        return ids

    def contains(self, users: Tensor, items: Tensor) -> Tensor:
        r"""Returns whether each :obj:`items` entry is a training item of the
        matching :obj:`users` entry.

        :obj:`users` and :obj:`items` are broadcast against each other, so
        :obj:`contains(users.view(-1, 1), items)` tests an :obj:`[B, N]` block
        of candidates and :obj:`contains(users.view(-1, 1), pool.view(1, -1))`
        a shared candidate pool.

        Args:
            users (torch.Tensor): User ids.
            items (torch.Tensor): Item ids, broadcastable with :obj:`users`.

        Returns:
            A :class:`torch.BoolTensor` of the broadcast shape.
        """
        users = self._check_ids(users, self.num_users, 'users')
        items = self._check_ids(items, self.num_items, 'items')
        dense = self.num_users * self.num_items <= self.dense_max_cells
        if not dense and users.dim() == 2 and items.dim() == 2 and \
                users.size(1) == 1 and items.size(0) == 1 and \
                users.size(0) * items.size(1) >= 4 * self.num_edges:
            # An outer product of users and a shared item pool, large
            # compared with the index: look the users' positives up in the
            # (small, cache-resident) sorted pool instead.
            return self._contains_outer(users.view(-1), items.view(-1))
        query = users * self.num_items + items
        return self._contains_keys(query)

    def _contains_outer(self, users: Tensor, pool: Tensor) -> Tensor:
        r"""The :obj:`[B, P]` membership matrix of :obj:`users [B]` against a
        shared :obj:`pool [P]`: the ragged positives of the users (on
        average :math:`B \cdot \bar{d}` pairs, far fewer than
        :math:`B \cdot P`) are searched in the sorted pool, and the hits
        (with the pool's duplicates) are scattered into the mask."""
        out = torch.zeros(users.numel(), pool.numel(), dtype=torch.bool,
                          device=users.device)
        if pool.numel() == 0 or users.numel() == 0:
            return out
        batch, items = self._neighbors(users)
        sorted_pool, perm = torch.sort(pool)
        lo = torch.searchsorted(sorted_pool, items)
        count = torch.searchsorted(sorted_pool, items, right=True) - lo
        keep = count > 0
        batch, lo, count = batch[keep], lo[keep], count[keep]
        rows = torch.repeat_interleave(batch, count)
        first = torch.cumsum(count, dim=0) - count
        pos = torch.arange(rows.numel(), device=users.device)
        pos += torch.repeat_interleave(lo - first, count)
        out[rows, perm[pos]] = True
        return out

    def _contains_keys(self, query: Tensor) -> Tensor:
        key = self._key
        if key.numel() == 0:
            return torch.zeros(query.shape, dtype=torch.bool,
                               device=query.device)
        flat = query.reshape(-1)
        cells = self.num_users * self.num_items
        if cells <= self.dense_max_cells:
            if self._dense is None or self._dense.device != key.device:
                # Bit k & 63 of word k >> 6; the keys are distinct, so the
                # sum of their bits is their OR (two's complement for bit
                # 63, extracted the same way).
                words = torch.zeros((cells + 63) // 64, dtype=torch.int64,
                                    device=key.device)
                words.index_add_(0, key >> 6,
                                 torch.ones_like(key) << (key & 63))
                self._dense = words
            bits = self._dense.index_select(0, flat >> 6) >> (flat & 63)
            return (bits & 1).bool().view(query.shape)
        pos = torch.searchsorted(key, flat)
        pos.clamp_(max=key.numel() - 1)
        return (key[pos] == flat).view(query.shape)

    def neighbors(self, users: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Gathers the training items of a batch of users in ragged form.

        Args:
            users (torch.Tensor): User ids of shape :obj:`[B]`.

        Returns:
            A tuple :obj:`(batch, items)`, where :obj:`items[e]` is a training
            item of user :obj:`users[batch[e]]`; :obj:`batch` is sorted.
        """
        users = self._check_ids(users, self.num_users, 'users').view(-1)
        return self._neighbors(users)

    def _neighbors(self, users: Tensor) -> Tuple[Tensor, Tensor]:
        count = self._degree[users]
        start = self._rowptr[users]
        batch = torch.repeat_interleave(
            torch.arange(users.numel(), device=users.device), count)
        total = batch.numel()
        # offset of each gathered entry inside its user's slice
        offset = torch.zeros(users.numel() + 1, dtype=torch.long,
                             device=users.device)
        torch.cumsum(count, dim=0, out=offset[1:])
        pos = torch.arange(total, device=users.device)
        pos += (start - offset[:-1])[batch]
        return batch, self._col[pos]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_users={self.num_users}, '
                f'num_items={self.num_items}, num_edges={self.num_edges})')
