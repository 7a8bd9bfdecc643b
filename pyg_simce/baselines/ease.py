import numpy as np
import torch

from pyg_simce.baselines.base import BaselineRecommender, check_positive

#: Rows per block when the inverse is mirrored into its other triangle.
_BLOCK = 2048


class EASE(BaselineRecommender):
    r"""The closed-form linear item-item autoencoder of the `"Embarrassingly
    Shallow Autoencoders for Sparse Data"
    <https://arxiv.org/abs/1905.03375>`_ paper (EASE, Steck, WWW 2019):

    .. math::
        \mathbf{P} &= (\mathbf{R}^{\top}\mathbf{R} + \lambda \mathbf{I})^{-1}

        \mathbf{B} &= \mathbf{I} - \mathbf{P} \,
        \mathrm{diag}(1 / \mathrm{diag}(\mathbf{P})),
        \qquad \mathrm{diag}(\mathbf{B}) = 0

        \mathbf{s}_u &= \mathbf{r}_u \mathbf{B},

    with :math:`\mathbf{R}` the binary training matrix.  The fit holds one
    dense :math:`|\mathcal{I}| \times |\mathcal{I}|` matrix: the Gram matrix
    is built in place, factorised and inverted in place by LAPACK's Cholesky
    routines (``potrf`` / ``potri``, positive definite since
    :math:`\lambda > 0`), and turned into :math:`\mathbf{B}` in place, a
    third of the memory of a general inverse: Gowalla's 40,981 items take
    about 6.6 GiB in float32.  Above
    :obj:`max_memory` bytes :meth:`fit` refuses with the item count and the
    memory needed.

    Args:
        lambda_ (float, optional): The L2 weight :math:`\lambda > 0`.
            (default: :obj:`500.0`)
        dtype (torch.dtype, optional): Precision of the fit.
            (default: :obj:`torch.float64`)
        max_memory (int, optional): The most bytes the fit may take.
            (default: :obj:`4 * 2**30`)
    """
    def __init__(self, lambda_: float = 500.0,
                 dtype: torch.dtype = torch.float64,
                 max_memory: int = 4 * 2**30):
        super().__init__()
        self.lambda_ = float(check_positive('lambda_', lambda_))
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"'dtype' expected torch.float32 or "
                             f"torch.float64 (got {dtype})")
        self.dtype = dtype
        self.max_memory = check_positive('max_memory', max_memory,
                                         integer=True)
        self.weight = None

    def memory_needed(self, num_items: int) -> int:
        r"""The bytes the fit takes for :obj:`num_items` items: one dense
        item-item matrix, one block of rows while it is mirrored, and the
        float32 weight when the fit runs in another precision."""
        size = torch.finfo(self.dtype).bits // 8
        need = (num_items + min(num_items, _BLOCK)) * num_items * size
        if self.dtype != torch.float32:  # the float32 copy of the weight
            need += num_items * num_items * 4
        return need

    def check_sizes(self, num_users: int, num_items: int) -> None:
        need = self.memory_needed(num_items)
        if need > self.max_memory:
            raise ValueError(
                f"'train_data' expected a catalogue whose EASE fit fits in "
                f"'max_memory'={self.max_memory / 2**30:.2f} GiB (got "
                f"{num_items} items, which need about {need / 2**30:.2f} GiB "
                f"in {self.dtype})")

    def _fit(self, matrix) -> None:
        from scipy.linalg import lapack

        np_dtype = np.float32 if self.dtype == torch.float32 else np.float64
        matrix = matrix.astype(np_dtype)
        gram = (matrix.T @ matrix).tocoo()
        n = matrix.shape[1]
        dense = np.zeros((n, n), dtype=np_dtype)
        dense[gram.row, gram.col] = gram.data
        del gram
        dense[np.diag_indices(n)] += self.lambda_
        # LAPACK works on column-major arrays: dense.T is the Fortran view of
        # the symmetric C array, so its 'lower' triangle is dense's upper one.
        potrf, potri = lapack.get_lapack_funcs(('potrf', 'potri'), (dense,))
        factor, info = potrf(dense.T, lower=1, overwrite_a=1, clean=0)
        if info != 0:  # pragma: no cover - lambda > 0 makes it definite
            raise RuntimeError(f"EASE: the Cholesky factorisation failed "
                               f"(LAPACK info {info})")
        inverse, info = potri(factor, lower=1, overwrite_c=1)
        if info != 0:  # pragma: no cover
            raise RuntimeError(f"EASE: the inverse failed (LAPACK info "
                               f"{info})")
        if not np.shares_memory(inverse, dense):  # pragma: no cover
            dense = np.ascontiguousarray(inverse.T)
        # The inverse is in dense's upper triangle: mirror it to the lower.
        for start in range(0, n, _BLOCK):
            stop = min(start + _BLOCK, n)
            block = dense[start:stop, start:stop]
            block[...] = np.triu(block) + np.triu(block, 1).T
            dense[stop:, start:stop] = dense[start:stop, stop:].T
        diag = dense.diagonal().copy()
        dense /= -diag[None, :]
        dense[np.diag_indices(n)] = 0.0
        self.weight = torch.from_numpy(dense).to(torch.float32)

    def _file_state(self) -> dict:
        return {'weight': self.weight}

    def _set_file_state(self, state: dict) -> None:
        self.weight = state['weight']

    def _score(self, users: np.ndarray, history) -> np.ndarray:
        # Sparse rows times the dense weight: the cost follows the users'
        # history lengths, not the catalogue size squared.
        return np.asarray(history[users] @ self.weight.numpy())

    def _repr_args(self) -> dict:
        return dict(lambda_=self.lambda_)
