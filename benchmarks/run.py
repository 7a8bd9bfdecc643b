r"""Runs a benchmark suite that reproduces the papers' experiments.

Usage::

    python -m benchmarks.run SUITE [--quick] [--datasets D ...]
                                   [--device cpu|cuda] [--seeds N]
                                   [--protocol paper|clean] [--trials N]

``SUITE`` is one of ``losses`` (SSM paper Table 2), ``backbones`` (Table 3),
``similarity`` (Table 4), ``propagation`` (Table 5 and LightGCN over the same
grid), ``longtail`` (Figure 1), ``magnitude`` (section 4.2), ``convergence``,
``speed`` (against PyG's LightGCN), ``simce`` (SimCE against BPR and SSM
under the SimCE paper's settings), or ``all``.

Two protocols, named in every report: ``--protocol paper`` (the default:
the papers' settings and their selection on the test split, so that our
figures stand beside the published ones) and ``--protocol clean``
(:mod:`benchmarks.clean`: a validation split carved from each user's
training interactions, the same number of tuning trials for every method
and classical baseline, selection and early stopping on validation, the
test split read once per final run, several seeds, and a paired bootstrap
interval per claim; settings and search spaces in
``benchmarks/configs/clean.json``, reports under
``benchmarks/results/clean/SUITE/``).  The runs of each suite are
listed in ``benchmarks/configs/<suite>.json`` and the per-dataset training
settings of each mode in ``benchmarks/configs/datasets.json``.

``--quick`` uses the quick settings and, by default, ml-100k and
irbench/amazon2014-health (minutes on a 2-core CPU); without it, the full
settings and ml-1m, Gowalla and Yelp2018.  Results go to
``benchmarks/results/SUITE/<dataset>.json`` and ``.md`` (quick mode:
``benchmarks/results/quick/SUITE/...``), plus a PNG for ``longtail``,
``magnitude`` and ``convergence`` when matplotlib is installed.  Every JSON
records the seeds, versions, device and wall time.

Training runs are cached in ``benchmarks/work`` (keyed by their complete
settings) and checkpointed after every epoch: suites that share a run train
it once, and a suite stopped half-way resumes where it stopped when started
again.  ``--fresh`` ignores the cache.  Every finished run is also kept,
without its weights, in the committed paper ledger
(``benchmarks/results/paper_ledger``,
:mod:`benchmarks.suites.paper_ledger`): a fresh clone reports it, and
trains only the runs the ledger lacks.

``--report-only`` trains nothing: it writes the reports from what the cache
holds, so that the progress of long runs (a Gowalla suite on a CPU, say)
can be reported at any time, even while another process is training them.
Finished runs are reported as usual; an unfinished run evaluated on the
test split is reported with its best evaluation so far and marked
*unfinished*; runs with nothing to report are listed as not run.

The quality tables (``losses``, ``backbones``, ``similarity``,
``propagation``) also list the classical baselines of the dataset as rows
of their per-run table, read from
``benchmarks/results/baselines/<dataset>.json`` (written by
``python -m benchmarks.baselines``) when that file exists: the recorded
best setting of each model, selected on the test split, with its fit
time; nothing is retrained. ``--rerender`` rewrites the committed
reports (JSON and Markdown) from their own JSON with the current baseline
rows, reading neither the run cache nor any data.
"""
import argparse
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch

from benchmarks.clean.run_ledger import record_source
from benchmarks.common import (
    environment_info,
    recorded_command,
    write_json,
)
from benchmarks.suites.claim_intervals import (
    claim_intervals,
    claims_left_out,
)
from benchmarks.suites.config import (
    ConfigError,
    load_settings,
    load_suite,
    mode_datasets,
    parse_run_seeds,
    select_runs,
)
from benchmarks.suites.paper_ledger import (
    keep_analyses,
    paper_ledger,
    paper_record,
)
from benchmarks.suites.paper_report import (
    RESULTS,
    attach_baselines,
    file_stem,
    render_markdown,
    rerender,
    result_dir,
    write_index,
)
from benchmarks.suites.report import PLOTS, plot_title
from benchmarks.suites.run_lock import RunInProgress
from benchmarks.suites.suites import SUMMARIES, training_rows
from benchmarks.suites.training import WORK, SplitCache, cached_record, \
    run_spec

SUITES = ('losses', 'backbones', 'similarity', 'propagation', 'longtail',
          'magnitude', 'convergence', 'speed', 'simce')


def run_one(suite: str, dataset: str, mode: str, seeds: List[int],
            device: str, splits: SplitCache, work: Path, out: Path,
            fresh: bool, verbose: bool,
            runs: Optional[List[str]] = None,
            report_only: bool = False,
            run_seeds: Optional[Dict[str, int]] = None) -> Dict[str, Any]:
    r"""Runs :obj:`suite` on :obj:`dataset` and writes its JSON and
    markdown; returns the payload. With :obj:`report_only`, nothing is
    trained: the report shows what the run cache holds (see the module
    docstring)."""
    start = time.perf_counter()
    cfg = load_suite(suite)
    skipped = select_runs(cfg, runs, suite) if suite != 'speed' else []
    settings = load_settings(dataset, mode)
    folder = result_dir(suite, mode, out)
    stem = file_stem(dataset)
    payload: Dict[str, Any] = {
        'suite': suite,
        'protocol': 'paper',
        'title': cfg['title'],
        'reference': cfg['reference'],
        'config_file': f"benchmarks/configs/{suite}.json",
        'dataset': dataset,
        'mode': mode,
        'seeds': seeds,
        'device': device,
        'settings': settings.to_dict(),
        'published_note': cfg.get('published_note'),
        'runs_skipped': skipped,
        'command': recorded_command('benchmarks.run'),
    }
    # Runs given more seeds than --seeds (--run-seeds), by label.
    more = {r.label: n for r, n in (
        (r, (run_seeds or {}).get(r.label, 0)) for r in cfg.get('runs', []))
        if n > len(seeds)}
    if more:
        payload['seeds_per_run'] = more
    trained = cached = 0
    if suite == 'speed':
        from benchmarks.suites.speed import run_speed

        split = splits.get(dataset, settings.load)
        summary = run_speed(split, cfg, seeds[0], device, dataset)
        payload['settings'] = {k: cfg[k] for k in (
            'batch_size', 'embedding_dim', 'num_layers', 'k', 'repeat',
            'pyg_repeat')}
    else:
        published = cfg.get('published', {}).get(dataset, {})
        ledger = paper_ledger(out)
        records: Dict[str, List[Dict[str, Any]]] = {}
        # The long-tail and magnitude analyses need a run's final
        # embeddings, which an unfinished run does not have yet.
        partial_ok = suite not in ('longtail', 'magnitude')
        missing: List[str] = []
        for run in cfg['runs']:
            for seed in range(max(len(seeds), more.get(run.label, 0))):
                spec = run_spec(run, settings, seed, device)
                t = time.perf_counter()
                try:
                    rec = paper_record(spec, splits, work, ledger,
                                       fresh=fresh, quiet=not verbose,
                                       report_only=report_only,
                                       partial_ok=partial_ok)
                except RunInProgress as e:
                    # Another process trains it: reported as it stands.
                    print(f'  [{suite} {dataset}] {run.label} seed {seed}: '
                          f'{e}', flush=True)
                    rec = cached_record(spec, work, unfinished=partial_ok)
                if rec is None:
                    print(f"  [{suite} {dataset}] {run.label} seed "
                          f"{seed}: nothing to report yet", flush=True)
                    missing.append(run.label)
                    continue
                if rec['cached']:
                    cached += 1
                else:
                    trained += 1
                records.setdefault(run.label, []).append(rec)
                unfinished = rec.get('unfinished')
                print(f"  [{suite} {dataset}] {run.label} seed {seed}: "
                      f"Recall@20 {rec['test']['recall@20']:.4f} NDCG@20 "
                      f"{rec['test']['ndcg@20']:.4f} (best epoch "
                      f"{rec['best_epoch']}/{rec['epochs_run']}"
                      f"{' so far, UNFINISHED' if unfinished else ''}"
                      f", {record_source(rec)} "
                      f"{time.perf_counter() - t:.1f} s)", flush=True)
        # A run with no report for some seed is left out (a mean over the
        # other seeds would not be comparable).
        payload['runs_missing'] = list(dict.fromkeys(missing))
        for label in payload['runs_missing']:
            records.pop(label, None)
        payload['training_seconds_total'] = round(sum(
            r['train_seconds'] for recs in records.values() for r in recs), 1)
        payload['runs_unfinished'] = [
            label for label, recs in records.items()
            if any(r.get('unfinished') for r in recs)]
        rows = training_rows(cfg['runs'], records, published)
        payload['rows'] = rows
        per_user = {label: [r.get('per_user') for r in recs]
                    for label, recs in records.items()}
        payload['claims'] = claim_intervals(cfg.get('claims', []), per_user)
        payload['claims_left_out'] = claims_left_out(cfg.get('claims', []),
                                                     per_user)
        summary = SUMMARIES[suite](
            cfg, rows, records, published=published, work=work,
            split_of=lambda: splits.get(dataset, settings.load))
        keep_analyses(ledger, records)
    payload['summary'] = summary
    attach_baselines(payload, out)
    payload['runs_trained'] = trained
    payload['runs_cached'] = cached
    payload['plot'] = None
    if suite in PLOTS:
        fn, key = PLOTS[suite]
        payload['plot'] = fn(summary[key], folder / f'{stem}.png',
                             plot_title(cfg['title'], dataset))
        if payload['plot'] is None:
            payload['plot_skipped'] = 'matplotlib is not installed ' \
                '(pip install pyg_simce[plot])'
    payload['wall_seconds'] = time.perf_counter() - start
    payload['environment'] = environment_info(seed=seeds[0], device=device)
    write_json(folder / f'{stem}.json', payload)
    (folder / f'{stem}.md').write_text(render_markdown(payload))
    write_index(suite, folder)
    return payload


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog='python -m benchmarks.run',
        description='Reproduce the papers\' tables with pyg_simce.')
    parser.add_argument('suite', choices=SUITES + ('all', ),
                        help='the suite to run, or all of them')
    parser.add_argument('--quick', action='store_true',
                        help='quick settings and datasets (2-core CPU, '
                        'minutes)')
    parser.add_argument('--datasets', nargs='+', default=None,
                        help='datasets (default: those of the mode in '
                        'benchmarks/configs/datasets.json)')
    parser.add_argument('--device', default='cpu',
                        help="'cpu' or 'cuda' (default: cpu)")
    parser.add_argument('--seeds', type=int, default=None,
                        help='number of seeds, 0..N-1 (default: 1; under '
                        '--protocol clean, the dataset\'s entry in '
                        'benchmarks/configs/clean.json)')
    parser.add_argument('--protocol', choices=('paper', 'clean'),
                        default='paper',
                        help="'paper': the papers' settings, selected on "
                        "the test split as they do; 'clean': validation "
                        "carved from training, an equal tuning budget per "
                        "method, seeds and paired intervals "
                        "(benchmarks/configs/clean.json) (default: paper)")
    parser.add_argument('--trials', type=int, default=None,
                        help='clean protocol: trials per method (default: '
                        'the dataset\'s entry in benchmarks/configs/'
                        'clean.json)')
    parser.add_argument('--threads', default=None,
                        help="torch threads (default: torch's choice)")
    parser.add_argument('--data-root', default=None,
                        help='data root (default: $PYG_SIMCE_DATA or '
                        '../shared/data)')
    parser.add_argument('--work', type=Path, default=WORK,
                        help='run cache and checkpoints (default: '
                        'benchmarks/work)')
    parser.add_argument('--out', type=Path, default=RESULTS,
                        help='results root (default: benchmarks/results)')
    parser.add_argument('--runs', nargs='+', default=None,
                        help='only the runs with these labels (as in '
                        'benchmarks/configs/SUITE.json); the others are '
                        'listed as not run (under --protocol clean: only '
                        'these methods, the classical baselines still '
                        'run)')
    parser.add_argument('--run-seeds', nargs='+', default=None,
                        metavar='LABEL=K',
                        help='paper protocol: at least K seeds (0..K-1) for '
                        'the run LABEL, the others keeping --seeds')
    parser.add_argument('--fresh', action='store_true',
                        help='retrain runs found in the cache')
    parser.add_argument('--report-only', action='store_true',
                        help='train nothing: write the reports from the run '
                        'cache; a run still training (or stopped) is '
                        'reported with its best test evaluation so far and '
                        'marked unfinished')
    parser.add_argument('--rerender', action='store_true',
                        help='train nothing and read no run cache: rewrite '
                        'the committed reports from their JSON with the '
                        'current classical baseline rows')
    parser.add_argument('--verbose', action='store_true',
                        help="print the trainer's per-epoch lines")
    args = parser.parse_args(argv)

    for flag, value in (('--seeds', args.seeds), ('--trials', args.trials)):
        if value is not None and value < 1:
            parser.error(f'{flag} expected a positive integer (got '
                         f'{value})')
    if args.threads is not None:  # both protocols
        from pyg_simce.train import resolve_threads
        try:
            torch.set_num_threads(resolve_threads(args.threads))
        except ValueError as e:
            parser.error(str(e))
    if args.protocol == 'clean':
        if args.run_seeds is not None:
            parser.error('--run-seeds applies to --protocol paper only')
        from benchmarks.clean.clean_main import main_clean
        try:
            return main_clean(parser, args)
        except RunInProgress as e:
            print(f'error: {e}', file=sys.stderr)
            raise SystemExit(1)
    if args.trials is not None:
        parser.error('--trials applies to --protocol clean only')
    device = args.device
    if device not in ('cpu', 'cuda') and not device.startswith('cuda:'):
        parser.error(f"--device expected 'cpu' or 'cuda' (got {device!r})")
    # --report-only and --rerender train nothing: the runs of a GPU can be
    # reported on a machine without one.
    if (device.startswith('cuda') and not torch.cuda.is_available()
            and not (args.report_only or args.rerender)):
        parser.error(f'--device {device}: CUDA is not available on this '
                     f'machine')
    mode = 'quick' if args.quick else 'full'
    try:
        datasets = args.datasets or mode_datasets(mode)
        suites = list(SUITES) if args.suite == 'all' else [args.suite]
        labels: List[str] = []
        for suite in suites:
            cfg = load_suite(suite)
            if args.runs is not None and suite != 'speed':
                select_runs(cfg, args.runs, suite)
            labels += [r.label for r in cfg.get('runs', [])]
        run_seeds = parse_run_seeds(args.run_seeds, labels)
        for d in datasets:
            load_settings(d, mode)
    except ConfigError as e:
        parser.error(str(e))
    if args.report_only and args.fresh:
        parser.error('--report-only and --fresh exclude each other')
    if args.rerender and (args.report_only or args.fresh):
        parser.error('--rerender excludes --report-only and --fresh')
    seeds = list(range(args.seeds or 1))
    out: Dict[str, Any] = {}
    if args.rerender:
        for dataset in datasets:
            for suite in suites:
                payload = rerender(suite, dataset, mode, args.out)
                if payload is not None:
                    out[f'{suite}/{dataset}'] = payload
                    print(f'{suite} on {dataset}: rewritten with '
                          f"{len(payload.get('baselines', []))} baseline "
                          f'rows', flush=True)
        return out
    splits = SplitCache(args.data_root)
    for dataset in datasets:
        for suite in suites:
            if args.report_only and suite == 'speed':
                print(f'speed on {dataset}: measured, not cached; skipped '
                      f'with --report-only', flush=True)
                continue
            print(f'{suite} on {dataset} ({mode} mode, seeds {seeds}, '
                  f'{device})', flush=True)
            try:
                payload = run_one(suite, dataset, mode, seeds, device,
                                  splits, args.work, args.out, args.fresh,
                                  args.verbose, args.runs, args.report_only,
                                  run_seeds)
            except FileNotFoundError as e:
                print(f'error: {dataset}: {e}', file=sys.stderr)
                raise SystemExit(2)
            except KeyboardInterrupt as e:
                # TrainingInterrupted: the run is checkpointed.
                where = getattr(e, 'checkpoint', None)
                print(f'interrupted{f" (checkpoint {where})" if where else ""}'
                      f'; run the same command again to resume',
                      file=sys.stderr)
                raise SystemExit(130)
            out[f'{suite}/{dataset}'] = payload
            folder = result_dir(suite, mode, args.out)
            print(f"  -> {folder / (file_stem(dataset) + '.json')} "
                  f"({payload['wall_seconds']:.0f} s)")
            for v in payload['summary'].get('verdicts', []):
                mark = {True: 'holds', False: 'does NOT hold',
                        None: 'observation'}[v['holds']]
                print(f"     {v['claim']}: {mark} ({v['evidence']})")
    return out


if __name__ == '__main__':
    main()
