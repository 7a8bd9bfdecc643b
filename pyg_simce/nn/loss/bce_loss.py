from torch import Tensor

from pyg_simce.nn.loss.ragged_groups import RaggedGroups
from pyg_simce.nn.loss.ranking_loss import RankingLoss
from pyg_simce.nn.loss.softmax_kernels import softplus


class BCELoss(RankingLoss):
    r"""The pointwise binary cross-entropy loss on logits: each positive is a
    sample of class 1 and each of its negatives a sample of class 0,

    .. math::
        \mathcal{L}_{ui} = \log\left(1 + e^{-s_{ui}}\right) +
        \sum_{j \in \mathcal{N}_{ui}} \log\left(1 + e^{s_{uj}}\right),

    i.e. :math:`-\log\sigma(s_{ui}) - \sum_j \log(1 - \sigma(s_{uj}))`.  The
    negatives are *summed*, as in `"On the Effectiveness of Sampled Softmax
    Loss for Item Recommendation" <https://arxiv.org/abs/2201.02327>`_
    (which samples them at a 1:4 positive:negative ratio).  A positive
    without negatives contributes :math:`\log(1 + e^{-s_{ui}})`, and a
    negative of :obj:`-inf` contributes nothing
    (:attr:`~pyg_simce.nn.loss.RankingLoss.neg_inf_is_absent`).

    Args:
        reduction (str, optional): :obj:`"mean"`, :obj:`"sum"` or
            :obj:`"none"`. (default: :obj:`"mean"`)

    Shapes:
        - **input:** :obj:`pos` :math:`[B]`, :obj:`neg` :math:`[B, N]`, or
          :obj:`neg` and :obj:`index` :math:`[E]`
        - **output:** scalar, or :math:`[B]` with :obj:`reduction="none"`
    """
    # softplus(-inf) = 0 with zero gradient, and the negatives are summed.
    neg_inf_is_absent = True

    def __init__(self, reduction: str = 'mean'):
        super().__init__(reduction=reduction)

    def dense(self, pos: Tensor, neg: Tensor) -> Tensor:
        return softplus(-pos) + softplus(neg).sum(dim=1)

    def ragged(self, pos: Tensor, neg: Tensor,
               groups: RaggedGroups) -> Tensor:
        return softplus(-pos) + groups.sum(softplus(neg))
