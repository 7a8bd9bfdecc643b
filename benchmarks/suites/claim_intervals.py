r"""The claims of a suite ("A beats B", key ``claims`` of its config) with
paired bootstrap intervals over the test users, for either protocol."""
from typing import Any, Dict, List, Sequence

from benchmarks.clean.paired_bootstrap import claim_statistics


def claim_intervals(claims: Sequence[Dict[str, str]],
                    per_user: Dict[str, List[Dict[str, Any]]]
                    ) -> List[Dict[str, Any]]:
    r"""The statistics of every claim whose two sides have per-user test
    metrics for every seed (:obj:`per_user` maps a run label to its seeds'
    records with ``users``, ``recall@20`` and ``ndcg@20``); claims without
    them are left out."""
    out = []
    for c in claims:
        a, b = per_user.get(c['better']), per_user.get(c['worse'])
        if not a or not b or len(a) != len(b) or \
                any(r is None for r in list(a) + list(b)):
            continue
        out.append({'claim': c['claim'], 'better': c['better'],
                    'worse': c['worse'], **claim_statistics(a, b)})
    return out


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
    lines = ['', f'Claims with intervals (paired difference A − B of '
             f'per-user Recall@20 / NDCG@20 on the test users, averaged '
             f'over {num_seeds} seed(s) per user; 95% bootstrap interval '
             f'over users):', '',
             '| claim (A > B) | Δ Recall@20 [95% CI] | Δ NDCG@20 [95% CI] '
             '| verdict |', '|---|---|---|---|']
    for c in claims:
        lines.append(f"| {c['claim']} | {interval_text(c['recall@20'])} | "
                     f"{interval_text(c['ndcg@20'])} | **{c['verdict']}** |")
    return lines
