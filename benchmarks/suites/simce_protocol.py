r"""The summary of the ``simce`` suite: SimCE against BPR and SSM under the
SimCE paper's own protocol (its settings, per-run epoch budgets and the
best test evaluation), with Recall and NDCG at 10 and 20 and BPR's figure at
SimCE's budget read from BPR's own learning curve."""
from typing import Any, Dict, List, Optional

from benchmarks.suites.report import fmt, fmt_ms, mean_std

Row = Dict[str, Any]


def _best_until(curve: List[Dict[str, Any]], epoch: int) -> Optional[float]:
    # The best test Recall@20 evaluated up to :obj:`epoch` (the paper's
    # selection, stopped at that budget).
    values = [c['recall@20'] for c in curve if c['epoch'] <= epoch]
    return max(values) if values else None


def simce_protocol(cfg: Dict[str, Any], rows: List[Row],
                   records: Dict[str, List[Dict[str, Any]]],
                   **_: Any) -> Dict[str, Any]:
    header = ['run', 'epochs', 'Recall@10', 'NDCG@10', 'Recall@20',
              'NDCG@20', 'best epoch(s)', 'best Recall@20 by epoch 50']
    body = []
    for r in rows:
        recs = records[r['label']]
        body.append([
            r['label'], str(recs[0]['spec']['epochs']),
            fmt_ms(mean_std([x['test']['recall@10'] for x in recs])),
            fmt_ms(mean_std([x['test']['ndcg@10'] for x in recs])),
            fmt_ms(r['recall@20']), fmt_ms(r['ndcg@20']),
            ', '.join(str(x['best_epoch']) for x in recs),
            fmt(mean_std([_best_until(x['curve'], 50) or 0.0
                          for x in recs])['mean']),
        ])
    verdicts = []
    by = {r['label']: r for r in rows}
    simce = [r for r in rows if r['loss'] == 'simce']
    if simce and len(rows) > 1:
        best = max(simce, key=lambda r: r['recall@20']['mean'])
        verdicts.append({'claim': 'best SimCE margin on this dataset',
                         'holds': None,
                         'evidence': f"{best['label']} (Recall@20 "
                         f"{best['recall@20']['mean']:.4f})"})
    bpr = by.get('BPR (200 epochs)')
    if bpr is not None:
        at50 = mean_std([_best_until(x['curve'], 50) or 0.0
                         for x in records[bpr['label']]])['mean']
        verdicts.append({
            'claim': 'epoch budget: BPR selected within 50 epochs (the '
            "budget SimCE gets)", 'holds': None,
            'evidence': f"Recall@20 {at50:.4f} by epoch 50 against "
            f"{bpr['recall@20']['mean']:.4f} after 200"})
    return {'table': {'header': header, 'rows': body},
            'verdicts': verdicts}
