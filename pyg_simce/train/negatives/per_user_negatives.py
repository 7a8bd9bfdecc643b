from typing import Any, Optional

import torch
from torch import Tensor

from pyg_simce.train.negatives.gathered_dot import gathered_dot
from pyg_simce.train.negatives.negative_batch import NegativeBatch
from pyg_simce.train.negatives.negative_strategy import (
    NegativeStrategy,
    Scores,
    Shard,
    hardest_negatives_loss,
)

#: How many times more multiply-adds per second a matrix product achieves
#: than a gather-and-dot of candidate rows on CPU; sets the cost crossover of
#: :meth:`PerUserNegatives.scores` (both paths are exact).  Measured on the
#: project's 2-core CPU: 1024 x 64 gathered rows of dimension 64 scored in
#: about 3 ms (4.2M multiply-adds), a [1024 x 64] x [64 x 13.7k] product in
#: about 60 ms forward (0.9G), i.e. roughly 10x; 8 errs towards gathering.
GEMM_ADVANTAGE = 8

#: Up to this many negatives per positive the gathered :math:`[B, N, d]`
#: rows are scored and differentiated directly: with :math:`N = 1` (BPR)
#: this takes a third of :func:`gathered_dot`'s time, whose backward sorts
#: the :math:`B N` entries; from :math:`N = 16` on the sort pays.
SMALL_N = 4


class PerUserNegatives(NegativeStrategy):
    r"""Per-positive negatives: :obj:`num_negatives` items drawn for every
    positive pair :math:`(u, i)` among the items :math:`u` never interacted
    with in training, uniformly or with probability :math:`\propto`
    popularity :math:`^{\beta}` (the setting of BPR, BCE and the `SimCE
    <https://arxiv.org/abs/2406.16170>`_ paper's official runs):

    .. math::
        \mathcal{N}_{ui} = \{j_1, \dots, j_N\}, \quad
        j_n \sim q(\cdot \mid u), \quad q(j \mid u) = 0 \text{ for }
        j \in \mathcal{P}_u.

    The scores are dense, :obj:`neg [B, N]`.  Each negative enters the
    :math:`L_2` penalty once per positive it was drawn for.  The propagated
    rows are the distinct positive and negative items of the batch
    (:math:`C` of them); the :math:`B N` negative scores are computed by the
    cheaper of two exact paths: gathering :math:`B N` embedding rows
    (:math:`\propto B N d`; differentiated directly up to
    :data:`SMALL_N` negatives and by :func:`gathered_dot` beyond), or one
    :math:`[B, d] \times [d, C]` matrix product and a gather of scores
    (:math:`\propto B C d`, at a higher throughput,
    :data:`GEMM_ADVANTAGE`).  With a loss that declares
    :attr:`~pyg_simce.nn.loss.RankingLoss.max_negative_only` the scores are
    taken without autograd and only each row's maximal entries are
    recomputed with it.

    Args:
        num_negatives (int): Negatives per positive :math:`N`.
        distribution (str, optional): :obj:`'uniform'` or
            :obj:`'popularity'`. (default: :obj:`'uniform'`)
        beta (float, optional): Popularity exponent :math:`\beta` of
            :obj:`'popularity'`. (default: :obj:`1.0`)
    """
    regularizes_negatives = True

    def __init__(self, num_negatives: int, distribution: str = 'uniform',
                 beta: float = 1.0) -> None:
        super().__init__()
        if distribution not in ('uniform', 'popularity'):
            raise ValueError(f"'distribution' expected 'uniform' or "
                             f"'popularity' (got {distribution!r})")
        self.name = distribution
        self.num_negatives = int(num_negatives)
        self.beta = float(beta)
        self.sampler: Any = None

    def _build(self, train_pairs: Tensor, seed: int) -> None:
        num_users, num_items = self.num_users, self.num_items
        from pyg_simce import sampler as sampler_pkg
        kwargs = dict(num_negatives=self.num_negatives,
                      exclude_positives=True, seed=seed)
        if self.name == 'popularity':
            self.sampler = sampler_pkg.PopularityNegativeSampler(
                train_pairs, num_users, num_items, beta=self.beta, **kwargs)
        else:
            self.sampler = sampler_pkg.UniformNegativeSampler(
                train_pairs, num_users, num_items, **kwargs)

    def prepare(self, users: Tensor, items: Tensor,
                generator: Optional[torch.Generator] = None,
                shard: Shard = None) -> NegativeBatch:
        # Drawn for the global batch, so that every process' generator
        # stays in the state of a single-process run.
        neg = self.sampler.sample(users, generator=generator)
        neg = neg.view(users.numel(), -1)
        users, items, neg = self._local(shard, users, items, neg)
        return self._batch(users, items, torch.cat([items, neg.reshape(-1)]),
                           extra=neg.size(1))

    def scores(self, batch: NegativeBatch, user_emb: Tensor,
               item_emb: Tensor) -> Scores:
        u, cand, pos, neg_pos = self._factors(batch, user_emb, item_emb)
        return pos, _negative_scores(u, cand, neg_pos), None

    def loss(self, batch: NegativeBatch, user_emb: Tensor, item_emb: Tensor,
             loss_fn: Any) -> Tensor:
        if not getattr(loss_fn, 'max_negative_only', False):
            return super().loss(batch, user_emb, item_emb, loss_fn)
        # The loss reads each row's hardest negative only: all B N scores
        # without autograd, then only the maximal entries with it.
        u, cand, pos, neg_pos = self._factors(batch, user_emb, item_emb)
        with torch.no_grad():
            neg = _negative_scores(u, cand, neg_pos)
        return hardest_negatives_loss(loss_fn, pos, neg, u, cand, neg_pos)

    def _factors(self, batch: NegativeBatch, user_emb: Tensor,
                 item_emb: Tensor):
        item_inv, N = batch.extra
        B = batch.size
        # [B, d]
        u = self.transform(user_emb).index_select(0, batch.user_pos)
        cand = self.transform(item_emb)  # [C, d]
        pos = (u * cand.index_select(0, batch.item_pos)).sum(dim=-1)
        return u, cand, pos, item_inv[B:].view(B, N)

    def __repr__(self) -> str:
        extra = (f', beta={self.beta}' if self.name == 'popularity' else '')
        return (f"{self.__class__.__name__}(num_negatives="
                f"{self.num_negatives}, distribution='{self.name}'{extra})")


def _negative_scores(u: Tensor, cand: Tensor, neg_pos: Tensor) -> Tensor:
    # s_bn = u_b . cand_{neg_pos[b, n]}, [B, N], by the cheapest exact path.
    B, N = neg_pos.shape
    if N <= SMALL_N:  # the [B, N, d] rows are cheaper than a sort
        return (u.unsqueeze(1) * cand.index_select(
            0, neg_pos.reshape(-1)).view(B, N, -1)).sum(dim=-1)
    if N * GEMM_ADVANTAGE <= cand.size(0):
        return gathered_dot(cand, u, neg_pos)
    return (u @ cand.t()).gather(1, neg_pos)
