from typing import Any, Optional

import torch
from torch import Tensor

from pyg_simce.train.negatives.negative_batch import NegativeBatch
from pyg_simce.train.negatives.negative_strategy import (
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

    def _build(self, train_pairs: Tensor, seed: int) -> None:
        from pyg_simce.sampler import InBatchSampler
        if self.remove_accidental_hits:
            self.sampler = InBatchSampler(train_pairs.to(self.device),
                                          self.num_users, self.num_items)
        else:
            self.sampler = InBatchSampler(remove_accidental_hits=False)

    def prepare(self, users: Tensor, items: Tensor,
                generator: Optional[torch.Generator] = None,
                shard: Shard = None) -> NegativeBatch:
        users, items = self._local(shard, users, items)
        return self._positives_only(
            users, items, extra=self.sampler.excluded_pairs(users, items))

    def _factors(self, batch: NegativeBatch, user_emb: Tensor,
                 item_emb: Tensor):
        # S = u i^T, [B, B], positives on the diagonal.
        return (self.transform(user_emb).index_select(0, batch.user_pos),
                self.transform(item_emb).index_select(0, batch.item_pos))

    def scores(self, batch: NegativeBatch, user_emb: Tensor,
               item_emb: Tensor) -> Scores:
        u, i = self._factors(batch, user_emb, item_emb)
        scores = u @ i.t()
        B = batch.size
        keep = ~torch.eye(B, dtype=torch.bool, device=scores.device)
        row, col = batch.extra
        keep[row, col] = False
        row, col = keep.nonzero(as_tuple=True)
        return scores.diagonal(), scores[row, col], row

    def loss(self, batch: NegativeBatch, user_emb: Tensor, item_emb: Tensor,
             loss_fn: Any) -> Tensor:
        row, col = batch.extra
        diag = torch.arange(batch.size, device=batch.items.device)
        out = self._matrix_loss(loss_fn, *self._factors(batch, user_emb,
                                                         item_emb), diag, row,
                                col)
        if out is None:
            return super().loss(batch, user_emb, item_emb, loss_fn)
        return out

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(remove_accidental_hits='
                f'{self.remove_accidental_hits})')
