r"""Embedding magnitude against node degree, the diagnostic of §4.2 of the
`"On the Effectiveness of Sampled Softmax Loss for Item Recommendation"
<https://arxiv.org/abs/2201.02327>`_ paper.

One propagation step with receiver exponent :math:`\alpha_0` and sender
exponent :math:`\alpha_1` (eq. 24),

.. math::
    \mathbf{q}'_i = \sum_{u \in \mathcal{P}_i}
    \frac{1}{|\mathcal{P}_i|^{\alpha_0} |\mathcal{P}_u|^{\alpha_1}}
    \mathbf{p}_u,

gives, for i.i.d. inputs with mean :math:`\mu_0` and variance
:math:`\sigma_0^2` and Pareto-distributed degrees (eqs. 29, 30),

.. math::
    \mathbb{E}\,\|\mathbf{q}'_i\|^2 = a\,|\mathcal{P}_i|^{1 - 2\alpha_0}
    + b\,|\mathcal{P}_i|^{2 - 2\alpha_0},
    \qquad b \propto \mu_0^2.

So message passing sets the squared magnitude as a power of the degree,
whose exponent :math:`\alpha_0` controls (:math:`\alpha_1` only changes the
constants :math:`a, b`).  A cosine-similarity loss such as sampled softmax
cannot learn magnitudes itself; with propagation the popular items' larger
(or smaller) norms come from the graph.  :func:`embedding_norm_vs_degree`
measures the exponent on any embedding; :func:`predicted_magnitude_slope`
gives the paper's prediction.
"""
import math
from typing import Dict, Union

import torch
from torch import Tensor


def embedding_norm_vs_degree(
    embedding: Tensor,
    degree: Tensor,
    *,
    min_degree: int = 1,
) -> Dict[str, Union[Tensor, float, int]]:
    r"""Returns per-node embedding norms against degree and the least-squares
    fit

    .. math::
        \log \|\mathbf{e}_v\|^2 \approx \text{slope} \cdot \log d_v
        + \text{intercept}

    over the nodes with :math:`d_v \geq` :obj:`min_degree` (never degree 0,
    whose logarithm is undefined) and non-zero norm.  The slope is directly
    comparable with the exponents of eq. (29), see
    :func:`predicted_magnitude_slope`.

    Args:
        embedding (torch.Tensor): Node embeddings :obj:`[N, d]`.
        degree (torch.Tensor): Node degrees :obj:`[N]` (e.g. training
            interactions per item).
        min_degree (int, optional): Smallest degree used in the fit (at
            least 1). (default: :obj:`1`)

    Returns:
        A dict with :obj:`'norms'` (:math:`\|\mathbf{e}_v\|`, all nodes),
        :obj:`'degrees'` (as float, all nodes), :obj:`'slope'` and
        :obj:`'intercept'` (floats; :obj:`nan` when fewer than two distinct
        degrees are usable) and :obj:`'num_fitted'` (nodes in the fit).
    """
    if not isinstance(embedding, Tensor) or embedding.dim() != 2:
        raise ValueError(f"'embedding' expected a 2-dimensional tensor "
                         f"(got {getattr(embedding, 'shape', embedding)})")
    if not isinstance(degree, Tensor) or degree.dim() != 1 or \
            degree.numel() != embedding.size(0):
        raise ValueError(f"'degree' expected a 1-dimensional tensor with "
                         f"{embedding.size(0)} entries (got "
                         f"{getattr(degree, 'shape', degree)})")
    if isinstance(min_degree, bool) or not isinstance(min_degree, int) or \
            min_degree < 1:
        raise ValueError(f"'min_degree' expected an int >= 1 "
                         f"(got {min_degree!r})")
    emb = embedding.detach().to(torch.float64)
    deg = degree.detach().to(device=emb.device, dtype=torch.float64)
    if bool((deg < 0).any()) or not bool(torch.isfinite(deg).all()):
        raise ValueError("'degree' expected finite non-negative values")
    sq = emb.pow(2).sum(dim=1)
    mask = (deg >= min_degree) & (sq > 0) & torch.isfinite(sq)
    x, y = deg[mask].log(), sq[mask].log()
    slope = intercept = math.nan
    if x.numel() >= 2 and float(x.max() - x.min()) > 0:
        x_mean, y_mean = x.mean(), y.mean()
        slope_t = ((x - x_mean) * (y - y_mean)).sum() / (x - x_mean).pow(
            2).sum()
        slope = float(slope_t)
        intercept = float(y_mean - slope_t * x_mean)
    return {
        'norms': sq.sqrt().to(embedding.dtype),
        'degrees': deg,
        'slope': slope,
        'intercept': intercept,
        'num_fitted': int(mask.sum()),
    }


def predicted_magnitude_slope(alpha0: float, *,
                              zero_mean: bool = False) -> float:
    r"""The log-log slope of :math:`\mathbb{E}\|\mathbf{q}'_i\|^2` against
    :math:`|\mathcal{P}_i|` predicted by eq. (29) of the paper:

    * :math:`2 - 2\alpha_0` (default) when the input embeddings have a
      non-zero mean :math:`\mu_0`: then :math:`b > 0` and the term
      :math:`b|\mathcal{P}_i|^{2-2\alpha_0}` dominates for large degree
      (the coherent sum of :math:`|\mathcal{P}_i|` means grows like
      :math:`|\mathcal{P}_i|`, its square like :math:`|\mathcal{P}_i|^2`);
    * :math:`1 - 2\alpha_0` with :obj:`zero_mean=True` (:math:`\mu_0 = 0`,
      e.g. freshly Xavier-initialised embeddings): :math:`b = 0` and only
      the variance term :math:`a|\mathcal{P}_i|^{1-2\alpha_0}` remains (a
      sum of :math:`|\mathcal{P}_i|` independent zero-mean vectors has
      squared norm growing like :math:`|\mathcal{P}_i|`).

    For LightGCN's :math:`\alpha_0 = 0.5` these are :math:`1` (the paper's
    "monotonically linearly increases") and :math:`0`; for :math:`\alpha_0
    = 1` (mean aggregation) they are :math:`0` and :math:`-1`.

    Args:
        alpha0 (float): The receiver exponent :math:`\alpha_0`.
        zero_mean (bool, optional): Whether the propagated embeddings have
            zero mean. (default: :obj:`False`)
    """
    if isinstance(alpha0, bool) or not isinstance(
            alpha0, (int, float)) or not math.isfinite(alpha0):
        raise ValueError(f"'alpha0' expected a finite float (got {alpha0!r})")
    return (1.0 if zero_mean else 2.0) - 2.0 * float(alpha0)


__all__ = ['embedding_norm_vs_degree', 'predicted_magnitude_slope']
