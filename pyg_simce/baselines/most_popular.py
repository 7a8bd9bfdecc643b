from typing import Tuple

import numpy as np
import torch
from torch import Tensor

from pyg_simce.baselines.base import BaselineRecommender


class MostPopular(BaselineRecommender):
    r"""Ranks every item by its number of training interactions, the same
    list for every user (minus the user's training items):

    .. math::
        s_{ui} = |\mathcal{N}(i)| - \frac{i}{2 |\mathcal{I}|},

    where the second term breaks ties to the lower item id (as
    :func:`~pyg_simce.train.evaluation.popularity_baseline`, whose figures
    it reproduces).  It is the floor every learned model must clearly beat.
    """
    _uses_history = False

    def __init__(self):
        super().__init__()
        self.item_score = None

    def _fit(self, matrix) -> None:
        num_items = matrix.shape[1]
        degree = np.asarray(matrix.sum(axis=0)).ravel().astype(np.float64)
        self.item_score = torch.from_numpy(
            degree - np.arange(num_items) / (2.0 * num_items))

    def get_embedding(self) -> Tuple[Tensor, Tensor]:
        r"""Exact one-dimensional factors :obj:`(ones [U, 1], score [I, 1])`
        (float64) for :func:`~pyg_simce.metrics.evaluate_ranking`."""
        self._check_fitted()
        return (torch.ones(self.num_users, 1, dtype=torch.float64),
                self.item_score.view(-1, 1).clone())

    def _file_state(self) -> dict:
        return {'item_score': self.item_score}

    def _set_file_state(self, state: dict) -> None:
        self.item_score = state['item_score'].to(torch.float64)

    def _score(self, users: np.ndarray, history) -> np.ndarray:
        # float32 would merge the tie-break into the degree for large
        # catalogues: rank in float64, return the rank position instead.
        rank = torch.empty(self.num_items, dtype=torch.float32)
        rank[self.item_score.argsort()] = torch.arange(
            self.num_items, dtype=torch.float32)
        return np.tile(rank.numpy(), (len(users), 1))
