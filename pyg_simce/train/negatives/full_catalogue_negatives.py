from typing import Any, Optional

import torch
from torch import Tensor

from pyg_simce.train.negatives.negative_batch import NegativeBatch
from pyg_simce.train.negatives.negative_strategy import (
    NegativeStrategy,
    Scores,
    Shard,
)


class FullCatalogueNegatives(NegativeStrategy):
    r"""Every other item of the catalogue is a negative, the full softmax
    of the `SSM <https://arxiv.org/abs/2201.02327>`_ paper's comparison:

    .. math::
        \mathcal{N}_{ui} = \mathcal{I} \setminus \{i\}.

    The whole item table is propagated and scored with one :math:`[B, d]
    \times [d, |\mathcal{I}|]` product; the loss must offer
    :obj:`forward_full(scores, target)` (or :obj:`forward_logits`), as
    :class:`~pyg_simce.nn.loss.SoftmaxLoss` does, which is one fused
    cross-entropy.  Negatives do not enter the :math:`L_2` penalty.
    """
    name = 'full'

    def check_loss(self, loss_name: str, loss: Any) -> None:
        if loss_name in ('softmax', 'custom'):
            return
        if not hasattr(loss, 'forward_full'):
            raise ValueError(f"negative_sampling='full' expected the "
                             f"softmax loss (got '{loss_name}')")

    def prepare(self, users: Tensor, items: Tensor,
                generator: Optional[torch.Generator] = None,
                shard: Shard = None) -> NegativeBatch:
        users, items = self._local(shard, users, items)
        batch = self._positives_only(users, items)
        batch.item_rows, batch.item_pos = None, items  # the whole catalogue
        return batch

    def _matrix(self, batch: NegativeBatch, user_emb: Tensor,
                item_emb: Tensor) -> Tensor:
        u = self.transform(user_emb).index_select(0, batch.user_pos)
        return u @ self.transform(item_emb).t()  # [B, I]

    def scores(self, batch: NegativeBatch, user_emb: Tensor,
               item_emb: Tensor) -> Scores:
        scores = self._matrix(batch, user_emb, item_emb)
        B, num_items = scores.shape
        keep = torch.ones_like(scores, dtype=torch.bool)
        rows = torch.arange(B, device=scores.device)
        keep[rows, batch.items] = False
        row, col = keep.nonzero(as_tuple=True)
        return scores[rows, batch.items], scores[row, col], row

    def loss(self, batch: NegativeBatch, user_emb: Tensor, item_emb: Tensor,
             loss_fn: Any) -> Tensor:
        forward_full = getattr(loss_fn, 'forward_full', None)
        if forward_full is None:
            return super().loss(batch, user_emb, item_emb, loss_fn)
        return forward_full(self._matrix(batch, user_emb, item_emb),
                            batch.items)
