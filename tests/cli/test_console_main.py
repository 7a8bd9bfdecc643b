import pytest

from pyg_simce import cli
from pyg_simce.train import CollectiveTimeoutError


class _Exited(Exception):
    pass


@pytest.fixture
def hard_exit(monkeypatch):
    calls = []

    def _exit(code):
        calls.append(code)
        raise _Exited

    monkeypatch.setattr(cli.os, '_exit', _exit)
    return calls


def _handler_raising(monkeypatch, error):
    def handler(args):
        raise error

    parser = cli.build_parser()
    real = parser.parse_args

    def parse_args(argv=None):
        args = real(argv)
        args.handler = handler
        return args

    monkeypatch.setattr(parser, 'parse_args', parse_args)
    monkeypatch.setattr(cli, 'build_parser', lambda: parser)


def test_collective_timeout_ends_the_process_without_shutdown(
        monkeypatch, capsys, hard_exit):
    _handler_raising(monkeypatch, CollectiveTimeoutError(
        'rank 0: a collective expected every process to answer'))
    with pytest.raises(_Exited):
        cli.console_main(['data', 'stats', 'synthetic'])
    assert hard_exit == [2]
    err = capsys.readouterr().err
    assert err == ('pyg-simce: error: rank 0: a collective expected every '
                   'process to answer\n')


@pytest.mark.parametrize('error, code', [
    (TimeoutError('download timed out'), 2),
    (ValueError('bad value'), 2),
    (KeyboardInterrupt(), 130),
])
def test_other_outcomes_exit_normally(monkeypatch, capsys, hard_exit, error,
                                      code):
    _handler_raising(monkeypatch, error)
    with pytest.raises(SystemExit) as info:
        cli.console_main(['data', 'stats', 'synthetic'])
    assert info.value.code == code and hard_exit == []


def test_help_exits_normally(capsys, hard_exit):
    with pytest.raises(SystemExit) as info:
        cli.console_main(['--help'])
    assert info.value.code == 0 and hard_exit == []
    assert 'usage: pyg-simce' in capsys.readouterr().out
