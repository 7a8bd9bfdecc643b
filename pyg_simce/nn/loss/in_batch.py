r"""In-batch negatives for sampled softmax."""
from typing import Any, Callable, Optional, Tuple, Union

import torch
from torch import Tensor

from pyg_simce.nn.similarity import get_similarity

Membership = Union[Callable[[Tensor, Tensor], Tensor], Any]


def _check_ids(name: str, ids: Optional[Tensor], B: int,
               device: torch.device) -> Optional[Tensor]:
    if ids is None:
        return None
    if (not isinstance(ids, Tensor) or ids.is_floating_point()
            or ids.dtype == torch.bool or ids.is_complex()):
        raise ValueError(f"Expected '{name}' to be an integer tensor (got "
                         f"{ids!r:.60})")
    if ids.shape != (B, ):
        raise ValueError(f"Expected '{name}' of shape [{B}] (one id per "
                         f"batch row; got {tuple(ids.shape)})")
    return ids.to(device=device, dtype=torch.long)


def _query(positive_index: Membership, users: Tensor,
           items: Tensor) -> Tensor:
    if hasattr(positive_index, 'contains'):
        out = positive_index.contains(users, items)
    elif callable(positive_index):
        out = positive_index(users, items)
    else:
        raise ValueError(f"Expected 'positive_index' to be callable or to "
                         f"have a 'contains(users, items)' method (got "
                         f"{type(positive_index).__name__})")
    if not isinstance(out, Tensor) or out.shape != users.shape:
        raise ValueError(f"Expected 'positive_index' to return a boolean "
                         f"tensor of shape {tuple(users.shape)} (got "
                         f"{out!r:.60})")
    return out.to(device=users.device, dtype=torch.bool)


def in_batch_negatives(
    user_emb: Tensor,
    item_emb: Tensor,
    *,
    similarity: str = 'cosine',
    eps: float = 1e-8,
    remove_accidental_hits: bool = False,
    item_index: Optional[Tensor] = None,
    user_index: Optional[Tensor] = None,
    positive_index: Optional[Membership] = None,
    exclude: Optional[Tensor] = None,
    item_prob: Optional[Tensor] = None,
) -> Tuple[Optional[Tensor], ...]:
    r"""Builds positive and in-batch negative scores for sampled softmax, as
    in `"On the Effectiveness of Sampled Softmax Loss for Item
    Recommendation" <https://arxiv.org/abs/2201.02327>`_: row :math:`r` of
    the batch is the training pair :math:`(u_r, i_r)`, the score matrix
    :math:`\mathbf{S} = \mathrm{sim}(\mathbf{U}, \mathbf{I})` is one
    :math:`[B, B]` matrix product, its diagonal holds the positives and the
    other positive items of the batch are the negatives of each row.

    Without removal the result is dense, :obj:`(pos [B], neg [B, B - 1])`
    (row :math:`r` of :obj:`neg` is :math:`S_{r,c}` for :math:`c \neq r` in
    column order).  With :obj:`remove_accidental_hits=True` or an
    :obj:`exclude` mask the result is always ragged,
    :obj:`(pos [B], neg [E], index [E])`, sorted by row, and drops the
    in-batch negatives :math:`(r, c)` for which

    * :obj:`item_index[c] == item_index[r]` (the positive item itself,
      repeated in the batch);
    * :obj:`user_index[c] == user_index[r]` (item :math:`i_c` is a training
      item of the same user);
    * :obj:`positive_index(user_index[r], item_index[c])` is :obj:`True`
      (any other training item of :math:`u_r`; :obj:`positive_index` is a
      callable or an object with a :obj:`contains(users, items)` method such
      as :class:`pyg_simce.sampler.PositiveIndex`);
    * :obj:`exclude[r, c]` is :obj:`True`.

    With :obj:`item_prob` (the probability with which each batch item is
    drawn as a negative, e.g. its share of the training interactions for
    in-batch sampling), the logQ terms are appended:
    :obj:`(pos, neg, index_or_None, log_q, pos_log_q)`.  The result always
    unpacks into :meth:`SampledSoftmaxLoss.forward(pos, neg, index, log_q,
    pos_log_q) <pyg_simce.nn.loss.SampledSoftmaxLoss.forward>`, and its first
    two or three entries into every other loss of :mod:`pyg_simce.nn.loss`.

    The membership query costs one call on the :math:`\leq B(B-1)` remaining
    pairs; everything else is vectorised on the :math:`[B, B]` matrix.

    Args:
        user_emb (torch.Tensor): Batch user embeddings :obj:`[B, d]`.
        item_emb (torch.Tensor): Batch positive-item embeddings
            :obj:`[B, d]`.
        similarity (str, optional): :obj:`"cosine"` or :obj:`"dot"`, see
            :func:`pyg_simce.nn.similarity.get_similarity`.
            (default: :obj:`"cosine"`)
        eps (float, optional): :obj:`eps` of the cosine similarity.
            (default: :obj:`1e-8`)
        remove_accidental_hits (bool, optional): Drop accidental hits (see
            above); needs :obj:`item_index` and/or :obj:`user_index`, and
            both with :obj:`positive_index`. (default: :obj:`False`)
        item_index (torch.Tensor, optional): Item id of every row
            :obj:`[B]`. (default: :obj:`None`)
        user_index (torch.Tensor, optional): User id of every row
            :obj:`[B]`. (default: :obj:`None`)
        positive_index (callable or object, optional): Training-set
            membership, :obj:`(users [P], items [P]) -> BoolTensor [P]`.
            (default: :obj:`None`)
        exclude (torch.Tensor, optional): Boolean :obj:`[B, B]` mask of
            further pairs to drop; the diagonal is ignored.
            (default: :obj:`None`)
        item_prob (torch.Tensor, optional): Positive sampling probability of
            every batch item :obj:`[B]`. (default: :obj:`None`)

    :rtype: :obj:`(pos, neg)`, :obj:`(pos, neg, index)`, or
        :obj:`(pos, neg, index_or_None, log_q, pos_log_q)`
    """
    if not isinstance(user_emb, Tensor) or not isinstance(item_emb, Tensor):
        raise ValueError("Expected 'user_emb' and 'item_emb' to be tensors")
    if user_emb.dim() != 2 or item_emb.dim() != 2:
        raise ValueError(f"Expected 'user_emb' and 'item_emb' of shape "
                         f"[B, d] (got {tuple(user_emb.shape)} and "
                         f"{tuple(item_emb.shape)})")
    if user_emb.shape != item_emb.shape:
        raise ValueError(f"Expected 'user_emb' and 'item_emb' of the same "
                         f"shape (got {tuple(user_emb.shape)} and "
                         f"{tuple(item_emb.shape)})")
    B = user_emb.size(0)
    if B == 0:
        raise ValueError("Expected a non-empty batch ('user_emb' has 0 rows)")
    device = user_emb.device
    item_index = _check_ids('item_index', item_index, B, device)
    user_index = _check_ids('user_index', user_index, B, device)

    sim = get_similarity(similarity, matrix=True)
    if similarity in ('cosine', 'cos'):
        scores = sim(user_emb, item_emb, eps=eps)
    else:
        scores = sim(user_emb, item_emb)
    pos = scores.diagonal()

    log_p: Optional[Tensor] = None
    if item_prob is not None:
        if (not isinstance(item_prob, Tensor)
                or not item_prob.is_floating_point()
                or item_prob.shape != (B, )):
            raise ValueError(f"Expected 'item_prob' to be a floating-point "
                             f"tensor of shape [{B}] (got {item_prob!r:.60})")
        if not bool(((item_prob > 0) & torch.isfinite(item_prob)).all()):
            raise ValueError("Expected 'item_prob' to be positive and finite "
                             "(got non-positive or non-finite values)")
        log_p = item_prob.to(device=device, dtype=scores.dtype).log()

    if positive_index is not None and not remove_accidental_hits:
        raise ValueError("'positive_index' is only used with "
                         "'remove_accidental_hits=True' (got False)")

    if not remove_accidental_hits and exclude is None:
        # Off-diagonal entries in row-major order, without a boolean gather.
        neg = scores.flatten()[1:].view(B - 1, B + 1)[:, :-1].reshape(B, B - 1)
        if log_p is None:
            return pos, neg
        cols = log_p.expand(B, B).flatten()[1:].view(B - 1, B + 1)
        log_q = cols[:, :-1].reshape(B, B - 1)
        return pos, neg, None, log_q, log_p

    keep = ~torch.eye(B, dtype=torch.bool, device=device)
    if remove_accidental_hits:
        if item_index is None and user_index is None:
            raise ValueError("'remove_accidental_hits=True' needs "
                             "'item_index' and/or 'user_index' (got neither)")
        if item_index is not None:
            keep &= item_index.view(1, B) != item_index.view(B, 1)
        if user_index is not None:
            keep &= user_index.view(1, B) != user_index.view(B, 1)
        if positive_index is not None:
            if item_index is None or user_index is None:
                raise ValueError("'positive_index' needs both 'user_index' "
                                 "and 'item_index'")
            row, col = keep.nonzero(as_tuple=True)
            hit = _query(positive_index, user_index[row], item_index[col])
            keep[row[hit], col[hit]] = False
    if exclude is not None:
        if (not isinstance(exclude, Tensor) or exclude.dtype != torch.bool
                or exclude.shape != (B, B)):
            raise ValueError(f"Expected 'exclude' to be a boolean tensor of "
                             f"shape [{B}, {B}] (got {exclude!r:.60})")
        keep &= ~exclude.to(device)

    row, col = keep.nonzero(as_tuple=True)
    neg = scores[row, col]
    if log_p is None:
        return pos, neg, row
    return pos, neg, row, log_p[col], log_p
