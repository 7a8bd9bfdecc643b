r"""Tables, verdicts and plots of the benchmark suites, built only from run
records (nothing is measured here)."""
import itertools
import math
import re
import statistics
import textwrap
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


#: What each short label of the plots stands for; the plots print the
#: entries their labels use under the axes (docs/benchmarks.rst repeats
#: them).
LABEL_KEY = (
    ('BCE', 'binary cross-entropy'),
    ('BPR', 'Bayesian personalised ranking'),
    ('SM', 'full softmax over all items'),
    ('SSM', 'sampled softmax'),
    ('CCL', 'cosine contrastive loss'),
    ('SimCE', 'simplified sampled-softmax cross-entropy'),
    ('MML', 'multi-margin loss'),
    ('MF', 'matrix factorisation'),
    ('LightGCN', 'light graph convolution, propagating both ways'),
    ('SVD++ user', 'SVD++ propagating items to users'),
    ('SVD++ item', 'SVD++ propagating users to items'),
    ('EASE', 'embarrassingly shallow autoencoder'),
    ('GF-CF', 'graph-filter collaborative filtering'),
    ('iALS', 'implicit alternating least squares'),
    ('ItemKNN', 'item k-nearest neighbours'),
    ('MostPopular', 'the most popular items for everyone'),
    ('(baseline)', 'classical baseline, hatched, its setting chosen on the '
     'test split'),
    ('[\u03b10, \u03b11]', 'exponents of the propagation\'s normalisation '
     '(receiver, sender degree)'),
)
_TITLE_WIDTH = 90


def label_key(labels: Sequence[str]) -> str:
    r"""The entries of :data:`LABEL_KEY` that :obj:`labels` use, as
    ``'SM = full softmax over all items; ...'``."""
    words = {w for label in labels for w in re.split(r'[\s\[\]]+', label)}
    spaced = ' ' + ' '.join(labels) + ' '
    used = []
    for short, meaning in LABEL_KEY:
        if short.startswith('['):
            if '[' in spaced:
                used.append(f'{short} = {meaning}')
        elif short in words or f' {short} ' in spaced:
            used.append(f'{short} = {meaning}')
    return '; '.join(used)


def plot_title(title: str, dataset: str) -> str:
    r"""The title of a suite's plot: the suite's title without its
    parenthesised reference, and the data set."""
    return f"{title.split(' (')[0]} \u2014 {dataset}"


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def _figure(plt: Any, ncols: int):
    return plt.subplots(1, ncols, figsize=(10, 4))


def _finish(plt: Any, fig: Any, path: Path, title: str,
            labels: Sequence[str], legend_cols: int) -> str:
    # Title wrapped to the figure's width on top; under the axes one legend
    # for the whole figure (it never hides a line) and the key of the
    # labels.  The figure grows by the room these need, in inches, and the
    # axes are laid out in what remains, so that nothing is clipped.
    title_lines = textwrap.wrap(title, _TITLE_WIDTH)
    key_lines = textwrap.wrap(label_key(labels), 140)
    legend_rows = -(-len(labels) // legend_cols)
    top = 0.06 + 0.22 * len(title_lines)
    key_height = 0.08 + 0.16 * len(key_lines)
    bottom = key_height + 0.1 + 0.22 * legend_rows
    width, height = fig.get_size_inches()
    height += top + bottom
    fig.set_size_inches(width, height)
    fig.suptitle('\n'.join(title_lines), y=1 - 0.06 / height, va='top')
    handles = fig.axes[0].get_legend_handles_labels()[0]
    fig.legend(handles, labels, loc='lower center', ncol=legend_cols,
               bbox_to_anchor=(0.5, key_height / height), fontsize=8,
               frameon=False)
    fig.text(0.5, 0.06 / height, '\n'.join(key_lines), ha='center',
             va='bottom', fontsize=8, color='0.2')
    # tight_layout leaves room for the title itself.
    fig.tight_layout(rect=(0, bottom / height, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name


def _log_axis(ax: Any, which: str, values: Sequence[float]) -> None:
    # Log scale with plain-number labels at 1-2-5 steps when the data span
    # at most three decades (only powers of ten beyond), and no label on
    # minor ticks, so that labels never overlap.
    from matplotlib import ticker
    axis = ax.xaxis if which == 'x' else ax.yaxis
    (ax.set_xscale if which == 'x' else ax.set_yscale)('log')
    lo, hi = min(values), max(values)
    decades = math.log10(hi / lo) if lo > 0 and hi > lo else 0.0
    subs = (1.0, 2.0, 5.0) if decades <= 3 else (1.0, )
    axis.set_major_locator(ticker.LogLocator(base=10, subs=subs))
    axis.set_major_formatter(ticker.FuncFormatter(
        lambda v, _: f'{v:g}' if 1e-3 <= v < 1e5 else f'{v:.0e}'))
    axis.set_minor_formatter(ticker.NullFormatter())


def plot_longtail(rows: List[Dict[str, Any]], path: Path,
                  title: str) -> Optional[str]:
    r"""Grouped bars of Recall@20 per popularity group, one colour per
    loss; returns the file name, or :obj:`None` without matplotlib."""
    if not WITH_MATPLOTLIB:
        return None
    plt = _pyplot()
    groups = len(rows[0]['recall_per_group'])
    width = 0.8 / len(rows)
    fig, ax = _figure(plt, 1)
    # Trained models take the colour cycle; baselines grey shades, hatched.
    greys = itertools.cycle(['0.15', '0.35', '0.5', '0.65', '0.8'])
    for n, r in enumerate(rows):
        xs = [g + (n - (len(rows) - 1) / 2) * width for g in range(groups)]
        style = (dict(hatch='////', color=next(greys), edgecolor='white',
                      linewidth=0) if r.get('baseline') else {})
        ax.bar(xs, r['recall_per_group'], width=width, label=r['label'],
               **style)
    ax.set_xticks(range(groups))
    ax.set_xlabel(f'item popularity group (0 = least popular, {groups - 1} '
                  '= most popular; equal shares of the training '
                  'interactions)')
    ax.set_ylabel('share of Recall@20 from the group')
    ax.grid(axis='y', alpha=0.3)
    return _finish(plt, fig, path, title, [r['label'] for r in rows],
                   legend_cols=min(len(rows), 7))


def plot_convergence(rows: List[Dict[str, Any]], path: Path,
                     title: str) -> Optional[str]:
    r"""Recall@20 against epoch and against training seconds (first seed
    of each run)."""
    if not WITH_MATPLOTLIB:
        return None
    plt = _pyplot()
    fig, (a, b) = _figure(plt, 2)
    for r in rows:
        curve = r['curve']
        a.plot([c['epoch'] for c in curve], [c['recall@20'] for c in curve],
               marker='.', label=r['label'])
        b.plot([c['train_seconds'] for c in curve],
               [c['recall@20'] for c in curve], marker='.',
               label=r['label'])
    a.set_xlabel('epoch')
    b.set_xlabel('seconds of training so far (earlier evaluations included)')
    for ax in (a, b):
        ax.set_ylabel('test Recall@20')
        ax.grid(alpha=0.3)
    return _finish(plt, fig, path, title, [r['label'] for r in rows],
                   legend_cols=len(rows))


def plot_magnitude(rows: List[Dict[str, Any]], path: Path,
                   title: str) -> Optional[str]:
    r"""Mean squared norm per degree bin (log-log) of the propagated side
    of each model."""
    if not WITH_MATPLOTLIB:
        return None
    plt = _pyplot()
    fig, axes = _figure(plt, 2)
    for ax, side in zip(axes, ('user', 'item')):
        xs: List[float] = []
        ys: List[float] = []
        for r in rows:
            bins = r['bins'][side]
            # An empty line keeps the colours and the legend aligned.
            ax.plot([x[0] for x in bins], [x[1] for x in bins], marker='.',
                    label=r['label'])
            xs += [x[0] for x in bins]
            ys += [x[1] for x in bins]
        if xs:
            _log_axis(ax, 'x', xs)
            _log_axis(ax, 'y', ys)
        ax.set_xlabel(f'{side} degree (training interactions; mean of a '
                      'log-spaced bin)', fontsize=9)
        ax.set_ylabel(f'mean squared norm of the {side} embedding')
        ax.set_title(f'{side}s')
        ax.grid(alpha=0.3)
    labels = [r['label'] for r in rows]
    return _finish(plt, fig, path, title, labels,
                   legend_cols=min(4, len(labels)))


#: Suite -> its plot function and the key of the summary it plots.
PLOTS = {
    'longtail': (plot_longtail, 'groups'),
    'magnitude': (plot_magnitude, 'bins'),
    'convergence': (plot_convergence, 'curves'),
}


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
                    'ndcg@20': run['test'].get('ndcg@20'),
                    'longtail': run.get('longtail')})
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
