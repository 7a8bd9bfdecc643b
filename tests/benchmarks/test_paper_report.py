r"""The settings line of a paper-protocol report states what the runs used:
a run's own model arguments and ``settings`` override the data set's, and a
setting on which runs differ lists every value."""
from benchmarks.suites.paper_report import settings_text

SETTINGS = {'embedding_dim': 64, 'num_layers': 1, 'batch_size': 8192,
            'lr': 0.005, 'reg': 1e-05, 'epochs': 30, 'eval_every': 2,
            'patience': 10, 'ssm_temperature': 0.1}


def row(loss='bpr', model='lightgcn', layers=None, override=None, **loss_kw):
    kwargs = {} if layers is None else {'num_layers': layers}
    return {'label': loss, 'loss': loss, 'model': model,
            'model_kwargs': kwargs, 'loss_kwargs': loss_kw,
            'settings_override': override}


def test_rows_without_overrides_print_the_data_set_settings():
    text = settings_text({'settings': SETTINGS,
                          'rows': [row(), row('ssm')]})
    assert text == ('embedding 64, LightGCN layers 1, batch 8192, lr 0.005, '
                    'reg 1e-05, at most 30 epochs, evaluation every 2, '
                    'patience 10, SSM temperature 0.1')


def test_overrides_replace_the_data_set_settings():
    budget = {'batch_size': 1024, 'lr': 0.001, 'reg': 0.0001,
              'eval_every': 5, 'patience': None}
    rows = [row(layers=2, override=dict(budget, epochs=200)),
            row('ssm', layers=2, override=dict(budget, epochs=50)),
            row('ssm', layers=2, override=dict(budget, epochs=50),
                temperature=1.0)]
    text = settings_text({'settings': SETTINGS, 'rows': rows})
    assert text == ('embedding 64, LightGCN layers 2, batch 1024, lr 0.001, '
                    'reg 0.0001, at most 200 / 50 (per run) epochs, '
                    'evaluation every 5, patience None, SSM temperature '
                    '0.1 / 1.0 (per run)')


def test_layers_count_lightgcn_runs_only():
    rows = [row(model='mf'), row(layers=3), row(layers=0)]
    text = settings_text({'settings': SETTINGS, 'rows': rows})
    assert 'LightGCN layers 3 / 0 (per run)' in text
    assert 'SSM temperature' not in text  # no SSM run
    mf_only = settings_text({'settings': SETTINGS, 'rows': [row(model='mf')]})
    assert 'LightGCN' not in mf_only
