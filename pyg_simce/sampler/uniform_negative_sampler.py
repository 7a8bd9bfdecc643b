from typing import Optional

import torch
from torch import Tensor

from pyg_simce.sampler.negative_sampler import NegativeSampler


class UniformNegativeSampler(NegativeSampler):
    r"""Draws negatives uniformly over the items, excluding each user's
    training items, as used by BPR, SimCE and CCL training
    (`"SimCE: Simplifying Cross-Entropy Loss for Collaborative Filtering"
    <https://arxiv.org/abs/2406.16170>`_):

    .. math::
        q(j \mid u) = \frac{\mathbb{1}[j \notin \mathcal{P}_u]}
        {|\mathcal{I}| - |\mathcal{P}_u|}

    Excluding the positives matters: with negatives drawn from all items,
    a dense user's "negatives" are true positives often enough for a hinge
    loss such as SimCE to stall.

    Sampling is vectorised rejection (see
    :class:`~pyg_simce.sampler.NegativeSampler`). Stragglers after
    :obj:`max_rounds` rounds are drawn exactly: with the user's sorted
    training items :math:`p_0 < p_1 < \dots`, the :math:`r`-th
    non-training item is :math:`r + |\{t : p_t - t \le r\}|`, found with one
    :func:`torch.searchsorted` for all stragglers at once.

    Args:
        edge_index (torch.Tensor): The training interactions of shape
            :obj:`[2, E]` (row 0 users, row 1 items).
        num_users (int): The number of users.
        num_items (int): The number of items.
        num_negatives (int, optional): Negatives per user entry.
            (default: :obj:`1`)
        exclude_positives (bool, optional): If :obj:`True`, never return a
            training item of the user. (default: :obj:`True`)
        seed (int, optional): Seed of the sampler's generator; drawn from
            PyTorch's global generator if :obj:`None`. (default: :obj:`None`)
        max_rounds (int, optional): Rejection rounds before the exact
            fallback. (default: :obj:`10`)

    Shapes:
        - **input**: user ids :obj:`[B]`
        - **output**: item ids :obj:`[B, num_negatives]`

    Example:

        >>> edge_index = torch.tensor([[0, 0, 1], [0, 1, 2]])
        >>> sampler = UniformNegativeSampler(edge_index, 2, 5,
        ...                                  num_negatives=4, seed=0)
        >>> neg = sampler.sample(torch.tensor([0, 1]))  # [2, 4]
    """
    def __init__(
        self,
        edge_index: Tensor,
        num_users: int,
        num_items: int,
        num_negatives: int = 1,
        exclude_positives: bool = True,
        seed: Optional[int] = None,
        max_rounds: int = 10,
    ) -> None:
        super().__init__(edge_index, num_users, num_items, num_negatives,
                         exclude_positives, seed, max_rounds)
        if self.exclude_positives:
            self._free = self.num_items - self.index.degree
        else:
            self._free = torch.full((self.num_users, ), self.num_items,
                                    dtype=torch.long, device=self.device)
        self._rank_key: Optional[Tensor] = None

    def num_admissible(self) -> Tensor:
        return self._free

    def _draw(self, num: int, generator: torch.Generator) -> Tensor:
        return torch.randint(self.num_items, (num, ), generator=generator,
                             device=self.device)

    def _draw_exact(self, users: Tensor, generator: torch.Generator) -> Tensor:
        index = self.index
        if self._rank_key is None:
            # key of (user, p_t - t): non-decreasing within each user
            row = torch.repeat_interleave(
                torch.arange(self.num_users, device=self.device),
                index.degree)
            pos = torch.arange(index.num_edges, device=self.device)
            shifted = index.col - (pos - index.rowptr[row])
            self._rank_key = row * self.num_items + shifted
        free = self._free[users]
        rank = torch.rand(users.numel(), generator=generator,
                          device=self.device, dtype=torch.float64)
        rank = (rank * free).long()
        rank = torch.minimum(rank, free - 1)
        below = torch.searchsorted(self._rank_key,
                                   users * self.num_items + rank, right=True)
        return rank + below - index.rowptr[users]
