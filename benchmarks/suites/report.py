r"""Tables, verdicts and plots of the benchmark suites, built only from run
records (nothing is measured here)."""
import math
import statistics
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from pyg_simce.typing import WITH_MATPLOTLIB


def mean_std(values: Sequence[float]) -> Dict[str, Optional[float]]:
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return {'mean': None, 'std': None}
    return {
        'mean': statistics.fmean(vals),
        'std': statistics.stdev(vals) if len(vals) > 1 else None,
    }


def fmt(value: Optional[float], digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '-'
    return f'{value:.{digits}f}'


def fmt_ms(stat: Dict[str, Optional[float]], digits: int = 4) -> str:
    if stat['mean'] is None:
        return '-'
    if stat['std'] is None:
        return fmt(stat['mean'], digits)
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


def markdown_table(header: List[str], rows: List[List[str]]) -> str:
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join('---' for _ in header) + '|']
    for r in rows:
        lines.append('| ' + ' | '.join(str(c) for c in r) + ' |')
    return '\n'.join(lines)


def relative_change(new: Optional[float],
                    old: Optional[float]) -> Optional[float]:
    if new is None or old is None or old == 0:
        return None
    return (new - old) / old


def pct(value: Optional[float]) -> str:
    return '-' if value is None else f'{value:+.1%}'


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def _save(plt: Any, fig: Any, path: Path) -> str:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name


def plot_longtail(rows: List[Dict[str, Any]], path: Path,
                  title: str) -> Optional[str]:
    r"""Grouped bars of Recall@20 per popularity group, one colour per
    loss; returns the file name, or :obj:`None` without matplotlib."""
    if not WITH_MATPLOTLIB:
        return None
    plt = _pyplot()
    groups = len(rows[0]['recall_per_group'])
    width = 0.8 / len(rows)
    fig, ax = plt.subplots(figsize=(10, 4))
    for n, r in enumerate(rows):
        xs = [g + (n - (len(rows) - 1) / 2) * width for g in range(groups)]
        ax.bar(xs, r['recall_per_group'], width=width, label=r['label'])
    ax.set_xticks(range(groups))
    ax.set_xlabel('item group (0 = least popular, equal training mass)')
    ax.set_ylabel('Recall@20 contribution')
    ax.set_title(title)
    ax.legend(ncol=4, fontsize=8)
    return _save(plt, fig, path)


def plot_convergence(rows: List[Dict[str, Any]], path: Path,
                     title: str) -> Optional[str]:
    r"""Recall@20 against epoch and against training seconds (first seed
    of each run)."""
    if not WITH_MATPLOTLIB:
        return None
    plt = _pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for r in rows:
        curve = r['curve']
        a.plot([c['epoch'] for c in curve], [c['recall@20'] for c in curve],
               marker='.', label=r['label'])
        b.plot([c['train_seconds'] for c in curve],
               [c['recall@20'] for c in curve], marker='.',
               label=r['label'])
    a.set_xlabel('epoch')
    b.set_xlabel('training seconds')
    for ax in (a, b):
        ax.set_ylabel('Recall@20')
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    return _save(plt, fig, path)


def plot_magnitude(rows: List[Dict[str, Any]], path: Path,
                   title: str) -> Optional[str]:
    r"""Mean squared norm per degree bin (log-log) of the propagated side
    of each model."""
    if not WITH_MATPLOTLIB:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, side in zip(axes, ('user', 'item')):
        for r in rows:
            bins = r['bins'][side]
            if bins:
                ax.plot([x[0] for x in bins], [x[1] for x in bins],
                        marker='.', label=r['label'])
        ax.set_xscale('log')
        ax.set_yscale('log')
        ax.set_xlabel(f'{side} degree')
        ax.set_ylabel('mean squared norm')
        ax.set_title(f'{side}s')
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7)
    fig.suptitle(title)
    return _save(plt, fig, path)


#: Suites whose tables compare recommendation quality; the classical
#: baselines are rows of their per-run table.
QUALITY_SUITES = ('losses', 'backbones', 'similarity', 'propagation')
BASELINE_NOTE = 'classical baseline'
BASELINE_NAMES = {'gfcf': 'GF-CF', 'ease': 'EASE', 'ials': 'iALS',
                  'itemknn': 'ItemKNN', 'mostpop': 'MostPopular'}


def baseline_records(path: Path) -> List[Dict[str, Any]]:
    r"""The recorded best setting of every model in a baselines file
    written by ``benchmarks/baselines.py`` (nothing when the file is
    absent; a model whose best run is missing or failed is left out)."""
    import json
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    out = []
    for name, model in sorted((data.get('models') or {}).items()):
        best = [r for r in model.get('runs', [])
                if r.get('setting') == model.get('best')
                and r.get('status') == 'ok' and r.get('test')]
        if not best:
            continue
        run = best[0]
        out.append({'model': BASELINE_NAMES.get(name, name),
                    'setting': run['setting'],
                    'fit_seconds': run.get('fit_seconds'),
                    'recall@20': run['test'].get('recall@20'),
                    'ndcg@20': run['test'].get('ndcg@20')})
    out.sort(key=lambda r: -(r['recall@20'] or 0.0))
    return out


def is_baseline_row(row: List[str]) -> bool:
    return BASELINE_NOTE in str(row[0])


def add_baseline_rows(summary: Dict[str, Any],
                      baselines: List[Dict[str, Any]]) -> bool:
    r"""Appends :obj:`baselines` as rows of the per-run table of a quality
    summary (the table whose columns include Recall@20), replacing any
    baseline rows it held; the other columns stay, the time column holds
    the fit time and the epoch column nothing. Returns whether a table
    was found."""
    for key in ('table', 'detail'):
        table = summary.get(key)
        if not table or 'Recall@20' not in table['header']:
            continue
        header = table['header']
        table['rows'] = [r for r in table['rows'] if not is_baseline_row(r)]
        for b in baselines:
            fit = ('-' if b['fit_seconds'] is None
                   else f"{b['fit_seconds']:.1f}")
            cells = {
                header[0]: (f"{b['model']} ({BASELINE_NOTE}, fit {fit} s, "
                            f"setting selected on test: {b['setting']})"),
                'Recall@20': fmt(b['recall@20']),
                'NDCG@20': fmt(b['ndcg@20']),
                's/epoch': f'fit {fit} s',
            }
            table['rows'].append([cells.get(h, '-') for h in header])
        return True
    return False


def baselines_not_reported(path: Path) -> List[str]:
    r"""The models of a baselines file with no successful best run, as
    ``'NAME (status)'`` (they are not rows; nothing is filled in)."""
    import json
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    reported = {r['model'] for r in baseline_records(path)}
    out = []
    for name, model in sorted((data.get('models') or {}).items()):
        label = BASELINE_NAMES.get(name, name)
        if label not in reported:
            status = sorted({r.get('status', '?')
                             for r in model.get('runs', [])}) or ['no run']
            out.append(f"{label} ({', '.join(status)})")
    return out
