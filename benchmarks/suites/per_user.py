r"""Per-user test metrics of a trained run: what the paired intervals of a
claim compare (:mod:`benchmarks.clean.paired_bootstrap`)."""
from typing import Any, Dict, Optional

from torch import Tensor

#: The metrics kept per user.
PER_USER = ('recall@20', 'ndcg@20')


def per_user_metrics(user_out: Tensor, item_out: Tensor, train_edges: Tensor,
                     target: Tensor, exclude: Optional[Tensor] = None,
                     similarity: str = 'dot') -> Dict[str, Any]:
    r"""All-ranking metrics at 10 and 20 (:func:`pyg_simce.metrics.
    evaluate_ranking`, training and :obj:`exclude` items masked), with
    ``users`` and the per-user values of :data:`PER_USER` (rounded to
    :math:`10^{-6}`)."""
    from pyg_simce.metrics import evaluate_ranking

    return per_user_record(
        evaluate_ranking(user_out, item_out, train_edges, target,
                         exclude_edge_index=exclude, ks=(10, 20),
                         similarity=similarity, return_per_user=True))


def per_user_record(result: Dict[str, Any]) -> Dict[str, Any]:
    r"""The ``test`` metrics, ``users`` and per-user :data:`PER_USER` values
    of an evaluation run with :obj:`return_per_user=True`
    (:func:`pyg_simce.metrics.evaluate_ranking` or
    :func:`pyg_simce.baselines.evaluate_baseline`)."""
    result = dict(result)
    per_user = result.pop('per_user')
    out: Dict[str, Any] = {
        'test': {k: float(v) for k, v in result.items()},
        'users': per_user['user_index'].cpu().tolist(),
    }
    for name in PER_USER:
        out[name] = [round(float(x), 6) for x in per_user[name].cpu()]
    return out
