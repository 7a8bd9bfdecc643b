from typing import Optional, Tuple

from torch import Tensor

from pyg_simce.sampler.positive_index import PositiveIndex


class InBatchSampler:
    r"""In-batch negatives, the default of sampled softmax training
    (`"On the Effectiveness of Sampled Softmax Loss for Item
    Recommendation" <https://arxiv.org/abs/2201.02327>`_): for a batch of
    positive pairs :math:`(u_b, i_b)_{b=1}^{B}`, the negatives of row
    :math:`b` are the positive items of the other rows,

    .. math::
        \mathcal{N}_b = \{ i_c : c \ne b,\ i_c \ne i_b,\
        i_c \notin \mathcal{P}_{u_b} \},

    so one :obj:`[B, d] x [d, B]` matrix product scores all of them. Items
    are drawn with probability proportional to their popularity, which is
    why a logQ correction is sometimes applied.

    This class only builds the negatives' item ids and the validity mask
    (the diagonal, duplicated positives and, with an index, "accidental
    hits" that are training items of the row's user are masked out); the
    score construction lives in the loss library's
    :func:`~pyg_simce.nn.loss.in_batch_negatives`.

    Args:
        edge_index (torch.Tensor, optional): The training interactions of
            shape :obj:`[2, E]`, used to mask accidental hits.
            (default: :obj:`None`)
        num_users (int, optional): The number of users.
            (default: :obj:`None`)
        num_items (int, optional): The number of items.
            (default: :obj:`None`)
        remove_accidental_hits (bool, optional): Mask columns whose item is
            a training item of the row's user (needs :obj:`edge_index`).
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

    def mask(self, user_index: Tensor, pos_item_index: Tensor) -> Tensor:
        r"""Returns the :obj:`[B, B]` mask that is :obj:`True` where
        :obj:`pos_item_index[c]` is a valid negative of row :obj:`b`."""
        user_index, pos_item_index = self._check(user_index, pos_item_index)
        valid = pos_item_index.view(1, -1) != pos_item_index.view(-1, 1)
        if self.remove_accidental_hits and self.index is not None:
            valid &= ~self.index.contains(user_index.view(-1, 1),
                                          pos_item_index.view(1, -1))
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
