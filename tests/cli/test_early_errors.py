import argparse
import subprocess
import sys

import pytest

from pyg_simce import _dataset_names, cli
from pyg_simce.cli import commands, validation


@pytest.fixture
def no_data(monkeypatch):
    r"""Makes any data loading fail the test: the checks must come first."""
    def load_split(args):
        raise AssertionError('data was loaded before the check')

    monkeypatch.setattr(commands, 'load_split', load_split)


def _error(capsys, argv):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('pyg-simce: error: ') and err.count('\n') == 1
    return err


@pytest.mark.parametrize('model', ['lightgcn', 'ease'])
def test_out_directory_fails_before_data(tmp_path, capsys, no_data, model):
    err = _error(capsys, ['train', '--model', model, '--out', str(tmp_path)])
    assert (f'--out {tmp_path} expected a file path (got an existing '
            f'directory)') in err


def test_log_file_inside_a_file_fails_before_data(tmp_path, capsys,
                                                  no_data):
    (tmp_path / 'f').write_text('')
    target = tmp_path / 'f' / 'log.jsonl'
    err = _error(capsys, ['train', '--log-file', str(target)])
    assert (f"--log-file {target} expected a path inside a folder (got "
            f"'{tmp_path / 'f'}', which is a file)") in err


def test_checkpoint_dir_that_is_a_file_fails(tmp_path, capsys, no_data):
    (tmp_path / 'ckpt').write_text('')
    err = _error(capsys, ['train', '--checkpoint-dir',
                          str(tmp_path / 'ckpt'), '--resume'])
    assert (f"--checkpoint-dir {tmp_path / 'ckpt'} expected a folder (got "
            f"an existing file)") in err


def test_unwritable_folder_fails(tmp_path, capsys, no_data, monkeypatch):
    real = validation.os.access
    monkeypatch.setattr(validation.os, 'access',
                        lambda p, mode: False if str(p) == str(tmp_path)
                        else real(p, mode))
    target = tmp_path / 'sub' / 'r.json'
    err = _error(capsys, ['train', '--out', str(target)])
    assert (f"--out {target} expected a writable folder (got "
            f"'{tmp_path}', which is not writable)") in err


def test_eval_out_checked_before_the_checkpoint(tmp_path, capsys):
    err = _error(capsys, ['eval', '--checkpoint', str(tmp_path / 'no.pt'),
                          '--out', str(tmp_path)])
    assert '--out' in err and 'existing directory' in err


def test_save_model_directory_fails_before_data(tmp_path, capsys, no_data):
    err = _error(capsys, ['train', '--save-model', str(tmp_path)])
    assert (f'--save-model {tmp_path} expected a file path (got an existing '
            f'directory)') in err


def test_save_model_and_missing_folders(tmp_path):
    # --save-model is read when the parser has it.
    with pytest.raises(cli.CLIError, match='--save-model .* existing '
                       'directory'):
        validation.validate_output_args(
            argparse.Namespace(save_model=str(tmp_path)))
    # Missing folders are fine: the writers create them.
    validation.validate_output_args(argparse.Namespace(
        out=str(tmp_path / 'a' / 'r.json'), log=str(tmp_path / 'l.jsonl'),
        checkpoint_dir=str(tmp_path / 'b' / 'ckpt')))
    assert not (tmp_path / 'a').exists()


def test_unknown_dataset_suggests_names_without_torch(tmp_path):
    code = ('import sys\n'
            'from pyg_simce.cli import main\n'
            'try:\n'
            "    main(['train', '--dataset', 'gowala'])\n"
            'except SystemExit as e:\n'
            "    print(e.code, 'torch' in sys.modules)\n")
    proc = subprocess.run([sys.executable, '-c', code], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.split() == ['2', 'False']
    assert ("pyg-simce: error: unknown data set 'gowala'; did you mean "
            "'gowalla'? expected one of 'gowalla'") in proc.stderr


def test_unknown_irbench_name_suggests_the_prefixed_name(capsys, no_data):
    err = _error(capsys, ['data', 'stats', 'amazon2014-helth'])
    assert "did you mean 'irbench/amazon2014-health'," in err


def test_missing_data_root_names_the_flag(tmp_path, capsys, monkeypatch,
                                          no_data):
    monkeypatch.delenv('PYG_SIMCE_DATA', raising=False)
    (tmp_path / 'repo').mkdir()
    monkeypatch.chdir(tmp_path / 'repo')
    # The working folder and the checkout share ../shared/data.
    monkeypatch.setattr(_dataset_names, 'REPO_ROOT', tmp_path / 'repo')
    err = _error(capsys, ['train', '--dataset', 'gowalla'])
    searched = tmp_path / 'shared' / 'data'
    assert ('no data root found: pass --data-root DIR, set $PYG_SIMCE_DATA, '
            f"or create one of the searched folders ('{searched}'); "
            'docs/data.rst describes the expected layout') in err
    assert err.count(str(searched)) == 1 and 'root=' not in err
    err = _error(capsys, ['data', 'stats', 'ml-100k', '--data-root',
                          str(tmp_path / 'nope')])
    assert (f"data root '{tmp_path / 'nope'}' (--data-root) is not a "
            f"directory") in err


def test_resume_on_an_empty_folder_starts_a_fresh_run(tmp_path, capsys):
    ck = tmp_path / 'ckpt'
    argv = ['train', '--dataset', 'synthetic', '--synthetic-users', '60',
            '--synthetic-items', '60', '--layers', '1', '--dim', '8',
            '--loss', 'bpr', '--epochs', '1', '--threads', '1', '--quiet',
            '--checkpoint-dir', str(ck), '--resume']
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert f"no checkpoint in '{ck}'; starting a fresh run" in err
    assert (ck / 'last.pt').is_file()
    # A second --resume continues that run, silently.
    argv[argv.index('--epochs') + 1] = '2'
    assert cli.main(argv) == 0
    assert 'no checkpoint' not in capsys.readouterr().err
