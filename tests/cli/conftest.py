import os
import subprocess
import sys
from pathlib import Path

import pytest


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


@pytest.fixture
def cli_env():
    r"""The environment of a ``pyg-simce`` process, without a data root."""
    return _env()


@pytest.fixture
def start_cli():
    r"""Starts ``python -m pyg_simce ARGS`` in a folder; returns the
    :class:`subprocess.Popen`."""
    return _start


@pytest.fixture
def run_cli_all():
    r"""Runs several independent commands concurrently; returns
    ``{name: (returncode, stdout, stderr)}``."""
    return _run_all


@pytest.fixture
def write_lightgcn():
    r"""Writes a LightGCN-format folder (``train.txt`` and ``test.txt``)."""
    return _write_lightgcn
