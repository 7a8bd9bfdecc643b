r"""Every Python snippet in README.md and docs/*.rst is executed, so the
documentation cannot drift from the code.

Snippets of one page run in order in one fresh namespace, from the repository
root, like a reader pasting them into a session.
"""
import os
import re
import textwrap
from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parents[1]

_RST_BLOCK = re.compile(r'^\.\. code-block:: python[ \t]*\n((?:[ \t]*:[^\n]*\n)*)'
                        r'\n((?:(?:[ \t]+[^\n]*)?\n)+)', re.MULTILINE)
_MD_BLOCK = re.compile(r'^```python[ \t]*\n(.*?)^```', re.MULTILINE | re.DOTALL)


def rst_snippets(text: str) -> List[str]:
    return [textwrap.dedent(m.group(2)) for m in _RST_BLOCK.finditer(text)]


def md_snippets(text: str) -> List[str]:
    return [m.group(1) for m in _MD_BLOCK.finditer(text)]


def test_extractors_find_blocks():
    rst = ('Intro\n\n.. code-block:: python\n\n   x = 1\n   y = x + 1\n\n'
           'Text\n\n.. code-block:: bash\n\n   ls\n\n'
           '.. code-block:: python\n   :caption: second\n\n   z = 3\n')
    assert rst_snippets(rst) == ['x = 1\ny = x + 1\n\n', 'z = 3\n']
    md = 'a\n```python\nprint(1)\n```\n```bash\nls\n```\n'
    assert md_snippets(md) == ['print(1)\n']


PAGES = sorted((ROOT / 'docs').glob('*.rst')) + [ROOT / 'README.md']


@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.name)
def test_page_snippets_run(page: Path, monkeypatch, tmp_path):
    text = page.read_text()
    snippets = (md_snippets(text)
                if page.suffix == '.md' else rst_snippets(text))
    if not snippets:
        pytest.skip(f'{page.name} has no python snippet')
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv('PYG_SIMCE_DOCS_TMP', str(tmp_path))
    namespace = {'__name__': f'docs_{page.stem}'}
    for i, code in enumerate(snippets):
        try:
            exec(compile(code, f'{page.name}[snippet {i}]', 'exec'),
                 namespace)
        except Exception as e:  # pragma: no cover - reports the failure
            raise AssertionError(
                f'{page.relative_to(ROOT)} snippet {i} failed: '
                f'{type(e).__name__}: {e}\n{code}') from e
    assert os.getcwd() == str(ROOT)
