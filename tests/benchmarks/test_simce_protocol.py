r"""The summary of the ``simce`` suite on hand-made records: the best-margin
observation ignores the oracle runs, and an unfinished run is reported with
the epochs it has run, never as if its budget were spent."""
import pytest

from benchmarks.suites.simce_protocol import simce_protocol


def run(label, recall, loss='simce', exclude=None, epochs=50, run_to=None,
        seed=0):
    spec = {'epochs': epochs, 'loss_kwargs': {}, 'seed': seed}
    if exclude:
        spec['negatives_exclude'] = exclude
    curve = [{'epoch': e, 'recall@20': recall * e / (run_to or epochs)}
             for e in range(5, (run_to or epochs) + 1, 5)]
    rec = {'spec': spec, 'test': {'recall@10': recall, 'ndcg@10': recall,
                                  'recall@20': recall},
           'best_epoch': curve[-1]['epoch'], 'curve': curve}
    if run_to is not None:
        rec.update(unfinished=True, epochs_run=run_to)
    stat = {'mean': recall, 'std': 0.0}
    return ({'label': label, 'loss': loss, 'recall@20': stat,
             'ndcg@20': stat}, rec)


def summarise(pairs):
    rows = [r for r, _ in pairs]
    records = {r['label']: [rec] for r, rec in pairs}
    return simce_protocol({}, rows, records)


def test_best_margin_ignores_oracle_runs():
    summary = summarise([run('SimCE margin 1', 0.27),
                         run('SimCE margin 5', 0.28),
                         run('SimCE margin 5, oracle', 0.45, exclude='test')])
    best = summary['verdicts'][0]
    assert best['claim'] == 'best SimCE margin on this dataset'
    assert best['evidence'] == 'SimCE margin 5 (Recall@20 0.2800)'
    assert 'false_negatives' not in summary  # no split given: no probe


def test_best_margin_compares_the_seeds_every_margin_has():
    # Margin 5 over three seeds (0.19, 0.17, 0.15: mean 0.17) against
    # margin 10's one seed (0.18): on seed 0 alone margin 5 is ahead, and
    # its three-seed mean must not be ranked against one seed's figure.
    five = [run('SimCE margin 5', r, seed=i)[1]
            for i, r in enumerate((0.19, 0.17, 0.15))]
    for rec, r in zip(five, (0.19, 0.17, 0.15)):
        rec['test']['recall@20'] = r
    ten_row, ten = run('SimCE margin 10', 0.18)
    ten['test']['recall@20'] = 0.18
    rows = [{'label': 'SimCE margin 5', 'loss': 'simce',
             'recall@20': {'mean': 0.17, 'std': 0.02},
             'ndcg@20': {'mean': 0.17, 'std': 0.02}}, ten_row]
    records = {'SimCE margin 5': five, 'SimCE margin 10': [ten]}
    best = simce_protocol({}, rows, records)['verdicts'][0]
    assert best['evidence'] == ('SimCE margin 5 (Recall@20 0.1900, seed 0 '
                                'of every margin)')
    # A tie at the printed precision names both margins.
    ten['test']['recall@20'] = 0.19
    best = simce_protocol({}, rows, records)['verdicts'][0]
    assert best['evidence'] == ('SimCE margin 5 and SimCE margin 10 '
                                '(Recall@20 0.1900, tied, seed 0 of every '
                                'margin)')
    ten['test']['recall@20'] = 0.18
    # With two seeds of margin 10, seeds 0-1 are compared: margin 10's
    # 0.19 against margin 5's 0.18.
    ten2 = run('SimCE margin 10', 0.18, seed=1)[1]
    ten2['test']['recall@20'] = 0.20
    records['SimCE margin 10'] = [ten, ten2]
    best = simce_protocol({}, rows, records)['verdicts'][0]
    assert best['evidence'] == ('SimCE margin 10 (Recall@20 0.1900, seeds '
                                '0-1, those every margin has)')
    # Records out of seed order would pair other seeds: refused.
    records['SimCE margin 10'] = [ten2, ten]
    with pytest.raises(ValueError, match=r'SimCE margin 10: records of '
                       r'seeds \[1, 0\]'):
        simce_protocol({}, rows, records)


@pytest.mark.parametrize('run_to,expected', [
    (None, '200'), (20, '20 of 200 (unfinished)')])
def test_unfinished_bpr_is_reported_with_the_epochs_it_ran(run_to, expected):
    summary = summarise([run('SimCE margin 5', 0.18),
                         run('BPR (200 epochs)', 0.30, loss='bpr',
                             epochs=200, run_to=run_to)])
    rows = {row[0]: row for row in summary['table']['rows']}
    assert rows['BPR (200 epochs)'][1] == expected
    assert rows['SimCE margin 5'][1] == '50'
    budget = summary['verdicts'][-1]
    assert budget['claim'].startswith('epoch budget')
    assert budget['evidence'].endswith(f'after {expected}')
    # By epoch 50 the curve has reached 50 / (epochs run) of its end value.
    ran = run_to or 200
    assert budget['evidence'].startswith(
        f"Recall@20 {0.30 * min(50, ran) / ran:.4f} by epoch 50")


def test_push_probe_draws_as_many_negatives_as_the_largest_run_of_the_suite():
    # `--runs "BPR (200 epochs)"` reports BPR alone (1 negative); the probe
    # must still be the suite's, or the stored analysis of every run would
    # be recomputed on a different probe.
    import json
    from pathlib import Path

    from benchmarks.suites.config import load_suite, select_runs
    from benchmarks.suites.simce_protocol import probe_negatives

    path = Path(__file__).parents[2] / 'benchmarks/configs/simce.json'
    raw = json.loads(path.read_text())['runs']
    largest = max(r['trainer_kwargs'].get('num_negatives', 1) for r in raw)
    assert largest > 1
    cfg = load_suite('simce')
    assert probe_negatives(cfg) == largest
    select_runs(cfg, ['BPR (200 epochs)'], 'simce')
    assert [r.label for r in cfg['runs']] == ['BPR (200 epochs)']
    assert probe_negatives(cfg) == largest
