r"""The committed outcomes of finished paper-protocol runs.

A paper-protocol run is cached in ``benchmarks/work`` (checkpoints, weights,
its record), which git ignores: the cache lives and dies with one checkout.
A suite on ml-1m or Gowalla takes longer than one working session (the
``simce`` suite on ml-1m: about 3 CPU hours a seed), so its finished runs
are also kept, weights left out, in a committed ledger (the
:class:`~benchmarks.clean.run_ledger.RunLedger` of the clean protocol, under
``benchmarks/results/paper_ledger``): a fresh clone reports them, intervals
included, and trains only what the ledger lacks.

A record holds everything a report reads (test metrics, learning curve,
per-user Recall@20 / NDCG@20, long-tail and magnitude analyses), except
the analyses that read a model's weights at report time: the ``simce``
suite's look at where each loss pushes (seed 0), which the report adds to
the ledger entry once it has computed it from a checkpoint
(:func:`keep_analyses`).
"""
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from benchmarks.clean.run_ledger import RunLedger
from benchmarks.suites.training import cached_record, execute

#: Keys of a record computed at report time and kept in the ledger.
ANALYSES = ('push_analysis', )


def paper_ledger(out: Path) -> RunLedger:
    r"""The ledger of the results root :obj:`out`
    (``benchmarks/results/paper_ledger``)."""
    return RunLedger(Path(out) / 'paper_ledger')


def _from_ledger(spec: Dict[str, Any],
                 ledger: Optional[RunLedger]) -> Optional[Dict[str, Any]]:
    entry = ledger.get(spec) if ledger is not None else None
    if entry is None:
        return None
    return dict(entry['record'], cached=True, source='ledger')


def paper_record(spec: Dict[str, Any], splits: Any, work: Path,
                 ledger: Optional[RunLedger], *, fresh: bool = False,
                 quiet: bool = True, report_only: bool = False,
                 partial_ok: bool = True,
                 train: Callable[..., Dict[str, Any]] = execute
                 ) -> Optional[Dict[str, Any]]:
    r"""The record of the run :obj:`spec`: the run cache's finished record,
    else the ledger's, else (unless :obj:`report_only`) the run trained or
    resumed from its checkpoint.  With :obj:`report_only` and
    :obj:`partial_ok`, a run still training in the cache is reported
    unfinished when neither has it; :obj:`None` when there is nothing to
    report.  Without :obj:`partial_ok` (a suite that reads the analyses of
    a run's final embeddings), a ledger entry imported from a report
    (:mod:`benchmarks.suites.report_import`), which has none, counts as
    absent.  :obj:`fresh` retrains (neither cache nor ledger is read).
    Every finished record goes into the ledger (a cached one trained
    before the ledger existed, too)."""
    if not fresh:
        rec = cached_record(spec, work, unfinished=False)
        if rec is None:
            rec = _from_ledger(spec, ledger)
            if rec is not None and rec.get('imported') and not partial_ok:
                rec = None
        if rec is None and report_only:
            return (cached_record(spec, work, unfinished=True)
                    if partial_ok else None)
        if rec is not None:
            if rec.get('source') != 'ledger':
                _keep(ledger, spec, rec)
            return rec
    if report_only:
        return None
    rec = train(spec, splits, work, fresh=fresh, quiet=quiet)
    # A retrained run's analyses are computed again from its checkpoint.
    _keep(ledger, spec, rec, keep=() if fresh else ANALYSES)
    return rec


def _keep(ledger: Optional[RunLedger], spec: Dict[str, Any],
          rec: Dict[str, Any], keep: Sequence[str] = ANALYSES) -> None:
    if ledger is not None and not rec.get('unfinished'):
        ledger.put(spec, rec, keep=keep)


def keep_analyses(ledger: Optional[RunLedger],
                  records: Dict[str, List[Dict[str, Any]]]) -> None:
    r"""Stores in the ledger the report-time analyses (:data:`ANALYSES`)
    that :obj:`records` gained while the report was written."""
    for recs in records.values():
        for rec in recs:
            if any(k in rec for k in ANALYSES):
                _keep(ledger, rec['spec'], rec)
