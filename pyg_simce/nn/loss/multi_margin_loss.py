from typing import Dict, Sequence, Tuple

from torch import Tensor

from pyg_simce.nn.loss.checks import check_float
from pyg_simce.nn.loss.ragged_groups import RaggedGroups
from pyg_simce.nn.loss.ranking_loss import RankingLoss


def _check_sequence(name: str, values: Sequence[float],
                    non_negative: bool) -> Tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, '__len__'):
        raise ValueError(f"Expected '{name}' to be a sequence of numbers "
                         f"(got {values!r})")
    values = tuple(values)
    if len(values) == 0:
        raise ValueError(f"Expected '{name}' to be non-empty (got "
                         f"{values!r})")
    return tuple(
        check_float(f'{name}[{k}]', v, non_negative=non_negative)
        for k, v in enumerate(values))


class MultiMarginLoss(RankingLoss):
    r"""The multi-margin loss from the `"Multi-Margin Loss: Proposal and
    Application in Recommender Systems" <https://arxiv.org/abs/2405.04614>`_
    paper.  It extends :class:`~pyg_simce.nn.loss.CCLLoss` with :math:`K`
    margins :math:`m_k` of weights :math:`w_k`, so that not only the hardest
    negatives but also moderately similar ones receive gradient:

    .. math::
        \mathcal{L}_{ui} = w_p \max(0, 1 - s_{ui}) +
        \frac{w_n}{|\mathcal{N}_{ui}|} \sum_{j \in \mathcal{N}_{ui}}
        \sum_{k=1}^{K} w_k \max(0, s_{uj} - m_k).

    With a single margin :math:`m` of weight :math:`1` and :math:`w_p = 1`
    it is exactly :class:`~pyg_simce.nn.loss.CCLLoss` with
    :obj:`margin=m, negative_weight=w_n`.  Scores are meant to be cosine
    similarities.  A positive without negatives keeps only its positive
    term.

    Args:
        margins (Sequence[float], optional): Margins :math:`m_k`.
            (default: :obj:`(0.6, 0.7, 0.8, 0.9)`)
        weights (Sequence[float], optional): Weights :math:`w_k \geq 0`, one
            per margin. (default: :obj:`(0.05, 0.15, 0.2, 0.6)`)
        positive_weight (float, optional): Weight :math:`w_p \geq 0` of the
            positive term. (default: :obj:`1.0`)
        negative_weight (float, optional): Weight :math:`w_n \geq 0` of the
            negative term. (default: :obj:`350.0`)
        reduction (str, optional): :obj:`"mean"`, :obj:`"sum"` or
            :obj:`"none"`. (default: :obj:`"mean"`)

    Shapes:
        - **input:** :obj:`pos` :math:`[B]`, :obj:`neg` :math:`[B, N]`, or
          :obj:`neg` and :obj:`index` :math:`[E]`
        - **output:** scalar, or :math:`[B]` with :obj:`reduction="none"`
    """
    # Not absent: the mean over the negatives counts a -inf one.
    neg_inf_is_absent = False

    def __init__(
        self,
        margins: Sequence[float] = (0.6, 0.7, 0.8, 0.9),
        weights: Sequence[float] = (0.05, 0.15, 0.2, 0.6),
        positive_weight: float = 1.0,
        negative_weight: float = 350.0,
        reduction: str = 'mean',
    ):
        super().__init__(reduction=reduction)
        self.margins = _check_sequence('margins', margins, False)
        self.weights = _check_sequence('weights', weights, True)
        if len(self.margins) != len(self.weights):
            raise ValueError(f"Expected 'margins' and 'weights' of the same "
                             f"length (got {len(self.margins)} and "
                             f"{len(self.weights)})")
        self.positive_weight = check_float('positive_weight',
                                           positive_weight,
                                           non_negative=True)
        self.negative_weight = check_float('negative_weight',
                                           negative_weight,
                                           non_negative=True)

    def _hparams(self) -> Dict[str, object]:
        return {
            'margins': self.margins,
            'weights': self.weights,
            'positive_weight': self.positive_weight,
            'negative_weight': self.negative_weight,
        }

    def _negative_term(self, neg: Tensor) -> Tensor:
        out = None
        for m, w in zip(self.margins, self.weights):
            term = (neg - m).relu() * w
            out = term if out is None else out + term
        return out

    def dense(self, pos: Tensor, neg: Tensor) -> Tensor:
        neg_term = self._negative_term(neg).mean(dim=1)
        return (self.positive_weight * (1.0 - pos).relu() +
                self.negative_weight * neg_term)

    def ragged(self, pos: Tensor, neg: Tensor,
               groups: RaggedGroups) -> Tensor:
        neg_term = groups.mean(self._negative_term(neg))
        return (self.positive_weight * (1.0 - pos).relu() +
                self.negative_weight * neg_term)
