import shlex
import subprocess

import pytest

from benchmarks.suites.config import runs_argument

LABELS = [
    'BPR',
    'SimCE margin 5',
    'LightGCN [0.5, 0]',
    'MF/SSM',
    'tau "0.1"',
    'cost $HOME',
    'back`tick`',
    'slash \\ and bang!',
    "it's",
]


def test_runs_argument_keeps_the_reports_double_quotes():
    assert runs_argument(['BPR', 'SimCE margin 5']) == \
        ' --runs BPR "SimCE margin 5"'
    assert runs_argument(['LightGCN [0.5, 0]']) == \
        ' --runs "LightGCN [0.5, 0]"'


@pytest.mark.parametrize('label', LABELS)
def test_runs_argument_round_trips_through_shlex(label):
    words = shlex.split(runs_argument(['BPR', label]))
    assert words == ['--runs', 'BPR', label]


def test_runs_argument_survives_a_real_shell():
    # A POSIX shell, not shlex, is the reference: it expands "$HOME" and
    # backquotes inside double quotes, which shlex does not.
    script = 'printf "%s\\n"' + runs_argument(LABELS)
    out = subprocess.run(['sh', '-c', script], capture_output=True,
                         text=True, check=True).stdout
    assert out.split('\n')[:-1] == ['--runs'] + LABELS
