from typing import Any, Optional

import torch
from torch import Tensor

from pyg_simce.train.negatives.negative_batch import (
    NegativeBatch,
    counted_rows,
)
from pyg_simce.train.negatives.negative_strategy import (
    NEG_INF,
    NegativeStrategy,
    Scores,
    Shard,
)


class SharedPoolNegatives(NegativeStrategy):
    r"""One pool of :obj:`num_negatives` items drawn uniformly per batch and
    shared by every positive of the batch, minus each user's own training
    items:

    .. math::
        \mathcal{N}_{ui} = \{ j \in \mathcal{J} : j \notin \mathcal{P}_u \},
        \qquad \mathcal{J} = \{j_1, \dots, j_P\}, \ j_p \sim
        \mathcal{U}(\mathcal{I}).

    All :math:`B \times P` scores come from one :math:`[B, d] \times
    [d, P]` product.  When no pool item is a training item of a batch user
    the scores are dense; otherwise the excluded entries are masked with
    :math:`-\infty` for losses that declare
    :attr:`~pyg_simce.nn.loss.RankingLoss.neg_inf_is_absent`, and dropped
    through the ragged form for the others.  A pool item enters the
    :math:`L_2` penalty once per user it is a negative for.

    Args:
        num_negatives (int): Pool size :math:`P`.
    """
    name = 'shared'
    regularizes_negatives = True

    def __init__(self, num_negatives: int) -> None:
        super().__init__()
        self.num_negatives = int(num_negatives)
        self.sampler: Any = None

    def _build(self, train_pairs: Tensor, seed: int) -> None:
        num_users, num_items = self.num_users, self.num_items
        from pyg_simce.sampler import UniformNegativeSampler
        self.sampler = UniformNegativeSampler(
            train_pairs, num_users, num_items,
            num_negatives=self.num_negatives, exclude_positives=True,
            seed=seed)

    def prepare(self, users: Tensor, items: Tensor,
                generator: Optional[torch.Generator] = None,
                shard: Shard = None) -> NegativeBatch:
        pool = self.sampler.sample_shared(self.num_negatives,
                                          generator=generator)
        users, items, pool = self._local(shard, users, items, pool)
        keep = self.sampler.pool_mask(users, pool).to(self.device)  # [B, P]
        user_rows, user_pos, user_counts = counted_rows(users)
        B = users.numel()
        item_rows, inv = torch.unique(torch.cat([items, pool]),
                                      return_inverse=True)
        counts = torch.zeros(item_rows.numel(), dtype=torch.long,
                             device=self.device)
        counts.index_add_(0, inv[:B], torch.ones_like(inv[:B]))
        every = bool(keep.all())
        counts.index_add_(0, inv[B:],
                          torch.full_like(inv[B:], B) if every else
                          keep.sum(dim=0))
        return NegativeBatch(users, items, user_rows, user_pos, user_counts,
                             item_rows, inv[:B], item_rows, counts,
                             extra=(inv[B:], None if every else keep))

    def _matrix(self, batch: NegativeBatch, user_emb: Tensor,
                item_emb: Tensor):
        pool_pos, keep = batch.extra
        u = self.transform(user_emb).index_select(0, batch.user_pos)
        cand = self.transform(item_emb)
        pos = (u * cand.index_select(0, batch.item_pos)).sum(dim=-1)
        # [B], [B, P]
        return pos, u @ cand.index_select(0, pool_pos).t(), keep

    def scores(self, batch: NegativeBatch, user_emb: Tensor,
               item_emb: Tensor) -> Scores:
        pos, scores, keep = self._matrix(batch, user_emb, item_emb)
        if keep is None:
            return pos, scores, None
        row, col = keep.nonzero(as_tuple=True)
        return pos, scores[row, col], row

    def loss(self, batch: NegativeBatch, user_emb: Tensor, item_emb: Tensor,
             loss_fn: Any) -> Tensor:
        if batch.extra[1] is None or not getattr(loss_fn, 'neg_inf_is_absent',
                                                 False):
            return super().loss(batch, user_emb, item_emb, loss_fn)
        # -inf is exactly "absent" for this loss: dense and fast.
        pos, scores, keep = self._matrix(batch, user_emb, item_emb)
        return loss_fn(pos, scores.masked_fill(~keep, NEG_INF))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_negatives='
                f'{self.num_negatives})')
