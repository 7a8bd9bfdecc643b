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
              {'claim': 'a > c', 'better': 'a', 'worse': 'c'},
              {'claim': 'a > d', 'better': 'a', 'worse': 'd'},
              {'claim': 'a > e', 'better': 'a', 'worse': 'e'}]
    per_user = {'a': [seed(0.1), seed(0.2)], 'b': [seed(0), seed(0)],
                'c': [seed(0)], 'e': [seed(0), None]}
    kept = claim_intervals(claims, per_user)
    assert [c['claim'] for c in kept] == ['a > b'] and kept[0]['seeds'] == 2
    left = {c['claim']: c['reason'] for c in claims_left_out(claims,
                                                             per_user)}
    assert left == {'a > c': 'unequal seeds (a: 2, c: 1)',
                    'a > d': 'not in this report: d',
                    'a > e': 'a seed without per-user test metrics '
                    '(unfinished run)'}
    assert 'averaged over 2 seed(s) per user' in '\n'.join(
        claims_markdown(kept, num_seeds=1))
