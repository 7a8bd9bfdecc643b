from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from pyg_simce.baselines.base import BaselineRecommender, check_positive


def _implicit_als():
    try:
        from implicit.cpu.als import AlternatingLeastSquares
    except ImportError:
        raise ImportError("'IALS' requires the 'implicit' package; install "
                          "the optional extra: pip install "
                          "'pyg_simce[baselines]'") from None
    return AlternatingLeastSquares


class IALS(BaselineRecommender):
    r"""Implicit alternating least squares from the `"Collaborative Filtering
    for Implicit Feedback Datasets" <https://doi.org/10.1109/ICDM.2008.22>`_
    paper (Hu, Koren and Volinsky, ICDM 2008), tuned as in `"Revisiting the
    Performance of iALS on Item Recommendation Benchmarks"
    <https://arxiv.org/abs/2110.14037>`_ (Rendle et al., RecSys 2022):

    .. math::
        \min_{\mathbf{X}, \mathbf{Y}} \sum_{(u, i) \in \mathcal{R}}
        \alpha\,(1 - \mathbf{x}_u^{\top}\mathbf{y}_i)^2
        + \sum_{(u, i) \notin \mathcal{R}} (\mathbf{x}_u^{\top}
        \mathbf{y}_i)^2 + \lambda \left(\|\mathbf{X}\|_F^2 +
        \|\mathbf{Y}\|_F^2\right),

    solved by alternating exact (or conjugate-gradient) ridge solves: all
    users given the items, then all items given the users, per sweep.
    Scores are :math:`s_{ui} = \mathbf{x}_u^{\top}\mathbf{y}_i`, so
    :meth:`get_embedding` gives exact factors for
    :func:`~pyg_simce.metrics.evaluate_ranking`.

    Implementation choice: the sweeps are the CPU solver of the `implicit
    <https://github.com/benfred/implicit>`_ library
    (:class:`implicit.cpu.als.AlternatingLeastSquares`, version 0.7), an
    optional extra (:obj:`pip install 'pyg_simce[baselines]'`).  It is the
    well-kept, widely used implementation of the field (multi-threaded
    Cython, conjugate-gradient solves); it fits Gowalla in 7 s (64
    factors) and 11 s (128 factors, Recall@20 0.1555), 15 sweeps on this
    shared 2-core machine (``benchmarks/results/baselines/gowalla.json``).
    A torch implementation (batched Cholesky solves) would only be justified
    by a measurement showing it better, e.g. on a GPU; none has been made.
    Note that :obj:`implicit` (from 0.5) weights an observed pair by
    :math:`c_{ui} = \alpha` (not :math:`1 + \alpha`).

    Args:
        factors (int, optional): The factor size :math:`d`.
            (default: :obj:`64`)
        iterations (int, optional): ALS sweeps. (default: :obj:`15`)
        regularization (float, optional): :math:`\lambda > 0`.
            (default: :obj:`0.01`)
        alpha (float, optional): The confidence :math:`\alpha > 0` of an
            observed pair. (default: :obj:`1.0`)
        use_cg (bool, optional): Conjugate-gradient instead of exact
            Cholesky solves (faster, approximate). (default: :obj:`True`)
        seed (int, optional): Seed of the initial factors.
            (default: :obj:`0`)
        num_threads (int, optional): Solver threads, :obj:`0` for all cores.
            (default: :obj:`0`)
    """
    _uses_history = False

    def __init__(self, factors: int = 64, iterations: int = 15,
                 regularization: float = 0.01, alpha: float = 1.0,
                 use_cg: bool = True, seed: int = 0, num_threads: int = 0):
        super().__init__()
        self.factors = check_positive('factors', factors, integer=True)
        self.iterations = check_positive('iterations', iterations,
                                         integer=True)
        self.regularization = float(check_positive('regularization',
                                                   regularization))
        self.alpha = float(check_positive('alpha', alpha))
        self.use_cg = bool(use_cg)
        self.seed = seed
        self.num_threads = num_threads
        self.model = None
        _implicit_als()

    def _fit(self, matrix) -> None:
        from threadpoolctl import threadpool_limits
        als = _implicit_als()
        with threadpool_limits(1, 'blas'):  # implicit warns otherwise
            self.model = als(factors=self.factors,
                             regularization=self.regularization,
                             alpha=self.alpha, iterations=self.iterations,
                             use_cg=self.use_cg, random_state=self.seed,
                             num_threads=self.num_threads,
                             calculate_training_loss=False)
        self._sweep(matrix)

    def _sweep(self, matrix) -> None:
        from threadpoolctl import threadpool_limits
        with threadpool_limits(1, 'blas'):
            self.model.fit(matrix, show_progress=False)

    def partial_fit(self, iterations: int = 1) -> 'IALS':
        r"""Runs :obj:`iterations` further sweeps from the current factors
        on the fitted data."""
        self._check_fitted()
        self.model.iterations = check_positive('iterations', iterations,
                                               integer=True)
        self._sweep(self._history)
        self.model.iterations = self.iterations
        return self

    def objective(self, matrix=None) -> float:
        r"""The training objective above at the current factors (float64,
        dense over items; for tests and small data)."""
        self._check_fitted()
        matrix = self._history if matrix is None else matrix
        x, y = (np.asarray(f, dtype=np.float64) for f in
                (self.model.user_factors, self.model.item_factors))
        pred = x @ y.T
        pos = matrix.toarray() > 0
        loss = np.where(pos, self.alpha * (1.0 - pred)**2, pred**2).sum()
        return float(loss + self.regularization * ((x**2).sum() +
                                                   (y**2).sum()))

    def get_embedding(self, edge_index: Optional[Tensor] = None
                      ) -> Tuple[Tensor, Tensor]:
        r"""The factors :obj:`(X [U, d], Y [I, d])` (float32); scores are
        their dot products."""
        self._check_fitted()
        return (torch.from_numpy(np.array(self.model.user_factors)),
                torch.from_numpy(np.array(self.model.item_factors)))

    def _file_state(self) -> dict:
        x, y = self.get_embedding()
        return {'user_factors': x, 'item_factors': y}

    def _set_file_state(self, state: dict) -> None:
        from threadpoolctl import threadpool_limits
        with threadpool_limits(1, 'blas'):
            self.model = _implicit_als()(
                factors=self.factors, regularization=self.regularization,
                alpha=self.alpha, iterations=self.iterations,
                use_cg=self.use_cg, random_state=self.seed,
                num_threads=self.num_threads, calculate_training_loss=False)
        self.model.user_factors = state['user_factors'].numpy()
        self.model.item_factors = state['item_factors'].numpy()

    def _score(self, users: np.ndarray, history) -> np.ndarray:
        x = np.asarray(self.model.user_factors)[users]
        return x @ np.asarray(self.model.item_factors).T

    def _repr_args(self) -> dict:
        return dict(factors=self.factors, iterations=self.iterations,
                    regularization=self.regularization, alpha=self.alpha)
