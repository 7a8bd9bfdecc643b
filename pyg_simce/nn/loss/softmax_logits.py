from torch import Tensor

from pyg_simce.nn.loss.softmax_kernels import softmax_ce_logits


class SoftmaxLogitsMixin:
    r"""The score-matrix entry point of the softmax losses
    (:class:`~pyg_simce.nn.loss.SampledSoftmaxLoss` and
    :class:`~pyg_simce.nn.loss.SoftmaxLoss`), for a class with
    :obj:`temperature` and :obj:`reduction`: :meth:`forward_logits` turns a
    matrix of scores with the positive of every row in a target column into
    one fused cross-entropy, and :attr:`logit_scale` lets a caller fold
    :math:`1 / \tau` into a factor of the product that makes the matrix."""
    @property
    def logit_scale(self) -> float:
        r"""The factor :math:`1 / \tau` that turns scores into logits
        (see :obj:`scaled` of :meth:`forward_logits`)."""
        return 1.0 / self.temperature

    def forward_logits(self, scores: Tensor, target: Tensor, *,
                       scaled: bool = False) -> Tensor:
        r"""The loss from one score matrix holding the positive and the
        negatives of every row,

        .. math::
            \mathcal{L}_b = \log \sum_{c} e^{S_{bc} / \tau} -
            S_{b t_b} / \tau,

        i.e. the cross-entropy of :math:`\mathbf{S} / \tau` with target
        :math:`t_b`.  It equals :meth:`forward` with :obj:`pos[b] =
        scores[b, target[b]]` and, as the (ragged) negatives of row
        :obj:`b`, the other finite entries of :obj:`scores[b]`, under
        :obj:`reduction`; columns of :obj:`-inf` are absent (zero
        gradient).  A non-finite loss, e.g. a target column of :obj:`-inf`,
        raises :class:`ValueError`.  There is no logQ correction here:
        subtract :math:`\tau \log q` from :obj:`scores` first.

        Args:
            scores (torch.Tensor): Floating-point (unscaled) scores
                :obj:`[B, C]`, with :obj:`-inf` marking an absent column.
            target (torch.Tensor): Integer column of the positive of every
                row, :obj:`[B]`.
            scaled (bool, optional): :obj:`scores` are already multiplied
                by :attr:`logit_scale` (:math:`1 / \tau`), *e.g.* folded
                into the :obj:`[B, d]` factor of :math:`\mathbf{S} =
                \mathbf{U}\mathbf{I}^{\top}`, which saves two passes over
                the matrix. (default: :obj:`False`)
        """
        return softmax_ce_logits(scores, target, self.temperature,
                                 self.reduction, scaled=scaled)

