r"""The results teaser in README.md is exactly what
``python -m benchmarks.readme_table`` renders from the committed JSON files,
so no figure in the README lacks a command that reproduces it."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    'readme_table', ROOT / 'benchmarks' / 'readme_table.py')
readme_table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(readme_table)

START = '<!-- results:start (python -m benchmarks.readme_table) -->'
END = '<!-- results:end -->'


def test_readme_teaser_matches_committed_results():
    text = (ROOT / 'README.md').read_text()
    assert START in text and END in text, 'README has no results teaser'
    teaser = text.split(START, 1)[1].split(END, 1)[0].strip()
    expected = readme_table.render(ROOT / 'benchmarks' / 'results').strip()
    assert teaser == expected, (
        'README results teaser is stale: regenerate it with '
        '`python -m benchmarks.readme_table`')
