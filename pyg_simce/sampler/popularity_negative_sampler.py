from typing import Optional

import torch
from torch import Tensor

from pyg_simce.sampler.negative_sampler import NegativeSampler


class PopularityNegativeSampler(NegativeSampler):
    r"""Draws negatives with probability proportional to the items' training
    popularity raised to :math:`\beta`, excluding each user's training
    items, as in word2vec-style and popularity-corrected sampled softmax
    (`"On the Effectiveness of Sampled Softmax Loss for Item
    Recommendation" <https://arxiv.org/abs/2201.02327>`_):

    .. math::
        q_j = \frac{d_j^{\beta}}{\sum_{j'} d_{j'}^{\beta}}, \qquad
        q(j \mid u) = \frac{q_j \, \mathbb{1}[j \notin \mathcal{P}_u]}
        {\sum_{j' \notin \mathcal{P}_u} q_{j'}}

    where :math:`d_j` is the number of distinct training users of item
    :math:`j`. :math:`\beta = 0` is uniform over all items; for
    :math:`\beta > 0`, items without training interactions are never drawn.
    :obj:`log_q` holds :math:`\log q_j` for a logQ correction.

    Draws use Walker's alias method (two gathers per draw, built once in
    :math:`O(|\mathcal{I}|)`). Sampling is vectorised rejection
    (see :class:`~pyg_simce.sampler.NegativeSampler`); stragglers after
    :obj:`max_rounds` rounds are drawn exactly from the restricted
    distribution of their user.

    Args:
        edge_index (torch.Tensor): The training interactions of shape
            :obj:`[2, E]` (row 0 users, row 1 items).
        num_users (int): The number of users.
        num_items (int): The number of items.
        num_negatives (int, optional): Negatives per user entry.
            (default: :obj:`1`)
        beta (float, optional): The popularity exponent :math:`\beta \ge 0`.
            (default: :obj:`1.0`)
        exclude_positives (bool, optional): If :obj:`True`, never return a
            training item of the user. (default: :obj:`True`)
        seed (int, optional): Seed of the sampler's generator; drawn from
            PyTorch's global generator if :obj:`None`. (default: :obj:`None`)
        max_rounds (int, optional): Rejection rounds before the exact
            fallback. (default: :obj:`10`)

    Shapes:
        - **input**: user ids :obj:`[B]`
        - **output**: item ids :obj:`[B, num_negatives]`
    """
    def __init__(
        self,
        edge_index: Tensor,
        num_users: int,
        num_items: int,
        num_negatives: int = 1,
        beta: float = 1.0,
        exclude_positives: bool = True,
        seed: Optional[int] = None,
        max_rounds: int = 10,
    ) -> None:
        super().__init__(edge_index, num_users, num_items, num_negatives,
                         exclude_positives, seed, max_rounds)
        beta = float(beta)
        if not beta >= 0.0 or beta == float('inf'):
            raise ValueError(f"'beta' expected a finite number >= 0 "
                             f"(got {beta})")
        self.beta = beta
        degree = self.index.item_degree().to(torch.float64)
        weight = degree.pow(beta)  # 0 ** 0 == 1: beta = 0 is uniform
        total = float(weight.sum())
        if total <= 0.0:
            raise ValueError("'edge_index' expected at least one training "
                             "interaction to define item popularity "
                             "(got none)")
        self.weight = weight
        self.prob = weight / total
        self.log_q = self.prob.log()
        self._alias_prob, self._alias = self._alias_table(self.prob)

        positive = (weight > 0).long()
        reachable = int(positive.sum())
        if self.exclude_positives:
            row = torch.repeat_interleave(
                torch.arange(self.num_users, device=self.device),
                self.index.degree)
            taken = torch.zeros(self.num_users, dtype=torch.long,
                                device=self.device)
            taken.index_add_(0, row, positive[self.index.col])
            self._free = reachable - taken
        else:
            self._free = torch.full((self.num_users, ), reachable,
                                    dtype=torch.long, device=self.device)

    def num_admissible(self) -> Tensor:
        return self._free

    def _inverse_cdf(self, cdf: Tensor, total: float, num: int,
                     generator: torch.Generator) -> Tensor:
        u = torch.rand(num, generator=generator, device=self.device,
                       dtype=torch.float64) * total
        # `u` may round up to `total`: clamp to the last item of non-zero
        # weight, the first one whose cumulative weight reaches `total`.
        last = torch.searchsorted(cdf, cdf.new_full((1, ), total))
        return torch.minimum(torch.searchsorted(cdf, u, right=True), last)

    @staticmethod
    def _alias_table(prob: Tensor):
        r"""Vose's construction of Walker's alias table for :obj:`prob`."""
        n = prob.numel()
        scaled = (prob.cpu().double() * n).tolist()
        alias = list(range(n))
        small = [i for i, p in enumerate(scaled) if p < 1.0]
        large = [i for i, p in enumerate(scaled) if p >= 1.0]
        while small and large:
            s, g = small.pop(), large.pop()
            alias[s] = g
            scaled[g] -= 1.0 - scaled[s]
            (small if scaled[g] < 1.0 else large).append(g)
        top = int(prob.argmax())
        for i in small + large:  # leftovers are 1 up to rounding
            if scaled[i] > 0.0:
                scaled[i] = 1.0
            else:  # never let an item of zero weight be drawn
                alias[i] = top
        return (torch.tensor(scaled, dtype=torch.float64,
                             device=prob.device),
                torch.tensor(alias, dtype=torch.long, device=prob.device))

    def _draw(self, num: int, generator: torch.Generator) -> Tensor:
        slot = torch.randint(self.num_items, (num, ), generator=generator,
                             device=self.device)
        coin = torch.rand(num, generator=generator, device=self.device,
                          dtype=torch.float64)
        return torch.where(coin < self._alias_prob[slot], slot,
                           self._alias[slot])

    def _draw_exact(self, users: Tensor, generator: torch.Generator) -> Tensor:
        # Few stragglers remain after the rejection rounds: one restricted
        # distribution per distinct user.
        out = torch.empty_like(users)
        uniq, inverse = torch.unique(users, return_inverse=True)
        batch, items = self.index.neighbors(uniq)
        for b, user in enumerate(uniq.tolist()):
            weight = self.weight.clone()
            weight[items[batch == b]] = 0.0
            cdf = weight.cumsum(0)
            sel = (inverse == b).nonzero().view(-1)
            draw = self._inverse_cdf(cdf, float(cdf[-1]), sel.numel(),
                                     generator)
            out[sel] = draw
        return out

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_users={self.num_users}, '
                f'num_items={self.num_items}, '
                f'num_negatives={self.num_negatives}, beta={self.beta}, '
                f'exclude_positives={self.exclude_positives})')
