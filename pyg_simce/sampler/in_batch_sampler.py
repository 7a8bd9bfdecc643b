from typing import Optional, Tuple

import torch
from torch import Tensor

from pyg_simce.sampler.positive_index import PositiveIndex


class InBatchSampler:
    r"""In-batch negatives, the default of sampled softmax training
    (`"On the Effectiveness of Sampled Softmax Loss for Item
    Recommendation" <https://arxiv.org/abs/2201.02327>`_), and the one
    definition of them in the library: the trainer's in-batch strategy
    (:class:`~pyg_simce.train.negatives.InBatchNegatives`) asks this class
    which pairs to exclude.

    For a batch of positive pairs :math:`(u_b, i_b)_{b=1}^{B}` row
    :math:`b` is scored against the positive item of every row :math:`c`
    (one :obj:`[B, d] x [d, B]` product, positives on the diagonal), and its
    negatives are

    .. math::
        \mathcal{N}_b = \{ i_c : c \ne b,\ i_c \ne i_b \} \setminus
        \begin{cases} \mathcal{P}_{u_b} & \text{with
        remove\_accidental\_hits} \\ \emptyset & \text{otherwise,}
        \end{cases}

    that is, exactly these columns are excluded from row :math:`b`:

    * column :math:`b` itself (it holds the positive);
    * every column :math:`c \ne b` whose item equals :math:`i_b` (the same
      positive item repeated in the batch) — always;
    * with :obj:`remove_accidental_hits=True` and the training
      :obj:`edge_index`, every column whose item is a training item of
      :math:`u_b` ("accidental hits", false negatives).

    A column is excluded by value, not by position: the same item in two
    columns is a negative twice when it is not the row's positive.  Items
    enter the pool with probability proportional to their popularity, which
    is why a logQ correction is sometimes applied.

    Args:
        edge_index (torch.Tensor, optional): The training interactions of
            shape :obj:`[2, E]`, used to exclude accidental hits.
            (default: :obj:`None`)
        num_users (int, optional): The number of users.
            (default: :obj:`None`)
        num_items (int, optional): The number of items.
            (default: :obj:`None`)
        remove_accidental_hits (bool, optional): Exclude columns whose item
            is a training item of the row's user (needs :obj:`edge_index`).
            (default: :obj:`True`)
    """
    def __init__(
        self,
        edge_index: Optional[Tensor] = None,
        num_users: Optional[int] = None,
        num_items: Optional[int] = None,
        remove_accidental_hits: bool = True,
    ) -> None:
        self.index: Optional[PositiveIndex] = None
        if edge_index is not None:
            self.index = PositiveIndex(edge_index, num_users, num_items)
        self.remove_accidental_hits = bool(remove_accidental_hits)

    def excluded_pairs(self, user_index: Tensor,
                       pos_item_index: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Returns :obj:`(row, col)`, the off-diagonal pairs excluded from
        the negatives (the diagonal is always excluded and not listed).

        Repeated items are found without a :obj:`[B, B]` comparison (only
        rows whose item occurs more than once are compared); accidental
        hits cost one membership query per off-diagonal pair."""
        user_index, items = self._check(user_index, pos_item_index)
        count = torch.bincount(items)
        rows = (count[items] > 1).nonzero().view(-1)
        if rows.numel() > 0:
            sub = items[rows]
            same = sub.view(-1, 1) == sub.view(1, -1)
            same.fill_diagonal_(False)
            r, c = same.nonzero(as_tuple=True)
            row, col = rows[r], rows[c]
        else:
            row, col = rows, rows
        if not (self.remove_accidental_hits and self.index is not None):
            return row, col
        B = items.numel()
        hit = self.index.contains(user_index.view(-1, 1),
                                  items.view(1, -1))
        hit.fill_diagonal_(False)
        hit[row, col] = False
        hit_row, hit_col = hit.nonzero(as_tuple=True)
        row, col = torch.cat([row, hit_row]), torch.cat([col, hit_col])
        order = torch.argsort(row * B + col)
        return row[order], col[order]

    def mask(self, user_index: Tensor, pos_item_index: Tensor) -> Tensor:
        r"""Returns the :obj:`[B, B]` mask that is :obj:`True` where
        :obj:`pos_item_index[c]` is a valid negative of row :obj:`b`."""
        row, col = self.excluded_pairs(user_index, pos_item_index)
        B = pos_item_index.numel()
        valid = torch.ones(B, B, dtype=torch.bool,
                           device=pos_item_index.device)
        valid.fill_diagonal_(False)
        valid[row, col] = False
        return valid

    def sample(self, user_index: Tensor,
               pos_item_index: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Returns :obj:`(items, mask)`, both of shape :obj:`[B, B]`:
        :obj:`items[b, c] = pos_item_index[c]` (an expanded view) and the
        validity mask of :meth:`mask`."""
        mask = self.mask(user_index, pos_item_index)
        items = pos_item_index.view(1, -1).expand(mask.size(0), -1)
        return items, mask

    @staticmethod
    def _check(user_index: Tensor, pos_item_index: Tensor
               ) -> Tuple[Tensor, Tensor]:
        for name, t in (('user_index', user_index),
                        ('pos_item_index', pos_item_index)):
            if not isinstance(t, Tensor) or t.dim() != 1 or \
                    t.dtype.is_floating_point:
                raise ValueError(f"'{name}' expected a 1-D integer tensor "
                                 f"(got {t!r:.60})")
        if user_index.numel() != pos_item_index.numel():
            raise ValueError(f"'user_index' and 'pos_item_index' expected "
                             f"the same length (got {user_index.numel()} "
                             f"and {pos_item_index.numel()})")
        return user_index.long(), pos_item_index.long()

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(remove_accidental_hits='
                f'{self.remove_accidental_hits})')
