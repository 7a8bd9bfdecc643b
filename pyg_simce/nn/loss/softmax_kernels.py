r"""Numerical kernels of the softmax-type losses: the stable softmax
cross-entropy of a positive against its negatives (dense, ragged, and from a
matrix of logits) and :math:`\mathrm{softplus}`."""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from pyg_simce.nn.loss.checks import (
    check_reduction,
    check_scores,
    compute_dtype,
    raise_non_finite,
)
from pyg_simce.nn.loss.ragged_groups import RaggedGroups


def softmax_ce_dense(pos: Tensor, neg: Tensor) -> Tensor:
    r""":math:`\log(e^{p} + \sum_j e^{n_j}) - p` per row, stably."""
    m = torch.maximum(pos, neg.amax(dim=1)).detach()
    total = (pos - m).exp() + (neg - m.unsqueeze(1)).exp().sum(dim=1)
    return total.log() + (m - pos)  # m - pos first: exact, no cancellation


class _ShiftedExpSum(torch.autograd.Function):
    r"""Per-group :math:`t_b = \sum_{j \in b} e^{x_j}` of the logits
    :math:`x_j = \alpha n_j - o_j - p_b`, with the gradients in closed form:
    :math:`\partial t_b / \partial n_j = \alpha e^{x_j}`,
    :math:`\partial t_b / \partial o_j = -e^{x_j}` and
    :math:`\partial t_b / \partial p_b = -t_b`.  The gradient of :obj:`pos`
    thus needs no pass over the :obj:`E` elements, and that of :obj:`neg`
    one gather and one product."""
    @staticmethod
    def forward(ctx, pos: Tensor, neg: Tensor, offset: Optional[Tensor],
                groups: RaggedGroups, scale: float) -> Tensor:
        x = torch.add(pos.neg().index_select(0, groups.index), neg,
                      alpha=scale)
        if offset is not None:
            x = x.sub_(offset)
        e = x.exp_()
        total = groups._sum_kernel(e)
        ctx.groups, ctx.scale = groups, scale
        ctx.save_for_backward(e, total)
        return total

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor
                 ) -> Tuple[Optional[Tensor], ...]:
        e, total = ctx.saved_tensors
        groups: RaggedGroups = ctx.groups
        grad_pos = grad_neg = grad_offset = None
        if ctx.needs_input_grad[0]:
            grad_pos = -(grad * total)
        if ctx.needs_input_grad[2]:
            grad_offset = (-grad).index_select(0, groups.index).mul_(e)
        if ctx.needs_input_grad[1]:
            grad_neg = (grad * ctx.scale).index_select(0, groups.index)
            grad_neg = grad_neg.mul_(e)
        return grad_pos, grad_neg, grad_offset, None, None


def softmax_ce_ragged(pos: Tensor, neg: Tensor, groups: RaggedGroups,
                      scale: float = 1.0,
                      neg_offset: Optional[Tensor] = None) -> Tensor:
    r"""Ragged form of :func:`softmax_ce_dense` on the logits :obj:`pos`
    and :obj:`scale * neg - neg_offset`; an empty group gives
    :math:`\log e^{p} - p = 0`.

    The loss equals :math:`\log(1 + \sum_j e^{n_j - p})`.  Shifting by the
    positive is exact whenever no :math:`e^{n_j - p}` overflows (underflow
    only drops terms below the precision of :math:`\log(1 + \cdot)`), and
    needs no per-group maximum; scaling, offset and shift are fused into one
    pass and the gradients are taken in closed form.  On overflow the
    per-group maximum shift is used instead.
    """
    total = _ShiftedExpSum.apply(pos, neg, neg_offset, groups, scale)
    if bool(torch.isfinite(total.detach()).all()):
        return torch.log1p(total)
    neg = neg * scale
    if neg_offset is not None:
        neg = neg - neg_offset
    m = torch.maximum(pos.detach(), groups.max_detached(neg))
    total = (pos - m).exp() + groups.sum((neg - groups.gather(m)).exp())
    return total.log() + (m - pos)  # m - pos first: exact, no cancellation


class _RowCrossEntropy(torch.autograd.Function):
    r"""Row losses :math:`\ell_b = \log \sum_c e^{x_{bc}} - x_{b t_b} =
    -\log p_{b t_b}` of a logit matrix, :math:`\mathbf{p}_b =
    \mathrm{softmax}(\mathbf{x}_b)`, with the gradient in closed form,
    :math:`\partial \ell_b / \partial x_{bc} = p_{bc} - [c = t_b]`.  The
    forward keeps :math:`\mathbf{P}` (one fused softmax) as the only
    :math:`[B, C]` buffer and the backward scales it in place into the
    gradient: one pass over the matrix forward and one backward, against
    the two and three of :func:`~torch.log_softmax` followed by
    :func:`~torch.nn.functional.nll_loss`.  A row whose :math:`p_{b t_b}`
    falls below the smallest normal number (a loss above about 87 in
    :obj:`float32`), where it has lost its precision, gets its loss from a
    log-sum-exp of its logits instead; a second backward through the same graph
    (:obj:`retain_graph=True`) recomputes :math:`\mathbf{P}`."""
    @staticmethod
    def forward(ctx, logits: Tensor, target: Tensor) -> Tensor:
        prob = torch.softmax(logits, dim=1)
        p = prob.gather(1, target.unsqueeze(1)).squeeze(1)
        # Below the smallest normal number p has lost its precision.
        lost = p < torch.finfo(p.dtype).tiny
        loss = p.log_().neg_()
        if bool(lost.any()):  # the exact log-sum-exp of those rows
            rows = lost.nonzero().squeeze(1)
            x = logits.index_select(0, rows)
            loss[rows] = torch.logsumexp(x, dim=1) - x.gather(
                1, target[rows].unsqueeze(1)).squeeze(1)
        ctx.save_for_backward(logits, target)
        ctx.prob = prob
        return loss

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor) -> Tuple[Optional[Tensor], None]:
        logits, target = ctx.saved_tensors
        prob, ctx.prob = ctx.prob, None
        if prob is None:  # a second backward: the first consumed it
            prob = torch.softmax(logits, dim=1)
        out = prob.mul_(grad.unsqueeze(1))
        return out.scatter_add_(1, target.unsqueeze(1),
                                -grad.unsqueeze(1)), None


def softmax_ce_logits(scores: Tensor, target: Tensor,
                      temperature: float = 1.0, reduction: str = 'mean',
                      mask: Optional[Tensor] = None,
                      scaled: bool = False) -> Tensor:
    r"""Softmax cross-entropy of every row of a score matrix
    :math:`\mathbf{S}` against its target column :math:`t_b`,

    .. math::
        \ell_b = \log \sum_{c} e^{S_{bc} / \tau} - S_{b t_b} / \tau,

    as one autograd node on :math:`\mathbf{S} / \tau` (the division is
    skipped at :math:`\tau = 1`) that keeps a single :math:`[B, C]` buffer
    and turns it into the gradient in place.
    Columns of :obj:`-inf` are absent from the softmax and receive a zero
    gradient; a non-finite loss (e.g. a target column of :obj:`-inf`)
    raises :class:`ValueError` naming the offending input.  Shared by
    :meth:`~pyg_simce.nn.loss.SampledSoftmaxLoss.forward_logits`,
    :meth:`~pyg_simce.nn.loss.SoftmaxLoss.forward_logits` and
    :meth:`~pyg_simce.nn.loss.SoftmaxLoss.forward_full`.

    Args:
        scores (torch.Tensor): Floating-point scores :obj:`[B, C]`.
        target (torch.Tensor): Integer target column of every row
            :obj:`[B]`.
        temperature (float, optional): Temperature :math:`\tau > 0`.
            (default: :obj:`1.0`)
        reduction (str, optional): :obj:`"mean"`, :obj:`"sum"` or
            :obj:`"none"`. (default: :obj:`"mean"`)
        mask (torch.Tensor, optional): Boolean :obj:`[B, C]`; entries set to
            :obj:`True` are left out of the softmax, except the target
            entry. (default: :obj:`None`)
        scaled (bool, optional): :obj:`scores` already hold
            :math:`\mathbf{S} / \tau` (a caller folded :math:`1 / \tau` into
            a factor of the product that made them, which saves a pass over
            the matrix forward and backward). (default: :obj:`False`)

    Half-precision :obj:`scores` are computed and returned in
    :obj:`torch.float32`.
    """
    target = _check_logits(scores, target)
    check_reduction(reduction)
    scores = scores.to(compute_dtype(scores.dtype))  # float32 for half
    logits = scores if (temperature == 1.0 or scaled) else \
        scores / temperature
    if mask is not None:
        if not isinstance(mask, Tensor):
            raise ValueError(f"Expected 'mask' to be a tensor (got "
                             f"{type(mask).__name__})")
        if mask.dtype != torch.bool or mask.shape != scores.shape:
            raise ValueError(f"Expected a boolean 'mask' of shape "
                             f"{tuple(scores.shape)} (got dtype "
                             f"{mask.dtype}, shape {tuple(mask.shape)})")
        rows = torch.arange(scores.size(0), device=scores.device)
        mask = mask.clone()
        mask[rows, target] = False
        if logits is scores:
            logits = logits.masked_fill(mask, float('-inf'))
        else:  # in place on the scaled copy; `scores` is never written
            logits = logits.masked_fill_(mask, float('-inf'))
    out = _RowCrossEntropy.apply(logits, target)
    if reduction == 'mean':
        out = out.mean()
    elif reduction == 'sum':
        out = out.sum()
    # Every row loss is >= 0, +inf or nan: a mean or sum is finite exactly
    # when all rows are, and a Python check of the scalar is the cheapest.
    if out.dim() == 0:
        finite = math.isfinite(out.item())
    else:
        finite = bool(torch.isfinite(out.detach()).all())
    if not finite:
        raise_non_finite(
            {
                'scores[target]': scores.gather(1, target.unsqueeze(1)),
                'scores': scores,
            }, neg_inf_ok=('scores', ))
    return out


def _check_logits(scores: Tensor, target: Tensor) -> Tensor:
    r"""Validates the inputs of :func:`softmax_ce_logits` and returns
    :obj:`target` as :obj:`torch.long`."""
    check_scores('scores', scores)
    if scores.dim() != 2 or scores.size(0) == 0 or scores.size(1) == 0:
        raise ValueError(f"Expected 'scores' of shape [B, C] with B, C > 0 "
                         f"(got shape {tuple(scores.shape)})")
    B, C = scores.shape
    if not isinstance(target, Tensor):
        raise ValueError(f"Expected 'target' to be a tensor (got "
                         f"{type(target).__name__})")
    if (target.is_floating_point() or target.is_complex()
            or target.dtype == torch.bool):
        raise ValueError(f"Expected 'target' to hold integers (got dtype "
                         f"{target.dtype})")
    if target.shape != (B, ):
        raise ValueError(f"Expected 'target' of shape [B] = [{B}] (got "
                         f"shape {tuple(target.shape)})")
    if target.device != scores.device:
        raise ValueError(f"Expected 'target' on the device of 'scores' "
                         f"(got {target.device} and {scores.device})")
    target = target.long()
    lo, hi = (int(v) for v in target.aminmax())
    if lo < 0 or hi >= C:
        raise ValueError(f"Expected 'target' values in [0, {C}) (the "
                         f"columns of 'scores'; got range [{lo}, {hi}])")
    return target


def softplus(x: Tensor) -> Tensor:
    r"""Numerically stable :math:`\log(1 + e^x)`."""
    return F.softplus(x)


__all__ = [
    'softmax_ce_dense',
    'softmax_ce_ragged',
    'softmax_ce_logits',
    'softplus',
]
