from typing import Dict, Optional

from torch import Tensor

from pyg_simce.nn.loss.checks import check_float
from pyg_simce.nn.loss.ragged_groups import RaggedGroups
from pyg_simce.nn.loss.ranking_loss import RankingLoss
from pyg_simce.nn.loss.softmax_kernels import (
    softmax_ce_dense,
    softmax_ce_logits,
    softmax_ce_ragged,
)
from pyg_simce.nn.loss.softmax_logits import SoftmaxLogitsMixin


class SoftmaxLoss(SoftmaxLogitsMixin, RankingLoss):
    r"""The full softmax (cross-entropy) loss over the whole item catalogue,
    as compared in `"On the Effectiveness of Sampled Softmax Loss for Item
    Recommendation" <https://arxiv.org/abs/2201.02327>`_ (SM):

    .. math::
        \mathcal{L}_{ui} = -\log \frac{e^{s_{ui} / \tau}}
        {\sum_{k \in \mathcal{I}} e^{s_{uk} / \tau}}
        = \log\Big(e^{s_{ui}/\tau} + \sum_{j \in \mathcal{I}
        \setminus \{i\}} e^{s_{uj}/\tau}\Big) - \frac{s_{ui}}{\tau}.

    In :meth:`forward`, :obj:`neg` must hold the scores of **every other
    item** of the catalogue for that row (dense :obj:`[B, I - 1]`, or ragged
    when some items, e.g. the user's other training positives, are left
    out).  With a full score matrix :obj:`[B, I]` and the positive item ids,
    call :meth:`forward_full` instead (or :meth:`forward_logits`, the same
    without :obj:`mask`).  The formula is the one of
    :class:`~pyg_simce.nn.loss.SampledSoftmaxLoss`; only the meaning of
    :obj:`neg` (all items rather than a sample) and the default temperature
    differ.  A positive without negatives contributes :obj:`0`, and a
    negative of :obj:`-inf` nothing
    (:attr:`~pyg_simce.nn.loss.RankingLoss.neg_inf_is_absent`).

    Args:
        temperature (float, optional): Temperature :math:`\tau > 0`.
            (default: :obj:`1.0`)
        reduction (str, optional): :obj:`"mean"`, :obj:`"sum"` or
            :obj:`"none"`. (default: :obj:`"mean"`)

    Shapes:
        - **input:** :obj:`pos` :math:`[B]`, :obj:`neg` :math:`[B, I - 1]`,
          or :obj:`neg` and :obj:`index` :math:`[E]`
        - **output:** scalar, or :math:`[B]` with :obj:`reduction="none"`
    """
    # A log-sum-exp over the negatives: e^{-inf} = 0 with zero gradient.
    neg_inf_is_absent = True

    def __init__(self, temperature: float = 1.0, reduction: str = 'mean'):
        super().__init__(reduction=reduction)
        self.temperature = check_float('temperature', temperature,
                                       positive=True)

    def _hparams(self) -> Dict[str, object]:
        return {'temperature': self.temperature}

    def dense(self, pos: Tensor, neg: Tensor) -> Tensor:
        t = self.temperature
        return softmax_ce_dense(pos / t, neg / t)

    def ragged(self, pos: Tensor, neg: Tensor,
               groups: RaggedGroups) -> Tensor:
        t = self.temperature
        return softmax_ce_ragged(pos / t, neg, groups, 1.0 / t)

    def forward_full(self, scores: Tensor, target: Tensor,
                     mask: Optional[Tensor] = None) -> Tensor:
        r"""The loss from a full score matrix: :meth:`forward_logits` over
        the whole catalogue, optionally leaving items out.

        Args:
            scores (torch.Tensor): Scores of every item, :obj:`[B, I]`.
            target (torch.Tensor): Positive item of every row, :obj:`[B]`.
            mask (torch.Tensor, optional): Boolean :obj:`[B, I]`; entries set
                to :obj:`True` are left out of the softmax (e.g. the user's
                other training positives).  The target entry is never masked.
                (default: :obj:`None`)
        """
        return softmax_ce_logits(scores, target, self.temperature,
                                 self.reduction, mask)
