r"""The claims of a suite ("A beats B", key ``claims`` of its config) with
paired bootstrap intervals over the test users, for either protocol."""
from typing import Any, Dict, List, Optional, Sequence

from benchmarks.clean.paired_bootstrap import claim_statistics


def _left_out(claim: Dict[str, str],
              per_user: Dict[str, List[Dict[str, Any]]]) -> Optional[str]:
    # Why :obj:`claim` gets no interval (None: it gets one).
    a, b = per_user.get(claim['better']), per_user.get(claim['worse'])
    if not a or not b:
        return 'not in this report: ' + ', '.join(
            x for x, v in ((claim['better'], a), (claim['worse'], b))
            if not v)
    if len(a) != len(b):
        return (f"unequal seeds ({claim['better']}: {len(a)}, "
                f"{claim['worse']}: {len(b)})")
    if any(r is None for r in list(a) + list(b)):
        return 'a seed without per-user test metrics (unfinished run)'
    return None


def claim_intervals(claims: Sequence[Dict[str, str]],
                    per_user: Dict[str, List[Dict[str, Any]]]
                    ) -> List[Dict[str, Any]]:
    r"""The statistics of every claim whose two sides have per-user test
    metrics for every seed (:obj:`per_user` maps a run label to its seeds'
    records with ``users``, ``recall@20`` and ``ndcg@20``); the others are
    listed by :func:`claims_left_out`."""
    out = []
    for c in claims:
        if _left_out(c, per_user) is not None:
            continue
        a, b = per_user[c['better']], per_user[c['worse']]
        out.append({'claim': c['claim'], 'better': c['better'],
                    'worse': c['worse'], 'seeds': len(a),
                    **claim_statistics(a, b)})
    return out


def claims_left_out(claims: Sequence[Dict[str, str]],
                    per_user: Dict[str, List[Dict[str, Any]]]
                    ) -> List[Dict[str, str]]:
    r"""The claims :func:`claim_intervals` leaves out, each with the reason
    (a side not in the report, unequal numbers of seeds, or a seed without
    per-user metrics), so that a report says why a claim has no interval."""
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
    seeds = (f'{counts[0]} seed(s)' if len(counts) == 1 else
             ' or '.join(map(str, counts)) + ' seeds, as many as both runs '
             'have')
    lines = ['', f'Claims with intervals (paired difference A − B of '
             f'per-user Recall@20 / NDCG@20 on the test users, averaged '
             f'over {seeds} per user; 95% bootstrap interval over users):',
             '',
             '| claim (A > B) | Δ Recall@20 [95% CI] | Δ NDCG@20 [95% CI] '
             '| verdict |', '|---|---|---|---|']
    for c in claims:
        lines.append(f"| {c['claim']} | {interval_text(c['recall@20'])} | "
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
