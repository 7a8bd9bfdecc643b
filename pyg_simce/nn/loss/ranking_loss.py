r"""The base class of the ranking losses: the dense and ragged call forms,
input validation and the final reduction."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from pyg_simce.nn.loss.checks import (
    check_reduction,
    compute_dtype,
    check_scores,
    raise_non_finite,
)
from pyg_simce.nn.loss.ragged_groups import RaggedGroups


class RankingLoss(torch.nn.Module):
    r"""Base class of the ranking losses of :mod:`pyg_simce.nn.loss`.

    Every loss scores one positive item against a set of negative items per
    row and accepts two call forms:

    * **dense** :obj:`loss(pos, neg)` with :obj:`pos` of shape :obj:`[B]`
      and :obj:`neg` of shape :obj:`[B, N]` (the same :obj:`N` negatives
      per positive);
    * **ragged** :obj:`loss(pos, neg, index)` with :obj:`neg` and
      :obj:`index` of shape :obj:`[E]`, where :obj:`index[e]` is the row of
      :obj:`pos` that negative :obj:`e` belongs to.  Rows may own different
      numbers of negatives, including none; this is how accidental hits and
      false negatives are *removed* rather than kept.  :obj:`index` needs
      not be sorted.

    Both forms give identical values and gradients when the ragged negatives
    are the dense ones (:obj:`index = arange(B).repeat_interleave(N)`).
    Subclasses implement :meth:`dense` and :meth:`ragged`, each returning the
    per-positive loss of shape :obj:`[B]`.

    Scores may be any finite numbers, and negatives may also be
    :obj:`-inf`.  A non-finite loss, or a non-finite positive score (even
    when the loss would stay finite), raises :class:`ValueError` naming the
    offending input instead of returning :obj:`nan`.

    **Half precision.**  Scores in :obj:`torch.float16` or
    :obj:`torch.bfloat16` are computed in :obj:`torch.float32`, and the loss
    is returned in :obj:`torch.float32` (gradients flow back to the inputs
    in their own dtype).  Large scores, *e.g.* :math:`10^4`, thus neither
    overflow (:math:`s / \tau`) nor lose the loss to rounding.

    **Negatives of** :obj:`-inf`.  The class attribute
    :attr:`neg_inf_is_absent` tells whether a negative score of :obj:`-inf`
    contributes exactly as if that negative were absent, in value and
    gradient (the gradient at a :obj:`-inf` entry is exactly :obj:`0`):

    .. math::
        \mathcal{L}\big(s_{ui}, \mathcal{N}_{ui} \cup \{-\infty\}\big) =
        \mathcal{L}\big(s_{ui}, \mathcal{N}_{ui}\big).

    A caller may then drop excluded negatives (accidental hits, training
    positives) by setting them to :obj:`-inf` in a dense :obj:`[B, N]`
    matrix instead of going ragged.  It holds for the losses that reduce
    the negatives by a maximum, a log-sum-exp or a sum of
    :math:`\mathrm{softplus}` terms, which all vanish at :obj:`-inf`
    (:class:`~pyg_simce.nn.loss.SimCELoss` with its hinge bound,
    :class:`~pyg_simce.nn.loss.SampledSoftmaxLoss`,
    :class:`~pyg_simce.nn.loss.SoftmaxLoss`,
    :class:`~pyg_simce.nn.loss.BCELoss`); it does not for those that
    *average* over the negatives (:class:`~pyg_simce.nn.loss.BPRLoss`,
    :class:`~pyg_simce.nn.loss.CCLLoss`,
    :class:`~pyg_simce.nn.loss.MultiMarginLoss`), where a :obj:`-inf`
    negative still counts in :math:`|\mathcal{N}_{ui}|`.  A subclass
    defaults to :obj:`False` (always correct: exclude negatives with the
    ragged form).

    Args:
        reduction (str, optional): :obj:`"mean"` (average over the
            :obj:`B` positives), :obj:`"sum"`, or :obj:`"none"` (the
            per-positive loss :obj:`[B]`). (default: :obj:`"mean"`)
    """
    #: Whether a :obj:`-inf` negative score contributes exactly as an absent
    #: negative (see above).
    neg_inf_is_absent: bool = False

    #: Whether the loss of a positive reads its dense negatives
    #: :obj:`neg [B, N]` only through their row maximum (and :math:`N`), as
    #: :class:`~pyg_simce.nn.loss.SimCELoss` does: the gradient then reaches
    #: only the entries equal to the maximum of their row (split evenly
    #: among ties, as :func:`torch.amax` does), so a caller may score every
    #: negative without autograd and recompute only those entries with it.
    max_negative_only: bool = False

    def __init__(self, reduction: str = 'mean'):
        super().__init__()
        self.reduction = check_reduction(reduction)

    # Interface -------------------------------------------------------------

    def dense(self, pos: Tensor, neg: Tensor) -> Tensor:  # pragma: no cover
        raise NotImplementedError

    def ragged(self, pos: Tensor, neg: Tensor,
               groups: RaggedGroups) -> Tensor:  # pragma: no cover
        raise NotImplementedError

    def forward(self, pos: Tensor, neg: Tensor,
                index: Optional[Tensor] = None) -> Tensor:
        r"""
        Args:
            pos (torch.Tensor): Positive scores :obj:`[B]`.
            neg (torch.Tensor): Negative scores, :obj:`[B, N]` (dense) or
                :obj:`[E]` (ragged).
            index (torch.Tensor, optional): Row of :obj:`pos` of every
                ragged negative, :obj:`[E]`. (default: :obj:`None`)
        """
        pos, neg, groups, _ = self._prepare(pos, neg, index)
        out = self._dispatch(pos, neg, groups)
        return self._finish(out, {'pos': pos, 'neg': neg})

    # Helpers ---------------------------------------------------------------

    def _dispatch(self, pos: Tensor, neg: Tensor,
                  groups: Optional[RaggedGroups], dense_fn=None,
                  ragged_fn=None) -> Tensor:
        dense_fn = self.dense if dense_fn is None else dense_fn
        ragged_fn = self.ragged if ragged_fn is None else ragged_fn
        if groups is None:
            return dense_fn(pos, neg)
        if groups.uniform is not None:  # sorted, equal sizes: dense layout
            return dense_fn(pos, neg.view(pos.numel(), groups.uniform))
        return ragged_fn(pos, neg, groups)

    def _prepare(
        self,
        pos: Tensor,
        neg: Tensor,
        index: Optional[Tensor],
        aux: Sequence[Tuple[str, Optional[Tensor]]] = (),
    ) -> Tuple[Tensor, Tensor, Optional[RaggedGroups], List[Optional[Tensor]]]:
        r"""Validates the inputs and returns :obj:`(pos, neg, groups, aux)`
        with a common floating dtype; :obj:`groups` is :obj:`None` for the
        dense form.  :obj:`aux` are optional tensors aligned with
        :obj:`neg` (e.g. :obj:`log_q`)."""
        check_scores('pos', pos)
        check_scores('neg', neg)
        if pos.dim() != 1:
            raise ValueError(f"Expected 'pos' to be one-dimensional [B] (got "
                             f"shape {tuple(pos.shape)})")
        if pos.numel() == 0:
            raise ValueError("Expected a non-empty batch; 'pos' has no "
                             "elements (got shape [0])")
        if neg.device != pos.device:
            raise ValueError(f"Expected 'pos' and 'neg' on one device (got "
                             f"{pos.device} and {neg.device})")
        dtype = compute_dtype(torch.promote_types(pos.dtype, neg.dtype))
        pos, neg = pos.to(dtype), neg.to(dtype)
        B = pos.numel()

        if index is None:
            if neg.dim() != 2 or neg.size(0) != B:
                raise ValueError(f"Expected 'neg' of shape [B, N] = [{B}, N] "
                                 f"in the dense form (got shape "
                                 f"{tuple(neg.shape)}); pass 'index' for "
                                 f"ragged negatives")
        else:
            if neg.dim() != 1:
                raise ValueError(f"Expected 'neg' to be one-dimensional [E] "
                                 f"in the ragged form (got shape "
                                 f"{tuple(neg.shape)})")
            if isinstance(index, Tensor) and index.shape != neg.shape:
                raise ValueError(f"Expected 'index' to match 'neg' in length "
                                 f"(got {tuple(index.shape)} and "
                                 f"{tuple(neg.shape)})")
            if isinstance(index, Tensor) and index.device != neg.device:
                raise ValueError(f"Expected 'index' on the device of 'neg' "
                                 f"(got {index.device} and {neg.device})")

        out_aux: List[Optional[Tensor]] = []
        for name, t in aux:
            if t is None:
                out_aux.append(None)
                continue
            if not isinstance(t, Tensor) or not t.is_floating_point():
                raise ValueError(f"Expected '{name}' to be a floating-point "
                                 f"tensor (got {t!r:.60})")
            if t.shape != neg.shape:
                raise ValueError(f"Expected '{name}' to have the shape of "
                                 f"'neg' {tuple(neg.shape)} (got "
                                 f"{tuple(t.shape)})")
            out_aux.append(t.to(device=neg.device, dtype=dtype))

        if index is None and neg.size(1) == 0:
            # No negatives at all: the ragged form with every group empty.
            neg = neg.reshape(0)
            out_aux = [None if t is None else t.reshape(0) for t in out_aux]
            index = torch.empty(0, dtype=torch.long, device=neg.device)

        groups = None if index is None else RaggedGroups(index, B)
        return pos, neg, groups, out_aux

    def _finish(self, out: Tensor, inputs: Dict[str, Optional[Tensor]]
                ) -> Tensor:
        finite = torch.isfinite(out.detach()).all()
        pos = inputs.get('pos')
        if pos is not None:  # a +inf positive may still give a finite loss
            finite = finite & torch.isfinite(pos.detach()).all()
        if not bool(finite):
            raise_non_finite(inputs)
        if self.reduction == 'mean':
            return out.mean()
        if self.reduction == 'sum':
            return out.sum()
        return out

    def _hparams(self) -> Dict[str, object]:
        return {}

    def __repr__(self) -> str:
        args = dict(self._hparams())
        args['reduction'] = self.reduction
        body = ', '.join(f'{k}={v!r}' for k, v in args.items())
        return f'{self.__class__.__name__}({body})'


__all__ = ['RankingLoss']
