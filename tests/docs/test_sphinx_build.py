r"""The documentation builds offline with zero Sphinx warnings, and its API
reference lists every public name of the library."""
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / 'docs'

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


def test_sphinx_build_has_no_warnings(docs_build):
    html = docs_build.succeeded()
    assert 'WARNING' not in docs_build.proc.stderr, (
        docs_build.proc.stderr[-5000:])
    page = (html / 'api' / 'nn.loss.html').read_text()
    assert 'SimCELoss' in page and 'margin' in page
