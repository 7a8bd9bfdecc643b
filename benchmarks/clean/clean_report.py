r"""The Markdown report of a clean-protocol suite run."""
from typing import Any, Dict, List

from benchmarks.clean.search import describe
from benchmarks.suites.claim_intervals import (
    claims_left_out_markdown,
    claims_markdown,
)
from benchmarks.suites.config import runs_argument


def _table(header: List[str], rows: List[List[str]]) -> List[str]:
    out = ['| ' + ' | '.join(header) + ' |',
           '|' + '|'.join('---' for _ in header) + '|']
    out += ['| ' + ' | '.join(r) + ' |' for r in rows]
    return out


def _ms(x: Dict[str, float]) -> str:
    return f"{x['mean']:.4f} ± {x['std']:.4f}"


def render_clean(payload: Dict[str, Any]) -> str:
    r"""The report: settings, the result per method (mean ± std over
    seeds), the claims with their intervals, and every trial."""
    s = payload['settings']
    search = payload['search']
    seeds = s['seeds']
    skipped = payload.get('runs_skipped') or []
    selection = runs_argument([m['label'] for m in payload['methods']]) \
        if skipped else ''
    lines = [
        f"## {payload['title']} — {payload['dataset']} (clean protocol)", '',
        f"Reproduce: `python -m benchmarks.run {payload['suite']} "
        f"--protocol clean --datasets {payload['dataset']}{selection}`", '',
        f"Protocol **clean**: validation = {s['val_ratio']:.0%} of each "
        f"user's training interactions (seed {s['val_seed']}); every method "
        f"gets {search['trials_per_method']} trials drawn from its search "
        f"space (`{search['config_file']}`"
        + (f", narrowed by {search['narrowed_by']}"
           if search.get('narrowed_by') else '')
        + f", search seed {search['seed']}), "
        f"trained with seed 0 and selected on validation Recall@20 (early "
        f"stopping on validation, patience {s['patience']} evaluations, "
        f"every {s['eval_every']} epochs, at most {s['epochs']}); the chosen "
        f"setting is trained with seeds 0-{seeds - 1} and each is evaluated "
        f"once on the test split. Fixed: embedding {s['embedding_dim']}, "
        f"LightGCN layers {s['num_layers']}, batch {s['batch_size']}. "
        f"Device {payload['device']}; "
        f"{payload.get('training_seconds_total', 0):.0f} s of training in "
        f"its runs (cached runs included), "
        f"{payload['wall_seconds']:.0f} s wall for this report."
        + (f" Methods of the suite not run for this report: "
           f"{', '.join(skipped)}." if skipped else ''),
        '']
    carried = [m['label'] for m in payload['methods'] if m.get('carried')]
    if carried:
        kept = [c['claim'] for c in payload['claims'] if c.get('carried')]
        lines += [
            f"Carried over from the earlier report at this path (runs not "
            f"repeated by the invocation that wrote this one, and checked "
            f"to be the runs the current configs give): the rows marked * "
            f"({', '.join(carried)})"
            + (f", and the earlier intervals of {len(kept)} claim(s) "
               f"whose two sides are unchanged since ({'; '.join(kept)})"
               if kept else '') + '.', '']
    rows = []
    for m in payload['methods']:
        rows.append([m['label'] + (' *' if m.get('carried') else ''),
                     _ms(m['test']['recall@20']),
                     _ms(m['test']['ndcg@20']), _ms(m['test']['recall@10']),
                     describe(m['chosen']),
                     f"{statistics_epochs(m)}"])
    for b in payload.get('baselines', []):
        rows.append([f"{b['label']} (classical)",
                     _ms(b['test']['recall@20']), _ms(b['test']['ndcg@20']),
                     _ms(b['test']['recall@10']),
                     describe(b['chosen']) or '(no hyper-parameters)',
                     '-' if b['seeded'] else 'deterministic'])
    lines += _table(['method', f'Recall@20 ({seeds} seeds)', 'NDCG@20',
                     'Recall@10', 'chosen on validation', 'best epochs'],
                    rows)
    lines += claims_markdown(payload['claims'], seeds)
    lines += claims_left_out_markdown(payload.get('claims_left_out') or [])
    lines += ['', 'Every trial (seed 0; validation metrics):', '']
    trows = []
    for m in payload['methods']:
        for t in m['trials']:
            mark = ' ←' if t['trial'] == m['chosen_trial'] else ''
            trows.append([m['label'], describe(t['point']) or '(defaults)',
                          f"{t['valid']['recall@20']:.4f}{mark}",
                          f"{t['valid']['ndcg@20']:.4f}",
                          f"{t['best_epoch']}/{t['epochs_run']}"])
    for b in payload.get('baselines', []):
        for t in b['trials']:
            if t['valid'] is None:
                trows.append([b['label'], describe(t['point']),
                              'not feasible', '-', t['infeasible']])
                continue
            mark = ' ←' if t['trial'] == b['chosen_trial'] else ''
            trows.append([b['label'], describe(t['point']) or '(defaults)',
                          f"{t['valid']['recall@20']:.4f}{mark}",
                          f"{t['valid']['ndcg@20']:.4f}",
                          f"fit {t['fit_seconds']:.1f} s"])
    lines += _table(['method', 'trial', 'valid Recall@20', 'valid NDCG@20',
                     'best/run epochs'], trows)
    lines += ['', 'Search space per method:', '']
    for m in payload['methods']:
        axes = ', '.join(f"{k} ∈ {v}" for k, v in sorted(m['space'].items()))
        lines.append(f"- {m['label']}: {axes or 'nothing to search'}")
    for b in payload.get('baselines', []):
        axes = ', '.join(f"{k} ∈ {v}" for k, v in sorted(b['space'].items()))
        lines.append(f"- {b['label']}: {axes or 'nothing to search'}")
    lines += ['', f"Source: {payload['reference']}", '']
    return '\n'.join(lines)


def statistics_epochs(method: Dict[str, Any]) -> str:
    r"""The best epochs of the final runs, *e.g.* ``18, 20, 16``."""
    return ', '.join(str(f['best_epoch']) for f in method['finals'])
