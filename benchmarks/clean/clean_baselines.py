r"""The classical baselines (:mod:`pyg_simce.baselines`) under the clean
protocol, with the same tuning budget as the trained methods: the same
number of trials from each model's declared space
(``baselines`` of ``benchmarks/configs/clean.json``), fitted on the
training part and selected on validation Recall@20; the chosen setting is
fitted once per seed (iALS and GF-CF take the seed; the others are
deterministic, so their seeds coincide) and evaluated once on the test
split.  Fits are cached under ``<work>/<dataset>/baselines/`` and kept in
the committed ledger (:class:`benchmarks.clean.run_ledger.RunLedger`), so
that a checkout without the run cache reports them without fitting them
again."""
import hashlib
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from benchmarks.clean.run_ledger import RunLedger
from benchmarks.clean.search import describe, draw_trials
from benchmarks.clean.validation_split import CleanData, final_evaluation
from benchmarks.common import write_json
from benchmarks.suites.per_user import per_user_record

#: Baselines whose fit depends on a seed.
SEEDED = ('ials', 'gfcf')
#: Display names.
NAMES = {'gfcf': 'GF-CF', 'ease': 'EASE', 'ials': 'iALS',
         'itemknn': 'ItemKNN', 'mostpop': 'MostPopular'}


def _key(payload: Dict[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _fit_evaluate(name: str, kwargs: Dict[str, Any], seed: int,
                  data: CleanData, dataset: str, work: Path,
                  final: bool,
                  ledger: Optional[RunLedger] = None
                  ) -> Tuple[Dict[str, Any], str]:
    # The run cache first, then the ledger, else a fit (which both keep);
    # returns the result and where it came from.
    spec = {'protocol': 'clean', 'dataset': dataset, 'baseline': name,
            'kwargs': kwargs, 'seed': seed if name in SEEDED else None,
            'validation': {'ratio': data.val_ratio, 'seed': data.val_seed}}
    folder = Path(work) / dataset.replace('/', '-') / 'baselines'
    path = folder / f"{_key(spec)}{'-test' if final else ''}.json"
    source = 'cached'
    if path.is_file():
        out = json.loads(path.read_text())
    else:
        out = ledger.get_baseline(spec, final) if ledger else None
        source = 'from the ledger'
        if out is None:
            out, source = _fit(name, kwargs, seed, spec, data, final), 'fitted'
        write_json(path, out)
    if ledger is not None:
        ledger.put_baseline(spec, final, out)
    return out, source


def _fit(name: str, kwargs: Dict[str, Any], seed: int, spec: Dict[str, Any],
         data: CleanData, final: bool) -> Dict[str, Any]:
    from pyg_simce.baselines import BASELINES, evaluate_baseline

    rates = ('user', 'rates', 'item')
    args = dict(kwargs, seed=seed) if name in SEEDED else dict(kwargs)
    model = BASELINES[name](**args)
    try:
        model.check_sizes(data.num_users, data.num_items)
    except ValueError as e:  # e.g. a GF-CF rank above the catalogue's
        return {'spec': spec, 'infeasible': str(e)}
    model.fit(data.train)
    train = data.train[rates].edge_index
    out: Dict[str, Any] = {'spec': spec, 'fit_seconds': model.fit_seconds}
    if final:
        with final_evaluation():
            test = data.test.open()
        out.update(per_user_record(evaluate_baseline(
            model, train, test[rates].edge_label_index,
            exclude_edge_index=data.val[rates].edge_label_index,
            ks=(10, 20), return_per_user=True)))
    else:
        res = evaluate_baseline(model, train,
                                data.val[rates].edge_label_index,
                                ks=(10, 20))
        out['valid'] = {k: float(v) for k, v in res.items()}
    return out


def run_baseline(name: str, space: Dict[str, List[Any]], trials: int,
                 seeds: int, search_seed: int, data: CleanData,
                 dataset: str, work: Path, log: Any = print,
                 ledger: Optional[RunLedger] = None) -> Dict[str, Any]:
    r"""Tunes the baseline :obj:`name` on validation, then evaluates the
    chosen setting on the test split once per seed; every fit is read from
    the run cache :obj:`work` or else from :obj:`ledger` when either has
    it, and is kept in both."""
    label = NAMES[name]
    points = draw_trials(space, trials, search_seed, f'baseline:{name}') \
        if space else [{}]
    rows = []
    for n, point in enumerate(points):
        t = time.perf_counter()
        res, source = _fit_evaluate(name, point, 0, data, dataset, work,
                                    False, ledger)
        if 'infeasible' in res:
            # Counted against the budget, as a diverging trial would be.
            rows.append({'trial': n, 'point': point, 'valid': None,
                         'infeasible': res['infeasible']})
            log(f"    {label} trial {n + 1}/{len(points)} "
                f"[{describe(point)}]: not feasible ({res['infeasible']})")
            continue
        rows.append({'trial': n, 'point': point,
                     'valid': {k: res['valid'][k]
                               for k in ('recall@20', 'ndcg@20')},
                     'fit_seconds': res['fit_seconds']})
        log(f"    {label} trial {n + 1}/{len(points)} [{describe(point)}]: "
            f"valid Recall@20 {res['valid']['recall@20']:.4f} "
            f"({source}, {time.perf_counter() - t:.1f} s)")
    feasible = [r for r in rows if r['valid'] is not None]
    if not feasible:
        raise ValueError(f'{label}: no trial of the search space is '
                         f'feasible on {dataset}: {rows[0]["infeasible"]}')
    best = max(feasible, key=lambda r: r['valid']['recall@20'])
    tests = []
    for seed in range(seeds):
        res, source = _fit_evaluate(name, best['point'], seed, data, dataset,
                                    work, True, ledger)
        tests.append(res)
        log(f"    {label} final, seed {seed}: test Recall@20 "
            f"{res['test']['recall@20']:.4f} ({source})")
    return {'label': label, 'baseline': name, 'space': space,
            'trials': rows, 'chosen': best['point'],
            'chosen_trial': best['trial'], 'seeded': name in SEEDED,
            'finals': [{'seed': s, 'test': {k: t['test'][k] for k in
                                            ('recall@10', 'recall@20',
                                             'ndcg@10', 'ndcg@20')},
                        'fit_seconds': t['fit_seconds']}
                       for s, t in enumerate(tests)],
            '_tests': tests}
