import pytest
import torch

from pyg_simce import cli
from pyg_simce.cli import commands

BAD = {
    'missing_dir': (['data', 'stats', '--data', 'nowhere', '--format',
                     'lightgcn'], "no such file or directory 'nowhere'"),
    'malformed_line': (['data', 'stats', '--data', 'bad', '--format',
                        'lightgcn'], "train.txt', line 2"),
    'unknown_dataset': (['train', '--dataset', 'nope', '--epochs', '1'],
                        "'gowalla'"),
    'unknown_model': (['train', '--model', 'gcn'],
                      'choose from mf, svdpp, lightgcn'),
    'unknown_loss': (['data', 'stats', 'synthetic', '--format', 'parquet'],
                     'choose from lightgcn, movielens, tsv, csv'),
    'invalid_ratio': (['train', '--ratios', '0.5,0.6,0.1'], '--ratios'),
    'ssm_batch_1': (['train', '--loss', 'ssm', '--batch-size', '1'],
                    '--batch-size >= 2'),
    'mml_lengths': (['train', '--loss', 'mml', '--margins', '0.5,0.6',
                     '--weights', '1'], '2 margins and 1 weights'),
    'side_not_svdpp': (['train', '--model', 'lightgcn', '--side', 'item'],
                       '--side applies to --model svdpp'),
    'data_without_format': (['train', '--data', 'lg'], '--format'),
    'negative_lr': (['train', '--lr', '-1'], '--lr'),
    'negative_epochs': (['train', '--epochs', '-2'], '--epochs'),
    'resume_without_dir': (['train', '--resume'], '--checkpoint-dir'),
    'margin_for_bpr': (['train', '--loss', 'bpr', '--margin', '1'],
                       '--margin applies to --loss simce / ccl'),
    'missing_checkpoint': (['eval', '--checkpoint', 'none.pt'], 'none.pt'),
    'no_command': ([], 'expected a command'),
}


def test_bad_input_gives_one_line_error_and_exit_2(tmp_path, run_cli_all,
                                                   write_lightgcn):
    write_lightgcn(tmp_path / 'bad', '0 1 2\n1 x\n', '0 3\n')
    cases = {name: args for name, (args, _) in BAD.items()}
    out = run_cli_all(cases, tmp_path)
    for name, (code, stdout, stderr) in out.items():
        assert code == 2, (name, stderr)
        assert 'Traceback' not in stderr, name
        lines = stderr.splitlines()
        assert len(lines) == 1, (name, stderr)
        assert lines[0].startswith('pyg-simce: error: '), (name, stderr)
        assert BAD[name][1] in lines[0], (name, lines[0])


def test_in_process_validation_rejects_before_loading(monkeypatch, capsys):
    def no_load(args):  # loading must never be reached
        raise AssertionError('data loaded before validation')

    # Patched where the commands look it up.
    monkeypatch.setattr(commands, 'load_split', no_load)
    with pytest.raises(SystemExit) as info:
        cli.main(['train', '--loss', 'softmax', '--sampler', 'uniform'])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert 'use --loss ssm for sampled negatives' in err
    with pytest.raises(SystemExit):
        cli.main(['train', '--sampler', 'in-batch', '--num-negatives', '5'])
    assert '--num-negatives does not apply' in capsys.readouterr().err
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(SystemExit) as info:
        cli.main(['train', '--device', 'cuda'])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('pyg-simce: error: --device cuda requested but '
                          'CUDA is not available')


def test_mml_margins_default_to_those_of_the_loss(capsys):
    from pyg_simce.train.defaults import loss_defaults

    weights = len(loss_defaults('mml')['weights'])
    with pytest.raises(SystemExit) as info:
        cli.main(['train', '--loss', 'mml', '--margins',
                  ','.join(['0.5'] * (weights + 1))])
    assert info.value.code == 2
    assert (f'(got {weights + 1} margins and {weights} weights)'
            in capsys.readouterr().err)
