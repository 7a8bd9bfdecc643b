from typing import Dict

from torch import Tensor

from pyg_simce.nn.loss.checks import check_float
from pyg_simce.nn.loss.ragged_groups import RaggedGroups
from pyg_simce.nn.loss.ranking_loss import RankingLoss


class CCLLoss(RankingLoss):
    r"""The cosine contrastive loss from the `"SimpleX: A Simple and Strong
    Baseline for Collaborative Filtering" <https://arxiv.org/abs/2109.12613>`_
    paper:

    .. math::
        \mathcal{L}_{ui} = \max(0, 1 - s_{ui}) +
        \frac{w}{|\mathcal{N}_{ui}|} \sum_{j \in \mathcal{N}_{ui}}
        \max(0, s_{uj} - m).

    It is meant for cosine scores in :math:`[-1, 1]` and many sampled
    negatives: only negatives more similar than the margin :math:`m` receive
    gradient.  A positive without negatives (ragged form) keeps only its
    positive term.  :class:`~pyg_simce.nn.loss.MultiMarginLoss` generalises
    it to several margins.

    Args:
        margin (float, optional): Margin :math:`m` of the negatives.
            (default: :obj:`0.9`)
        negative_weight (float, optional): Weight :math:`w \geq 0` of the
            negative term. (default: :obj:`150.0`)
        reduction (str, optional): :obj:`"mean"`, :obj:`"sum"` or
            :obj:`"none"`. (default: :obj:`"mean"`)

    Shapes:
        - **input:** :obj:`pos` :math:`[B]`, :obj:`neg` :math:`[B, N]`, or
          :obj:`neg` and :obj:`index` :math:`[E]`
        - **output:** scalar, or :math:`[B]` with :obj:`reduction="none"`
    """
    # Not absent: the mean over the negatives counts a -inf one.
    neg_inf_is_absent = False

    def __init__(self, margin: float = 0.9, negative_weight: float = 150.0,
                 reduction: str = 'mean'):
        super().__init__(reduction=reduction)
        self.margin = check_float('margin', margin)
        self.negative_weight = check_float('negative_weight',
                                           negative_weight,
                                           non_negative=True)

    def _hparams(self) -> Dict[str, object]:
        return {'margin': self.margin,
                'negative_weight': self.negative_weight}

    def dense(self, pos: Tensor, neg: Tensor) -> Tensor:
        neg_term = (neg - self.margin).relu().mean(dim=1)
        return (1.0 - pos).relu() + self.negative_weight * neg_term

    def ragged(self, pos: Tensor, neg: Tensor,
               groups: RaggedGroups) -> Tensor:
        neg_term = groups.mean((neg - self.margin).relu())
        return (1.0 - pos).relu() + self.negative_weight * neg_term
