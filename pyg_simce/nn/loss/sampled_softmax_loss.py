from typing import Dict, Optional

from torch import Tensor

from pyg_simce.nn.loss.checks import check_float
from pyg_simce.nn.loss.ragged_groups import RaggedGroups
from pyg_simce.nn.loss.ranking_loss import RankingLoss
from pyg_simce.nn.loss.softmax_kernels import (
    softmax_ce_dense,
    softmax_ce_ragged,
)
from pyg_simce.nn.loss.softmax_logits import SoftmaxLogitsMixin


class SampledSoftmaxLoss(SoftmaxLogitsMixin, RankingLoss):
    r"""The sampled softmax (SSM) loss from the `"On the Effectiveness of
    Sampled Softmax Loss for Item Recommendation"
    <https://arxiv.org/abs/2201.02327>`_ paper (eq. 6), with temperature
    :math:`\tau` and optional logQ correction:

    .. math::
        \mathcal{L}_{ui} = \log\Big(e^{s_{ui}/\tau - \log q_i} +
        \sum_{j \in \mathcal{N}_{ui}} e^{s_{uj}/\tau - \log q_j}\Big) -
        \big(s_{ui}/\tau - \log q_i\big).

    Without :obj:`log_q` (and :obj:`pos_log_q`) the :math:`\log q` terms are
    zero.  The paper uses cosine scores (see
    :func:`pyg_simce.nn.similarity.cosine`) and **in-batch negatives**: the
    other positive items of the batch, built by
    :func:`~pyg_simce.nn.loss.in_batch_negatives`, which also removes
    accidental hits (ragged form) and provides the logQ terms.  Since
    in-batch negatives are drawn proportionally to item popularity, the
    correction :math:`\log q_j` with :math:`q_j` the sampling probability
    makes the sampled loss an estimate of the full softmax
    (`Yi et al., RecSys 2019 <https://doi.org/10.1145/3298689.3346996>`_).

    **Mean vs. sum.**  The official code base sums the loss over the batch;
    the default :obj:`reduction="mean"` divides it by the batch size
    :math:`B`.  With Adam the two train alike, but an L2 regulariser must be
    scaled consistently (see :func:`~pyg_simce.nn.loss.l2_regularization`).

    A positive without negatives (ragged form) contributes
    :math:`\log e^{x} - x = 0`, and a negative of :obj:`-inf` contributes
    nothing (:attr:`~pyg_simce.nn.loss.RankingLoss.neg_inf_is_absent`).
    When the positive and negative scores already form one matrix (e.g. a
    :obj:`[B, 1 + N]` matrix, or in-batch scores with excluded pairs set to
    :obj:`-inf`), :meth:`forward_logits` computes the loss in one fused
    cross-entropy.

    Args:
        temperature (float, optional): Temperature :math:`\tau > 0`; the
            paper tunes it in :math:`[0.1, 0.3]` (Gowalla 0.12, Yelp2018
            0.14, Amazon-Book 0.10). (default: :obj:`0.1`)
        reduction (str, optional): :obj:`"mean"`, :obj:`"sum"` or
            :obj:`"none"`. (default: :obj:`"mean"`)

    Shapes:
        - **input:** :obj:`pos` :math:`[B]`, :obj:`neg` :math:`[B, N]`, or
          :obj:`neg` and :obj:`index` :math:`[E]`; :obj:`log_q` like
          :obj:`neg`, :obj:`pos_log_q` like :obj:`pos`
        - **output:** scalar, or :math:`[B]` with :obj:`reduction="none"`
    """
    # A log-sum-exp over the negatives: e^{-inf} = 0 with zero gradient.
    neg_inf_is_absent = True

    def __init__(self, temperature: float = 0.1, reduction: str = 'mean'):
        super().__init__(reduction=reduction)
        self.temperature = check_float('temperature', temperature,
                                       positive=True)

    def _hparams(self) -> Dict[str, object]:
        return {'temperature': self.temperature}

    def forward(self, pos: Tensor, neg: Tensor,
                index: Optional[Tensor] = None,
                log_q: Optional[Tensor] = None,
                pos_log_q: Optional[Tensor] = None) -> Tensor:
        r"""
        Args:
            pos (torch.Tensor): Positive scores :obj:`[B]`.
            neg (torch.Tensor): Negative scores, :obj:`[B, N]` (dense) or
                :obj:`[E]` (ragged).
            index (torch.Tensor, optional): Row of :obj:`pos` of every
                ragged negative, :obj:`[E]`. (default: :obj:`None`)
            log_q (torch.Tensor, optional): Log sampling probability of every
                negative, shaped like :obj:`neg`; subtracted from the scaled
                negative scores. (default: :obj:`None`)
            pos_log_q (torch.Tensor, optional): Log sampling probability of
                every positive item, :obj:`[B]`; subtracted from the scaled
                positive scores. (default: :obj:`None`)
        """
        pos, neg, groups, (log_q, ) = self._prepare(pos, neg, index,
                                                    [('log_q', log_q)])
        t = self.temperature
        pos_logit = pos / t
        if pos_log_q is not None:
            if (not isinstance(pos_log_q, Tensor)
                    or not pos_log_q.is_floating_point()
                    or pos_log_q.shape != pos.shape):
                raise ValueError(f"Expected 'pos_log_q' to be a "
                                 f"floating-point tensor of shape "
                                 f"{tuple(pos.shape)} (got {pos_log_q!r:.60})")
            pos_logit = pos_logit - pos_log_q.to(pos)

        def dense(p: Tensor, n: Tensor) -> Tensor:
            n = n / t
            if log_q is not None:
                n = n - log_q.view(n.shape)
            return softmax_ce_dense(p, n)

        def ragged(p: Tensor, n: Tensor, groups: RaggedGroups) -> Tensor:
            return softmax_ce_ragged(p, n, groups, 1.0 / t, log_q)

        out = self._dispatch(pos_logit, neg, groups, dense, ragged)
        return self._finish(out, {'pos': pos, 'neg': neg, 'log_q': log_q,
                                  'pos_log_q': pos_log_q})

    def dense(self, pos: Tensor, neg: Tensor) -> Tensor:
        t = self.temperature
        return softmax_ce_dense(pos / t, neg / t)

    def ragged(self, pos: Tensor, neg: Tensor,
               groups: RaggedGroups) -> Tensor:
        t = self.temperature
        return softmax_ce_ragged(pos / t, neg, groups, 1.0 / t)
