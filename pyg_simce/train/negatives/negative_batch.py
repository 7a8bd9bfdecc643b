from typing import Any, Optional

import torch
from torch import Tensor


def counted_rows(ids: Tensor, size: Optional[int] = None):
    r"""Returns :obj:`(rows, inverse, counts)` of a 1-D id tensor: the sorted
    distinct ids, the position of every id among them, and how often each
    occurs.

    With :obj:`size`, the number of possible ids, and at least a quarter as
    many ids as that, the ids are counted in a table of :obj:`size` instead
    of sorted (the per-positive negatives of a batch: tens of thousands of
    ids over a catalogue of a similar size); the result is the same."""
    if size is not None and ids.numel() * 4 >= size and ids.numel() > 0:
        counts = torch.bincount(ids, minlength=size)
        present = counts > 0
        rows = present.nonzero().squeeze(1)
        position = present.cumsum(0).sub_(1)
        return (rows, position.index_select(0, ids),
                counts.index_select(0, rows))
    return torch.unique(ids, sorted=True, return_inverse=True,
                        return_counts=True)


class NegativeBatch:
    r"""One training batch as a :class:`NegativeStrategy` prepared it: the
    batch's positive pairs, the embedding rows the loss needs, the sampled
    negatives and the :math:`L_2` row counts.

    The strategy fills it in :meth:`NegativeStrategy.prepare`; the trainer
    propagates only :obj:`user_rows` and :obj:`item_rows` (every item when
    :obj:`item_rows` is :obj:`None`) and hands the rows back to
    :meth:`NegativeStrategy.loss`.

    Args:
        users (torch.Tensor): User of every positive pair :obj:`[B]`.
        items (torch.Tensor): Item of every positive pair :obj:`[B]`.
        user_rows (torch.Tensor): The distinct users whose final embedding
            the loss needs, sorted.
        user_pos (torch.Tensor): Position of :obj:`users[b]` in
            :obj:`user_rows`, :obj:`[B]`.
        user_counts (torch.Tensor): How often each of :obj:`user_rows` enters
            the :math:`L_2` penalty.
        item_rows (torch.Tensor, optional): The distinct items whose final
            embedding the loss needs, sorted; :obj:`None` for the whole
            catalogue.
        item_pos (torch.Tensor): Position of :obj:`items[b]` in
            :obj:`item_rows` (the item id itself when :obj:`item_rows` is
            :obj:`None`), :obj:`[B]`.
        l2_items (torch.Tensor): The items that enter the :math:`L_2`
            penalty (distinct).
        l2_item_counts (torch.Tensor): How often each of :obj:`l2_items`
            enters it.
        extra (Any, optional): Whatever else the strategy needs (negative
            positions, a pool and its mask). (default: :obj:`None`)
    """
    __slots__ = ('users', 'items', 'user_rows', 'user_pos', 'user_counts',
                 'item_rows', 'item_pos', 'l2_items', 'l2_item_counts',
                 'extra')

    def __init__(self, users: Tensor, items: Tensor, user_rows: Tensor,
                 user_pos: Tensor, user_counts: Tensor,
                 item_rows: Optional[Tensor], item_pos: Tensor,
                 l2_items: Tensor, l2_item_counts: Tensor,
                 extra: Any = None) -> None:
        self.users = users
        self.items = items
        self.user_rows = user_rows
        self.user_pos = user_pos
        self.user_counts = user_counts
        self.item_rows = item_rows
        self.item_pos = item_pos
        self.l2_items = l2_items
        self.l2_item_counts = l2_item_counts
        self.extra = extra

    @property
    def size(self) -> int:
        r"""The number of positive pairs :math:`B`."""
        return self.users.numel()

    def __repr__(self) -> str:
        items = ('all' if self.item_rows is None else
                 self.item_rows.numel())
        return (f'{self.__class__.__name__}(size={self.size}, user_rows='
                f'{self.user_rows.numel()}, item_rows={items})')
