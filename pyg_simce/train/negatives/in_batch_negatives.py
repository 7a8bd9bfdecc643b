from typing import Any, Optional

import torch
from torch import Tensor

from pyg_simce.train.negatives.negative_batch import NegativeBatch, unique_rows
from pyg_simce.train.negatives.negative_strategy import (
    NEG_INF,
    NegativeStrategy,
    Scores,
    Shard,
)


class InBatchNegatives(NegativeStrategy):
    r"""In-batch negatives, as in the `SSM
    <https://arxiv.org/abs/2201.02327>`_ paper: row :math:`b` of the batch
    is scored against the positive item of every row (one :math:`[B, d]
    \times [d, B]` product, positives on the diagonal), and its negatives
    are the other rows' positive items, excluding exactly what
    :class:`~pyg_simce.sampler.InBatchSampler` excludes: the row's own
    positive item wherever it is repeated in the batch and, with
    :obj:`remove_accidental_hits=True`, the user's other training items.

    .. math::
        \mathcal{N}_b = \{ i_c : c \ne b,\ i_c \ne i_b \}.

    For a loss with a :obj:`forward_logits(scores, target)` entry point
    (:class:`~pyg_simce.nn.loss.SampledSoftmaxLoss`) the excluded entries
    of the :math:`[B, B]` score matrix are set to :math:`-\infty` and the
    loss is one fused cross-entropy; losses that declare
    :attr:`~pyg_simce.nn.loss.RankingLoss.neg_inf_is_absent` get the dense
    :math:`[B, B]` matrix with the diagonal and the excluded entries at
    :math:`-\infty`; the others the ragged form.  Negatives do not enter
    the :math:`L_2` penalty (they are the batch's positives).

    Within a process group each process' pool is its own shard of the
    batch; see :class:`GlobalInBatchNegatives` for the pool of the global
    batch.

    Args:
        remove_accidental_hits (bool, optional): Also exclude the row
            user's training items. (default: :obj:`False`, as in the SSM
            paper)
    """
    name = 'in-batch'
    min_batch_rows = 2

    def __init__(self, remove_accidental_hits: bool = False) -> None:
        super().__init__()
        self.remove_accidental_hits = bool(remove_accidental_hits)
        self.sampler: Any = None

    def bind(self, train_pairs: Tensor, num_users: int, num_items: int, *,
             seed: int = 0, device: Any = 'cpu', transform=None) -> None:
        super().bind(train_pairs, num_users, num_items, seed=seed,
                     device=device, transform=transform)
        from pyg_simce.sampler import InBatchSampler
        if self.remove_accidental_hits:
            self.sampler = InBatchSampler(train_pairs.to(self.device),
                                          num_users, num_items)
        else:
            self.sampler = InBatchSampler(remove_accidental_hits=False)

    def prepare(self, users: Tensor, items: Tensor,
                generator: Optional[torch.Generator] = None,
                shard: Shard = None) -> NegativeBatch:
        users, items = self._local(shard, users, items)
        user_rows, user_pos, user_counts = unique_rows(users)
        item_rows, item_pos, item_counts = unique_rows(items)
        excluded = self.sampler.excluded_pairs(users, items)
        return NegativeBatch(users, items, user_rows, user_pos, user_counts,
                             item_rows, item_pos, item_rows, item_counts,
                             extra=excluded)

    def _matrix(self, batch: NegativeBatch, user_emb: Tensor,
                item_emb: Tensor) -> Tensor:
        u = self.transform(user_emb)[batch.user_pos]
        i = self.transform(item_emb)[batch.item_pos]
        return u @ i.t()  # [B, B], positives on the diagonal

    def scores(self, batch: NegativeBatch, user_emb: Tensor,
               item_emb: Tensor) -> Scores:
        scores = self._matrix(batch, user_emb, item_emb)
        B = batch.size
        keep = ~torch.eye(B, dtype=torch.bool, device=scores.device)
        row, col = batch.extra
        keep[row, col] = False
        row, col = keep.nonzero(as_tuple=True)
        return scores.diagonal(), scores[row, col], row

    def loss(self, batch: NegativeBatch, user_emb: Tensor, item_emb: Tensor,
             loss_fn: Any) -> Tensor:
        forward_logits = getattr(loss_fn, 'forward_logits', None)
        inf_absent = getattr(loss_fn, 'neg_inf_is_absent', False)
        if forward_logits is None and not inf_absent:
            return super().loss(batch, user_emb, item_emb, loss_fn)
        scores = self._matrix(batch, user_emb, item_emb)
        row, col = batch.extra
        diag = torch.arange(batch.size, device=scores.device)
        if forward_logits is not None:
            if row.numel() > 0:
                scores = scores.index_put((row, col),
                                          scores.new_tensor(NEG_INF))
            return forward_logits(scores, diag)
        neg = scores.index_put(
            (torch.cat([diag, row]), torch.cat([diag, col])),
            scores.new_tensor(NEG_INF))  # [B, B], excluded: -inf
        return loss_fn(scores.diagonal(), neg)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(remove_accidental_hits='
                f'{self.remove_accidental_hits})')
