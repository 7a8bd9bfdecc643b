import json

import pytest
import torch

TINY = [
    '--dataset', 'synthetic', '--synthetic-users', '80', '--synthetic-items',
    '60', '--model', 'lightgcn', '--layers', '1', '--dim', '16',
    '--batch-size', '256', '--lr', '0.01', '--threads', '1'
]


def test_train_eval_and_resume_end_to_end(tmp_path, capfd, start_cli):
    ck = tmp_path / 'ck'
    proc = start_cli([
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

    proc = start_cli(['eval', '--checkpoint', str(ck / 'last.pt'), '--out',
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


def test_data_stats(tmp_path, run_cli_all, write_lightgcn):
    folder = write_lightgcn(tmp_path / 'lg', '0 1 2 3\n1 0 2\n2 3 4\n',
                            '0 4\n1 3\n2 0\n')
    out = run_cli_all({
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
