r"""``benchmarks.baselines`` on a tiny synthetic split: every fitted setting
records the environment that fitted it, a kept setting keeps its own (the
file-level environment is the latest command's), and the recorded metrics
equal :func:`pyg_simce.metrics.evaluate_ranking` of the model's scores."""
import json

import pytest
import torch

from benchmarks import baselines
from pyg_simce.data import load_dataset

SETTINGS = {'mostpop': [('default', {})],
            'ease': [('lambda=50', {'lambda_': 50.0})]}


@pytest.fixture
def tiny(monkeypatch):
    split = load_dataset('synthetic', num_users=80, num_items=120,
                         mean_degree=8.0, seed=0)
    monkeypatch.setitem(baselines.SETTINGS, 'ml-100k', SETTINGS)
    monkeypatch.setattr('pyg_simce.data.load_dataset',
                        lambda *args, **kwargs: split)
    return split


def test_each_setting_records_its_own_environment(tiny, tmp_path):
    out = tmp_path / 'b.json'
    first = baselines.main(['--models', 'mostpop,ease', '--out', str(out)])
    stamps = {name: first['models'][name]['runs'][0]['environment']
              for name in SETTINGS}
    for env in stamps.values():
        assert env['seed'] == 0
        assert env['versions']['torch'] == torch.__version__
        assert env['device'] == 'cpu'

    # A later command that refits EASE only: MostPopular is kept with the
    # environment of the first command, EASE gets a new one, and the file's
    # environment is the second command's.
    saved = json.loads(out.read_text())
    saved['models']['mostpop']['runs'][0]['environment']['timestamp'] = \
        'first-command'
    saved['models']['ease']['runs'][0]['environment']['timestamp'] = \
        'first-command'
    out.write_text(json.dumps(saved))
    second = baselines.main(['--models', 'mostpop,ease', '--out', str(out),
                             '--seed', '1'])
    kept = second['models']['mostpop']['runs'][0]
    refit = second['models']['ease']['runs'][0]
    assert kept['environment']['timestamp'] == 'first-command'
    assert kept['environment']['seed'] == 0
    # EASE takes no seed, so its arguments match and it is kept too; a
    # --refit fits it again under the second command's seed.
    assert refit['environment']['timestamp'] == 'first-command'
    third = baselines.main(['--models', 'ease', '--out', str(out),
                            '--seed', '1', '--refit'])
    assert third['models']['ease']['runs'][0]['environment']['seed'] == 1
    assert third['models']['ease']['runs'][0]['environment']['timestamp'] \
        != 'first-command'
    assert third['models']['mostpop']['runs'][0]['environment'][
        'timestamp'] == 'first-command'
    assert third['environment']['seed'] == 1


def test_recorded_metrics_equal_evaluate_ranking(tiny, tmp_path):
    from pyg_simce.baselines import EASE
    from pyg_simce.metrics import evaluate_ranking
    payload = baselines.main(['--models', 'ease', '--out',
                              str(tmp_path / 'b.json')])
    recorded = payload['models']['ease']['runs'][0]['test']
    model = EASE(lambda_=50.0)
    model.fit(tiny.train)
    edges = tiny.train['user', 'rates', 'item'].edge_index
    test = tiny.test['user', 'rates', 'item'].edge_label_index
    # Dense scores as user embeddings against the identity: the evaluator
    # ranks exactly the model's scores.
    scores = model.score(torch.arange(tiny.num_users))
    reference = evaluate_ranking(scores, torch.eye(tiny.num_items), edges,
                                 test, ks=(20, ))
    assert recorded['recall@20'] == pytest.approx(reference['recall@20'],
                                                  abs=1e-9)
    assert recorded['ndcg@20'] == pytest.approx(reference['ndcg@20'],
                                                abs=1e-9)


def test_a_model_without_settings_for_the_data_set_is_skipped(
        tiny, tmp_path, capsys):
    # Yelp2018 has no EASE setting (a 20-minute fit not run yet): the
    # default model list still fits the others and names the skip.
    out = tmp_path / 'b.json'
    payload = baselines.main(['--models', 'mostpop,itemknn,ease', '--out',
                              str(out)])
    assert sorted(payload['models']) == ['ease', 'mostpop']
    assert 'ml-100k itemknn: no settings for this data set' in (
        capsys.readouterr().out)
    assert json.loads(out.read_text())['models'].keys() == {'ease',
                                                           'mostpop'}
