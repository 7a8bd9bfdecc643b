r"""The raw output of every reader: parallel arrays of interactions."""
from typing import NamedTuple, Optional

import numpy as np


class Interactions(NamedTuple):
    r"""Parallel arrays of (user, item) interactions as read from a file,
    before ids are remapped.

    Readers return this light container; :func:`build_hetero_data` turns it
    into a :class:`~torch_geometric.data.HeteroData`.

    Args:
        user (numpy.ndarray): Raw user ids, integers or strings.
        item (numpy.ndarray): Raw item ids, integers or strings.
        rating (numpy.ndarray, optional): Ratings. (default: :obj:`None`)
        timestamp (numpy.ndarray, optional): Timestamps.
            (default: :obj:`None`)

    Shapes:
        - **user**, **item**, **rating**, **timestamp**: :math:`(E,)`
    """
    user: np.ndarray
    item: np.ndarray
    rating: Optional[np.ndarray] = None
    timestamp: Optional[np.ndarray] = None

    @property
    def num_interactions(self) -> int:
        r"""Number of rows, duplicates included."""
        return len(self.user)

    def select(self, mask: np.ndarray) -> 'Interactions':
        r"""Returns the rows selected by a boolean mask or an index array."""
        return Interactions(
            self.user[mask], self.item[mask],
            None if self.rating is None else self.rating[mask],
            None if self.timestamp is None else self.timestamp[mask])

    @staticmethod
    def concat(*parts: 'Interactions') -> 'Interactions':
        r"""Concatenates several :class:`Interactions` row-wise."""
        def cat(name: str) -> Optional[np.ndarray]:
            values = [getattr(p, name) for p in parts]
            if any(v is None for v in values):
                return None
            return np.concatenate(values)

        return Interactions(cat('user'), cat('item'), cat('rating'),
                            cat('timestamp'))
