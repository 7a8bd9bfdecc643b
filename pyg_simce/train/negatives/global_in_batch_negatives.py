from typing import Any, List, Optional

import torch
from torch import Tensor

from pyg_simce.train.negatives.negative_batch import NegativeBatch
from pyg_simce.train.negatives.negative_strategy import (
    NegativeStrategy,
    Scores,
    Shard,
)


def shard_sizes(n: int, world_size: int) -> List[int]:
    r"""Rows of :obj:`chunk[rank::world_size]` for every rank."""
    return [len(range(r, n, world_size)) for r in range(world_size)]


class GlobalInBatchNegatives(NegativeStrategy):
    r"""In-batch negatives over the *global* batch of a
    :mod:`torch.distributed` process group: every process scores its rows
    against the positive items of all processes, gathered with their
    gradient (:func:`~pyg_simce.train.all_gather_with_grad`), so that the
    pool is the one of a single-process run with the same global batch.
    The excluded pairs are those of :class:`InBatchNegatives` (the row's
    own positive item wherever it occurs in the global batch).  Outside a
    process group it is :class:`InBatchNegatives`.
    """
    name = 'in-batch'

    def prepare(self, users: Tensor, items: Tensor,
                generator: Optional[torch.Generator] = None,
                shard: Shard = None) -> NegativeBatch:
        rank, world_size = shard if shard is not None else (0, 1)
        sizes = shard_sizes(users.numel(), world_size)
        users, items = self._local(shard, users, items)
        return self._positives_only(users, items, extra=(sizes, rank))

    def _factors(self, batch: NegativeBatch, user_emb: Tensor,
                 item_emb: Tensor):
        # This process' rows against the positive items of every process;
        # row j's positive is column offset + j, columns holding the same
        # item are excluded.
        from pyg_simce.train.distributed import all_gather_with_grad

        sizes, rank = batch.extra
        items = batch.items
        b = items.numel()
        item_emb = item_emb.index_select(0, batch.item_pos)
        if len(sizes) > 1:
            pool = all_gather_with_grad(item_emb, sizes)  # [G, d]
            pool_items = all_gather_with_grad(items, sizes)  # [G]
        else:
            pool, pool_items = item_emb, items
        own = sum(sizes[:rank]) + torch.arange(b, device=items.device)
        count = torch.bincount(pool_items)
        rows = (count[items] > 1).nonzero().view(-1)
        same = items[rows].view(-1, 1) == pool_items.view(1, -1)
        same[torch.arange(rows.numel(), device=items.device), own[rows]] = \
            False
        r, c = same.nonzero(as_tuple=True)
        u = self.transform(user_emb).index_select(0, batch.user_pos)
        return u, self.transform(pool), own, rows[r], c

    def scores(self, batch: NegativeBatch, user_emb: Tensor,
               item_emb: Tensor) -> Scores:
        u, pool, own, row, col = self._factors(batch, user_emb, item_emb)
        scores = u @ pool.t()
        local = torch.arange(own.numel(), device=own.device)
        keep = torch.ones_like(scores, dtype=torch.bool)
        keep[local, own] = False
        keep[row, col] = False
        r, c = keep.nonzero(as_tuple=True)
        return scores[local, own], scores[r, c], r

    def loss(self, batch: NegativeBatch, user_emb: Tensor, item_emb: Tensor,
             loss_fn: Any) -> Tensor:
        u, pool, own, row, col = self._factors(batch, user_emb, item_emb)
        out = self._matrix_loss(loss_fn, u, pool, own, row, col)
        if out is None:
            return super().loss(batch, user_emb, item_emb, loss_fn)
        return out
