r"""Rows of an earlier clean-protocol report kept when a later invocation
runs only some of the suite's methods (``--runs``).

A suite on a large dataset is run a few methods at a time, often from
checkouts whose run cache (``benchmarks/work``) is gone.  Without this, each
``--runs`` invocation would overwrite the report with its own methods.  A
method of the earlier report is carried over only when it is exactly the run
this invocation would do: its trials and final runs must have the spec keys
that the current configs give (a key hashes the whole run spec: protocol,
validation carve, settings, trial point, seed, device), so a changed config,
search space or budget never carries a stale row.  A claim keeps its
earlier interval only when it gets none now and both its sides are
unchanged: carried methods, or methods and classical baselines whose final
runs have the same keys and test figures as before: a
carried interval is then the one the current runs would give.  A method
whose runs are all in the committed ledger (:mod:`benchmarks.clean.
run_ledger`) is not carried but reported again from it, with fresh
intervals.
"""
import json
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from benchmarks.clean.clean_config import CleanSettings
from benchmarks.clean.run_ledger import RunLedger
from benchmarks.suites.config import RunConfig
from benchmarks.suites.training import spec_key


def previous_report(path: Path) -> Optional[Dict[str, Any]]:
    r"""The clean-protocol report at :obj:`path`, or :obj:`None` when there
    is none (or it is not a clean-protocol report)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        payload = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not a readable report ({e}); move it '
                         f'away or delete it to write a new one') from None
    return payload if payload.get('protocol') == 'clean' else None


def expected_keys(run: RunConfig, clean: CleanSettings,
                  search: Dict[str, Any], device: str,
                  chosen: Dict[str, Any]) -> Tuple[List[str], List[str]]:
    r"""The spec keys of the trials of :obj:`run` and of its final runs at
    the :obj:`chosen` point, as the current configs give them."""
    from benchmarks.clean.clean_suite import clean_spec, method_trials

    _, points = method_trials(run, clean, search)
    trials = [spec_key(clean_spec(run, clean, p, 0, device)) for p in points]
    finals = [spec_key(clean_spec(run, clean, chosen, s, device))
              for s in range(clean.seeds)]
    return trials, finals


def complete_in_ledger(run: RunConfig, clean: CleanSettings,
                       search: Dict[str, Any], device: str,
                       ledger: RunLedger) -> bool:
    r"""Whether :obj:`ledger` holds every run of :obj:`run`: its trials,
    and the final runs of the trial that validation chooses (the rule of
    :func:`benchmarks.clean.clean_suite.run_method`) with their test
    metrics; such a method is reported again without training, and its
    claims get intervals."""
    from benchmarks.clean.clean_suite import (
        chosen_trial,
        clean_spec,
        method_trials,
    )

    _, points = method_trials(run, clean, search)
    trials = []
    for point in points:
        entry = ledger.get(clean_spec(run, clean, point, 0, device))
        if entry is None:
            return False
        trials.append({'point': point, 'valid': entry['record']['valid']})
    chosen = chosen_trial(trials)['point']
    for seed in range(clean.seeds):
        entry = ledger.get(clean_spec(run, clean, chosen, seed, device))
        if entry is None or 'test' not in entry:
            return False
    return True


def carried_methods(previous: Optional[Dict[str, Any]],
                    runs: Sequence[RunConfig], clean: CleanSettings,
                    search: Dict[str, Any], device: str
                    ) -> Tuple[List[Dict[str, Any]], List[str]]:
    r"""The methods of :obj:`previous` among :obj:`runs` (the runs this
    invocation leaves out) that are still exactly those runs, and a line
    for each that is not carried over and why."""
    if previous is None:
        return [], []
    by_label = {m['label']: m for m in previous.get('methods', [])}
    carried, dropped = [], []
    for run in runs:
        m = by_label.get(run.label)
        if m is None:
            continue
        trials, finals = expected_keys(run, clean, search, device,
                                       m['chosen'])
        if ([t['key'] for t in m['trials']] != trials or
                [f['key'] for f in m['finals']] != finals):
            dropped.append(f'{run.label}: its runs in the earlier report '
                           f'differ from what the current configs give '
                           f'(settings, search space, budget or device)')
            continue
        carried.append(m)
    return carried, dropped


def _finals(m: Dict[str, Any]) -> List[Any]:
    return [(f.get('key'), f['test']) for f in m['finals']]


def carried_claims(previous: Optional[Dict[str, Any]],
                   left_out: Sequence[Dict[str, str]],
                   claim_list: Sequence[Dict[str, str]],
                   methods: Sequence[Dict[str, Any]],
                   baselines: Sequence[Dict[str, Any]]
                   ) -> List[Dict[str, Any]]:
    r"""The intervals of :obj:`previous` for the claims of
    :obj:`claim_list` that got none now (:obj:`left_out`) and whose two
    sides are unchanged since: a method carried over (``'carried'``), or a
    method or classical baseline of this report whose final runs have the
    same keys and test figures in :obj:`previous`. Each is marked
    ``'carried': True``."""
    if previous is None:
        return []
    before = {m['label']: _finals(m) for m in
              previous.get('methods', []) + previous.get('baselines', [])}
    unchanged = {m['label'] for m in list(methods) + list(baselines)
                 if m.get('carried') or before.get(m['label']) == _finals(m)}
    missing = {c['claim'] for c in left_out}
    # Keyed by the two sides: the text of the claim against the best
    # classical baseline says whether the report held every method.
    earlier = {(c['better'], c['worse']): c
               for c in previous.get('claims', [])}
    out = []
    for c in claim_list:
        old = earlier.get((c['better'], c['worse']))
        if c['claim'] in missing and old is not None and \
                {c['better'], c['worse']} <= unchanged:
            out.append(dict(old, claim=c['claim'], carried=True))
    return out


class EarlierWork(NamedTuple):
    r"""What an invocation with ``--runs`` takes from earlier ones."""
    #: The methods still left out (neither in the ledger nor carried).
    skipped: List[str]
    #: The rows of the earlier report kept as they are.
    carried: List[Dict[str, Any]]
    #: The earlier report (:obj:`None` when there is none).
    previous: Optional[Dict[str, Any]]


def earlier_work(cfg: Dict[str, Any], skipped: List[str],
                 runs: Sequence[RunConfig], clean: CleanSettings,
                 search: Dict[str, Any], device: str, ledger: RunLedger,
                 report: Path, log: Any = print) -> EarlierWork:
    r"""For the methods that ``--runs`` leaves out (:obj:`skipped`, among
    the suite's :obj:`runs`): those whose runs are all in :obj:`ledger`
    join :obj:`cfg`'s runs (reported again without training, so their
    claims get intervals); of the others, those of the earlier
    :obj:`report` that are still exactly the runs the configs give are
    carried over (:func:`carried_methods`)."""
    if not skipped:
        return EarlierWork([], [], None)
    again = [r.label for r in runs if r.label in skipped and
             complete_in_ledger(r, clean, search, device, ledger)]
    if again:
        log('  from the ledger, without training: ' + ', '.join(again))
        cfg['runs'] = [r for r in runs
                       if r.label not in skipped or r.label in again]
        skipped = [x for x in skipped if x not in again]
    previous = previous_report(report)
    carried, dropped = carried_methods(
        previous, [r for r in runs if r.label in skipped], clean, search,
        device)
    for line in dropped:
        log(f'  not carried over: {line}')
    if carried:
        log('  carried over from the earlier report: ' +
            ', '.join(m['label'] for m in carried))
    labels = {m['label'] for m in carried}
    return EarlierWork([x for x in skipped if x not in labels], carried,
                       previous)
