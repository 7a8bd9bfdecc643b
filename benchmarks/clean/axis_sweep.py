r"""One axis of a method's search space swept around the setting the clean
protocol chose for it, on validation only: a tuning trace that separates
one hyper-parameter's effect from the others' (the clean trials vary
several at once).

``python -m benchmarks.clean.axis_sweep --suite losses --dataset ml-1m
--method SimCE --axis trainer.num_negatives`` reads the method's chosen
setting from the committed clean result
(``benchmarks/results/clean/<suite>/<dataset>.json``), trains it with every
value the search space declares for the axis (seed 0; the value chosen is
the chosen trial itself, from the run cache) and writes
``benchmarks/results/clean/sweeps/<suite>-<dataset>-<method>-<axis>.json``
and ``.md``.  The test split is never opened: the sweep is a diagnostic of
validation, not a further selection.  For the number of negatives (per-user
uniform or a shared pool) it also gives the exact share of training
positives whose negatives contain a validation item (a false negative the
model is pushed away from).
"""
import argparse
import json
import re
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from benchmarks.clean.clean_config import (
    clean_settings,
    dataset_search,
    load_clean,
)
from benchmarks.clean.clean_run import train_clean
from benchmarks.clean.clean_suite import clean_spec, method_space_of
from benchmarks.clean.search import describe
from benchmarks.clean.validation_split import CleanData, carve_validation
from benchmarks.common import (
    environment_info,
    recorded_command,
    write_json,
)
from benchmarks.suites.config import ConfigError, load_suite
from benchmarks.suites.paper_report import RESULTS
from benchmarks.suites.training import WORK, SplitCache

RATES = ('user', 'rates', 'item')


def sweep_points(chosen: Dict[str, Any], axis: str,
                 space: Dict[str, List[Any]]) -> List[Dict[str, Any]]:
    r"""The chosen point with :obj:`axis` set to each value the space
    declares for it, in the declared order."""
    if axis not in space:
        raise ConfigError(f"--axis: {axis!r} is not an axis of the method's "
                          f"search space (expected one of {sorted(space)})")
    return [dict(chosen, **{axis: value}) for value in space[axis]]


def held_out_among_draws(data: CleanData, values: List[int],
                         mode: str) -> Optional[Dict[str, float]]:
    r"""For each number of negatives, the exact share of training positives
    whose negatives contain at least one of the user's validation items:
    :obj:`mode` ``'uniform'`` draws each positive's negatives uniformly
    from the items outside the user's training items, ``'shared'`` draws
    one pool per batch uniformly from the catalogue and drops each user's
    training items from it. :obj:`None` for other modes."""
    from benchmarks.suites.false_negatives import expected_test_draws

    if mode not in ('uniform', 'shared'):
        return None
    train = data.train[RATES].edge_index
    val = data.val[RATES].edge_label_index
    return {str(n): expected_test_draws(
        train, val, data.num_users, data.num_items, int(n),
        shared_pool=mode == 'shared')['draws_with_test'] for n in values}


def run_sweep(suite: str, dataset: str, method: str, axis: str,
              result: Dict[str, Any], data: CleanData, work: Path,
              device: str = 'cpu', log: Any = print,
              search: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    r"""Trains the sweep of :obj:`axis` around :obj:`method`'s chosen setting
    in the clean :obj:`result` of :obj:`suite` on :obj:`dataset`; returns
    the payload (validation metrics only). :obj:`search` is the parsed
    ``benchmarks/configs/clean.json`` (default: read it)."""
    runs = {r.label: r for r in load_suite(suite)['runs']}
    chosen = {m['label']: m for m in result['methods']}
    if method not in runs or method not in chosen:
        raise ConfigError(f"--method: {method!r} has no clean result in "
                          f"{suite}/{dataset} (expected one of "
                          f"{sorted(set(runs) & set(chosen))})")
    run, found = runs[method], chosen[method]
    search = dataset_search(load_clean() if search is None else search,
                            dataset)
    clean = clean_settings(dataset, search)
    space = method_space_of(run, search)
    points = sweep_points(found['chosen'], axis, space)
    rows = []
    for point in points:
        spec = clean_spec(run, clean, point, 0, device)
        t = time.perf_counter()
        rec = train_clean(spec, data, work)
        # A clean run evaluates validation only: its curve is validation.
        curve = [(c['epoch'], c['recall@20']) for c in rec['curve']]
        rows.append({
            'value': point[axis], 'point': point, 'key': rec['key'],
            'chosen': point == found['chosen'],
            'valid': {k: rec['valid'][k] for k in ('recall@20', 'ndcg@20')},
            'best_epoch': rec['best_epoch'], 'epochs_run': rec['epochs_run'],
            'stopped_by': rec['stopped_by'],
            'train_seconds': rec['train_seconds'],
            'negative_sampling': rec['negative_sampling'],
            'valid_recall20_curve': curve,
        })
        log(f"  {method} [{describe(point)}]: valid Recall@20 "
            f"{rec['valid']['recall@20']:.4f} (epoch {rec['best_epoch']}/"
            f"{rec['epochs_run']}, {'cached' if rec['cached'] else 'trained'}"
            f" {time.perf_counter() - t:.1f} s)")
    payload = {
        'suite': suite, 'dataset': dataset, 'method': method, 'axis': axis,
        'protocol': 'clean', 'split': 'validation (the test split is never '
        'opened)', 'seed': 0, 'chosen': found['chosen'],
        'settings': clean.to_dict(), 'rows': rows,
    }
    if axis == 'trainer.num_negatives':
        mode = rows[0]['negative_sampling']
        share = held_out_among_draws(data, space[axis], mode)
        if share is not None:
            payload['validation_items_among_draws'] = share
    return payload


def render_sweep(payload: Dict[str, Any]) -> str:
    r"""The markdown report of a sweep."""
    axis = payload['axis']
    share = payload.get('validation_items_among_draws')
    header = [axis, 'valid Recall@20', 'valid NDCG@20', 'best/run epochs',
              'Recall@20 at the last evaluation']
    if share:
        mode = payload['rows'][0]['negative_sampling']
        header.append(f'positives with a validation item among their '
                      f'negatives ({mode})')
    lines = [
        f"## {payload['method']}: {axis} around its clean choice — "
        f"{payload['suite']} on {payload['dataset']}", '',
        f"Reproduce: `python -m benchmarks.clean.axis_sweep --suite "
        f"{payload['suite']} --dataset {payload['dataset']} --method "
        f"\"{payload['method']}\" --axis {axis}`", '',
        f"Protocol **clean**, validation only (the test split is never "
        f"opened), seed 0. Chosen on validation: "
        f"`{describe(payload['chosen'])}`; each row changes {axis} only.",
        '',
        '| ' + ' | '.join(header) + ' |',
        '|' + '---|' * len(header),
    ]
    for r in payload['rows']:
        last = r['valid_recall20_curve'][-1][1] if \
            r['valid_recall20_curve'] else float('nan')
        cells = [f"{r['value']}{' (chosen)' if r['chosen'] else ''}",
                 f"{r['valid']['recall@20']:.4f}",
                 f"{r['valid']['ndcg@20']:.4f}",
                 f"{r['best_epoch']}/{r['epochs_run']}", f'{last:.4f}']
        if share:
            cells.append(f"{share[str(r['value'])]:.1%}")
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def sweep_stem(payload: Dict[str, Any]) -> str:
    r"""The file name (without suffix) of a sweep's report."""
    parts = [payload['suite'], payload['dataset'].replace('/', '-'),
             payload['method'], payload['axis']]
    return '-'.join(re.sub(r'[^A-Za-z0-9_.+-]+', '_', p) for p in parts)


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    r"""``python -m benchmarks.clean.axis_sweep``: see the module's doc."""
    import torch

    parser = argparse.ArgumentParser(
        prog='python -m benchmarks.clean.axis_sweep',
        description='Sweep one axis of a method around its clean-protocol '
        'choice, on validation only.')
    parser.add_argument('--suite', required=True)
    parser.add_argument('--dataset', required=True)
    parser.add_argument('--method', required=True,
                        help='a run label of the suite, e.g. SimCE')
    parser.add_argument('--axis', required=True,
                        help='an axis of its search space, e.g. '
                        'trainer.num_negatives')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--data-root', default=None)
    parser.add_argument('--work', type=Path, default=WORK)
    parser.add_argument('--results', type=Path, default=RESULTS,
                        help='folder of the clean results read and written '
                        '(default: benchmarks/results)')
    args = parser.parse_args(argv)
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f'--threads expected a positive count (got '
                         f'{args.threads})')
        torch.set_num_threads(args.threads)
    stem = args.dataset.replace('/', '-')
    path = args.results / 'clean' / args.suite / f'{stem}.json'
    if not path.is_file():
        parser.error(f'{path}: no clean result to sweep around (run python '
                     f'-m benchmarks.run {args.suite} --protocol clean '
                     f'--datasets {args.dataset} first)')
    result = json.loads(path.read_text())
    try:
        search = load_clean()
        clean = clean_settings(args.dataset, search)
        split = SplitCache(args.data_root).get(args.dataset,
                                               clean.settings.load)
        data = carve_validation(split, clean.val_ratio, clean.val_seed)
        payload = run_sweep(args.suite, args.dataset, args.method, args.axis,
                            result, data, args.work, args.device,
                            log=lambda s: print(s, flush=True),
                            search=search)
    except ConfigError as e:
        parser.error(str(e))
    except FileNotFoundError as e:
        parser.error(f'{args.dataset}: {e}')
    except KeyboardInterrupt:
        # Every run is checkpointed after each epoch.
        print('interrupted; run the same command again to resume',
              flush=True)
        raise SystemExit(130)
    payload['environment'] = environment_info(seed=0, device=args.device)
    payload['command'] = recorded_command('benchmarks.clean.axis_sweep',
                                          argv)
    folder = args.results / 'clean' / 'sweeps'
    folder.mkdir(parents=True, exist_ok=True)
    name = sweep_stem(payload)
    write_json(folder / f'{name}.json', payload)
    (folder / f'{name}.md').write_text(render_sweep(payload))
    return payload


if __name__ == '__main__':
    main()
