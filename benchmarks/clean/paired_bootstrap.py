r"""Paired statistics of a claim "A beats B" on the same test users.

For every test user :math:`u` and seed :math:`s` the paired difference is
:math:`d_{u,s} = m_A(u, s) - m_B(u, s)` of a per-user metric :math:`m`
(Recall@20 or NDCG@20).  The differences are pooled over seeds per user,
:math:`\bar d_u = \frac{1}{S} \sum_s d_{u,s}`, and the users are resampled
with replacement (a cluster bootstrap: a user's seeds stay together, since
they share the user's test items), giving the percentile interval of the
mean difference :math:`\frac{1}{|U|} \sum_u \bar d_u`.

The verdict of the claim is *holds* when the interval lies above zero,
*does not hold* when it lies below zero (B is better), and *inconclusive*
when it contains zero.
"""
from typing import Any, Dict, List, Sequence

import numpy as np

HOLDS, DOES_NOT_HOLD, INCONCLUSIVE = 'holds', 'does not hold', 'inconclusive'


def paired_differences(a_runs: Sequence[Dict[str, Any]],
                       b_runs: Sequence[Dict[str, Any]],
                       metric: str) -> np.ndarray:
    r"""The per-user differences :math:`\bar d_u`, pooled over the seeds
    that both sides have (matched by position: seed :math:`s` of A with
    seed :math:`s` of B).  Every run is a ``test.json`` record of
    :func:`benchmarks.clean.clean_run.final_test`."""
    if len(a_runs) != len(b_runs) or not a_runs:
        raise ValueError(f'expected the same positive number of seeds on '
                         f'both sides (got {len(a_runs)} and {len(b_runs)})')
    diffs: List[np.ndarray] = []
    users = None
    for a, b in zip(a_runs, b_runs):
        if a['users'] != b['users']:
            raise ValueError('expected both sides evaluated on the same test '
                             'users')
        if users is None:
            users = a['users']
        elif a['users'] != users:
            raise ValueError('expected every seed evaluated on the same '
                             'test users')
        diffs.append(np.asarray(a[metric], dtype=np.float64) -
                     np.asarray(b[metric], dtype=np.float64))
    return np.mean(np.stack(diffs), axis=0)


def bootstrap_interval(diff: np.ndarray, num_resamples: int = 2000,
                       seed: int = 0,
                       level: float = 0.95) -> Dict[str, float]:
    r"""The mean of :obj:`diff` and its percentile bootstrap interval over
    users (resampled :obj:`num_resamples` times by a generator seeded with
    :obj:`seed`)."""
    diff = np.asarray(diff, dtype=np.float64)
    if diff.ndim != 1 or diff.size == 0:
        raise ValueError(f"'diff' expected a non-empty vector (got shape "
                         f"{diff.shape})")
    rng = np.random.default_rng(seed)
    n = diff.size
    means = np.empty(num_resamples)
    for start in range(0, num_resamples, 256):
        stop = min(start + 256, num_resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = diff[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return {'mean': float(diff.mean()), 'low': float(low),
            'high': float(high), 'level': level,
            'num_users': int(n), 'num_resamples': int(num_resamples)}


def verdict(interval: Dict[str, float]) -> str:
    r"""*holds*, *does not hold* or *inconclusive* from an interval."""
    if interval['low'] > 0:
        return HOLDS
    if interval['high'] < 0:
        return DOES_NOT_HOLD
    return INCONCLUSIVE


def claim_statistics(a_runs: Sequence[Dict[str, Any]],
                     b_runs: Sequence[Dict[str, Any]],
                     metrics: Sequence[str] = ('recall@20', 'ndcg@20'),
                     num_resamples: int = 2000,
                     seed: int = 0) -> Dict[str, Any]:
    r"""Interval and verdict of "A beats B" for every metric; the claim's
    verdict is that of its first metric (Recall@20), and the relative
    difference is given against B's mean."""
    out: Dict[str, Any] = {}
    for metric in metrics:
        diff = paired_differences(a_runs, b_runs, metric)
        interval = bootstrap_interval(diff, num_resamples, seed)
        base = float(np.mean([np.mean(b[metric]) for b in b_runs]))
        interval['relative'] = (interval['mean'] / base) if base else None
        interval['verdict'] = verdict(interval)
        out[metric] = interval
    out['verdict'] = out[metrics[0]]['verdict']
    return out
