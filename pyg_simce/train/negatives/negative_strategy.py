from typing import Any, Callable, Optional, Tuple

import torch
from torch import Tensor

from pyg_simce.train.negatives.negative_batch import (
    NegativeBatch,
    counted_rows,
)

Shard = Optional[Tuple[int, int]]
Scores = Tuple[Tensor, Tensor, Optional[Tensor]]

NEG_INF = float('-inf')


class NegativeStrategy:
    r"""Base class of the negative strategies of the
    :class:`~pyg_simce.train.Trainer`: *which* items are the negatives of a
    batch of positive pairs :math:`(u_b, i_b)_{b=1}^{B}`, *which* embedding
    rows scoring them needs, and *how* the scores reach the loss.

    A training step runs

    1. :meth:`prepare` — draws the negatives from the epoch's generator and
       returns a :class:`NegativeBatch` that names the user and item rows
       the loss needs and the :math:`L_2` row counts;
    2. the model propagates only those rows
       (:meth:`~pyg_simce.nn.models.RecommenderBase.get_embedding_rows`);
    3. :meth:`loss` — scores the positives and negatives and calls the
       loss, in the dense form :obj:`loss(pos [B], neg [B, N])` or the
       ragged form :obj:`loss(pos [B], neg [E], index [E])` when some
       negatives are excluded.  Loss-specific fast paths are chosen from
       what the loss declares, never from its class:
       :attr:`~pyg_simce.nn.loss.RankingLoss.neg_inf_is_absent` (excluded
       negatives are masked densely with :math:`-\infty`),
       :attr:`~pyg_simce.nn.loss.RankingLoss.max_negative_only` (the
       negatives are scored without autograd and only each row's hardest
       ones recomputed with it, :func:`hardest_negatives_loss`) and a
       :obj:`forward_logits(scores, target)` entry point (one fused
       cross-entropy over a score matrix).

    :meth:`scores` returns the plain :obj:`(pos, neg, index)` form of
    step 3, which :meth:`loss` uses for any other loss.  Subclasses
    implement :meth:`prepare` and :meth:`scores`, and may override
    :meth:`loss` with faster exact paths.

    Every strategy is bound once to the training data by :meth:`bind`
    (samplers and indexes are built there); the training similarity is a
    row transform (identity for dot products,
    :func:`pyg_simce.nn.similarity.normalize` for cosine) fixed at the same
    time, so the step dispatches on nothing.
    """
    #: The name of the strategy in options, results files and checkpoints.
    name: str = ''

    #: The fewest positive pairs one process' batch may hold.
    min_batch_rows: int = 1

    #: Whether the negatives enter the :math:`L_2` penalty.
    regularizes_negatives: bool = False

    def __init__(self) -> None:
        self.num_users = 0
        self.num_items = 0
        self.device = torch.device('cpu')
        self.transform: Callable[[Tensor], Tensor] = _identity

    # Set-up ##################################################################

    def bind(self, train_pairs: Tensor, num_users: int, num_items: int, *,
             seed: int = 0, device: Any = 'cpu',
             transform: Optional[Callable[[Tensor], Tensor]] = None) -> None:
        r"""Binds the strategy to the training interactions.

        Args:
            train_pairs (torch.Tensor): The training :obj:`(user, item)`
                pairs :obj:`[2, E]` (on CPU).
            num_users (int): The number of users.
            num_items (int): The number of items.
            seed (int, optional): Seed of the strategy's own samplers.
                (default: :obj:`0`)
            device (torch.device, optional): Where the scores are computed.
                (default: :obj:`'cpu'`)
            transform (callable, optional): The row transform of the training
                similarity; the identity when :obj:`None`.
                (default: :obj:`None`)
        """
        self.num_users = int(num_users)
        self.num_items = int(num_items)
        self.device = torch.device(device)
        self.transform = _identity if transform is None else transform
        self._build(train_pairs, seed)

    def _build(self, train_pairs: Tensor, seed: int) -> None:
        r"""Builds the strategy's samplers and indexes (called by
        :meth:`bind`)."""

    def check_loss(self, loss_name: str, loss: Any) -> None:
        r"""Raises :class:`ValueError` if :obj:`loss` cannot be trained with
        this strategy."""
        if loss_name == 'softmax':
            raise ValueError(f"the softmax loss expected "
                             f"negative_sampling='full' (got "
                             f"'{self.name}'); use 'ssm' for sampled "
                             f"negatives")

    # The step ################################################################

    def prepare(self, users: Tensor, items: Tensor,
                generator: Optional[torch.Generator] = None,
                shard: Shard = None) -> NegativeBatch:
        r"""Draws the negatives of the batch and names the rows it needs.

        Args:
            users (torch.Tensor): User ids of the (global) batch :obj:`[B]`.
            items (torch.Tensor): Positive item ids :obj:`[B]`.
            generator (torch.Generator, optional): The source of randomness.
                (default: :obj:`None`)
            shard ((int, int), optional): :obj:`(rank, world_size)`: the
                negatives are drawn for the whole batch (every process'
                generator stays in the state of a single-process run) and
                the returned batch holds the rows :obj:`rank::world_size`.
                (default: :obj:`None`)
        """
        raise NotImplementedError

    def scores(self, batch: NegativeBatch, user_emb: Tensor,
               item_emb: Tensor) -> Scores:
        r"""Returns :obj:`(pos [B], neg, index)`: dense :obj:`neg [B, N]`
        with :obj:`index=None`, or ragged :obj:`neg [E]` with
        :obj:`index [E]`.

        Args:
            batch (NegativeBatch): The batch of :meth:`prepare`.
            user_emb (torch.Tensor): Final embeddings of
                :obj:`batch.user_rows`.
            item_emb (torch.Tensor): Final embeddings of
                :obj:`batch.item_rows` (of every item when it is
                :obj:`None`).
        """
        raise NotImplementedError

    def loss(self, batch: NegativeBatch, user_emb: Tensor, item_emb: Tensor,
             loss_fn: Any) -> Tensor:
        r"""The loss of the batch (without regulariser); by default
        :obj:`loss_fn(*scores(...))` with :obj:`index` left out when
        dense."""
        pos, neg, index = self.scores(batch, user_emb, item_emb)
        if index is None:
            return loss_fn(pos, neg)
        return loss_fn(pos, neg, index)

    # Helpers for subclasses ##################################################

    def _local(self, shard: Shard, *tensors: Tensor) -> Tuple[Tensor, ...]:
        # The rows of this process (all of them without a shard), moved to
        # the strategy's device.
        if shard is not None:
            rank, world_size = shard
            tensors = tuple(t[rank::world_size] for t in tensors)
        return tuple(t.to(self.device) for t in tensors)

    def _positives_only(self, users: Tensor, items: Tensor,
                        extra: Any = None) -> NegativeBatch:
        # Rows = the distinct users and positive items, each counted in the
        # L2 penalty as often as it occurs (negatives not penalised).
        user_rows, user_pos, user_counts = counted_rows(users)
        item_rows, item_pos, item_counts = counted_rows(items)
        return NegativeBatch(users, items, user_rows, user_pos, user_counts,
                             item_rows, item_pos, item_rows, item_counts,
                             extra=extra)

    @staticmethod
    def _matrix_loss(loss_fn: Any, u: Tensor, v: Tensor, target: Tensor,
                     row: Tensor, col: Tensor) -> Optional[Tensor]:
        # The loss of the score matrix S = u v^T whose row r holds its
        # positive in column target[r] and whose pairs (row, col) are
        # excluded, through the loss's own fast path: one fused
        # cross-entropy (forward_logits, with the loss's logit scale folded
        # into the [B, d] factor) or a dense matrix with the excluded entries
        # and the positive at -inf (neg_inf_is_absent).  None when the loss
        # offers neither.  S is masked in place and outside autograd: the
        # product does not need its output for its gradient, and both entry
        # points promise a zero gradient to an entry of -inf, which is the
        # gradient masking inside the graph would give, without copying
        # the [B, B] gradient to zero those entries.
        forward_logits = getattr(loss_fn, 'forward_logits', None)
        if forward_logits is not None:
            scale = getattr(loss_fn, 'logit_scale', None)
            scores = (u if scale is None else u * scale) @ v.t()
            if row.numel() > 0:
                _mask(scores, (row, col))
            if scale is None:
                return forward_logits(scores, target)
            return forward_logits(scores, target, scaled=True)
        if not getattr(loss_fn, 'neg_inf_is_absent', False):
            return None
        local = torch.arange(target.numel(), device=u.device)
        entries = (torch.cat([local, row]), torch.cat([target, col]))
        if getattr(loss_fn, 'max_negative_only', False):
            # Scored without autograd: the backward skips both [B, B]
            # products and touches each row's hardest negatives only.
            pos = (u * v.index_select(0, target)).sum(dim=-1)
            with torch.no_grad():
                scores = u @ v.t()
            _mask(scores, entries)
            return hardest_negatives_loss(loss_fn, pos, scores, u, v)
        scores = u @ v.t()
        pos = scores[local, target]
        _mask(scores, entries)
        return loss_fn(pos, scores)

    def _batch(self, users: Tensor, items: Tensor, all_items: Tensor,
               extra: Any = None) -> NegativeBatch:
        # Rows = distinct users and distinct items of `all_items` (whose
        # first B entries are the positives), every occurrence counted in
        # the L2 penalty.
        user_rows, user_pos, user_counts = counted_rows(users)
        item_rows, item_inv, item_counts = counted_rows(all_items,
                                                        self.num_items)
        return NegativeBatch(users, items, user_rows, user_pos, user_counts,
                             item_rows, item_inv[:users.numel()], item_rows,
                             item_counts, extra=(item_inv, extra))

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'


def hardest_negatives_loss(loss_fn: Any, pos: Tensor, neg: Tensor, u: Tensor,
                           v: Tensor,
                           column_rows: Optional[Tensor] = None) -> Tensor:
    r""":obj:`loss_fn(pos, neg)` for a loss that declares
    :attr:`~pyg_simce.nn.loss.RankingLoss.max_negative_only`, from negative
    scores :obj:`neg [B, N]` computed without autograd, :math:`n_{bc} =
    \mathbf{u}_b^{\top} \mathbf{v}_{r(b, c)}` with :math:`r(b, c)` =
    :obj:`column_rows[b, c]` (or :math:`c`).  The entries equal to their
    row's maximum (ties included, :obj:`-inf` rows whole) are recomputed
    with autograd and set into :obj:`neg` at exactly their no-grad value,
    so that the value and the gradient equal those of the plain path while
    the backward touches those entries only."""
    with torch.no_grad():
        top = neg.amax(dim=1, keepdim=True)
        row, col = (neg == top).nonzero(as_tuple=True)
        rows_v = col if column_rows is None else column_rows[row, col]
    hard = (u.index_select(0, row) * v.index_select(0, rows_v)).sum(dim=-1)
    # The no-grad value exactly (hard - hard is 0), hard's gradient.
    hard = neg[row, col] + (hard - hard.detach())
    return loss_fn(pos, neg.index_put((row, col), hard))


def _mask(scores: Tensor, entries: Tuple[Tensor, Tensor]) -> None:
    # Sets the entries to -inf in place, unrecorded by autograd (see
    # NegativeStrategy._matrix_loss for why the gradient stays exact).
    with torch.no_grad():
        scores.index_put_(entries, scores.new_tensor(NEG_INF))


def _identity(x: Tensor) -> Tensor:
    return x
