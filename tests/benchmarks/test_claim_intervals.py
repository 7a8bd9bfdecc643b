r"""The claims of a paper-protocol report: every claim either gets a paired
interval or is listed with the reason it has none."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_claim_without_an_interval_says_why(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.suites.claim_intervals import (
        claim_intervals,
        claims_left_out,
        claims_markdown,
    )

    def seed(shift):
        return {'users': [0, 1, 2], 'recall@20': [0.1 + shift, 0.2, 0.3],
                'ndcg@20': [0.1, 0.2 + shift, 0.3]}

    claims = [{'claim': 'a > b', 'better': 'a', 'worse': 'b'},
              {'claim': 'a > d', 'better': 'a', 'worse': 'd'},
              {'claim': 'a > e', 'better': 'a', 'worse': 'e'}]
    per_user = {'a': [seed(0.1), seed(0.2)], 'b': [seed(0), seed(0)],
                'e': [seed(0), None]}
    kept = claim_intervals(claims, per_user)
    assert [c['claim'] for c in kept] == ['a > b'] and kept[0]['seeds'] == 2
    left = {c['claim']: c['reason'] for c in claims_left_out(claims,
                                                             per_user)}
    assert left == {'a > d': 'not in this report: d',
                    'a > e': 'a seed without per-user test metrics '
                    '(an unfinished run, or one imported from a report)'}
    assert 'averaged over 2 seed(s) per user' in '\n'.join(
        claims_markdown(kept, num_seeds=1))


def test_a_claim_pairs_the_seeds_both_sides_have(monkeypatch):
    # A run given more seeds (--run-seeds) against one with fewer: the
    # claim pairs seed k with seed k for the seeds both have, and a seed
    # only the longer side has (even an unfinished one) does not enter.
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.suites.claim_intervals import (
        claim_intervals,
        claims_left_out,
        claims_markdown,
    )

    users = [0, 1, 2, 3]

    def seed(recall):
        return {'users': users, 'recall@20': recall, 'ndcg@20': recall}

    per_user = {
        'a': [seed([0.5, 0.4, 0.3, 0.2]), seed([0.9, 0.9, 0.9, 0.9]), None],
        'b': [seed([0.1, 0.2, 0.3, 0.4])],
        'c': [seed([0.0, 0.0, 0.0, 0.0]), seed([0.1, 0.1, 0.1, 0.1])],
    }
    claims = [{'claim': 'a > b', 'better': 'a', 'worse': 'b'},
              {'claim': 'a > c', 'better': 'a', 'worse': 'c'}]
    kept = {c['claim']: c for c in claim_intervals(claims, per_user)}
    assert claims_left_out(claims, per_user) == []
    assert kept['a > b']['seeds'] == 1 and kept['a > c']['seeds'] == 2
    # Seed 0 against seed 0 only: per-user differences 0.4, 0.2, 0, -0.2.
    assert abs(kept['a > b']['recall@20']['mean'] - 0.1) < 1e-9
    # Seeds 0 and 1 paired: per user 0.7, 0.65, 0.6, 0.55 against 0.05.
    assert abs(kept['a > c']['recall@20']['mean'] - 0.575) < 1e-9
    text = '\n'.join(claims_markdown(list(kept.values()), num_seeds=1))
    assert ('averaged per user over the seeds both runs have (column '
            'seeds: 1 or 2); 95%') in text
    assert '| claim (A > B) | seeds |' in text
    assert '| a > b | 1 |' in text and '| a > c | 2 |' in text
