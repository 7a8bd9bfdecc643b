r"""Puts the finished runs of a committed paper-protocol report into the
paper ledger, when the run cache that trained them is gone.

The first Gowalla runs on this CPU (37-53 minutes each) were trained before
the paper ledger existed; their run cache is lost, and only their reports
(``benchmarks/results/SUITE/<dataset>.json``) keep them.  Reporting the
suite again from the ledger would drop them, and training them again only
to get the same figures would cost the hour that the next seeds need.

An imported entry is rebuilt from the report's row of the run: the test
Recall@20 and NDCG@20 of its selected epoch, the learning curve, the
epochs, the stop reason and the seconds.  What a report does not keep is
absent and marked so (``imported['missing']``): the per-user metrics (a
claim between two runs then gets no paired interval, and the report says
why), the long-tail and magnitude analyses (the suites that need them
train the run again) and the machine but its name.  A run is imported only
when the configuration today builds the very spec the report trained (same
spec key), and only when it finished; an unfinished run is never kept, as in
:func:`benchmarks.suites.paper_ledger.paper_record`.  An entry already in
the ledger is never replaced.

Usage::

    python -m benchmarks.suites.report_import \
        benchmarks/results/losses/gowalla.json
"""
import argparse
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from benchmarks.clean.run_ledger import RunLedger
from benchmarks.suites.config import CONFIGS, load_settings, load_suite
from benchmarks.suites.paper_ledger import paper_ledger
from benchmarks.suites.training import run_spec, spec_key

#: What an imported record lacks, against one trained here (of the
#: machine, a report keeps the device name only).
MISSING = ('per_user', 'longtail', 'magnitude', 'environment')

_ROW_KEYS = ('negative_sampling', 'num_negatives', 'train_similarity',
             'test_similarity')
_SEED_KEYS = ('best_epoch', 'epochs_run', 'stopped_by', 'train_seconds',
              'epoch_seconds_median', 'torch_threads', 'curve')


class ReportImportError(ValueError):
    r"""A report that cannot be imported (names the file and the cause)."""


def _record(spec: Dict[str, Any], row: Dict[str, Any],
            seed: Dict[str, Any], source: str) -> Dict[str, Any]:
    rec: Dict[str, Any] = {
        'key': spec_key(spec),
        'spec': spec,
        'test': {'recall@20': seed['recall@20'],
                 'ndcg@20': seed['ndcg@20']},
        'valid': None,
        'selection': 'as in the imported report',
        'imported': {'from': source, 'missing': list(MISSING)},
    }
    rec.update({k: row[k] for k in _ROW_KEYS})
    rec.update({k: seed.get(k) for k in _SEED_KEYS})
    rec.update({k: None for k in MISSING})
    if seed.get('trained_on'):
        rec['environment'] = {'device_name': seed['trained_on']}
    return rec


def _source(path: Path) -> str:
    # The report as the repository names it, not as this machine does.
    root = CONFIGS.parent.parent
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def import_report(path: Path, ledger: RunLedger,
                  configs: Path = CONFIGS) -> List[str]:
    r"""Imports the finished runs of the report :obj:`path` into
    :obj:`ledger`; returns one line per run seen (imported, or why not).

    Raises:
        ReportImportError: when :obj:`path` is not a paper-protocol suite
            report or names a run that its suite's configuration does not
            have.
    """
    path = Path(path)
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ReportImportError(
            f'{path}: not a readable report ({e})') from None
    if not isinstance(report, dict) or 'rows' not in report:
        raise ReportImportError(f"{path}: expected a suite report (a JSON "
                                f"object with 'rows')")
    if report.get('protocol', 'paper') != 'paper':
        raise ReportImportError(
            f"{path}: a {report.get('protocol')!r}-protocol report; only "
            f"paper-protocol runs go into the paper ledger")
    absent = [k for k in ('suite', 'dataset', 'mode', 'device')
              if k not in report]
    if absent:
        raise ReportImportError(f'{path}: a suite report names its '
                                f'{absent}; this one does not')
    cfg = load_suite(report['suite'], configs)
    settings = load_settings(report['dataset'], report['mode'],
                             configs / 'datasets.json')
    runs = {r.label: r for r in cfg['runs']}
    lines = []
    for row in report['rows']:
        run = runs.get(row['label'])
        if run is None:
            raise ReportImportError(
                f"{path}: run {row['label']!r} is not in {cfg['path']} "
                f"(expected one of {sorted(runs)})")
        for seed in row.get('per_seed') or []:
            spec = run_spec(run, settings, seed['seed'], report['device'])
            what = f"{row['label']} seed {seed['seed']}"
            if spec_key(spec) != seed['key']:
                lines.append(f'{what}: not imported, its settings differ '
                             f'from the configuration today (key '
                             f'{seed["key"]}, today {spec_key(spec)})')
            elif seed.get('stopped_by') in (None, 'unfinished'):
                lines.append(f'{what}: not imported, unfinished')
            elif ledger.get(spec) is not None:
                lines.append(f'{what}: already in the ledger')
            else:
                ledger.put(spec, _record(spec, row, seed, _source(path)))
                lines.append(f"{what}: imported (Recall@20 "
                             f"{seed['recall@20']:.4f})")
    return lines


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog='python -m benchmarks.suites.report_import',
        description='Put the finished runs of paper-protocol reports into '
        'the paper ledger.')
    parser.add_argument('reports', nargs='+', type=Path,
                        help='suite reports (benchmarks/results/SUITE/'
                        '<dataset>.json)')
    parser.add_argument('--out', type=Path, default=CONFIGS.parent /
                        'results', help='results root of the ledger '
                        '(default: benchmarks/results)')
    args = parser.parse_args(argv)
    ledger = paper_ledger(args.out)
    for path in args.reports:
        try:
            lines = import_report(path, ledger)
        except ValueError as e:  # ReportImportError, ConfigError
            parser.exit(2, f'error: {e}\n')
        for line in lines:
            print(f'{path}: {line}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
