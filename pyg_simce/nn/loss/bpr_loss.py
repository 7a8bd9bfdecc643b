from torch import Tensor

from pyg_simce.nn.loss.ragged_groups import RaggedGroups
from pyg_simce.nn.loss.ranking_loss import RankingLoss
from pyg_simce.nn.loss.softmax_kernels import softplus


class BPRLoss(RankingLoss):
    r"""The Bayesian personalised ranking loss from the `"BPR: Bayesian
    Personalized Ranking from Implicit Feedback"
    <https://arxiv.org/abs/1205.2618>`_ paper, averaged over the negatives
    of each positive:

    .. math::
        \mathcal{L}_{ui} = \frac{1}{|\mathcal{N}_{ui}|}
        \sum_{j \in \mathcal{N}_{ui}} \log\left(1 + e^{s_{uj} - s_{ui}}\right)
        = \frac{1}{|\mathcal{N}_{ui}|} \sum_{j \in \mathcal{N}_{ui}}
        -\log \sigma(s_{ui} - s_{uj}).

    With one negative (:obj:`N = 1`) this is the classic BPR loss.  A
    positive without negatives (ragged form) contributes :obj:`0`; with
    :obj:`reduction="mean"` it still counts in the batch size :obj:`B`.

    Args:
        reduction (str, optional): :obj:`"mean"`, :obj:`"sum"` or
            :obj:`"none"`. (default: :obj:`"mean"`)

    Shapes:
        - **input:** :obj:`pos` :math:`[B]`, :obj:`neg` :math:`[B, N]`, or
          :obj:`neg` and :obj:`index` :math:`[E]`
        - **output:** scalar, or :math:`[B]` with :obj:`reduction="none"`
    """
    # Not absent: the mean over the negatives counts a -inf one.
    neg_inf_is_absent = False

    def __init__(self, reduction: str = 'mean'):
        super().__init__(reduction=reduction)

    def dense(self, pos: Tensor, neg: Tensor) -> Tensor:
        return softplus(neg - pos.unsqueeze(1)).mean(dim=1)

    def ragged(self, pos: Tensor, neg: Tensor,
               groups: RaggedGroups) -> Tensor:
        return groups.mean(softplus(neg + groups.gather(-pos)))
