r"""The helpers every benchmark shares: the recorded command line splits
back, through a POSIX shell's rules, into the exact arguments given."""
import shlex
import sys

import pytest

from benchmarks.common import recorded_command


@pytest.mark.parametrize('argv', [
    ['losses', '--quick'],
    ['backbones', '--runs', 'MF / SSM', 'SVD++ user [0.5, 0]'],
    ['--out', '/tmp/a folder/x.json', '--label', "it's $HOME"],
    [],
])
def test_recorded_command_splits_into_the_same_arguments(argv):
    command = recorded_command('benchmarks.micro.sampling', argv)
    assert shlex.split(command) == ['python', '-m',
                                    'benchmarks.micro.sampling', *argv]


def test_recorded_command_defaults_to_the_process_arguments(monkeypatch):
    monkeypatch.setattr(sys, 'argv', ['run.py', 'similarity', '--runs',
                                      'train cosine / test dot'])
    assert shlex.split(recorded_command('benchmarks.run')) == [
        'python', '-m', 'benchmarks.run', 'similarity', '--runs',
        'train cosine / test dot']
