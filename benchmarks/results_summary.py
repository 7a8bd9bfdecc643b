r"""Renders the claim-by-claim summary of the committed suite results (the
generated part of ``benchmarks/RESULTS.md``): for every claim of the papers,
our verdict on each dataset with its evidence and the file that shows it,
beside the paper's own figures.

Usage::

    python -m benchmarks.results_summary            # Markdown on stdout
    python -m benchmarks.results_summary --write    # update RESULTS.md

Nothing is measured here: the text only restates the JSON files written by
``python -m benchmarks.run``.
"""
import argparse
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from benchmarks.suites.report import QUALITY_SUITES

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / 'results'
RESULTS_MD = ROOT / 'RESULTS.md'
START = '<!-- summary:start (python -m benchmarks.results_summary) -->'
END = '<!-- summary:end -->'

#: The claims, in order: (suite, claim prefix as written by the suite, the
#: papers' own evidence).
CLAIMS: List[Tuple[str, str, str, str]] = [
    ('SSM > BPR on graph models', 'backbones',
     'SSM > BPR on graph / history models',
     'SSM Table 3: SSM over BPR +5.0% (SVD++) / +2.5% (LightGCN) on '
     'Gowalla, +21.8% / +15.2% on Yelp2018'),
    ('SSM < BPR on MF', 'backbones', 'SSM < BPR on MF',
     'SSM Table 3: -21.0% on Gowalla, -9.4% on Yelp2018 (but +34.4% on '
     'Amazon-Book)'),
    ('SSM > BPR on LightGCN', 'losses', 'SSM > BPR on LightGCN',
     'SSM Table 2: Gowalla 0.1869 vs 0.1830, Yelp2018 0.0737 vs 0.0649'),
    ('SimCE vs SSM', 'losses', 'SimCE vs SSM',
     'SimCE paper: SimCE matches or beats SSM on LightGCN'),
    ('SimCE > BPR', 'losses', 'SimCE > BPR', 'SimCE paper'),
    ('MML > CCL', 'losses', 'MML > CCL', 'MML paper'),
    ('Table 4: cosine to train, dot to test', 'similarity',
     'cosine for training', 'SSM Table 4, all four data sets'),
    ('Table 5: user-side SVD++ optimum', 'propagation', 'SVD++ user:',
     'SSM Table 5: [1.0, 0] best on Yelp2018, Amazon-Book, iFashion'),
    ('Table 5: item-side SVD++ optimum', 'propagation', 'SVD++ item:',
     'SSM Table 5: [0.5, 0.5] best on all three'),
    ('LightGCN normalisation', 'propagation', 'LightGCN:',
     'LightGCN paper: symmetric [0.5, 0.5]'),
    ('Figure 1: long tail', 'longtail', 'CCL or SSM contribute most',
     'SSM Figure 1'),
    ('Figure 1: head group', 'longtail', 'pointwise / pairwise',
     'SSM Figure 1'),
    ('Eq. 29 at initialisation', 'magnitude', 'eq. 29 for zero-mean',
     'SSM eqs. 26-30'),
    ('Eq. 29 after training', 'magnitude', 'eq. 29 for trained',
     'SSM eqs. 26-30'),
    ('alpha0 orders the magnitude', 'magnitude', 'a larger alpha0',
     'SSM section 4.2-4.3'),
    ('SSM converges faster than BPR', 'convergence', 'SSM reaches',
     'SSM Appendix: fewer epochs and less time per epoch'),
    ('SimCE converges faster than BPR', 'convergence', 'SimCE reaches',
     'SimCE paper'),
    ('Training step vs PyG', 'speed', 'training step faster',
     'design target: >= 10x at K=3 on Gowalla'),
]


def _load(path: Path) -> Optional[Dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and 'suite' in data else None


def collect(root: Path = RESULTS) -> List[Tuple[str, Path, Dict[str, Any]]]:
    r"""Every suite result under :obj:`root` (full mode first, then quick
    mode), as :obj:`(mode, path, payload)`."""
    out = []
    for mode, base in (('full', root), ('quick', root / 'quick')):
        for path in sorted(base.glob('*/*.json')):
            if mode == 'full' and path.parts[-3] == 'quick':
                continue
            data = _load(path)
            if data is not None:
                out.append((mode, path, data))
    return out


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT.parent).as_posix()
    except ValueError:
        return path.as_posix()


def published_table(found: List[Tuple[str, Path, Dict[str, Any]]]
                    ) -> List[str]:
    r"""Our figure beside the paper's for every run that has a published
    counterpart on the same dataset and split (each trained run once, from
    the first result file that shows it)."""
    lines = ['Our figures beside the published ones (same dataset and split):',
             '',
             '| data set | run | ours R@20 / N@20 | published R@20 / N@20 '
             '| ours vs published (R@20) | file |',
             '|---|---|---|---|---|---|']
    # One line per trained run: suites share runs under other labels (the
    # losses suite's SSM is the backbones' LightGCN / SSM), and a suite
    # that gave the run more seeds (--run-seeds) shows them all.
    best: Dict[Tuple[str, Any], Tuple[str, Path, Dict[str, Any], Any]] = {}
    for mode, path, data in found:
        for row in data.get('rows', []):
            if not row.get('published'):
                continue
            seeds = row.get('per_seed', [])
            key = (data['dataset'],
                   seeds[0].get('key') if seeds else row['label'])
            if key not in best or len(seeds) > len(
                    best[key][3].get('per_seed', [])):
                best[key] = (mode, path, data, row)
    for mode, path, data, row in best.values():
        pub = row['published']
        r, n = row['recall@20'], row['ndcg@20']
        ours = f"{r['mean']:.4f} / {n['mean']:.4f}"
        if r.get('std') is not None:
            ours += (f" (± {r['std']:.4f} / ± {n['std']:.4f}, "
                     f"{len(row['per_seed'])} seeds)")
        label = row['label'] + (' (**unfinished**, best so far)' if any(
            x.get('stopped_by') == 'unfinished'
            for x in row.get('per_seed', [])) else '')
        change = (r['mean'] - pub[0]) / pub[0]
        # Table 5 of the SSM paper gives Recall@20 only.
        theirs = ' / '.join('-' if x is None else f'{x:.4f}' for x in pub)
        lines.append(f"| {data['dataset']} ({mode}) | {label} | {ours} | "
                     f'{theirs} | {change:+.1%} | {_rel(path)} |')
    if not best:
        lines.append('| - | no run with a published counterpart yet | - | - '
                     '| - | - |')
    return lines


def baselines_table(found: List[Tuple[str, Path, Dict[str, Any]]]
                    ) -> List[str]:
    r"""The classical baselines of each data set (as the suite reports
    list them, from ``benchmarks/results/baselines/``) beside the best
    seed-paper model of that data set's quality reports."""
    datasets: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for mode, path, data in found:
        if not data.get('baselines') or data.get('suite') not in \
                QUALITY_SUITES:
            continue
        entry = datasets.setdefault((data['dataset'], mode), {
            'baselines': data['baselines'],
            'file': data.get('baselines_file', '-'), 'best': None})
        for row in data.get('rows', []):
            r20 = (row.get('recall@20') or {}).get('mean')
            if r20 is not None and (entry['best'] is None
                                    or r20 > entry['best'][0]):
                unfinished = row['label'] in data.get('runs_unfinished', [])
                entry['best'] = (r20, row['label'], data['suite'],
                                 unfinished)
    if not datasets:
        return []
    lines = ['Classical baselines (best recorded setting of each model, '
             'selected on the test split; fit time, no epochs) beside the '
             'best seed-paper model of the suite reports:', '',
             '| data set (mode) | model | Recall@20 | NDCG@20 | fit s | '
             'setting | file |', '|---|---|---|---|---|---|---|']
    for (dataset, mode), entry in datasets.items():
        if entry['best'] is not None:
            r20, label, suite, unfinished = entry['best']
            lines.append(f"| {dataset} ({mode}) | best seed model: {label} "
                         f"({suite}{', unfinished' if unfinished else ''}) "
                         f"| {r20:.4f} | - | - | - | - |")
        for b in entry['baselines']:
            fit = ('-' if b.get('fit_seconds') is None
                   else f"{b['fit_seconds']:.1f}")
            r20 = '-' if b.get('recall@20') is None else \
                f"{b['recall@20']:.4f}"
            n20 = '-' if b.get('ndcg@20') is None else \
                f"{b['ndcg@20']:.4f}"
            lines.append(f"| {dataset} ({mode}) | {b['model']} | {r20} | "
                         f"{n20} | {fit} | {b['setting'].replace('|', '/')} "
                         f"| {entry['file']} |")
    return lines


def interval_table(root: Path = RESULTS) -> List[str]:
    r"""One table of every claim that has a paired interval: the clean
    protocol's reports (``clean/SUITE/*.json``) and the paper protocol's
    where its runs recorded per-user metrics, side by side per claim."""
    from benchmarks.suites.claim_intervals import interval_text

    found = []
    for path in sorted((root / 'clean').glob('*/*.json')):
        data = _load(path)
        if data is not None:
            found.append(('clean', path, data))
    found += [(f"paper, {mode}", path, data)
              for mode, path, data in collect(root) if data.get('claims')]
    rows = []
    for protocol, path, data in found:
        seeds = (data['settings']['seeds'] if protocol == 'clean'
                 else len(data['seeds']))
        for c in data.get('claims', []):
            rows.append((c['claim'], protocol, data['dataset'],
                         c.get('seeds', seeds),
                         interval_text(c['recall@20']),
                         interval_text(c['ndcg@20']), c['verdict'],
                         _rel(path)))
    if not rows:
        return ['No claim has a paired interval yet.']
    rows.sort(key=lambda r: (r[0], r[2], r[1]))
    lines = ['| claim (A > B) | protocol | data set | seeds | '
             'Δ Recall@20 [95% CI] | Δ NDCG@20 [95% CI] | verdict | file |',
             '|---|---|---|---|---|---|---|---|']
    for claim, protocol, dataset, seeds, r, n, verdict, rel in rows:
        lines.append(f'| {claim} | {protocol} | {dataset} | {seeds} | {r} | '
                     f'{n} | **{verdict}** | {rel} |')
    return lines


def _more_seeds(data: Dict[str, Any]) -> str:
    # A report with --run-seeds gave some runs more seeds than 'seeds'.
    more = data.get('seeds_per_run') or {}
    return (' (more for some runs: ' + '; '.join(
        f'{k} 0-{n - 1}' for k, n in more.items()) + ')' if more else '')


def render(root: Path = RESULTS) -> str:
    r"""The Markdown summary of the suite results under :obj:`root`."""
    found = collect(root)
    lines = ['| claim | paper | data set (mode) | ours | evidence | file |',
             '|---|---|---|---|---|---|']
    for title, suite, prefix, paper in CLAIMS:
        hits = []
        for mode, path, data in found:
            if data['suite'] != suite:
                continue
            for v in data.get('summary', {}).get('verdicts', []):
                if v['claim'].startswith(prefix):
                    hits.append((mode, path, data, v))
        if not hits:
            lines.append(f'| {title} | {paper} | - | not run | - | - |')
            continue
        for mode, path, data, v in hits:
            mark = {True: 'holds', False: '**does not hold**',
                    None: 'observation'}[v['holds']]
            evidence = v['evidence'].replace('|', '/')
            state = mode + (', unfinished runs' if data.get(
                'runs_unfinished') else '')
            lines.append(f"| {title} | {paper} | {data['dataset']} ({state}) "
                         f"| {mark} | {evidence} | {_rel(path)} |")
    lines += ['', '### Verdicts with intervals', '',
              'Paired difference A − B of per-user test metrics, averaged '
              'over seeds per user, with a 95% bootstrap interval over '
              'users: **holds** when the interval is above zero, **does '
              'not hold** when below, **inconclusive** when it contains '
              'zero.', '', *interval_table(root)]
    lines += ['', *published_table(found), '', *baselines_table(found)]
    runs = []
    for mode, path, data in found:
        env = data.get('environment', {})
        runs.append(f"- `{_rel(path)}`: {data['suite']} on "
                    f"{data['dataset']} ({mode}), seeds {data['seeds']}"
                    f"{_more_seeds(data)}, "
                    f"{data['device']} ({env.get('device_name', '?')}), "
                    f"pyg_simce {env.get('versions', {}).get('pyg_simce')}, "
                    f"torch {env.get('versions', {}).get('torch')}, "
                    + (f"{data['training_seconds_total']:.0f} s of training"
                       if 'training_seconds_total' in data else
                       f"{data['wall_seconds']:.0f} s")
                    + (f"; not run: {', '.join(not_run)}"
                       if (not_run := data.get('runs_skipped', [])
                           + data.get('runs_missing', [])) else '')
                    + (f"; **unfinished** (best so far): "
                       f"{', '.join(data['runs_unfinished'])}"
                       if data.get('runs_unfinished') else ''))
    return '\n'.join(lines + ['', 'Result files:', ''] + runs)


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--results', type=Path, default=RESULTS)
    parser.add_argument('--write', action='store_true',
                        help=f'replace the generated part of {RESULTS_MD}')
    args = parser.parse_args(argv)
    text = render(args.results)
    if args.write:
        doc = RESULTS_MD.read_text()
        if START not in doc or END not in doc:
            raise SystemExit(f'{RESULTS_MD}: expected the markers {START!r} '
                             f'and {END!r}')
        head, rest = doc.split(START, 1)
        tail = rest.split(END, 1)[1]
        RESULTS_MD.write_text(f'{head}{START}\n{text}\n{END}{tail}')
    else:
        print(text)
    return text


if __name__ == '__main__':
    main()
