r"""One Sphinx build of the documentation, shared by the tests of this
folder (the build takes about half a minute)."""
import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / 'docs'
#: The docs extra: sphinx and the offline copy of MathJax.
DOCS_EXTRA = ('sphinx', 'sphinx-mathjax-offline')
MISSING = [name for name in DOCS_EXTRA
           if importlib.util.find_spec(name) is None]


class DocsBuild(NamedTuple):
    proc: subprocess.CompletedProcess
    html: Path

    def succeeded(self) -> Path:
        r"""The HTML folder; fails the calling test when the build failed."""
        assert self.proc.returncode == 0, (
            f'sphinx-build failed (exit {self.proc.returncode}):\n'
            f'{self.proc.stderr[-5000:]}\n{self.proc.stdout[-2000:]}')
        return self.html


@pytest.fixture(scope='session')
def docs_build(tmp_path_factory) -> DocsBuild:
    r"""``sphinx-build -W --keep-going -b html`` of docs/ into a temporary
    folder; skips when the docs extra is not installed."""
    if MISSING:
        pytest.skip(f"{', '.join(MISSING)} not installed (pip install -e "
                    f'.[docs]); the documentation build is not checked')
    out = tmp_path_factory.mktemp('docs')
    cmd = [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q', '-b',
           'html', '-d', str(out / 'doctrees'), str(DOCS), str(out / 'html')]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    return DocsBuild(proc, out / 'html')

