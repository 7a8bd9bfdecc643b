r"""The summary of the ``simce`` suite: SimCE against BPR and SSM under the
SimCE paper's own protocol (its settings, per-run epoch budgets and the
best test evaluation), with Recall and NDCG at 10 and 20, BPR's figure at
SimCE's budget read from BPR's own learning curve, and where each loss's push
on its negatives lands (:mod:`benchmarks.suites.false_negatives`)."""
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from benchmarks.suites.report import fmt, fmt_ms, mean_std

Row = Dict[str, Any]


def _best_until(curve: List[Dict[str, Any]], epoch: int) -> Optional[float]:
    # The best test Recall@20 evaluated up to :obj:`epoch` (the paper's
    # selection, stopped at that budget).
    values = [c['recall@20'] for c in curve if c['epoch'] <= epoch]
    return max(values) if values else None


def _epochs(recs: List[Dict[str, Any]]) -> str:
    # The epoch budget, or how far the unfinished seeds have come.
    budget = recs[0]['spec']['epochs']
    done = [x.get('epochs_run', budget) for x in recs
            if x.get('unfinished')]
    if not done:
        return str(budget)
    return f"{min(done)} of {budget} (unfinished)"


def _best_margin(simce: List[Row],
                 records: Dict[str, List[Dict[str, Any]]]) -> Dict[str, Any]:
    # The SimCE run with the best mean Recall@20.  When the margins have
    # different numbers of seeds (--run-seeds), they are compared on the
    # seeds all of them have: a mean over three seeds against one seed's
    # figure would rank the noise.
    counts = {len(records[r['label']]) for r in simce}
    n = min(counts)
    for r in simce:
        seeds = [x['spec']['seed'] for x in records[r['label']][:n]]
        if seeds != list(range(n)):
            raise ValueError(f"{r['label']}: records of seeds {seeds}; the "
                             f"margins are compared on seeds 0-{n - 1}, "
                             f"each run's records in seed order")
    score = {r['label']: mean_std([
        x['test']['recall@20'] for x in records[r['label']][:n]])['mean']
        for r in simce}
    note = ('' if len(counts) == 1 else ", seed 0 of every margin"
            if n == 1 else f", seeds 0-{n - 1}, those every margin has")
    top = max(score.values())
    # Margins that tie at the printed precision are named together (while
    # the hinge is active for every positive, margins give the same model).
    best = [label for label, x in score.items()
            if f'{x:.4f}' == f'{top:.4f}']
    return {'claim': 'best SimCE margin on this dataset', 'holds': None,
            'evidence': f"{' and '.join(best)} (Recall@20 {top:.4f}"
            f"{', tied' if len(best) > 1 else ''}{note})"}


def probe_negatives(cfg: Dict[str, Any]) -> int:
    r"""The negatives per positive of the push probe: the most that any
    run of the suite draws, also when ``--runs`` reports only some runs, so
    that every invocation analyses the runs on the same probe (and a stored
    analysis stays valid)."""
    runs = cfg.get('all_runs') or cfg.get('runs') or []
    return max([int(r.trainer_kwargs.get('num_negatives', 1))
                for r in runs] or [1])


def false_negative_summary(records: Dict[str, List[Dict[str, Any]]],
                           split: Any, work: Path,
                           num_neg: int) -> Dict[str, Any]:
    r"""The expected share of test items among each run's negatives and, for
    every seed-0 run with a checkpoint, where its loss pushes (one seeded
    probe of training positives shared by all runs).  The analysis is kept
    in the run's record (``push_analysis``, which the paper ledger stores),
    so that a run whose checkpoint is gone is reported with it."""
    from benchmarks.suites.false_negatives import (
        expected_test_draws,
        probe_draw,
        run_push,
    )
    from benchmarks.suites.training import run_folder

    train = split.train['user', 'rates', 'item'].edge_index
    test = split.test['user', 'rates', 'item'].edge_label_index
    probe = probe_draw(train, test, split.num_users, split.num_items,
                       num_neg)
    # The probe the analysis used: a stored analysis (the ledger's, for a
    # run whose checkpoint is gone) counts only for the same probe.
    used = {'num_negatives': num_neg,
            'probe_positives': int(probe['neg'].size(0))}
    runs = {}
    for label, recs in records.items():
        rec = next((r for r in recs if r['spec']['seed'] == 0), None)
        if rec is None:
            continue
        push = run_push(rec, run_folder(rec['spec'], work), split, probe)
        if push:
            rec['push_analysis'] = dict(used, push=push)
        else:
            stored = rec.get('push_analysis') or {}
            if {k: stored.get(k) for k in used} == used:
                push = stored.get('push')
        if push:
            runs[label] = push
    header = ['run', 'model', 'epoch', 'hardest negative is a test item',
              "share of the loss's negative gradient on test items",
              'positives whose negatives get gradient',
              'training degree of the pushed negatives', 'Recall@20',
              'mean training degree of the top 20']
    body = [[label, name, str(p['epoch']), fmt(p['hardest_is_test']),
             fmt(p['gradient_on_test']), fmt(p['active']),
             f"{p['pushed_degree']:.0f}", fmt(p['recall@20']),
             f"{p['top_mean_degree']:.0f}"]
            for label, push in runs.items() for name, p in push.items()]
    expected = expected_test_draws(train, test, split.num_users,
                                   split.num_items, num_neg)
    any_push = next((p for push in runs.values() for p in push.values()),
                    None)
    title = (f"Test items among the negatives: {num_neg} uniform draws "
             f"excluding training items contain a test item of the user for "
             f"{expected['draws_with_test']:.1%} of training positives "
             f"(exact; {expected['test_share_of_draws']:.2%} of draws)"
             + (f"; probe of {probe['neg'].size(0)} positives, seed 0: "
                f"{any_push['draws_with_test']:.1%}" if any_push else '')
             + ". Where each run's loss pushes on those draws, and how "
             "popular its top-20 lists are, at its seed-0 model (test "
             "users, training items masked)"
             + (f"; the test items' own mean training degree is "
                f"{any_push['test_mean_degree']:.0f}, the draws' "
                f"{any_push['drawn_degree']:.0f}" if any_push else '')
             + ':')
    return {'expected': expected, 'runs': runs, 'num_negatives': num_neg,
            'probe_positives': int(probe['neg'].size(0)),
            'table': {'title': title, 'header': header, 'rows': body}}


def simce_protocol(cfg: Dict[str, Any], rows: List[Row],
                   records: Dict[str, List[Dict[str, Any]]],
                   split_of: Optional[Callable[[], Any]] = None,
                   work: Optional[Path] = None,
                   **_: Any) -> Dict[str, Any]:
    header = ['run', 'epochs', 'Recall@10', 'NDCG@10', 'Recall@20',
              'NDCG@20', 'best epoch(s)', 'best Recall@20 by epoch 50']
    body = []
    for r in rows:
        recs = records[r['label']]
        body.append([
            r['label'], _epochs(recs),
            fmt_ms(mean_std([x['test']['recall@10'] for x in recs])),
            fmt_ms(mean_std([x['test']['ndcg@10'] for x in recs])),
            fmt_ms(r['recall@20']), fmt_ms(r['ndcg@20']),
            ', '.join(str(x['best_epoch']) for x in recs),
            fmt(mean_std([_best_until(x['curve'], 50) or 0.0
                          for x in recs])['mean']),
        ])
    verdicts = []
    by = {r['label']: r for r in rows}
    # The oracle runs diagnose; they are not settings one could choose.
    simce = [r for r in rows if r['loss'] == 'simce' and not records[
        r['label']][0]['spec'].get('negatives_exclude')]
    if simce and len(rows) > 1:
        verdicts.append(_best_margin(simce, records))
    bpr = by.get('BPR (200 epochs)')
    if bpr is not None:
        recs = records[bpr['label']]
        at50 = mean_std([_best_until(x['curve'], 50) or 0.0
                         for x in recs])['mean']
        verdicts.append({
            'claim': 'epoch budget: BPR selected within 50 epochs (the '
            "budget SimCE gets)", 'holds': None,
            'evidence': f"Recall@20 {at50:.4f} by epoch 50 against "
            f"{bpr['recall@20']['mean']:.4f} after {_epochs(recs)}"})
    out = {'table': {'header': header, 'rows': body}, 'verdicts': verdicts}
    if split_of is not None and work is not None and records:
        negatives = false_negative_summary(
            records, split_of(), work, probe_negatives(cfg))
        out['false_negatives'] = negatives
        out['tables'] = [negatives['table']]
    return out
