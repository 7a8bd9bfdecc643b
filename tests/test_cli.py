import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

TINY = [
    '--dataset', 'synthetic', '--synthetic-users', '80', '--synthetic-items',
    '60', '--model', 'lightgcn', '--layers', '1', '--dim', '16',
    '--batch-size', '256', '--lr', '0.01', '--threads', '1'
]


def _env():
    env = dict(os.environ)
    env.pop('PYG_SIMCE_DATA', None)
    return env


def _start(args, cwd):
    return subprocess.Popen([sys.executable, '-m', 'pyg_simce', *args],
                            cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(),
                            stdin=subprocess.DEVNULL)


def _run_all(cases, cwd):
    # The commands are independent: run them concurrently.
    procs = {name: _start(args, cwd) for name, args in cases.items()}
    out = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        out[name] = (proc.returncode, stdout, stderr)
    return out


def _write_lightgcn(folder: Path, train: str, test: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / 'train.txt').write_text(train)
    (folder / 'test.txt').write_text(test)
    return folder


def test_train_eval_and_resume_end_to_end(tmp_path, capfd):
    ck = tmp_path / 'ck'
    proc = _start([
        'train', *TINY, '--loss', 'bpr', '--epochs', '3', '--out',
        'r.json', '--checkpoint-dir', str(ck)
    ], tmp_path)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert 'Traceback' not in stderr
    assert 'test: Recall@20' in stdout and 'NDCG@20' in stdout
    assert 'most-popular baseline (test): Recall@20' in stdout
    result = json.loads((tmp_path / 'r.json').read_text())
    for key in ('test', 'valid', 'best_epoch', 'epochs_run', 'train_seconds',
                'config', 'seed', 'versions', 'device'):
        assert key in result, key
    assert result['epochs_run'] == 3 and result['seed'] == 0
    assert 1 <= result['best_epoch'] <= 3
    assert {'recall@20', 'ndcg@20', 'precision@20', 'hit@20',
            'mrr@20'} <= set(result['test'])
    assert result['config']['loss'] == 'bpr'
    assert result['config']['negative_sampling'] == 'uniform'
    assert result['versions']['torch'] == torch.__version__
    log = [json.loads(line) for line in (ck / 'log.jsonl').open()]
    assert [r['epoch'] for r in log] == [1, 2, 3]
    assert all(r['split'] == 'valid' for r in log)

    proc = _start(['eval', '--checkpoint', str(ck / 'last.pt'), '--out',
                   'm.json'], tmp_path)
    # Meanwhile, in this process: resuming with a different --lr fails
    # before training, naming the option.
    from pyg_simce import cli
    with pytest.raises(SystemExit) as info:
        cli.main(['train', *TINY, '--loss', 'bpr', '--epochs', '5',
                  '--checkpoint-dir', str(ck), '--resume', '--lr', '0.05',
                  '--quiet'])
    assert info.value.code == 2
    stderr = capfd.readouterr().err
    assert stderr.count('\n') == 1 and 'Traceback' not in stderr
    assert stderr.startswith('pyg-simce: error: ')
    assert '--lr (checkpoint: 0.01, now: 0.05)' in stderr

    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert 'test: Recall@20' in stdout
    metrics = json.loads((tmp_path / 'm.json').read_text())['test']
    for key, value in result['test'].items():
        assert metrics[key] == pytest.approx(value, abs=1e-6), key


def test_data_stats(tmp_path):
    folder = _write_lightgcn(tmp_path / 'lg', '0 1 2 3\n1 0 2\n2 3 4\n',
                             '0 4\n1 3\n2 0\n')
    out = _run_all({
        'synthetic': ['data', 'stats', 'synthetic', '--synthetic-users',
                      '50'],
        'dir': ['data', 'stats', '--data', str(folder), '--format',
                'lightgcn', '--json'],
    }, tmp_path)
    code, stdout, stderr = out['synthetic']
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[0] == 'synthetic'
    assert any(line.split() == ['users', '50'] for line in lines)
    code, stdout, stderr = out['dir']
    assert code == 0, stderr
    stats = json.loads(stdout)
    assert (stats['users'], stats['items']) == (3, 5)
    assert (stats['interactions'], stats['train'], stats['test']) == (10, 7,
                                                                      3)


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


def test_bad_input_gives_one_line_error_and_exit_2(tmp_path):
    _write_lightgcn(tmp_path / 'bad', '0 1 2\n1 x\n', '0 3\n')
    cases = {name: args for name, (args, _) in BAD.items()}
    out = _run_all(cases, tmp_path)
    for name, (code, stdout, stderr) in out.items():
        assert code == 2, (name, stderr)
        assert 'Traceback' not in stderr, name
        lines = stderr.splitlines()
        assert len(lines) == 1, (name, stderr)
        assert lines[0].startswith('pyg-simce: error: '), (name, stderr)
        assert BAD[name][1] in lines[0], (name, lines[0])


def test_console_script_and_help_list_per_loss_defaults():
    script = Path(sys.executable).parent / 'pyg-simce'
    if not script.exists():
        pytest.skip('console script not installed')
    proc = subprocess.run([str(script), 'train', '--help'],
                          capture_output=True, text=True, env=_env(),
                          timeout=120)
    assert proc.returncode == 0
    assert 'per-loss defaults' in proc.stdout
    assert 'simce    64 negatives excluding training items' in proc.stdout


def test_in_process_validation_rejects_before_loading(monkeypatch, capsys):
    from pyg_simce import cli

    def no_load(args):  # loading must never be reached
        raise AssertionError('data loaded before validation')

    monkeypatch.setattr(cli, 'load_split', no_load)
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
