r"""The paired bootstrap of a claim against a naive loop and known cases."""
import numpy as np
import pytest

from benchmarks.clean.paired_bootstrap import (
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    bootstrap_interval,
    claim_statistics,
    paired_differences,
    verdict,
)


def runs(values, users=None):
    values = np.asarray(values, dtype=float)
    users = users or list(range(values.shape[1]))
    return [{'users': users, 'recall@20': list(v), 'ndcg@20': list(v / 2)}
            for v in values]


def test_differences_average_seeds_per_user():
    a = runs([[1.0, 0.0, 0.5], [0.0, 0.0, 0.5]])
    b = runs([[0.0, 0.0, 0.0], [1.0, 1.0, 0.5]])
    diff = paired_differences(a, b, 'recall@20')
    # Naive: per user, the mean over seeds of a - b.
    want = [np.mean([a[s]['recall@20'][u] - b[s]['recall@20'][u]
                     for s in range(2)]) for u in range(3)]
    assert np.allclose(diff, want)


def test_interval_matches_a_naive_resampling_loop():
    rng = np.random.default_rng(3)
    diff = rng.normal(0.01, 0.1, size=57)
    got = bootstrap_interval(diff, num_resamples=500, seed=11)
    # The same resamples drawn one by one.
    gen = np.random.default_rng(11)
    means = []
    for start in range(0, 500, 256):
        idx = gen.integers(0, 57, size=(min(256, 500 - start), 57))
        means += [diff[row].mean() for row in idx]
    low, high = np.quantile(means, [0.025, 0.975])
    assert got['low'] == pytest.approx(low)
    assert got['high'] == pytest.approx(high)
    assert got['mean'] == pytest.approx(diff.mean())
    # And the percentile interval covers roughly +-1.96 standard errors.
    se = diff.std(ddof=1) / np.sqrt(57)
    assert got['high'] - got['low'] == pytest.approx(2 * 1.96 * se, rel=0.25)


def test_verdicts():
    assert verdict({'low': 0.01, 'high': 0.2}) == HOLDS
    assert verdict({'low': -0.2, 'high': -0.01}) == DOES_NOT_HOLD
    assert verdict({'low': -0.01, 'high': 0.2}) == INCONCLUSIVE


def test_claim_statistics_decide_from_the_interval():
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 1, size=(3, 400))
    better = runs(base + 0.05)
    worse = runs(base)
    noisy = runs(base + rng.normal(0, 0.3, size=base.shape))
    assert claim_statistics(better, worse)['verdict'] == HOLDS
    assert claim_statistics(worse, better)['verdict'] == DOES_NOT_HOLD
    stats = claim_statistics(noisy, worse)
    assert stats['verdict'] == INCONCLUSIVE
    assert stats['recall@20']['low'] < 0 < stats['recall@20']['high']
    # The relative difference is against B's mean.
    rel = claim_statistics(better, worse)['recall@20']['relative']
    assert rel == pytest.approx(0.05 / base.mean())


def test_mismatched_users_or_seeds_are_refused():
    with pytest.raises(ValueError, match='same test users'):
        paired_differences(runs([[1, 0]]), runs([[1, 0]], users=[0, 2]),
                           'recall@20')
    with pytest.raises(ValueError, match='same positive number of seeds'):
        paired_differences(runs([[1, 0]]), runs([[1, 0], [0, 1]]),
                           'recall@20')
