r"""The documentation builds offline with zero Sphinx warnings, and its API
reference lists every public name of the library."""
import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / 'docs'
WITH_SPHINX = importlib.util.find_spec('sphinx') is not None

#: API page -> module it documents.
API_PAGES = {
    'data': 'pyg_simce.data',
    'nn.conv': 'pyg_simce.nn.conv',
    'nn.models': 'pyg_simce.nn.models',
    'nn.loss': 'pyg_simce.nn.loss',
    'nn.similarity': 'pyg_simce.nn.similarity',
    'nn.magnitude': 'pyg_simce.nn.magnitude',
    'sampler': 'pyg_simce.sampler',
    'metrics': 'pyg_simce.metrics',
    'train': 'pyg_simce.train',
    'train.negatives': 'pyg_simce.train.negatives',
    'baselines': 'pyg_simce.baselines',
    'typing': 'pyg_simce.typing',
}
_DIRECTIVE = re.compile(r'^\.\. auto(?:class|function|data|exception)'
                        r'::\s+(\S+)', re.MULTILINE)


@pytest.mark.parametrize('page', sorted(API_PAGES))
def test_api_page_lists_every_public_name(page):
    module = importlib.import_module(API_PAGES[page])
    text = (DOCS / 'api' / f'{page}.rst').read_text()
    assert f'.. currentmodule:: {API_PAGES[page]}' in text
    documented = _DIRECTIVE.findall(text)
    assert len(documented) == len(set(documented)), 'documented twice'
    assert sorted(documented) == sorted(module.__all__)


def test_every_page_is_in_a_toctree():
    pages = {p.relative_to(DOCS).with_suffix('').as_posix()
             for p in DOCS.rglob('*.rst') if '_build' not in p.parts}
    index = (DOCS / 'index.rst').read_text()
    api_index = (DOCS / 'api' / 'index.rst').read_text()
    listed = set(re.findall(r'^   (\S+)$', index, re.MULTILINE))
    listed |= {f'api/{p}' for p in re.findall(r'^   (\S+)$', api_index,
                                              re.MULTILINE)}
    assert pages - {'index'} <= listed | {'api/index'}


@pytest.mark.skipif(not WITH_SPHINX, reason='sphinx is not installed '
                    '(pip install -e .[docs]); the documentation build is '
                    'not checked')
def test_sphinx_build_has_no_warnings(tmp_path):
    cmd = [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q', '-b',
           'html', '-d', str(tmp_path / 'doctrees'), str(DOCS),
           str(tmp_path / 'html')]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, (
        f'sphinx-build failed (exit {proc.returncode}):\n'
        f'{proc.stderr[-5000:]}\n{proc.stdout[-2000:]}')
    assert 'WARNING' not in proc.stderr, proc.stderr[-5000:]
    html = (tmp_path / 'html' / 'api' / 'nn.loss.html').read_text()
    assert 'SimCELoss' in html and 'margin' in html
