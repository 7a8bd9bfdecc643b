r"""Runs one suite on one dataset under the clean protocol.

For every method (a run of the suite's config) the same number of trials
is drawn from its search space (:mod:`benchmarks.clean.search`); each trial
trains on the training part with seed 0 and is scored on the validation
split carved from it (:mod:`benchmarks.clean.validation_split`).  The trial
with the best validation Recall@20 is the method's configuration; it is
trained with every seed and evaluated once on the test split.  Each claim
of the suite ("A beats B") gets a paired bootstrap interval over the test
users (:mod:`benchmarks.clean.paired_bootstrap`) and its verdict.
"""
import statistics
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from benchmarks.clean.clean_baselines import run_baseline
from benchmarks.clean.clean_config import CleanSettings, load_clean
from benchmarks.clean.carry_over import carried_claims
from benchmarks.clean.clean_run import (
    cached_validation,
    final_test,
    train_clean,
)
from benchmarks.clean.run_ledger import RunLedger, record_source
from benchmarks.clean.search import (
    apply_point,
    describe,
    draw_trials,
    method_space,
)
from benchmarks.clean.validation_split import CleanData
from benchmarks.suites.claim_intervals import claim_intervals, \
    claims_left_out
from benchmarks.suites.config import RunConfig, runs_argument
from benchmarks.suites.training import run_spec

#: Negative modes that take no sample size.
NO_SAMPLE_SIZE = ('in-batch', 'global-in-batch', 'full')


def fixed_axes(run: RunConfig) -> List[str]:
    r"""The axes a run fixes: not searched for it."""
    return ([f'model.{k}' for k in run.model_kwargs] +
            [f'loss.{k}' for k in run.loss_kwargs] +
            [f'trainer.{k}' for k in run.trainer_kwargs])


def clean_spec(run: RunConfig, clean: CleanSettings, point: Dict[str, Any],
               seed: int, device: str) -> Dict[str, Any]:
    r"""The spec of one clean-protocol run: the paper spec of :obj:`run`
    under the dataset's clean settings, with the trial :obj:`point`
    applied, naming the protocol and the validation carve."""
    if run.negatives_exclude is not None:
        raise ValueError(f"run {run.label!r}: 'negatives_exclude' reads the "
                         f"test split during training, which the clean "
                         f"protocol forbids (use the paper protocol)")
    spec = apply_point(run_spec(run, clean.settings, seed, device), point)
    mode = spec['trainer_kwargs'].get('negative_sampling')
    if mode in NO_SAMPLE_SIZE:
        spec['trainer_kwargs'].pop('num_negatives', None)
    spec['protocol'] = 'clean'
    spec['validation'] = {'ratio': clean.val_ratio, 'seed': clean.val_seed}
    return spec


def method_space_of(run: RunConfig,
                    search: Dict[str, Any]) -> Dict[str, List[Any]]:
    r"""The search space of :obj:`run`: the common axes and its loss's,
    without the axes the run fixes."""
    return method_space(search['common'], search['loss'][run.loss],
                        fixed_axes(run))


def method_trials(run: RunConfig, clean: CleanSettings,
                  search: Dict[str, Any]
                  ) -> Tuple[Dict[str, List[Any]], List[Dict[str, Any]]]:
    r"""The search space of :obj:`run` and the points of its trials."""
    space = method_space_of(run, search)
    return space, draw_trials(space, clean.trials, search['seed'],
                              run.label)


def chosen_trial(trials: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    r"""The trial that validation chooses: the best validation Recall@20,
    the first of equals."""
    return max(trials, key=lambda tr: tr['valid']['recall@20'])


def _sides(claims: Sequence[Dict[str, str]],
           text: str) -> Tuple[str, ...]:
    r"""The two sides of the claim :obj:`text` of :obj:`claims`."""
    c = next(c for c in claims if c['claim'] == text)
    return c['better'], c['worse']


def _mean_std(values: List[float]) -> Dict[str, float]:
    return {'mean': statistics.fmean(values),
            'std': statistics.stdev(values) if len(values) > 1 else 0.0}


def _trial_record(spec: Dict[str, Any], data: CleanData, work: Path,
                  ledger: Optional[RunLedger]) -> Dict[str, Any]:
    # The run cache first, then the ledger, else training (which the
    # ledger then keeps).
    if ledger is not None and cached_validation(spec, work) is None:
        entry = ledger.get(spec)
        if entry is not None:
            return dict(entry['record'], cached=True, source='ledger')
    rec = train_clean(spec, data, work)
    if ledger is not None:
        ledger.put(spec, rec)
    return rec


def _final_run(spec: Dict[str, Any], data: CleanData, work: Path,
               ledger: Optional[RunLedger]) -> Tuple[Dict[str, Any],
                                                     Dict[str, Any]]:
    # The record and test metrics of a final run: from the ledger when it
    # has them (the weights are not kept, so a run without its test
    # metrics there is taken from the run cache or trained again).
    entry = ledger.get(spec) if ledger is not None else None
    if entry is not None and 'test' in entry:
        return dict(entry['record'], cached=True, source='ledger'), \
            entry['test']
    rec = train_clean(spec, data, work)
    test = final_test(spec, rec, data, work)
    if ledger is not None:
        ledger.put(spec, rec, test)
    return rec, test


def run_method(run: RunConfig, clean: CleanSettings, search: Dict[str, Any],
               data: CleanData, work: Path, device: str,
               log: Any = print,
               ledger: Optional[RunLedger] = None) -> Dict[str, Any]:
    r"""Tunes one method on validation, then trains the winner with every
    seed and evaluates each on the test split once.  With a :obj:`ledger`
    (:class:`benchmarks.clean.run_ledger.RunLedger`), finished runs are
    taken from it when the run cache lacks them, and every run finished
    here is stored in it."""
    space, points = method_trials(run, clean, search)
    trials = []
    for n, point in enumerate(points):
        spec = clean_spec(run, clean, point, 0, device)
        t = time.perf_counter()
        rec = _trial_record(spec, data, work, ledger)
        trials.append({
            'trial': n, 'point': point, 'key': rec['key'],
            'valid': {k: rec['valid'][k] for k in ('recall@20', 'ndcg@20')},
            'best_epoch': rec['best_epoch'], 'epochs_run': rec['epochs_run'],
            'stopped_by': rec['stopped_by'],
            'train_seconds': rec['train_seconds'],
        })
        log(f"    {run.label} trial {n + 1}/{len(points)} "
            f"[{describe(point)}]: valid Recall@20 "
            f"{rec['valid']['recall@20']:.4f} (epoch {rec['best_epoch']}/"
            f"{rec['epochs_run']}, {record_source(rec)}"
            f" {time.perf_counter() - t:.1f} s)")
    best = chosen_trial(trials)
    finals, tests = [], []
    for seed in range(clean.seeds):
        spec = clean_spec(run, clean, best['point'], seed, device)
        rec, test = _final_run(spec, data, work, ledger)
        tests.append(test)
        finals.append({
            'seed': seed, 'key': rec['key'],
            'valid': {k: rec['valid'][k] for k in ('recall@20', 'ndcg@20')},
            'test': {k: test['test'][k] for k in
                     ('recall@10', 'recall@20', 'ndcg@10', 'ndcg@20')},
            'best_epoch': rec['best_epoch'], 'epochs_run': rec['epochs_run'],
            'train_seconds': rec['train_seconds'],
            'curve': rec['curve'],
        })
    log(f"  {run.label}: chosen [{describe(best['point'])}] -> test "
        f"Recall@20 " + ' '.join(f"{f['test']['recall@20']:.4f}"
                                  for f in finals))
    summary = {name: _mean_std([f['test'][name] for f in finals])
               for name in ('recall@20', 'ndcg@20', 'recall@10', 'ndcg@10')}
    return {
        'label': run.label, 'model': run.model, 'loss': run.loss,
        'fixed': {'model_kwargs': run.model_kwargs,
                  'loss_kwargs': run.loss_kwargs,
                  'trainer_kwargs': run.trainer_kwargs},
        'space': space, 'trials': trials, 'chosen': best['point'],
        'chosen_trial': best['trial'], 'finals': finals, 'test': summary,
        '_tests': tests,
    }


def run_clean_suite(suite_cfg: Dict[str, Any], clean: CleanSettings,
                    data: CleanData, work: Path, device: str,
                    search: Optional[Dict[str, Any]] = None,
                    log: Any = print, subset: bool = False,
                    carried: Sequence[Dict[str, Any]] = (),
                    previous: Optional[Dict[str, Any]] = None,
                    order: Sequence[str] = (),
                    ledger: Optional[RunLedger] = None) -> Dict[str, Any]:
    r"""Every method of :obj:`suite_cfg`, then every claim; returns the
    payload's protocol part (methods, claims, the claims left out and why,
    search).  :obj:`subset` says that the report holds only some of the
    suite's methods (``--runs``), which the claim against the best
    classical baseline then says.  :obj:`carried` are methods kept from the
    earlier report :obj:`previous`
    (:func:`benchmarks.clean.carry_over.carried_methods`), placed among the
    methods run here in the suite's :obj:`order`; the claims between them
    keep their earlier intervals
    (:func:`benchmarks.clean.carry_over.carried_claims`).  :obj:`ledger`
    keeps and serves finished runs (:func:`run_method`)."""
    search = search or load_clean()
    methods = [run_method(run, clean, search, data, work, device, log,
                          ledger)
               for run in suite_cfg['runs']]
    carried = [dict(m, carried=True) for m in carried]
    methods += carried
    if order:
        methods.sort(key=lambda m: list(order).index(m['label']))
    baselines = [run_baseline(name, space, clean.trials, clean.seeds,
                              search['seed'], data, clean.settings.dataset,
                              work, log, ledger)
                 for name, space in search.get('baselines', {}).items()]
    claim_list = list(suite_cfg.get('claims', []))
    tests = {m['label']: m['_tests'] for m in methods + baselines
             if '_tests' in m}
    if methods and baselines:
        # Chosen on validation too: the best of each kind by the mean
        # validation Recall@20 of its final runs.
        def valid(m: Dict[str, Any]) -> float:
            return statistics.fmean(
                f['valid']['recall@20'] if 'valid' in f else
                m['trials'][m['chosen_trial']]['valid']['recall@20']
                for f in m['finals'])

        best = max(methods, key=valid)
        base = max(baselines, key=valid)
        claim_list.append({
            'claim': f"best trained method{' run here' if subset else ''} "
            f"({best['label']}) > best "
            f"classical baseline ({base['label']}), both chosen on "
            f"validation", 'better': best['label'],
            'worse': base['label']})
    claims = claim_intervals(claim_list, tests)
    left_out = claims_left_out(claim_list, tests)
    carried_labels = [m['label'] for m in carried]
    kept = carried_claims(previous, left_out, claim_list, methods,
                          baselines)
    if kept:
        rank = [c['claim'] for c in claim_list]
        claims = sorted(claims + kept, key=lambda c: rank.index(c['claim']))
        done = {c['claim'] for c in kept}
        left_out = [c for c in left_out if c['claim'] not in done]
    labels = [m['label'] for m in methods]
    for c in left_out:
        sides = _sides(claim_list, c['claim'])
        old = [x for x in carried_labels if x in sides]
        if old:
            c['reason'] = (
                f"{', '.join(old)} carried from the earlier report, which "
                f"keeps no per-user test metrics nor an interval for this "
                f"pair; an invocation with "
                f"{runs_argument([x for x in labels if x in sides]).strip()}"
                f" gives one")
    for m in methods + baselines:
        m.pop('_tests', None)
        if m in baselines:
            m['test'] = {name: _mean_std([f['test'][name]
                                          for f in m['finals']])
                         for name in ('recall@20', 'ndcg@20', 'recall@10',
                                      'ndcg@10')}
    return {
        'protocol': 'clean',
        'search': {'config_file': 'benchmarks/configs/clean.json',
                   'seed': search['seed'], 'trials_per_method': clean.trials,
                   'narrowed_by': search.get('narrowed_by'),
                   'selection': 'best validation Recall@20'},
        'methods': methods,
        'baselines': baselines,
        'claims': claims,
        'claims_left_out': left_out,
    }
