r"""A seeded synthetic implicit-feedback data set with planted preferences."""
import math

import numpy as np
import torch
from torch_geometric.data import HeteroData

from pyg_simce.data.bipartite_data import RATED_BY, RATES


def _check_int(value: int, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or value < low:
        raise ValueError(f"expected '{name}' to be an integer >= {low} "
                         f'(got {value!r})')
    return int(value)


def _check_float(value: float, name: str, low: float = 0.0) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected '{name}' to be a number "
                         f'(got {value!r})') from None
    if not math.isfinite(value) or value < low:
        raise ValueError(f"expected '{name}' to be a finite number >= {low} "
                         f'(got {value!r})')
    return value


def make_synthetic(
    num_users: int = 2000,
    num_items: int = 1500,
    latent_dim: int = 16,
    mean_degree: float = 40.0,
    min_degree: int = 5,
    popularity_exponent: float = 1.0,
    popularity_weight: float = 1.0,
    preference_strength: float = 3.0,
    seed: int = 0,
) -> HeteroData:
    r"""Generates implicit feedback with power-law item popularity and planted
    latent preferences.

    Users and items get latent factors :math:`\mathbf{p}_u, \mathbf{q}_i
    \sim \mathcal{N}(0, d^{-1/2}\mathbf{I})` (so that :math:`\mathbf{p}_u^\top
    \mathbf{q}_i` has unit variance), and items a Zipf popularity prior
    :math:`\pi_i \propto r_i^{-a}` over a random rank :math:`r_i`.  Every
    user :math:`u` draws a degree :math:`n_u` (log-normal around
    :obj:`mean_degree`, at least :obj:`min_degree`) and then :math:`n_u`
    distinct items from

    .. math::
        P(i \mid u) \propto \exp\left(\beta\, \mathbf{p}_u^\top \mathbf{q}_i
        + \gamma \log \pi_i\right)

    without replacement, by the Gumbel top-k trick (vectorised over users).
    Timestamps are uniform over one year.  The planted factors are kept as
    ``data['user'].latent`` / ``data['item'].latent`` and the prior as
    ``data['item'].log_popularity``, so that tests can compare a model with
    the ground truth.

    The defaults give about 80,000 interactions on 2,000 users and 1,500
    items: small enough for a LightGCN to train in seconds on a CPU, with a
    ranking signal well above the most-popular baseline.

    Args:
        num_users (int): Number of users. (default: :obj:`2000`)
        num_items (int): Number of items. (default: :obj:`1500`)
        latent_dim (int): Dimension :math:`d` of the planted factors.
            (default: :obj:`16`)
        mean_degree (float): Mean number of interactions per user.
            (default: :obj:`40.0`)
        min_degree (int): Minimum number of interactions per user.
            (default: :obj:`5`)
        popularity_exponent (float): Zipf exponent :math:`a`.
            (default: :obj:`1.0`)
        popularity_weight (float): Weight :math:`\gamma` of the popularity
            prior. (default: :obj:`1.0`)
        preference_strength (float): Inverse temperature :math:`\beta` of the
            planted preferences. (default: :obj:`3.0`)
        seed (int): Random seed; the same seed gives the same data.
            (default: :obj:`0`)

    Returns:
        :class:`~torch_geometric.data.HeteroData` with contiguous ids
        (``raw_id`` is the identity), edges sorted by (user, item), edge
        attribute ``time`` and ``num_duplicates = 0``.
    """
    num_users = _check_int(num_users, 'num_users', 1)
    num_items = _check_int(num_items, 'num_items', 2)
    latent_dim = _check_int(latent_dim, 'latent_dim', 1)
    min_degree = _check_int(min_degree, 'min_degree', 1)
    seed = _check_int(seed, 'seed', 0)
    mean_degree = _check_float(mean_degree, 'mean_degree', 1.0)
    popularity_exponent = _check_float(popularity_exponent,
                                       'popularity_exponent')
    popularity_weight = _check_float(popularity_weight, 'popularity_weight')
    preference_strength = _check_float(preference_strength,
                                       'preference_strength')
    max_degree = max(1, num_items // 2)
    if min_degree > max_degree:
        raise ValueError(f"expected 'min_degree' <= num_items // 2 = "
                         f'{max_degree} (got {min_degree})')

    rng = np.random.default_rng(seed)
    scale = latent_dim**-0.25
    user_latent = rng.standard_normal((num_users, latent_dim)) * scale
    item_latent = rng.standard_normal((num_items, latent_dim)) * scale
    rank = rng.permutation(num_items) + 1
    log_pop = -popularity_exponent * np.log(rank)
    log_pop -= np.log(np.exp(log_pop).sum())

    sigma = 0.6
    extra = max(mean_degree - min_degree, 0.5)
    degree = min_degree + np.floor(
        rng.lognormal(math.log(extra) - sigma**2 / 2, sigma, num_users))
    degree = np.clip(degree, min_degree, max_degree).astype(np.int64)

    users, items = [], []
    chunk = max(1, 2**22 // num_items)
    bias = popularity_weight * log_pop
    for start in range(0, num_users, chunk):
        end = min(start + chunk, num_users)
        logits = preference_strength * (user_latent[start:end] @ item_latent.T)
        logits += bias
        logits += rng.gumbel(size=logits.shape)
        # Gumbel top-k: the n_u largest perturbed logits of every row.
        ordered = np.sort(logits, axis=1)
        threshold = ordered[np.arange(end - start),
                            num_items - degree[start:end]]
        row, col = np.nonzero(logits >= threshold[:, None])
        users.append(row + start)
        items.append(col)
    user = np.concatenate(users)
    item = np.concatenate(items)
    time = rng.integers(1_500_000_000, 1_500_000_000 + 365 * 86400,
                        size=len(user))

    data = HeteroData()
    data['user'].num_nodes = num_users
    data['user'].raw_id = torch.arange(num_users)
    data['user'].latent = torch.from_numpy(user_latent).float()
    data['item'].num_nodes = num_items
    data['item'].raw_id = torch.arange(num_items)
    data['item'].latent = torch.from_numpy(item_latent).float()
    data['item'].log_popularity = torch.from_numpy(log_pop).float()
    edge_index = torch.from_numpy(np.stack([user, item]).astype(np.int64))
    data[RATES].edge_index = edge_index
    data[RATED_BY].edge_index = edge_index.flip([0])
    data[RATES].time = torch.from_numpy(time)
    data[RATED_BY].time = data[RATES].time
    data.num_duplicates = 0
    return data
