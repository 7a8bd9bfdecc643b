import math
from typing import Dict

import torch
from torch import Tensor

from pyg_simce.nn.loss.checks import check_float
from pyg_simce.nn.loss.ragged_groups import RaggedGroups
from pyg_simce.nn.loss.ranking_loss import RankingLoss
from pyg_simce.nn.loss.softmax_kernels import softplus

BOUNDS = ('hinge', 'softplus')


class SimCELoss(RankingLoss):
    r"""The simplified sampled softmax cross-entropy loss from the `"SimCE:
    Simplifying Cross-Entropy Loss for Collaborative Filtering"
    <https://arxiv.org/abs/2406.16170>`_ paper: a hinge on the hardest of the
    sampled negatives,

    .. math::
        \mathcal{L}_{ui} = \max\Big(0,\; m - s_{ui} +
        \max_{j \in \mathcal{N}_{ui}} s_{uj}\Big).

    **Derivation from sampled softmax.**  With :math:`N = |\mathcal{N}_{ui}|`
    and :math:`s^{*} = \max_j s_{uj}`, the sampled softmax loss
    (:class:`~pyg_simce.nn.loss.SampledSoftmaxLoss` at :math:`\tau = 1`) is
    bounded by replacing every negative with the hardest one:

    .. math::
        \log\Big(1 + \sum_{j} e^{s_{uj} - s_{ui}}\Big)
        \leq \log\Big(1 + N e^{s^{*} - s_{ui}}\Big)
        = \mathrm{softplus}\big(s^{*} - s_{ui} + \log N\big).

    SimCE replaces the softplus by the hinge
    :math:`\max(0, x) \leq \mathrm{softplus}(x) \leq \max(0, x) + \log 2`
    and the constant :math:`\log N` by a tunable margin :math:`m`, giving
    the loss above: only the hardest negative receives gradient, and only
    while it is within :math:`m` of the positive.  :obj:`bound="softplus"`
    keeps the exact upper bound :math:`\mathrm{softplus}(s^{*} - s_{ui} +
    \log N)` instead (for ablations; :obj:`margin` is then unused), which is
    :math:`\geq` the sampled softmax loss for the same scores and
    temperature.

    Scores may be divided by a :obj:`temperature` first
    (:math:`s \mapsto s / \tau`, default :math:`1`: the paper's
    dot-product SimCE); the margin applies to the scaled scores.

    A positive without negatives (ragged form) has :math:`s^{*} = -\infty`
    and contributes :obj:`0` under both bounds (the sampled softmax loss
    with no negatives is :obj:`0` as well).  Under the hinge bound a
    negative of :obj:`-inf` is exactly an absent one
    (:attr:`~pyg_simce.nn.loss.RankingLoss.neg_inf_is_absent` is
    :obj:`True`); under :obj:`bound="softplus"` it is not, since it still
    counts in :math:`\log N` (the attribute is :obj:`False` on such an
    instance).

    Args:
        margin (float, optional): Margin :math:`m`; the official runs use
            1, 5 or 10. (default: :obj:`5.0`)
        bound (str, optional): :obj:`"hinge"` (SimCE) or :obj:`"softplus"`
            (the exact bound of sampled softmax). (default: :obj:`"hinge"`)
        temperature (float, optional): Temperature :math:`\tau > 0` dividing
            the scores. (default: :obj:`1.0`)
        reduction (str, optional): :obj:`"mean"`, :obj:`"sum"` or
            :obj:`"none"`. (default: :obj:`"mean"`)

    Shapes:
        - **input:** :obj:`pos` :math:`[B]`, :obj:`neg` :math:`[B, N]`, or
          :obj:`neg` and :obj:`index` :math:`[E]`
        - **output:** scalar, or :math:`[B]` with :obj:`reduction="none"`
    """
    # The hinge of the maximum ignores -inf negatives; the softplus bound
    # counts them in log N (set per instance below).
    neg_inf_is_absent = True
    # Both bounds read the hardest negative and the count N only.
    max_negative_only = True

    def __init__(self, margin: float = 5.0, bound: str = 'hinge',
                 temperature: float = 1.0, reduction: str = 'mean'):
        super().__init__(reduction=reduction)
        self.margin = check_float('margin', margin)
        if bound not in BOUNDS:
            raise ValueError(f"Expected 'bound' to be one of {BOUNDS} (got "
                             f"{bound!r})")
        self.bound = bound
        self.neg_inf_is_absent = bound == 'hinge'
        self.temperature = check_float('temperature', temperature,
                                       positive=True)

    def _hparams(self) -> Dict[str, object]:
        return {'margin': self.margin, 'bound': self.bound,
                'temperature': self.temperature}

    def _hinge_or_softplus(self, gap: Tensor, log_n: Tensor) -> Tensor:
        # gap = (max_j s_uj - s_ui) / tau
        if self.bound == 'hinge':
            return (gap + self.margin).relu()
        return softplus(gap + log_n)

    def dense(self, pos: Tensor, neg: Tensor) -> Tensor:
        gap = (neg.amax(dim=1) - pos) / self.temperature
        log_n = gap.new_full((), math.log(neg.size(1)))
        return self._hinge_or_softplus(gap, log_n)

    def ragged(self, pos: Tensor, neg: Tensor,
               groups: RaggedGroups) -> Tensor:
        gap = (groups.max(neg) - pos) / self.temperature
        if self.bound == 'softplus':
            log_n = torch.log(groups.count(gap.dtype))
        else:
            log_n = gap.new_zeros(())
        return self._hinge_or_softplus(gap, log_n)
