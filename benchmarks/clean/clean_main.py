r"""The ``--protocol clean`` path of ``python -m benchmarks.run``: runs each
suite on each dataset under the clean protocol and writes
``benchmarks/results/clean/<suite>/<dataset>.json`` and ``.md``.  Every
training run is cached in the run cache (``benchmarks/work``) and
checkpointed after every epoch, so a stopped suite resumes where it
stopped; every finished run is also kept in the committed ledger
(``benchmarks/results/clean/ledger``, :mod:`benchmarks.clean.run_ledger`),
so that a fresh checkout resumes too."""
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from benchmarks.clean.carry_over import earlier_work
from benchmarks.clean.clean_config import (
    clean_settings,
    dataset_search,
    load_clean,
)
from benchmarks.clean.clean_report import render_clean
from benchmarks.clean.clean_suite import run_clean_suite
from benchmarks.clean.run_ledger import RunLedger
from benchmarks.clean.validation_split import carve_validation
from benchmarks.common import environment_info, write_json
from benchmarks.suites.config import load_suite, select_runs
from benchmarks.suites.training import SplitCache

#: The suites that have a clean-protocol path (the quality comparisons).
CLEAN_SUITES = ('losses', 'backbones', 'similarity', 'propagation')


def clean_datasets() -> List[str]:
    r"""The datasets of ``clean.json`` that a run without ``--datasets``
    takes: all but the smoke-test one and those marked ``default: false``."""
    return [d for d, e in load_clean()['datasets'].items()
            if d != 'synthetic' and e.get('default', True) is not False]


def run_clean(suite: str, dataset: str, device: str, splits: SplitCache,
              work: Path, out: Path, seeds: int = 0,
              trials: int = 0,
              runs: Optional[List[str]] = None) -> Dict[str, Any]:
    r"""Runs :obj:`suite` on :obj:`dataset` under the clean protocol and
    writes its report; :obj:`seeds` / :obj:`trials` override the config
    when positive, and :obj:`runs` keeps only the methods with those labels
    (each method's trials are drawn from its own label, so a method's row
    is the same in a subset as in the whole suite; the classical baselines
    always run).  A method left out is reported all the same when the
    ledger holds all its runs, else it keeps its row, and the claims
    between unchanged methods their intervals, from the report already at
    the output path when its runs are the ones the configs give
    (:func:`benchmarks.clean.carry_over.earlier_work`). Returns the
    payload."""
    import dataclasses

    start = time.perf_counter()
    cfg = load_suite(suite)
    every_run = list(cfg['runs'])
    skipped = select_runs(cfg, runs, suite)
    search = dataset_search(load_clean(), dataset)
    clean = clean_settings(dataset, search)
    if seeds > 0:
        clean = dataclasses.replace(clean, seeds=seeds)
    if trials > 0:
        clean = dataclasses.replace(clean, trials=trials)
    data = carve_validation(splits.get(dataset, clean.settings.load),
                            clean.val_ratio, clean.val_seed)
    print(f'{suite} on {dataset} (clean protocol, {clean.trials} trials '
          f'per method, {clean.seeds} seeds, {device})', flush=True)
    payload: Dict[str, Any] = {
        'suite': suite, 'title': cfg['title'], 'reference': cfg['reference'],
        'config_file': f'benchmarks/configs/{suite}.json',
        'dataset': dataset, 'device': device,
        'settings': clean.to_dict(),
        'num_validation': int(data.val['user', 'rates', 'item']
                              .edge_label_index.size(1)),
    }
    folder = out / 'clean' / suite
    stem = dataset.replace('/', '-')
    ledger = RunLedger(out / 'clean' / 'ledger')
    earlier = earlier_work(cfg, skipped, every_run, clean, search, device,
                           ledger, folder / f'{stem}.json',
                           log=lambda s: print(s, flush=True))
    payload['runs_skipped'] = earlier.skipped
    payload.update(run_clean_suite(cfg, clean, data, work, device, search,
                                   log=lambda s: print(s, flush=True),
                                   subset=bool(earlier.skipped),
                                   carried=earlier.carried,
                                   previous=earlier.previous,
                                   order=[r.label for r in every_run],
                                   ledger=ledger))
    payload['wall_seconds'] = time.perf_counter() - start
    # Seed 0 of a chosen setting is its trial: count every run once.
    seconds = {r['key']: r['train_seconds'] for m in payload['methods']
               for r in m['trials'] + m['finals']}
    payload['training_seconds_total'] = round(sum(seconds.values()), 1)
    payload['environment'] = environment_info(seed=0, device=device)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / f'{stem}.json', payload)
    (folder / f'{stem}.md').write_text(render_clean(payload))
    for c in payload['claims']:
        r = c['recall@20']
        print(f"     {c['claim']}: {c['verdict']} (Δ Recall@20 "
              f"{r['mean']:+.4f} [{r['low']:+.4f}, {r['high']:+.4f}])",
              flush=True)
    return payload


def main_clean(parser: Any, args: Any) -> Dict[str, Any]:
    r"""``python -m benchmarks.run SUITE --protocol clean`` (arguments
    already parsed by :mod:`benchmarks.run`)."""
    from benchmarks.suites.config import ConfigError

    if args.quick or args.report_only or args.rerender or args.fresh:
        parser.error('--protocol clean takes none of --quick, --fresh, '
                     '--report-only, --rerender (its runs are cached and '
                     'resume; delete benchmarks/work to retrain)')
    suites = list(CLEAN_SUITES) if args.suite == 'all' else [args.suite]
    bad = [s for s in suites if s not in CLEAN_SUITES]
    if bad:
        parser.error(f'--protocol clean expected a suite of {CLEAN_SUITES} '
                     f'(got {bad[0]!r})')
    try:
        datasets = args.datasets or clean_datasets()
        search = load_clean()
        for d in datasets:
            clean_settings(d, search)
        for s in suites:
            select_runs(load_suite(s), args.runs, s)
    except ConfigError as e:
        parser.error(str(e))
    splits = SplitCache(args.data_root)
    out: Dict[str, Any] = {}
    for dataset in datasets:
        for suite in suites:
            try:
                out[f'{suite}/{dataset}'] = run_clean(
                    suite, dataset, args.device, splits, args.work,
                    args.out, args.seeds or 0, args.trials or 0, args.runs)
            except FileNotFoundError as e:
                print(f'error: {dataset}: {e}', flush=True)
                raise SystemExit(2)
            except KeyboardInterrupt:
                print('interrupted; run the same command again to resume',
                      flush=True)
                raise SystemExit(130)
    return out
