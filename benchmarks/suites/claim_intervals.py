r"""The claims of a suite ("A beats B", key ``claims`` of its config) with
paired bootstrap intervals over the test users, for either protocol."""
from typing import Any, Dict, List, Optional, Sequence

from benchmarks.clean.paired_bootstrap import claim_statistics


def _common(a: Sequence[Any], b: Sequence[Any]):
    # The seeds both sides have: each side's records are in seed order
    # from seed 0 (a run given more seeds with --run-seeds has 0..K-1), so
    # the first min(len(a), len(b)) of each are the same seeds, paired.
    k = min(len(a), len(b))
    return list(a[:k]), list(b[:k])


def _left_out(claim: Dict[str, str],
              per_user: Dict[str, List[Dict[str, Any]]]) -> Optional[str]:
    # Why :obj:`claim` gets no interval (None: it gets one).
    a, b = per_user.get(claim['better']), per_user.get(claim['worse'])
    if not a or not b:
        return 'not in this report: ' + ', '.join(
            x for x, v in ((claim['better'], a), (claim['worse'], b))
            if not v)
    a, b = _common(a, b)
    if any(r is None for r in a + b):
        return ('a seed without per-user test metrics (an unfinished run, '
                'or one imported from a report)')
    return None


def claim_intervals(claims: Sequence[Dict[str, str]],
                    per_user: Dict[str, List[Dict[str, Any]]]
                    ) -> List[Dict[str, Any]]:
    r"""The statistics of every claim whose two sides have per-user test
    metrics for every seed they share (:obj:`per_user` maps a run label to
    its seeds' records, in seed order from seed 0, with ``users``,
    ``recall@20`` and ``ndcg@20``); the others are listed by
    :func:`claims_left_out`.  When one side has more seeds than the other
    (``--run-seeds``), the claim pairs the seeds both have, and its
    ``seeds`` says how many."""
    out = []
    for c in claims:
        if _left_out(c, per_user) is not None:
            continue
        a, b = _common(per_user[c['better']], per_user[c['worse']])
        out.append({'claim': c['claim'], 'better': c['better'],
                    'worse': c['worse'], 'seeds': len(a),
                    **claim_statistics(a, b)})
    return out


def claims_left_out(claims: Sequence[Dict[str, str]],
                    per_user: Dict[str, List[Dict[str, Any]]]
                    ) -> List[Dict[str, str]]:
    r"""The claims :func:`claim_intervals` leaves out, each with the reason
    (a side not in the report, or a shared seed without per-user
    metrics), so that a report says why a claim has no interval."""
    reasons = [(c['claim'], _left_out(c, per_user)) for c in claims]
    return [{'claim': c, 'reason': r} for c, r in reasons if r is not None]


def interval_text(x: Dict[str, Any]) -> str:
    r"""*e.g.* ``+0.0123 (+3.4%) [+0.0050, +0.0190]``."""
    rel = x.get('relative')
    rel_text = f' ({rel:+.1%})' if rel is not None else ''
    return (f"{x['mean']:+.4f}{rel_text} [{x['low']:+.4f}, "
            f"{x['high']:+.4f}]")


def claims_markdown(claims: Sequence[Dict[str, Any]],
                    num_seeds: int) -> List[str]:
    r"""The Markdown table of :obj:`claims` (empty without claims)."""
    if not claims:
        return []
    counts = sorted({int(c.get('seeds', num_seeds)) for c in claims})
    mixed = len(counts) > 1
    seeds = (f'over {counts[0]} seed(s) per user' if not mixed else
             'per user over the seeds both runs have (column seeds: '
             + ' or '.join(map(str, counts)) + ')')
    lines = ['', f'Claims with intervals (paired difference A − B of '
             f'per-user Recall@20 / NDCG@20 on the test users, averaged '
             f'{seeds}; 95% bootstrap interval over users):',
             '',
             '| claim (A > B) |' + (' seeds |' if mixed else '') +
             ' Δ Recall@20 [95% CI] | Δ NDCG@20 [95% CI] | verdict |',
             '|---|' + ('---|' if mixed else '') + '---|---|---|']
    for c in claims:
        count = (f" {int(c.get('seeds', num_seeds))} |" if mixed else '')
        lines.append(f"| {c['claim']} |{count} "
                     f"{interval_text(c['recall@20'])} | "
                     f"{interval_text(c['ndcg@20'])} | **{c['verdict']}** |")
    return lines


def claims_left_out_markdown(left_out: Sequence[Dict[str, str]]
                             ) -> List[str]:
    r"""The report line naming each claim without an interval and why
    (empty when none is left out)."""
    if not left_out:
        return []
    return ['', 'Claims without an interval here: ' + '; '.join(
        f"{c['claim']} ({c['reason']})" for c in left_out) + '.']
