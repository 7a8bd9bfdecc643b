import numpy as np
import torch

from pyg_simce.baselines.base import BaselineRecommender, check_positive, \
    csr_from_state, csr_to_state, require_scipy
from pyg_simce.nn.conv.sparse_adjacency import _csr


class GFCF(BaselineRecommender):
    r"""The training-free graph filter of the `"How Powerful is Graph
    Convolution for Recommendation?" <https://arxiv.org/abs/2108.07567>`_
    paper (GF-CF, Shen et al., CIKM 2021): a linear low-pass filter on the
    normalised item-item graph plus an ideal low-pass filter,

    .. math::
        \tilde{\mathbf{R}} &= \mathbf{D}_U^{-\alpha_0} \mathbf{R}
        \mathbf{D}_I^{-\alpha_1}

        \mathbf{s}_u &= \mathbf{r}_u \tilde{\mathbf{R}}^{\top}
        \tilde{\mathbf{R}} + \alpha\, \mathbf{r}_u \mathbf{D}_I^{-\alpha_1}
        \mathbf{V}_k \mathbf{V}_k^{\top} \mathbf{D}_I^{\alpha_1},

    where :math:`\mathbf{R}` is the binary training matrix,
    :math:`\mathbf{D}_U`, :math:`\mathbf{D}_I` the user and item degrees
    (the :math:`\alpha_0`/:math:`\alpha_1` normalisation of
    :class:`~pyg_simce.nn.conv.BipartiteConv`; users and items without
    interactions get :math:`0`) and :math:`\mathbf{V}_k` the top-:math:`k`
    right singular vectors of :math:`\tilde{\mathbf{R}}`.  The defaults
    (:math:`\alpha_0 = \alpha_1 = \frac{1}{2}`, :math:`k = 256`,
    :math:`\alpha = 0.3`) are the paper's official Gowalla and Yelp2018
    settings; :obj:`alpha=0` is the linear filter alone (its Amazon-Book
    setting).

    The item-item matrix :math:`\tilde{\mathbf{R}}^{\top}\tilde{\mathbf{R}}`
    is never formed (on Gowalla it would take 6.7 GB in float32): a chunk of
    users is scored as :math:`(\mathbf{R}_c \tilde{\mathbf{R}}^{\top})
    \tilde{\mathbf{R}}`, sparse-sparse then sparse-dense, so memory is
    bounded by the chunk.  The singular vectors come from
    :func:`scipy.sparse.linalg.svds` (:obj:`svd='lanczos'`, exact, as the
    paper's :obj:`sparsesvd`) or from a randomized range finder with power
    iterations (:obj:`svd='randomized'`, Halko et al. 2011: :math:`2q + 2`
    sparse-dense products with :math:`2k` columns, much faster on large
    graphs; the projection :math:`\mathbf{V}_k\mathbf{V}_k^{\top}` is then
    approximate near the :math:`k`-th singular value).

    Args:
        alpha (float, optional): The weight :math:`\alpha \ge 0` of the ideal
            low-pass part. (default: :obj:`0.3`)
        rank (int, optional): The number :math:`k` of singular vectors,
            :math:`1 \le k < \min(|\mathcal{U}|, |\mathcal{I}|)`; unused
            when :obj:`alpha=0`. (default: :obj:`256`)
        alpha0 (float, optional): The user-side exponent :math:`\alpha_0`.
            (default: :obj:`0.5`)
        alpha1 (float, optional): The item-side exponent :math:`\alpha_1`.
            (default: :obj:`0.5`)
        svd (str, optional): :obj:`'lanczos'` or :obj:`'randomized'`.
            (default: :obj:`'lanczos'`)
        power_iterations (int, optional): Power iterations :math:`q` of
            :obj:`svd='randomized'`. (default: :obj:`8`)
        seed (int, optional): Seed of the Lanczos start vector or of the
            random test matrix. (default: :obj:`0`)
    """
    def __init__(self, alpha: float = 0.3, rank: int = 256,
                 alpha0: float = 0.5, alpha1: float = 0.5,
                 svd: str = 'lanczos', power_iterations: int = 8,
                 seed: int = 0):
        super().__init__()
        if svd not in ('lanczos', 'randomized'):
            raise ValueError(f"'svd' expected 'lanczos' or 'randomized' "
                             f"(got {svd!r})")
        self.svd = svd
        self.power_iterations = check_positive('power_iterations',
                                               power_iterations,
                                               integer=True)
        require_scipy('GFCF')
        for name, value in (('alpha', alpha), ('alpha0', alpha0),
                            ('alpha1', alpha1)):
            if isinstance(value, bool) or \
                    not isinstance(value, (int, float)) or \
                    not np.isfinite(value) or value < 0:
                raise ValueError(f"'{name}' expected a finite number >= 0 "
                                 f"(got {value!r})")
        self.alpha = float(alpha)
        self.rank = check_positive('rank', rank, integer=True)
        self.alpha0, self.alpha1 = float(alpha0), float(alpha1)
        self.seed = seed
        self.norm_adj = None
        self.user_lowpass = None
        self.item_lowpass = None

    def check_sizes(self, num_users: int, num_items: int) -> None:
        if self.alpha > 0 and self.rank >= min(num_users, num_items):
            raise ValueError(f"'rank' expected a low-pass rank below "
                             f"min(num_users, num_items) = "
                             f"{min(num_users, num_items)} (got {self.rank})")

    @staticmethod
    def _power(degree: np.ndarray, exponent: float) -> np.ndarray:
        out = np.zeros(degree.shape, dtype=np.float64)
        mask = degree > 0
        out[mask] = np.power(degree[mask], exponent)
        return out

    def _fit(self, matrix) -> None:
        import scipy.sparse as sp
        from scipy.sparse.linalg import svds
        user_deg = np.asarray(matrix.sum(axis=1)).ravel()
        item_deg = np.asarray(matrix.sum(axis=0)).ravel()
        d_u = sp.diags(self._power(user_deg, -self.alpha0))
        d_i = self._power(item_deg, -self.alpha1)
        norm = (d_u @ matrix.astype(np.float64) @ sp.diags(d_i)).tocsr()
        self._set_norm_adj(norm.astype(np.float32))
        if self.alpha > 0:
            rng = np.random.default_rng(self.seed)
            if self.svd == 'lanczos':
                v0 = rng.standard_normal(min(norm.shape))
                v = svds(norm, k=self.rank, v0=v0)[2].T  # [num_items, k]
            else:
                v = self._randomized_right_vectors(norm, rng)
            # D_I^{-alpha1} V and D_I^{alpha1} V (items without training
            # interactions: 0 on both sides).
            # C order, as a loaded model file has them (the BLAS summation
            # order, and so the last bit of a score, follows the layout).
            self.user_lowpass = np.ascontiguousarray(
                d_i[:, None] * v, dtype=np.float32)
            self.item_lowpass = np.ascontiguousarray(
                self._power(item_deg, self.alpha1)[:, None] * v,
                dtype=np.float32)

    def _set_norm_adj(self, norm_adj) -> None:
        self.norm_adj = norm_adj
        self.norm_adj_t = self.norm_adj.T.tocsr()
        # The sparse-dense product of scoring runs multi-threaded in torch.
        t = self.norm_adj_t
        self._norm_adj_t = _csr(torch.from_numpy(t.indptr.astype(np.int64)),
                                torch.from_numpy(t.indices.astype(np.int64)),
                                torch.from_numpy(t.data), t.shape)

    def _file_state(self) -> dict:
        return {'norm_adj': csr_to_state(self.norm_adj),
                'user_lowpass': self.user_lowpass,
                'item_lowpass': self.item_lowpass}

    def _set_file_state(self, state: dict) -> None:
        self._set_norm_adj(csr_from_state(state['norm_adj']))
        for name in ('user_lowpass', 'item_lowpass'):
            value = state.get(name)
            setattr(self, name, None if value is None else value.numpy())

    def _randomized_right_vectors(self, norm, rng) -> np.ndarray:
        num_items = norm.shape[1]
        width = min(2 * self.rank, min(norm.shape))
        norm_t = norm.T.tocsr()
        # Range of the item side: Y = (A^T A)^q A^T A Omega, orthonormalised
        # after every product.
        y = np.linalg.qr(norm_t @ (norm @ rng.standard_normal(
            (num_items, width))))[0]
        for _ in range(self.power_iterations):
            y = np.linalg.qr(norm_t @ (norm @ y))[0]
        # A Q = U S W^T: the right singular vectors of A are Q W.
        w = np.linalg.svd(norm @ y, full_matrices=False)[2].T
        return y @ w[:, :self.rank]

    def _score(self, users: np.ndarray, history) -> np.ndarray:
        rows = history[users]
        left = (rows @ self.norm_adj_t).toarray()  # [c, num_users]
        out = torch.sparse.mm(self._norm_adj_t,
                              torch.from_numpy(left.T.copy())).t()
        if self.alpha > 0:
            low = torch.from_numpy(rows @ self.user_lowpass)  # [c, k]
            out = torch.addmm(out, low, torch.from_numpy(
                self.item_lowpass).t(), alpha=self.alpha)
        return out.numpy()

    def _repr_args(self) -> dict:
        return dict(alpha=self.alpha, rank=self.rank, alpha0=self.alpha0,
                    alpha1=self.alpha1, svd=self.svd)
