r"""Renders the committed benchmark results (``benchmarks/results/**.json``)
as small tables: a quality teaser (Recall@20 / NDCG@20 per data set, model
and loss) and the speed headlines, in Markdown (for README.md) or
reStructuredText (for the documentation).

Usage::

    python -m benchmarks.readme_table                  # Markdown on stdout
    python -m benchmarks.readme_table --format rst
    python -m benchmarks.readme_table --no-speed --out teaser.md
    python -m benchmarks.readme_table --results DIR    # another results tree

Quality rows come from the quality benchmark (``"benchmark": "quality"``:
the best setting of each loss) and from results files of ``pyg-simce train
--out`` (a ``"test"`` dict with ``recall@20`` and a ``"config"`` dict).
Speed rows come from the speed benchmarks this script knows; a file it
cannot summarise is named on standard error and skipped.  Nothing is
measured here: the tables only restate the JSON files.
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

RESULTS = Path(__file__).resolve().parent / 'results'

QUALITY_HEADER = ['data set', 'model', 'loss', 'Recall@20', 'NDCG@20',
                  'training', 'source']
SPEED_HEADER = ['benchmark', 'measure', 'result', 'source']


def _load(path: Path) -> Optional[Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        print(f'skipped {path}: {e}', file=sys.stderr)
        return None


def _rel(path: Path, root: Path) -> str:
    # benchmarks/results/... for the default tree.
    try:
        return path.relative_to(root.resolve().parent.parent).as_posix()
    except ValueError:
        return path.as_posix()


def _seconds(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return ''
    return f'{value:.0f} s' if value >= 10 else f'{value:.2f} s'


def quality_rows(root: Path = RESULTS) -> List[List[str]]:
    r"""One row per (data set, model, loss) result found under :obj:`root`."""
    rows = []
    for path in sorted(root.resolve().rglob('*.json')):
        data = _load(path)
        if not isinstance(data, dict):
            continue
        source = _rel(path, root)
        if data.get('benchmark') == 'quality':
            model = str(data.get('setting', {}).get('model', ''))
            for loss, entry in sorted(data.get('results', {}).items()):
                best = entry.get('best') if isinstance(entry, dict) else None
                if not isinstance(best, dict) or 'recall@20' not in best:
                    continue
                training = (f"{best.get('epochs_run', '?')} epochs, "
                            f"{_seconds(best.get('train_seconds'))}")
                # The best setting may not be the loss's prescribed one:
                # name it, so the row cannot pass for another setting.
                rows.append([
                    str(data.get('dataset', '')), model,
                    str(best.get('setting', loss)),
                    f"{best['recall@20']:.4f}",
                    f"{best.get('ndcg@20', float('nan')):.4f}", training,
                    source
                ])
        elif isinstance(data.get('test'), dict) and \
                'recall@20' in data['test'] and \
                isinstance(data.get('config'), dict):
            config = data['config']
            dataset = config.get('dataset') or config.get('data') or ''
            model = str(config.get('model', ''))
            if config.get('layers') is not None and model == 'lightgcn':
                model += f" ({config['layers']} layers)"
            training = (f"{data.get('epochs_run', '?')} epochs, "
                        f"{_seconds(data.get('train_seconds'))}")
            rows.append([
                str(dataset), model, str(config.get('loss', '')),
                f"{data['test']['recall@20']:.4f}",
                f"{data['test'].get('ndcg@20', float('nan')):.4f}",
                training, source
            ])
    return rows


def baseline_rows(datasets: List[str],
                  root: Path = RESULTS) -> List[List[str]]:
    r"""For each of :obj:`datasets`, the best classical baseline of
    ``results/baselines/<dataset>.json`` (the highest Recall@20 among the
    recorded settings, which the file labels as selected on test)."""
    rows = []
    for dataset in datasets:
        path = root.resolve() / 'baselines' / f'{dataset}.json'
        data = _load(path) if path.is_file() else None
        if not isinstance(data, dict):
            continue
        best = None
        for name, entry in sorted(data.get('models', {}).items()):
            for run in entry.get('runs', []):
                test = run.get('test')
                if run.get('status') != 'ok' or not isinstance(test, dict):
                    continue
                if best is None or test['recall@20'] > best[2]['recall@20']:
                    best = (name, run, test)
        if best is None:
            continue
        name, run, test = best
        rows.append([
            dataset, f'{name} (classical baseline, best setting on test)',
            str(run.get('setting', '')), f"{test['recall@20']:.4f}",
            f"{test.get('ndcg@20', float('nan')):.4f}",
            f"fit {_seconds(run.get('fit_seconds'))}", _rel(path, root)
        ])
    return rows


# Speed benchmarks: name -> function(json) -> [(measure, result)].
def _data_loading(d: Dict[str, Any]) -> List[Tuple[str, str]]:
    out = []
    for name, r in sorted(d['results'].items()):
        out.append((f'load {name} into HeteroData',
                    f"{_seconds(r['seconds_median'])} (target "
                    f"{_seconds(d.get('target_seconds'))}), "
                    f"{r['speedup_vs_naive']:.1f}x a pure-Python reader"))
    return out


def _propagation(d: Dict[str, Any]) -> List[Tuple[str, str]]:
    threads = d.get('environment', {}).get('torch_threads', '?')
    out = []
    for layers, s in sorted(d['summary'].items()):
        out.append((f"LightGCN K={layers} training step, {d['dataset']}, "
                    f'{threads} thread(s)',
                    f"{_seconds(s['pyg_simce_s'])}, {s['speedup']:.1f}x "
                    f"PyG's LightGCN ({_seconds(s['pyg_s'])})"))
    return out


def _evaluation(d: Dict[str, Any]) -> List[Tuple[str, str]]:
    sec = d['seconds']['evaluate_ranking']['median']
    ratio = d['ratios']['evaluate_ranking_over_gemm']
    return [(f"full-ranking top-{d.get('k', 20)} of all "
             f"{d['dataset']} users, masked",
             f'{_seconds(sec)}, {ratio:.2f}x the bare score GEMM')]


def _losses(d: Dict[str, Any]) -> List[Tuple[str, str]]:
    s = d['summary']
    return [('ragged (pos, neg, index) call vs dense, all losses',
             f"geometric mean {s['geomean_ragged_over_dense']:.2f}x")]


def _sampling(d: Dict[str, Any]) -> List[Tuple[str, str]]:
    s = d['seconds_per_batch']
    out = []
    for key, label in (('shared_pool', 'shared pool'),
                       ('popularity', 'popularity')):
        if key in s and 'python_loop' in s:
            out.append((f"{label} negatives excluding positives, batch "
                        f"{d['batch_size']}, {d['dataset']}",
                        f"{s[key]['median'] * 1e3:.0f} ms/batch, "
                        f"{s['python_loop']['median'] / s[key]['median']:.1f}"
                        f'x a Python loop'))
    return out


def _training_speed(d: Dict[str, Any]) -> List[Tuple[str, str]]:
    out = []
    for name, r in d['results'].items():
        ratio = (f", {r['ratio_to_bpr']:.2f}x BPR"
                 if 'ratio_to_bpr' in r else '')
        out.append((f"{name} epoch, LightGCN 2 layers, {d['dataset']}",
                    f"{r['epoch_seconds_median']:.2f} s{ratio}"))
    return out


def _training_step(d: Dict[str, Any]) -> List[Tuple[str, str]]:
    threads = d.get('environment', {}).get('torch_threads', '?')
    out = []
    for name, c in d['cases'].items():
        new = c['seconds']['new']['median']
        shared = c['seconds'].get('shared_loss')
        both = (f"; loss shared by both {shared['median'] * 1e3:.0f} ms, "
                f"{c['speedup_outside_shared_loss']:.2f}x on the rest"
                if shared else '')
        out.append((f'{name} step vs full-graph step, {threads} thread(s)',
                    f"{new * 1e3:.0f} ms, {c['speedup']:.2f}x (target "
                    f"{c['target']}x){both}"))
    p = d['lightgcn3_vs_pyg']
    out.append(('gowalla/lightgcn3/bpr step vs PyG\'s LightGCN',
                f"{p['speedup']:.1f}x (target {p['target']:.0f}x)"))
    q = d['per_positive_negatives']
    out.append((f"{q['dataset']} SimCE step, 64 negatives per positive",
                f"{q['seconds']['simce-uniform-64']['median'] * 1e3:.0f} ms, "
                f"{q['ratio_to_shared_pool']:.2f}x a shared pool of 64, "
                f"{q['ratio_to_bpr']:.2f}x BPR"))
    e = d.get('gowalla_lightgcn1_ssm_epoch')
    if e:
        out.append(('gowalla LightGCN 1 layer + in-batch SSM epoch',
                    f"{e['seconds']:.1f} s ({e['steps']} steps)"))
    return out


SPEED: Dict[str, Callable[[Dict[str, Any]], List[Tuple[str, str]]]] = {
    'data_loading': _data_loading,
    'propagation_step': _propagation,
    'evaluation': _evaluation,
    'loss_kernels': _losses,
    'sampling': _sampling,
    'training_speed': _training_speed,
    'training_step': _training_step,
}


def speed_rows(root: Path = RESULTS) -> List[List[str]]:
    r"""Headline rows of the speed benchmarks found under :obj:`root`."""
    rows = []
    for path in sorted(root.resolve().rglob('*.json')):
        data = _load(path)
        if not isinstance(data, dict):
            continue
        name = data.get('benchmark', path.stem)
        if name == 'quality' or name not in SPEED:
            continue
        try:
            items = SPEED[name](data)
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as e:
            print(f'could not summarise {path} ({type(e).__name__}: {e})',
                  file=sys.stderr)
            continue
        source = _rel(path, root)
        rows.extend([name, measure, result, source]
                    for measure, result in items)
    return rows


def to_markdown(header: List[str], rows: List[List[str]]) -> str:
    def esc(cell: str) -> str:
        return str(cell).replace('|', '\\|')

    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join('---' for _ in header) + '|']
    lines += ['| ' + ' | '.join(esc(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


def to_rst(header: List[str], rows: List[List[str]]) -> str:
    r"""A ``list-table`` (robust to long cells)."""
    lines = ['.. list-table::', '   :header-rows: 1', '']
    for row in [header] + rows:
        for i, cell in enumerate(row):
            text = str(cell).replace('*', '\\*') or '\\'
            lines.append(f"   {'* -' if i == 0 else '  -'} {text}")
    return '\n'.join(lines)


def render(root: Path = RESULTS, fmt: str = 'md', speed: bool = True,
           quality: bool = True) -> str:
    r"""The tables as one string (an explanatory line when a section has no
    result yet)."""
    table = to_markdown if fmt == 'md' else to_rst
    parts = []
    if quality:
        rows = quality_rows(root)
        rows += baseline_rows(sorted({r[0] for r in rows}), root)
        parts.append(table(QUALITY_HEADER, rows) if rows else
                     'No quality result committed yet.')
    if speed:
        rows = speed_rows(root)
        parts.append(table(SPEED_HEADER, rows) if rows else
                     'No speed result committed yet.')
    return '\n\n'.join(parts) + '\n'


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--results', default=str(RESULTS), metavar='DIR',
                        help='results tree (default: benchmarks/results)')
    parser.add_argument('--format', choices=('md', 'rst'), default='md')
    parser.add_argument('--no-speed', action='store_true',
                        help='only the quality table')
    parser.add_argument('--no-quality', action='store_true',
                        help='only the speed table')
    parser.add_argument('--out', metavar='FILE', default=None,
                        help='write here instead of standard output')
    args = parser.parse_args(argv)
    root = Path(args.results)
    if not root.is_dir():
        parser.error(f"--results expected a directory (got '{root}')")
    text = render(root, args.format, speed=not args.no_speed,
                  quality=not args.no_quality)
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return text


if __name__ == '__main__':
    main()
