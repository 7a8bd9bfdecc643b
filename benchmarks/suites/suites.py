r"""The benchmark suites: each turns the run records of one dataset into a
table, verdicts against the papers' claims and, where asked for, a plot."""
from typing import Any, Callable, Dict, List, Optional

from benchmarks.suites.report import (
    fmt,
    fmt_ms,
    mean_std,
    pct,
    relative_change,
)
from benchmarks.suites.magnitude_summary import magnitude
from benchmarks.suites.simce_protocol import simce_protocol

Row = Dict[str, Any]


def training_rows(runs: List[Any], records: Dict[str, List[Dict[str, Any]]],
                  published: Dict[str, Any]) -> List[Row]:
    r"""One row per configured run: mean (and standard deviation over
    seeds) of the test metrics, with the per-seed figures."""
    rows = []
    for run in runs:
        recs = records.get(run.label, [])
        if not recs:
            continue
        first = recs[0]
        rows.append({
            'label': run.label,
            'model': run.model,
            'loss': run.loss,
            'model_kwargs': first['spec']['model_kwargs'],
            'loss_kwargs': first['spec']['loss_kwargs'],
            'negative_sampling': first['negative_sampling'],
            'num_negatives': first['num_negatives'],
            'train_similarity': first['train_similarity'],
            'test_similarity': first['test_similarity'],
            'recall@20': mean_std([r['test']['recall@20'] for r in recs]),
            'ndcg@20': mean_std([r['test']['ndcg@20'] for r in recs]),
            'published': published.get(run.label),
            'settings_override': dict(getattr(run, 'settings', {}) or {}),
            'per_seed': [{
                'seed': r['spec']['seed'],
                'key': r['key'],
                'recall@20': r['test']['recall@20'],
                'ndcg@20': r['test']['ndcg@20'],
                'best_epoch': r['best_epoch'],
                'epochs_run': r['epochs_run'],
                'stopped_by': r['stopped_by'],
                'train_seconds': r['train_seconds'],
                'epoch_seconds_median': r['epoch_seconds_median'],
                'torch_threads': r.get('torch_threads'),
                # The machine that trained it (None for runs cached before
                # runs recorded it).
                'trained_on': (r.get('environment') or {}).get('device_name'),
                # Recall@20 / NDCG@20 at each evaluation, so that statements
                # about a run's course can be checked in the report.
                'curve': r['curve'],
            } for r in recs],
        })
    return rows


def _by_label(rows: List[Row]) -> Dict[str, Row]:
    return {r['label']: r for r in rows}


def _recall(rows: Dict[str, Row], label: str) -> Optional[float]:
    r = rows.get(label)
    return None if r is None else r['recall@20']['mean']


def _negatives(r: Row) -> str:
    mode = r['negative_sampling']
    if mode in ('uniform', 'popularity', 'shared'):
        return f"{mode} {r['num_negatives']}"
    return mode


def metric_table(rows: List[Row]) -> Dict[str, Any]:
    header = ['run', 'Recall@20', 'NDCG@20', 'published R@20 / N@20',
              'negatives', 'sim (train/test)', 'best / run epochs',
              's/epoch']
    body = []
    for r in rows:
        seeds = r['per_seed']
        pub = r['published']
        body.append([
            r['label'],
            fmt_ms(r['recall@20']),
            fmt_ms(r['ndcg@20']),
            '-' if not pub else f'{fmt(pub[0])} / {fmt(pub[1])}',
            _negatives(r),
            f"{r['train_similarity']}/{r['test_similarity']}",
            '/'.join(f"{s['best_epoch']}/{s['epochs_run']}"
                     + (' unfinished' if s['stopped_by'] == 'unfinished'
                        else '') for s in seeds),
            fmt(mean_std([s['epoch_seconds_median'] for s in seeds])['mean'],
                2),
        ])
    return {'header': header, 'rows': body}


def _compare(rows: Dict[str, Row], a: str, b: str) -> Optional[str]:
    ra, rb = _recall(rows, a), _recall(rows, b)
    if ra is None or rb is None:
        return None
    word = 'better than' if ra > rb else 'not better than'
    return (f'{a} {word} {b}: Recall@20 {ra:.4f} vs {rb:.4f} '
            f'({pct(relative_change(ra, rb))})')


# Suites ######################################################################


def losses(cfg: Dict[str, Any], rows: List[Row], records: Dict[str, Any],
           **_: Any) -> Dict[str, Any]:
    by = _by_label(rows)
    verdicts = []
    for a, b, claim in (('SSM', 'BPR', 'SSM > BPR on LightGCN (SSM Table 2)'),
                        ('SimCE', 'SSM', 'SimCE vs SSM (SimCE paper)'),
                        ('SimCE', 'BPR', 'SimCE > BPR (SimCE paper)'),
                        ('MML', 'CCL', 'MML > CCL (MML paper)')):
        line = _compare(by, a, b)
        if line:
            verdicts.append({'claim': claim, 'holds': _recall(by, a) >
                             _recall(by, b), 'evidence': line})
    if len(rows) > 1:  # a partial report may hold a single run
        best = max(rows, key=lambda r: r['recall@20']['mean'])
        verdicts.append({'claim': 'best loss on this dataset', 'holds': None,
                         'evidence': f"{best['label']} (Recall@20 "
                         f"{best['recall@20']['mean']:.4f})"})
    return {'table': metric_table(rows), 'verdicts': verdicts}


def backbones(cfg: Dict[str, Any], rows: List[Row], records: Dict[str, Any],
              published: Optional[Dict[str, Any]] = None,
              **_: Any) -> Dict[str, Any]:
    by = _by_label(rows)
    models = ['MF', 'SVD++', 'LightGCN']
    header = ['model', 'BPR', 'SSM', 'SimCE', 'SSM vs BPR',
              'published SSM vs BPR', 'SimCE vs SSM']
    body, verdicts, ri = [], [], {}
    for m in models:
        bpr = _recall(by, f'{m} / BPR')
        ssm = _recall(by, f'{m} / SSM')
        simce = _recall(by, f'{m} / SimCE')
        # The paper's relative gain is shown even where only some of our
        # runs exist (a partial report).
        pub_b = (published or {}).get(f'{m} / BPR')
        pub_s = (published or {}).get(f'{m} / SSM')
        pub_ri = (relative_change(pub_s[0], pub_b[0])
                  if pub_b and pub_s else None)
        ri[m] = relative_change(ssm, bpr)
        body.append([m, fmt(bpr), fmt(ssm), fmt(simce), pct(ri[m]),
                     pct(pub_ri), pct(relative_change(simce, ssm))])
    graph = [ri[m] for m in ('SVD++', 'LightGCN') if ri[m] is not None]
    if graph:
        verdicts.append({
            'claim': 'SSM > BPR on graph / history models (SVD++, LightGCN)',
            'holds': all(x > 0 for x in graph),
            'evidence': f"SSM vs BPR: SVD++ {pct(ri['SVD++'])}, LightGCN "
            f"{pct(ri['LightGCN'])}"
        })
    if ri['MF'] is not None:
        verdicts.append({
            'claim': 'SSM < BPR on MF',
            'holds': ri['MF'] < 0,
            'evidence': f"SSM vs BPR on MF: {pct(ri['MF'])}"
        })
    return {
        'table': {'header': header, 'rows': body},
        'detail': metric_table(rows),
        'verdicts': verdicts,
    }


def similarity(cfg: Dict[str, Any], rows: List[Row],
               records: Dict[str, Any], **_: Any) -> Dict[str, Any]:
    header = ['train \\ test', 'dot', 'cosine']
    by = {(r['train_similarity'], r['test_similarity']): r for r in rows}
    body = []
    for t in ('dot', 'cosine'):
        body.append([t] + [
            fmt_ms(by[(t, s)]['recall@20']) if (t, s) in by else '-'
            for s in ('dot', 'cosine')
        ])
    verdicts = []
    if rows:
        best = max(rows, key=lambda r: r['recall@20']['mean'])
        verdicts.append({
            'claim': 'cosine for training, dot product for testing is best '
            '(SSM Table 4)',
            'holds': (best['train_similarity'], best['test_similarity']) ==
            ('cosine', 'dot'),
            'evidence': f"best: train {best['train_similarity']} / test "
            f"{best['test_similarity']} (Recall@20 "
            f"{best['recall@20']['mean']:.4f})"
        })
    return {'table': {'header': header, 'rows': body},
            'detail': metric_table(rows), 'verdicts': verdicts}


def propagation(cfg: Dict[str, Any], rows: List[Row],
                records: Dict[str, Any], **_: Any) -> Dict[str, Any]:
    by = _by_label(rows)
    grid = ['[0.5, 0]', '[0.5, 0.5]', '[1.0, 0]']
    cols = [('SVD++ user', 'SVD++ user'), ('SVD++ item', 'SVD++ item'),
            ('LightGCN', 'LightGCN')]
    header = ['[alpha0, alpha1]'] + [c for c, _ in cols] + \
        ['published user', 'published item']
    body = []
    for a in grid:
        line = [a]
        for _, prefix in cols:
            line.append(fmt(_recall(by, f'{prefix} {a}')))
        for prefix in ('SVD++ user', 'SVD++ item'):
            pub = (by.get(f'{prefix} {a}') or {}).get('published')
            line.append(fmt(pub[0]) if pub else '-')
        body.append(line)
    verdicts = []
    for prefix, expected in (('SVD++ user', '[1.0, 0]'),
                             ('SVD++ item', '[0.5, 0.5]'),
                             ('LightGCN', '[0.5, 0.5]')):
        got = {a: _recall(by, f'{prefix} {a}') for a in grid}
        got = {a: v for a, v in got.items() if v is not None}
        if len(got) < len(grid):
            continue
        best = max(got, key=got.get)
        source = ('SSM Table 5' if prefix.startswith('SVD++') else
                  "LightGCN's default normalisation")
        verdicts.append({
            'claim': f'{prefix}: best [alpha0, alpha1] is {expected} '
            f'({source})',
            'holds': best == expected,
            'evidence': f'best {best}; ' + ', '.join(
                f'{a} {v:.4f}' for a, v in got.items())
        })
    return {'table': {'header': header, 'rows': body},
            'detail': metric_table(rows), 'verdicts': verdicts}


def longtail(cfg: Dict[str, Any], rows: List[Row], records: Dict[str, Any],
             **_: Any) -> Dict[str, Any]:
    groups = int(cfg.get('num_groups', 10))
    plot_rows, body = [], []
    for r in rows:
        recs = records[r['label']]
        per_group = [
            mean_std([x['longtail']['recall_per_group'][g]
                      for x in recs])['mean'] for g in range(groups)
        ]
        share = [
            mean_std([x['longtail']['share_per_group'][g]
                      for x in recs])['mean'] for g in range(groups)
        ]
        plot_rows.append({'label': r['label'], 'recall_per_group': per_group,
                          'share_per_group': share})
        body.append([r['label'], fmt(r['recall@20']['mean'])] +
                    [fmt(x) for x in per_group] +
                    [f'{sum(share[:groups // 2]):.1%}'])
    header = (['loss', 'Recall@20'] + [f'g{g}' for g in range(groups)] +
              ['top-20 slots on tail half'])
    verdicts = []
    if plot_rows:
        half = groups // 2
        tail = {p['label']: sum(p['recall_per_group'][:half])
                for p in plot_rows}
        head = {p['label']: p['recall_per_group'][-1] for p in plot_rows}
        best_tail = max(tail, key=tail.get)
        best_head = max(head, key=head.get)
        verdicts.append({
            'claim': 'CCL or SSM contribute most on the long-tail groups '
            '(SSM Figure 1)',
            'holds': best_tail in ('CCL', 'SSM'),
            'evidence': f'largest Recall@20 on groups 0-{half - 1}: '
            f'{best_tail} ({tail[best_tail]:.4f}); ' + ', '.join(
                f'{k} {v:.4f}' for k, v in tail.items())
        })
        pointwise_pairwise = [x for x in ('BCE', 'BPR') if x in head]
        if pointwise_pairwise:
            verdicts.append({
                'claim': 'pointwise / pairwise losses (BCE, BPR) lead on the '
                'most popular group (SSM Figure 1)',
                'holds': best_head in pointwise_pairwise,
                'evidence': f'largest Recall@20 on group {groups - 1}: '
                f'{best_head} ({head[best_head]:.4f})'
            })
    return {'table': {'header': header, 'rows': body},
            'groups': plot_rows, 'verdicts': verdicts}


def convergence(cfg: Dict[str, Any], rows: List[Row],
                records: Dict[str, Any], **_: Any) -> Dict[str, Any]:
    baseline = cfg.get('baseline', 'BPR')
    base = records.get(baseline, [None])[0]
    target = None if base is None else base['test']['recall@20']
    header = ['loss', 'best Recall@20', 'best at epoch', 'training s',
              's/epoch', f'epochs to {baseline} best',
              f's to {baseline} best', f'speed-up vs {baseline} (s)']
    body, curves, reach = [], [], {}
    for r in rows:
        rec = records[r['label']][0]
        curves.append({'label': r['label'], 'curve': rec['curve']})
        # The first evaluation at least as good as the baseline's best (the
        # baseline reaches it at its own best epoch).
        reach[r['label']] = None if target is None else next(
            (c for c in rec['curve']
             if round(c['recall@20'], 5) >= round(target, 5)), None)
    base_hit = reach.get(baseline)
    for r in rows:
        rec = records[r['label']][0]
        hit = reach[r['label']]
        speedup = '-'
        if hit is not None and base_hit is not None and \
                hit['train_seconds'] > 0:
            ratio = base_hit['train_seconds'] / hit['train_seconds']
            speedup = f'{ratio:.2f}x'
        body.append([
            r['label'], fmt(rec['test']['recall@20']),
            str(rec['best_epoch']), fmt(rec['train_seconds'], 1),
            fmt(rec['epoch_seconds_median'], 2),
            '-' if hit is None else str(hit['epoch']),
            '-' if hit is None else fmt(hit['train_seconds'], 1), speedup
        ])
    verdicts = []
    for label, hit in reach.items():
        if label == baseline or base_hit is None:
            continue
        verdicts.append({
            'claim': f'{label} reaches the best Recall@20 of {baseline} in '
            f'less training time',
            'holds': (hit is not None
                      and hit['train_seconds'] < base_hit['train_seconds']),
            'evidence': (f'{label} never reached {target:.4f}' if hit is None
                         else f"{label}: {hit['train_seconds']:.1f} s "
                         f"(epoch {hit['epoch']}) vs {baseline} "
                         f"{base_hit['train_seconds']:.1f} s (epoch "
                         f"{base_hit['epoch']})")
        })
    return {'table': {'header': header, 'rows': body}, 'curves': curves,
            'baseline_best': target, 'verdicts': verdicts}


SUMMARIES: Dict[str, Callable[..., Dict[str, Any]]] = {
    'losses': losses,
    'backbones': backbones,
    'similarity': similarity,
    'propagation': propagation,
    'longtail': longtail,
    'magnitude': magnitude,
    'convergence': convergence,
    'simce': simce_protocol,
}
