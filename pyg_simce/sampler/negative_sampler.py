from typing import Any, Dict, Optional

import torch
from torch import Tensor

from pyg_simce.sampler.positive_index import PositiveIndex


class NegativeSampler:
    r"""Base class of the negative samplers: draws :obj:`num_negatives` items
    per user from an item distribution :math:`q`, excluding the user's
    training items :math:`\mathcal{P}_u` when :obj:`exclude_positives=True`:

    .. math::
        j \sim q(j \mid u) = \frac{q_j \, \mathbb{1}[j \notin \mathcal{P}_u]}
        {\sum_{j' \notin \mathcal{P}_u} q_{j'}}

    Sampling is vectorised rejection: all :math:`B \times N` items are drawn
    from :math:`q` at once, tested against the CSR
    :class:`~pyg_simce.sampler.PositiveIndex` with one
    :func:`torch.searchsorted`, and only the rejected entries are redrawn.
    After :obj:`max_rounds` rounds, the few remaining entries (users who
    rated most of the probability mass) are drawn exactly from the
    restricted distribution, so the loop is bounded. A user with no
    admissible item raises a :class:`ValueError` instead of looping forever.

    Subclasses implement :meth:`_draw` (draws from :math:`q`) and
    :meth:`_draw_exact` (draws from :math:`q(\cdot \mid u)` directly).

    Args:
        edge_index (torch.Tensor): The training interactions of shape
            :obj:`[2, E]` (row 0 users, row 1 items).
        num_users (int): The number of users.
        num_items (int): The number of items.
        num_negatives (int, optional): Negatives per user entry, :math:`N`.
            (default: :obj:`1`)
        exclude_positives (bool, optional): If :obj:`True`, never return a
            training item of the user. (default: :obj:`True`)
        seed (int, optional): Seed of the sampler's own
            :class:`torch.Generator`. If :obj:`None`, a seed is drawn from
            PyTorch's global generator, so :func:`torch.manual_seed` makes
            the sampler reproducible too. (default: :obj:`None`)
        max_rounds (int, optional): Rejection rounds before the exact
            fallback. (default: :obj:`10`)
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
        for name, value in (('num_users', num_users),
                            ('num_items', num_items)):
            if not isinstance(value, int) or isinstance(value, bool) \
                    or value < 1:
                raise ValueError(f"'{name}' expected a positive integer "
                                 f"(got {value})")
        self.num_negatives = self._check_num_negatives(num_negatives)
        if not isinstance(max_rounds, int) or max_rounds < 0:
            raise ValueError(f"'max_rounds' expected a non-negative integer "
                             f"(got {max_rounds})")
        self.num_users = num_users
        self.num_items = num_items
        self.exclude_positives = bool(exclude_positives)
        self.max_rounds = max_rounds
        self.index = PositiveIndex(edge_index, num_users, num_items)
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1, )).item())
        self.seed = int(seed)
        self.generator = torch.Generator(device=self.index.device)
        self.generator.manual_seed(self.seed)

    @staticmethod
    def _check_num_negatives(num_negatives: Any) -> int:
        if not isinstance(num_negatives, int) or isinstance(
                num_negatives, bool) or num_negatives < 1:
            raise ValueError(f"'num_negatives' expected a positive integer "
                             f"(got {num_negatives})")
        return num_negatives

    @property
    def device(self) -> torch.device:
        return self.index.device

    # To be implemented by subclasses #########################################

    def _draw(self, num: int, generator: torch.Generator) -> Tensor:
        r"""Draws :obj:`num` items i.i.d. from :math:`q`."""
        raise NotImplementedError

    def _draw_exact(self, users: Tensor, generator: torch.Generator) -> Tensor:
        r"""Draws one item for every entry of :obj:`users` from
        :math:`q(\cdot \mid u)`, i.e. :math:`q` without the user's training
        items."""
        raise NotImplementedError

    def num_admissible(self) -> Tensor:
        r"""The number of items that can be drawn for each user (items with
        :math:`q_j > 0`, minus the user's training items when
        :obj:`exclude_positives=True`), of shape :obj:`[num_users]`."""
        raise NotImplementedError

    # Sampling ################################################################

    def _generator(self, generator: Optional[torch.Generator]
                   ) -> torch.Generator:
        if generator is None:
            return self.generator
        if not isinstance(generator, torch.Generator):
            raise ValueError(f"'generator' expected a torch.Generator "
                             f"(got {type(generator).__name__})")
        return generator

    def _check_users(self, user_index: Any) -> Tensor:
        if not isinstance(user_index, Tensor):
            user_index = torch.as_tensor(user_index)
        if user_index.dtype.is_floating_point or \
                user_index.dtype == torch.bool:
            raise ValueError(f"'user_index' expected an integer tensor "
                             f"(got dtype {user_index.dtype})")
        if user_index.dim() != 1:
            raise ValueError(f"'user_index' expected shape [B] "
                             f"(got {list(user_index.size())})")
        user_index = user_index.to(self.device, torch.long)
        if user_index.numel() > 0:
            lo, hi = int(user_index.min()), int(user_index.max())
            if lo < 0 or hi >= self.num_users:
                raise ValueError(f"'user_index' expected user ids in "
                                 f"[0, {self.num_users}) (got range "
                                 f"[{lo}, {hi}])")
        return user_index

    def sample(self, user_index: Tensor,
               generator: Optional[torch.Generator] = None,
               num_negatives: Optional[int] = None) -> Tensor:
        r"""Draws negatives for every entry of :obj:`user_index`.

        Args:
            user_index (torch.Tensor): User ids of shape :obj:`[B]`
                (typically the users of a batch of positive pairs).
            generator (torch.Generator, optional): The generator to draw
                from; the sampler's own one when :obj:`None`.
                (default: :obj:`None`)
            num_negatives (int, optional): Overrides :obj:`num_negatives`
                for this call. (default: :obj:`None`)

        Returns:
            A :class:`torch.LongTensor` of shape :obj:`[B, N]`.
        """
        users = self._check_users(user_index)
        num = self.num_negatives if num_negatives is None else \
            self._check_num_negatives(num_negatives)
        gen = self._generator(generator)
        if users.numel() > 0:
            free = self.num_admissible()[users]
            if bool((free == 0).any()):
                bad = users[free == 0].unique()[:10].tolist()
                raise ValueError(
                    f"'user_index' expected users with at least one item "
                    f"that can be sampled (got users {bad} whose every "
                    f"item of non-zero probability is a training item; "
                    f"drop them from the batch or use "
                    f"exclude_positives=False)")
        out = self._draw(users.numel() * num, gen).view(-1, num)
        if not self.exclude_positives or out.numel() == 0:
            return out

        flat_users = users.repeat_interleave(num)
        flat_out = out.view(-1)
        todo = torch.arange(flat_out.numel(), device=self.device)
        bad = self.index._contains_keys(flat_users * self.num_items + flat_out)
        todo = todo[bad]
        rounds = 0
        while todo.numel() > 0 and rounds < self.max_rounds:
            new = self._draw(todo.numel(), gen)
            flat_out[todo] = new
            bad = self.index._contains_keys(flat_users[todo] * self.num_items
                                            + new)
            todo = todo[bad]
            rounds += 1
        if todo.numel() > 0:
            flat_out[todo] = self._draw_exact(flat_users[todo], gen)
        return out

    def sample_shared(self, num: int,
                      generator: Optional[torch.Generator] = None) -> Tensor:
        r"""Draws one candidate pool of :obj:`num` items from :math:`q`,
        shared by a whole batch.

        A trainer scores the pool with one :obj:`[B, d] x [d, num]` matrix
        product, then removes each user's training items from it with
        :meth:`pool_mask` (ragged), instead of gathering a :obj:`[B, N, d]`
        tensor of per-row negatives. The pool itself is not filtered:
        positives are a property of the row, not of the pool.

        Returns:
            A :class:`torch.LongTensor` of shape :obj:`[num]`.
        """
        if not isinstance(num, int) or isinstance(num, bool) or num < 1:
            raise ValueError(f"'num' expected a positive integer (got {num})")
        return self._draw(num, self._generator(generator))

    def pool_mask(self, user_index: Tensor, pool: Tensor) -> Tensor:
        r"""Returns a :obj:`[B, num]` mask that is :obj:`True` where
        :obj:`pool[j]` is an admissible negative of :obj:`user_index[b]`,
        i.e. not one of the user's training items (all :obj:`True` when
        :obj:`exclude_positives=False`).

        The ragged form the losses accept is
        :obj:`b, j = mask.nonzero(as_tuple=True)`, negatives
        :obj:`scores[b, j]` with :obj:`index = b`.
        """
        users = self._check_users(user_index)
        if not isinstance(pool, Tensor) or pool.dim() != 1:
            raise ValueError(f"'pool' expected a 1-D tensor of item ids "
                             f"(got {pool!r:.60})")
        if not self.exclude_positives:
            return torch.ones(users.numel(), pool.numel(), dtype=torch.bool,
                              device=self.device)
        return ~self.index.contains(users.view(-1, 1), pool.view(1, -1))

    # Checkpointing ###########################################################

    def state_dict(self) -> Dict[str, Any]:
        r"""Returns the sampler's random state (for checkpoint resume)."""
        return {'seed': self.seed, 'generator': self.generator.get_state()}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        r"""Restores the random state saved by :meth:`state_dict`."""
        if not isinstance(state_dict, dict) or 'generator' not in state_dict:
            raise ValueError(f"'state_dict' expected a dict with key "
                             f"'generator' (got {state_dict!r:.60})")
        self.seed = int(state_dict.get('seed', self.seed))
        self.generator.set_state(state_dict['generator'].cpu())

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_users={self.num_users}, '
                f'num_items={self.num_items}, '
                f'num_negatives={self.num_negatives}, '
                f'exclude_positives={self.exclude_positives})')
