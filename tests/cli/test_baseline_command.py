import json

import pytest

pytest.importorskip('scipy', reason="the baselines need scipy (pip install "
                    "'pyg_simce[baselines]')")

SMALL = ['--dataset', 'synthetic', '--synthetic-users', '60',
         '--synthetic-items', '40', '--quiet']

BAD = {
    'flag_of_other_baseline': (['train', '--model', 'ease', '--knn-k', '5'],
                               '--knn-k applies to --model itemknn (got '
                               '--model ease)'),
    'baseline_flag_for_lightgcn': (['train', '--ease-lambda', '3'],
                                   '--ease-lambda applies to --model ease '
                                   '(got --model lightgcn)'),
    'training_flag_for_baseline': (['train', '--model', 'gfcf', '--epochs',
                                    '3'], '--epochs does not apply to '
                                   '--model gfcf'),
    'loss_for_baseline': (['train', '--model', 'mostpop', '--loss', 'bpr'],
                          '--loss does not apply'),
    'bad_lambda': (['train', '--model', 'ease', '--ease-lambda', '0'],
                   '--ease-lambda expected a positive'),
    'bad_rank': (['train', '--model', 'gfcf', '--gfcf-rank', '40', '--k',
                  '5'] + SMALL,
                 '--gfcf-rank expected a low-pass rank below'),
    'alpha0_for_ease': (['train', '--model', 'ease', '--alpha0', '0.3'],
                        '--alpha0 applies to --model gfcf'),
}


def test_baseline_bad_flags(capsys):
    # In process: each is refused with exit status 2 and a one-line error
    # (bad_rank after loading the small synthetic set, the others before).
    from pyg_simce import cli
    for name, (args, message) in BAD.items():
        with pytest.raises(SystemExit) as info:
            cli.main(args)
        assert info.value.code == 2, name
        err = capsys.readouterr().err
        assert message in err, (name, err)
        assert err.count('\n') == 1, (name, err)


def test_baseline_bad_flag_in_a_process(tmp_path, run_cli_all):
    out = run_cli_all({'knn': BAD['flag_of_other_baseline'][0]}, tmp_path)
    code, _, stderr = out['knn']
    assert code == 2 and stderr.startswith('pyg-simce: error: --knn-k')


def test_baselines_write_the_results_file(tmp_path, run_cli_all):
    cases = {
        'ease': ['--ease-lambda', '10'],
        'gfcf': ['--gfcf-rank', '8', '--gfcf-alpha', '0.5'],
        'itemknn': ['--knn-k', '10'],
        'mostpop': [],
    }
    import importlib.util
    if importlib.util.find_spec('implicit') is not None:
        cases['ials'] = ['--factors', '8', '--iterations', '3',
                         '--ials-reg', '0.1', '--ials-alpha', '5']
    out = run_cli_all({m: ['train', '--model', m, *extra, *SMALL, '--out',
                           f'{m}.json', '--k', '5,10']
                       for m, extra in cases.items()}, tmp_path)
    for model in cases:
        code, stdout, stderr = out[model]
        assert code == 0, (model, stderr)
        assert 'no training loop' in stdout
        res = json.loads((tmp_path / f'{model}.json').read_text())
        assert set(res['test']) >= {'recall@5', 'ndcg@10'}
        assert 0.0 <= res['test']['recall@10'] <= 1.0
        assert res['train_seconds'] >= 0.0
        assert res['epochs_run'] == 0 and res['best_epoch'] == 0
        assert res['seed'] == 0 and res['device']
        assert 'torch' in res['versions'] and 'scipy' in res['versions']
        assert res['config']['model'] == model
        assert res['config']['baseline'].startswith(
            {'ease': 'EASE', 'gfcf': 'GFCF', 'itemknn': 'ItemKNN',
             'mostpop': 'MostPopular', 'ials': 'IALS'}[model])
    ease = json.loads((tmp_path / 'ease.json').read_text())
    assert 'lambda_=10.0' in ease['config']['baseline']
