r"""The committed outcomes of finished clean-protocol runs.

The run cache (``benchmarks/work``) holds checkpoints and weights and is
ignored by git, so it lives and dies with one checkout.  A suite on a large
dataset takes longer than one working session, and every session starts
from a fresh clone; the ledger keeps what a finished run produced, small
enough to commit, so that the next session resumes where the last one
stopped and a report can be assembled again with fresh intervals:

- for every finished run, its validation record (the metrics of its best
  evaluation, the learning curve, the stop reason, the seconds);
- for a final run (a chosen setting evaluated once on the test split), its
  test metrics and the per-user Recall@20 and NDCG@20 that the paired
  intervals need.

One gzipped JSON file per run, ``<root>/<dataset>/<key>.json.gz``, *key*
being the spec key of the run (:func:`benchmarks.suites.training.spec_key`),
written atomically and byte-for-byte reproducibly (no timestamp in the gzip
header).  An entry is used only when the spec it stores is the run's spec.
Weights are not kept: a run whose test metrics are needed and not in the
ledger is trained again (:func:`benchmarks.clean.clean_suite.run_method`).

The fits of the classical baselines are kept beside them, one file per fit
and split, ``<root>/<dataset>/baselines/<key>[-test].json.gz``
(:func:`benchmarks.clean.clean_baselines.run_baseline`): on the large data
sets they take longer to fit again (a quarter of an hour on Yelp2018) than
a report takes to assemble.
"""
import gzip
import json
import os
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

from benchmarks.suites.training import spec_key


class RunLedger:
    r"""The ledger under :obj:`root` (for the suites,
    ``benchmarks/results/clean/ledger``).

    Args:
        root (pathlib.Path): The folder of the ledger.
    """
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, spec: Dict[str, Any]) -> Path:
        r"""The file of the run :obj:`spec`."""
        return (self.root / spec['dataset'].replace('/', '-') /
                f'{spec_key(spec)}.json.gz')

    def get(self, spec: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        r"""The entry of :obj:`spec` (``record`` and, for a final run,
        ``test``), or :obj:`None` when the ledger has none."""
        path = self.path(spec)
        if not path.is_file():
            return None
        try:
            entry = json.loads(gzip.decompress(path.read_bytes()))
        except (OSError, EOFError, ValueError) as e:
            raise ValueError(f'{path}: not a readable ledger entry ({e}); '
                             f'delete it to train the run again') from None
        stored = json.dumps(entry['record'].get('spec'), sort_keys=True,
                            default=str)
        if stored != json.dumps(spec, sort_keys=True, default=str):
            raise ValueError(f'{path}: holds another run than the one its '
                             f'name hashes; delete it to train the run '
                             f'again')
        return entry

    def put(self, spec: Dict[str, Any], record: Dict[str, Any],
            test: Optional[Dict[str, Any]] = None,
            keep: Sequence[str] = ()) -> None:
        r"""Stores the finished run :obj:`spec`: its validation
        :obj:`record` and, for a final run, its :obj:`test` metrics (kept
        when an earlier entry has them and :obj:`test` is not given), as
        are the keys :obj:`keep` of an earlier record that :obj:`record`
        lacks (analyses added to an entry after the run, for example)."""
        entry = {'key': spec_key(spec),
                 'record': {k: v for k, v in record.items()
                            if k not in ('cached', 'source')}}
        old = self.get(spec)
        if old is not None:
            entry['record'].update({
                k: old['record'][k] for k in keep
                if k in old['record'] and k not in entry['record']})
        if test is None and old is not None and 'test' in old:
            test = old['test']
        if test is not None:
            entry['test'] = test
        if old == entry:
            return
        _write(self.path(spec), entry)

    def baseline_path(self, spec: Dict[str, Any], final: bool) -> Path:
        r"""The file of the baseline fit :obj:`spec`, evaluated on the
        test split when :obj:`final`, else on validation."""
        return (self.root / spec['dataset'].replace('/', '-') / 'baselines'
                / f"{spec_key(spec)}{'-test' if final else ''}.json.gz")

    def get_baseline(self, spec: Dict[str, Any],
                     final: bool) -> Optional[Dict[str, Any]]:
        r"""The stored result of the baseline fit :obj:`spec` (as
        :func:`benchmarks.clean.clean_baselines.run_baseline` wrote it), or
        :obj:`None` when the ledger has none."""
        path = self.baseline_path(spec, final)
        if not path.is_file():
            return None
        entry = _read(path)
        if _dump(entry.get('spec')) != _dump(spec):
            raise ValueError(f'{path}: holds another fit than the one its '
                             f'name hashes; delete it to fit the baseline '
                             f'again')
        return entry

    def put_baseline(self, spec: Dict[str, Any], final: bool,
                     result: Dict[str, Any]) -> None:
        r"""Stores :obj:`result`, the outcome of the baseline fit
        :obj:`spec` (its ``spec`` key must be :obj:`spec`)."""
        if _dump(result.get('spec')) != _dump(spec):
            raise ValueError('put_baseline: the result belongs to another '
                             'fit than the spec given')
        path = self.baseline_path(spec, final)
        if path.is_file() and _read(path) == result:
            return
        _write(path, result)


def _dump(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def _read(path: Path) -> Dict[str, Any]:
    try:
        return json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, EOFError, ValueError) as e:
        raise ValueError(f'{path}: not a readable ledger entry ({e}); '
                         f'delete it to run it again') from None


def _write(path: Path, entry: Dict[str, Any]) -> None:
    # Atomic, and byte-for-byte reproducible (no time in the gzip header).
    path.parent.mkdir(parents=True, exist_ok=True)
    data = gzip.compress(json.dumps(entry, sort_keys=True).encode(),
                         mtime=0)
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_bytes(data)
    os.replace(tmp, path)


def record_source(rec: Dict[str, Any]) -> str:
    r"""Where a suite's run record came from, for its progress line:
    ``'from the ledger'``, ``'cached'`` (the run cache) or ``'trained'``."""
    if rec.get('source') == 'ledger':
        return 'from the ledger'
    return 'cached' if rec.get('cached') else 'trained'
