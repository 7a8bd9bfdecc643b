import numpy as np
import torch

from pyg_simce.baselines.base import BaselineRecommender, check_positive

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

    with :math:`\mathbf{R}` the binary training matrix.  The Gram matrix is
    built densely once, then its Cholesky factor and the inverse
    (:func:`torch.linalg.cholesky`, :func:`torch.cholesky_inverse`; positive
    definite since :math:`\lambda > 0`) are written over it and it becomes
    :math:`\mathbf{B}` in place; the fit holds two dense
    :math:`|\mathcal{I}| \times |\mathcal{I}|` matrices at its peak (the
    solver keeps one temporary copy), against three for a general inverse:
    Gowalla's 40,981 items take about 12.5 GiB in float32.  Above
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
        r"""The bytes the fit takes for :obj:`num_items` items: two dense
        item-item matrices, and the float32 weight when the fit runs in
        another precision."""
        size = torch.finfo(self.dtype).bits // 8
        need = 2 * num_items * num_items * size
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
        np_dtype = np.float32 if self.dtype == torch.float32 else np.float64
        matrix = matrix.astype(np_dtype)
        gram = (matrix.T @ matrix).tocoo()
        n = matrix.shape[1]
        dense = torch.zeros(n, n, dtype=self.dtype)
        dense[torch.from_numpy(gram.row.astype(np.int64)),
              torch.from_numpy(gram.col.astype(np.int64))] = \
            torch.from_numpy(gram.data)
        del gram
        dense.diagonal().add_(self.lambda_)
        # Cholesky factor and inverse written over the Gram matrix (torch
        # holds one temporary copy while each runs); lambda > 0 makes the
        # matrix positive definite.
        torch.linalg.cholesky(dense, out=dense)
        torch.cholesky_inverse(dense, out=dense)
        diag = dense.diagonal().clone()
        dense.div_(-diag.view(1, -1))
        dense.diagonal().zero_()
        self.weight = dense.to(torch.float32)

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
