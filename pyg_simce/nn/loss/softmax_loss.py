from typing import Dict, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from pyg_simce.nn.loss.base import (
    RaggedGroups,
    RankingLoss,
    check_float,
    softmax_ce_dense,
    softmax_ce_ragged,
)


class SoftmaxLoss(RankingLoss):
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
    call :meth:`forward_full` instead.  The formula is the one of
    :class:`~pyg_simce.nn.loss.SampledSoftmaxLoss`; only the meaning of
    :obj:`neg` (all items rather than a sample) and the default temperature
    differ.  A positive without negatives contributes :obj:`0`.

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
        r"""The loss from a full score matrix.

        Args:
            scores (torch.Tensor): Scores of every item, :obj:`[B, I]`.
            target (torch.Tensor): Positive item of every row, :obj:`[B]`.
            mask (torch.Tensor, optional): Boolean :obj:`[B, I]`; entries set
                to :obj:`True` are left out of the softmax (e.g. the user's
                other training positives).  The target entry is never masked.
                (default: :obj:`None`)
        """
        if not isinstance(scores, Tensor) or not scores.is_floating_point():
            raise ValueError(f"Expected 'scores' to be a floating-point "
                             f"tensor (got {scores!r:.60})")
        if scores.dim() != 2 or scores.size(0) == 0 or scores.size(1) == 0:
            raise ValueError(f"Expected 'scores' of shape [B, I] with B, I > "
                             f"0 (got shape {tuple(scores.shape)})")
        B, num_items = scores.shape
        if (not isinstance(target, Tensor) or target.is_floating_point()
                or target.dtype == torch.bool):
            raise ValueError(f"Expected 'target' to be an integer tensor "
                             f"(got {target!r:.60})")
        if target.shape != (B, ):
            raise ValueError(f"Expected 'target' of shape [{B}] (got "
                             f"{tuple(target.shape)})")
        target = target.long()
        lo, hi = int(target.min()), int(target.max())
        if lo < 0 or hi >= num_items:
            raise ValueError(f"Expected 'target' values in [0, {num_items}) "
                             f"(got range [{lo}, {hi}])")
        logits = scores / self.temperature
        if mask is not None:
            if mask.dtype != torch.bool or mask.shape != scores.shape:
                raise ValueError(f"Expected a boolean 'mask' of shape "
                                 f"{tuple(scores.shape)} (got dtype "
                                 f"{mask.dtype}, shape {tuple(mask.shape)})")
            rows = torch.arange(B, device=scores.device)
            mask = mask.clone()
            mask[rows, target] = False
            logits = logits.masked_fill(mask, float('-inf'))
        out = F.cross_entropy(logits, target, reduction='none')
        return self._finish(out, {'pos': scores.gather(1, target[:, None]),
                                  'neg': scores})
