import numpy as np
import torch

from pyg_simce.baselines.base import BaselineRecommender, check_positive, \
    csr_from_state, csr_to_state


class ItemKNN(BaselineRecommender):
    r"""Item-based :math:`k`-nearest-neighbour collaborative filtering
    (`"Item-Based Collaborative Filtering Recommendation Algorithms"
    <https://dl.acm.org/doi/10.1145/371920.372071>`_, Sarwar et al., WWW
    2001) with cosine similarity on the binary training matrix
    :math:`\mathbf{R}`:

    .. math::
        \mathrm{sim}(i, j) &= \frac{\mathbf{r}_{:i}^{\top}\mathbf{r}_{:j}}
        {\|\mathbf{r}_{:i}\| \, \|\mathbf{r}_{:j}\|}, \quad i \ne j

        s_{ui} &= \sum_{j \in \mathcal{N}_k(i) \cap \mathcal{R}_u}
        \mathrm{sim}(i, j),

    where :math:`\mathcal{N}_k(i)` are the :math:`k` items most similar to
    :math:`i` (ties to the lower id) and :math:`\mathcal{R}_u` the user's
    training items.  The similarities are computed in item blocks and only
    the top-:math:`k` of each item are kept (a sparse
    :math:`|\mathcal{I}| \times k` table).

    Args:
        k (int, optional): Neighbours per item. (default: :obj:`100`)
        block_size (int, optional): Items whose similarity columns are
            computed at once. (default: :obj:`1024`)
    """
    def __init__(self, k: int = 100, block_size: int = 1024):
        super().__init__()
        self.k = check_positive('k', k, integer=True)
        self.block_size = check_positive('block_size', block_size,
                                         integer=True)
        self.weight = None

    def _fit(self, matrix) -> None:
        import scipy.sparse as sp
        num_items = matrix.shape[1]
        k = min(self.k, num_items - 1)
        norm = np.sqrt(np.asarray(matrix.sum(axis=0)).ravel())
        inv = np.zeros_like(norm)
        inv[norm > 0] = 1.0 / norm[norm > 0]
        xn = (matrix @ sp.diags(inv.astype(np.float32))).tocsc()
        xt = xn.T.tocsr()
        rows, cols, vals = [], [], []
        for start in range(0, num_items, self.block_size):
            stop = min(start + self.block_size, num_items)
            sim = torch.from_numpy((xt @ xn[:, start:stop]).toarray())
            sim[torch.arange(start, stop), torch.arange(stop - start)] = 0.0
            if k > 0:
                # sim is [num_items, b]: the neighbours of item start + c
                # are the top-k rows of column c, ties at the k-th value to
                # the lower ids.
                kth = torch.topk(sim, k, dim=0).values[-1:]
                above = sim > kth
                tied = sim == kth
                room = k - above.sum(dim=0, keepdim=True)
                keep = (above | (tied & (tied.cumsum(dim=0) <= room))) & \
                    (sim > 0)
                idx, col = keep.nonzero(as_tuple=True)
                rows.append(idx.numpy())
                cols.append((col + start).numpy())
                vals.append(sim[idx, col].numpy())
        # weight[j, i] = sim(i, j) for j in N_k(i): scores are R_u @ weight.
        self.weight = sp.csr_matrix(
            (np.concatenate(vals) if vals else np.zeros(0, np.float32),
             (np.concatenate(rows) if rows else np.zeros(0, np.int64),
              np.concatenate(cols) if cols else np.zeros(0, np.int64))),
            shape=(num_items, num_items), dtype=np.float32)

    def _file_state(self) -> dict:
        return {'weight': csr_to_state(self.weight)}

    def _set_file_state(self, state: dict) -> None:
        self.weight = csr_from_state(state['weight'])

    def _score(self, users: np.ndarray, history) -> np.ndarray:
        return (history[users] @ self.weight).toarray()

    def _repr_args(self) -> dict:
        return dict(k=self.k)
