r"""The reports of a suite run under the ``paper`` protocol: the Markdown
of one suite on one dataset, the index of a suite folder, the classical
baseline rows, and the re-rendering of committed reports."""
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

from benchmarks.common import write_json
from benchmarks.suites.claim_intervals import (
    claims_left_out_markdown,
    claims_markdown,
)
from benchmarks.suites.config import runs_argument
from benchmarks.suites.report import (
    BASELINE_NOTE,
    QUALITY_SUITES,
    add_baseline_rows,
    baseline_records,
    baselines_not_reported,
    fmt,
    is_baseline_row,
    markdown_table,
)

RESULTS = Path(__file__).resolve().parent.parent / 'results'


def file_stem(dataset: str) -> str:
    return dataset.replace('/', '-')


def result_dir(suite: str, mode: str, out: Path = RESULTS) -> Path:
    return out / suite if mode == 'full' else out / 'quick' / suite


def _values(rows: List[Dict[str, Any]], value) -> str:
    # One value, or the distinct values of the runs in the order they come.
    seen: List[Any] = []
    for row in rows:
        v = value(row)
        if v not in seen:
            seen.append(v)
    return ' / '.join(str(v) for v in seen) + (' (per run)'
                                              if len(seen) > 1 else '')


def settings_text(payload: Dict[str, Any]) -> str:
    r"""The training settings of a report as its runs used them: the data
    set's settings where a run keeps them, a run's own where it overrides
    them (its model arguments, its ``settings`` in the suite config); a
    setting on which runs differ lists the values with "(per run)"."""
    s = payload['settings']
    rows = [r for r in payload.get('rows', []) if 'model_kwargs' in r]
    if not rows:  # no run to report: the data set's settings
        rows = [{'model': 'lightgcn', 'model_kwargs': {}, 'loss': 'ssm',
                 'loss_kwargs': {}}]

    def setting(key):
        return lambda r: (r.get('settings_override') or {}).get(key, s[key])

    parts = ['embedding ' + _values(
        rows, lambda r: r['model_kwargs'].get('embedding_dim',
                                              s['embedding_dim']))]
    gcn = [r for r in rows if r['model'] == 'lightgcn']
    if gcn:
        parts.append('LightGCN layers ' + _values(
            gcn, lambda r: r['model_kwargs'].get('num_layers',
                                                 s['num_layers'])))
    parts += [f"batch {_values(rows, setting('batch_size'))}",
              f"lr {_values(rows, setting('lr'))}",
              f"reg {_values(rows, setting('reg'))}",
              f"at most {_values(rows, setting('epochs'))} epochs",
              f"evaluation every {_values(rows, setting('eval_every'))}",
              f"patience {_values(rows, setting('patience'))}"]
    ssm = [r for r in rows if r['loss'] == 'ssm']
    if ssm:
        parts.append('SSM temperature ' + _values(
            ssm, lambda r: r.get('loss_kwargs', {}).get(
                'temperature', s['ssm_temperature'])))
    return ', '.join(parts)


def render_markdown(payload: Dict[str, Any]) -> str:
    r"""The markdown report of one suite on one dataset."""
    device = payload['device']
    num_seeds = len(payload['seeds'])
    command = (f"python -m benchmarks.run {payload['suite']}"
               f"{' --quick' if payload['mode'] == 'quick' else ''} "
               f"--datasets {payload['dataset']}"
               f"{' --device ' + device if device != 'cpu' else ''}"
               f"{' --seeds ' + str(num_seeds) if num_seeds > 1 else ''}")
    if payload.get('runs_skipped') or payload.get('runs_missing'):
        command += runs_argument([r['label'] for r in payload['rows']])
    more = payload.get('seeds_per_run') or {}
    if more:
        command += ' --run-seeds ' + ' '.join(
            f'"{label}={n}"' if ' ' in label else f'{label}={n}'
            for label, n in more.items())
    lines = [f"## {payload['title']} — {payload['dataset']} "
             f"({payload['mode']} mode, paper protocol)", '',
             f'Reproduce: `{command}`', '',
             "Protocol **paper**: the papers' settings and selection (the "
             "best test evaluation of each run, as their reference code "
             "does); see the clean protocol (`--protocol clean`) for "
             "selection on validation.", '']
    s = payload.get('settings') or {}
    if payload['suite'] == 'speed':
        lines.append(
            f"Settings: batch {s['batch_size']}, embedding "
            f"{s['embedding_dim']}, BPR step, top-{s['k']} of every user with "
            f"the training items masked; medians of {s['repeat']} (ours) and "
            f"{s['pyg_repeat']} (PyG) repeats; device {payload['device']}; "
            f"{payload['wall_seconds']:.0f} s wall.")
        lines.append('')
    elif s:
        lines.append(
            f"Settings: {settings_text(payload)}; seeds {payload['seeds']}"
            + ''.join(f", {label} seeds 0-{n - 1}" for label, n in
                      (payload.get('seeds_per_run') or {}).items())
            + f"; device "
            f"{payload['device']}; {payload['training_seconds_total']:.0f} s "
            f"of training in its runs ({payload['runs_trained']} trained by "
            f"this command, {payload['runs_cached']} from the run cache; "
            f"{payload['wall_seconds']:.0f} s wall).")
        if any(r.get('settings_override') for r in payload.get('rows', [])):
            lines[-1] += (' Runs with their own budget: `settings` of the '
                          f"run in `{payload['config_file']}`.")
        lines.append('')
    table = payload['summary']['table']
    lines.append(markdown_table(table['header'], table['rows']))
    if payload['summary'].get('detail'):
        detail = payload['summary']['detail']
        lines += ['', 'Per run:', '',
                  markdown_table(detail['header'], detail['rows'])]
    for extra in payload['summary'].get('tables', []):
        lines += ['', extra['title'], '',
                  markdown_table(extra['header'], extra['rows'])]
    if payload.get('baselines_file'):
        lines += ['', f"Classical baselines: the best recorded setting of "
                  f"each model in `{payload['baselines_file']}` (written by "
                  f"`python -m benchmarks.baselines`, not retrained here; "
                  f"settings selected on the test split, so optimistic; "
                  f"the time column holds the fit time)."]
        if payload.get('baselines_not_reported'):
            lines[-1] += (' No result recorded, so no row: '
                          + ', '.join(payload['baselines_not_reported'])
                          + '.')
    if payload.get('runs_skipped'):
        lines += ['', f"Not run here (selected with `--runs`): "
                  f"{', '.join(payload['runs_skipped'])}."]
    if payload.get('runs_missing'):
        lines += ['', f"Not in the run cache yet (reported with "
                  f"`--report-only`): {', '.join(payload['runs_missing'])}."]
    if payload.get('runs_unfinished'):
        lines += ['', f"**Unfinished** (reported with `--report-only` while "
                  f"training or after a stop; best test evaluation so far, "
                  f"the command above finishes them): "
                  f"{', '.join(payload['runs_unfinished'])}."]
    if payload.get('plot'):
        lines += ['', f"![{payload['suite']}]({payload['plot']})"]
    lines += claims_markdown(payload.get('claims') or [],
                             len(payload['seeds']))
    lines += claims_left_out_markdown(payload.get('claims_left_out') or [])
    if payload['summary'].get('verdicts'):
        lines += ['', 'Claims:', '']
        for v in payload['summary']['verdicts']:
            mark = {True: 'holds', False: 'does not hold',
                    None: 'observation'}[v['holds']]
            lines.append(f"- {v['claim']}: **{mark}** — {v['evidence']}")
    if payload.get('published_note'):
        lines += ['', f"Published figures: {payload['published_note']}"]
    lines += ['', f"Source: {payload['reference']}", '']
    return '\n'.join(lines)


def attach_baselines(payload: Dict[str, Any], out: Path) -> None:
    r"""Adds the classical baselines of the payload's dataset (from
    ``<out>/baselines/<dataset>.json`` when it exists) as rows of its
    quality table, or, in the ``longtail`` suite, as hatched bars of its
    plot and rows of its table; replaces earlier baseline rows and removes
    them when the file is absent."""
    payload.pop('baselines', None)
    payload.pop('baselines_file', None)
    payload.pop('baselines_not_reported', None)
    path = out / 'baselines' / f"{file_stem(payload['dataset'])}.json"
    if payload['suite'] == 'longtail':
        found = add_longtail_baselines(payload['summary'],
                                       baseline_records(path))
    elif payload['suite'] in QUALITY_SUITES:
        found = baseline_records(path)
        if not add_baseline_rows(payload['summary'], found):
            found = []
    else:
        return
    if found:
        payload['baselines'] = found
        payload['baselines_file'] = (
            f'benchmarks/results/baselines/{path.name}')
        payload['baselines_not_reported'] = baselines_not_reported(path)


def add_longtail_baselines(summary: Dict[str, Any],
                           baselines: List[Dict[str, Any]]
                           ) -> List[Dict[str, Any]]:
    r"""Puts the baselines that recorded a long-tail split into the
    ``longtail`` summary: one plot group each (flagged ``baseline``) and
    one table row, after the trained models. Returns those baselines."""
    groups = [g for g in summary.get('groups', []) if not g.get('baseline')]
    table = summary['table']
    table['rows'] = [r for r in table['rows'] if not is_baseline_row(r)]
    num_groups = len(groups[0]['recall_per_group']) if groups else None
    used = []
    for b in baselines:
        tail = b.get('longtail')
        if not tail or (num_groups is not None and
                        len(tail['recall_per_group']) != num_groups):
            continue
        used.append(b)
        share = tail['share_per_group']
        groups.append({'label': f"{b['model']} (baseline)",
                       'recall_per_group': tail['recall_per_group'],
                       'share_per_group': share, 'baseline': True})
        table['rows'].append(
            [f"{b['model']} ({BASELINE_NOTE}, setting selected on test: "
             f"{b['setting']})", fmt(b['recall@20'])] +
            [fmt(x) for x in tail['recall_per_group']] +
            [f'{sum(share[:len(share) // 2]):.1%}'])
    summary['groups'] = groups
    return used


def rerender(suite: str, dataset: str, mode: str,
             out: Path) -> Optional[Dict[str, Any]]:
    r"""Rewrites the committed report of :obj:`suite` on :obj:`dataset`
    from its JSON with the current baseline rows; trains and reads
    nothing else. Returns the payload, or :obj:`None` without a report."""
    folder = result_dir(suite, mode, out)
    path = folder / f'{file_stem(dataset)}.json'
    if not path.is_file():
        return None
    payload = json.loads(path.read_text())
    payload.setdefault('protocol', 'paper')
    attach_baselines(payload, out)
    write_json(path, payload)
    (folder / f'{file_stem(dataset)}.md').write_text(
        render_markdown(payload))
    write_index(suite, folder)
    return payload


def write_index(suite: str, folder: Path) -> None:
    r"""``README.md`` of a suite folder: the reports of every dataset."""
    parts = [f'# Benchmark suite `{suite}`', '',
             'One report per dataset, each with the command that '
             'reproduces it (`benchmarks/configs/` holds the settings).', '']
    for md in sorted(folder.glob('*.md')):
        if md.name != 'README.md':
            parts.append(md.read_text())
    (folder / 'README.md').write_text('\n'.join(parts))
