r"""The validation-only sweep of one axis around a clean-protocol choice:
it varies that axis alone, re-uses the chosen trial, never opens the test
split, and its share of draws with a validation item matches a simulation.
"""
import json
import shlex

import pytest
import torch

from benchmarks.clean import axis_sweep, clean_suite
from benchmarks.clean.clean_config import clean_settings, load_clean
from benchmarks.clean.validation_split import carve_validation
from benchmarks.suites.config import ConfigError, load_suite
from pyg_simce.data import load_dataset

RATES = ('user', 'rates', 'item')


class NeverOpened:
    r"""A test part that fails the test when touched."""
    def __getattr__(self, name):
        raise AssertionError('the sweep read the test split')

    def __getitem__(self, key):
        raise AssertionError('the sweep read the test split')


@pytest.fixture(scope='module')
def suite_result(tmp_path_factory):
    work = tmp_path_factory.mktemp('work')
    clean = clean_settings('synthetic')
    split = load_dataset('synthetic', **clean.settings.load)
    data = carve_validation(split, clean.val_ratio, clean.val_seed)
    cfg = load_suite('losses')
    cfg['runs'] = [r for r in cfg['runs'] if r.label == 'SimCE']
    out = clean_suite.run_clean_suite(cfg, clean, data, work, 'cpu',
                                      load_clean(), log=lambda s: None)
    guarded = carve_validation(split._replace(test=NeverOpened()),
                               clean.val_ratio, clean.val_seed)
    return out, guarded, work


def test_sweep_varies_one_axis_and_reuses_the_chosen_trial(suite_result):
    result, data, work = suite_result
    method = result['methods'][0]
    declared = load_clean()['loss']['simce']['loss.margin']
    payload = axis_sweep.run_sweep('losses', 'synthetic', 'SimCE',
                                   'loss.margin', result, data, work,
                                   log=lambda s: None)
    assert [r['value'] for r in payload['rows']] == declared
    for row in payload['rows']:
        other = {k: v for k, v in row['point'].items() if k != 'loss.margin'}
        assert other == {k: v for k, v in method['chosen'].items()
                         if k != 'loss.margin'}
    chosen = [r for r in payload['rows'] if r['chosen']]
    assert len(chosen) == 1
    assert chosen[0]['value'] == method['chosen']['loss.margin']
    trial = method['trials'][method['chosen_trial']]
    assert chosen[0]['key'] == trial['key']  # the same cached run
    assert chosen[0]['valid']['recall@20'] == trial['valid']['recall@20']
    assert len({r['key'] for r in payload['rows']}) == len(declared)
    for row in payload['rows']:
        assert row['valid_recall20_curve'][-1][0] == row['epochs_run']
    assert 'validation_items_among_draws' not in payload
    md = axis_sweep.render_sweep(payload)
    assert md.count('(chosen)') == 1
    assert '--axis loss.margin' in md


@pytest.mark.parametrize('mode', ['uniform', 'shared'])
def test_share_of_draws_with_a_validation_item_matches_a_simulation(
        suite_result, mode):
    _, data, _ = suite_result
    share = axis_sweep.held_out_among_draws(data, [1, 8], mode)
    train = data.train[RATES].edge_index
    val = data.val[RATES].edge_label_index
    known = torch.zeros(data.num_users, data.num_items, dtype=torch.bool)
    known[train[0], train[1]] = True
    held = torch.zeros_like(known)
    held[val[0], val[1]] = True
    g = torch.Generator().manual_seed(0)
    for n, expected in ((1, share['1']), (8, share['8'])):
        hits = 0.0
        reps = 40
        for _ in range(reps):
            for u in train[0].tolist():
                if mode == 'uniform':  # per positive, outside training
                    free = (~known[u]).nonzero().view(-1)
                    draw = free[torch.randint(len(free), (n, ),
                                              generator=g)]
                else:  # a pool from the catalogue, training items dropped
                    draw = torch.randint(data.num_items, (n, ), generator=g)
                    draw = draw[~known[u, draw]]
                hits += float(held[u, draw].any())
        rate = hits / (reps * train.size(1))
        assert abs(rate - expected) < 0.01, (n, rate, expected)
    assert 0 < share['1'] < share['8'] < 1
    assert axis_sweep.held_out_among_draws(data, [8], 'in-batch') is None


def test_unknown_axis_and_method_are_refused(suite_result):
    result, data, work = suite_result
    with pytest.raises(ConfigError, match="'loss.temperature' is not an "
                       "axis.*loss.margin"):
        axis_sweep.run_sweep('losses', 'synthetic', 'SimCE',
                             'loss.temperature', result, data, work)
    with pytest.raises(ConfigError, match="'SSM' has no clean result.*"
                       "SimCE"):
        axis_sweep.run_sweep('losses', 'synthetic', 'SSM', 'lr', result,
                             data, work)


def test_cli_writes_the_report_and_names_a_missing_result(tmp_path,
                                                           suite_result,
                                                           capsys):
    result, _, work = suite_result
    tmp_path = tmp_path / 'a folder'  # a space the command must quote
    with pytest.raises(SystemExit):
        axis_sweep.main(['--suite', 'losses', '--dataset', 'synthetic',
                         '--method', 'SimCE', '--axis', 'lr', '--results',
                         str(tmp_path), '--work', str(work)])
    assert 'synthetic.json: no clean result' in capsys.readouterr().err
    folder = tmp_path / 'clean' / 'losses'
    folder.mkdir(parents=True)
    (folder / 'synthetic.json').write_text(json.dumps(result))
    argv = ['--suite', 'losses', '--dataset', 'synthetic', '--method',
            'SimCE', '--axis', 'trainer.num_negatives', '--results',
            str(tmp_path), '--work', str(work), '--threads', '1']
    payload = axis_sweep.main(argv)
    stem = 'losses-synthetic-SimCE-trainer.num_negatives'
    saved = json.loads((tmp_path / 'clean' / 'sweeps' / f'{stem}.json')
                       .read_text())
    assert saved['rows'] == json.loads(json.dumps(payload['rows']))
    assert saved['environment']['seed'] == 0
    # The recorded command, pasted into a shell, is the same invocation.
    assert shlex.split(saved['command']) == [
        'python', '-m', 'benchmarks.clean.axis_sweep', *argv]
    declared = load_clean()['loss']['simce']['trainer.num_negatives']
    assert set(saved['validation_items_among_draws']) == {
        str(n) for n in declared}
    md = (tmp_path / 'clean' / 'sweeps' / f'{stem}.md').read_text()
    assert 'validation item among their negatives (shared)' in md
