r"""Every example script runs end to end in its tiny ``--smoke`` setting, as a
user would start it (a subprocess), and writes what it promises."""
import ast
import importlib.util
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Tuple

import pytest

from pyg_simce.typing import WITH_MATPLOTLIB

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / 'examples'
WITH_PANDAS = importlib.util.find_spec('pandas') is not None


#: Runs an example as ``python EXAMPLE ARGS`` would, with the packages named
#: in argv[1] (comma-separated) made unimportable, as on a machine without
#: them.
WITHOUT = (
    'import runpy, sys\n'
    'for name in filter(None, sys.argv[1].split(",")):\n'
    '    sys.modules[name] = None\n'
    'sys.argv = sys.argv[2:]\n'
    'runpy.run_path(sys.argv[0], run_name="__main__")\n')


def start_example(
        name: str, tmp_path: Path, *args: str,
        without: Tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    out = tmp_path / 'out'
    cmd = [sys.executable, '-c', WITHOUT, ','.join(without),
           str(EXAMPLES / name), '--smoke', '--threads', '1', '--out-dir',
           str(out), *args]
    return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)


def run_example(name: str, tmp_path: Path, *args: str,
                without: Tuple[str, ...] = ()) -> str:
    proc = start_example(name, tmp_path, *args, without=without)
    assert proc.returncode == 0, (
        f'{name} failed with exit code {proc.returncode}\n'
        f'stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}')
    assert 'Traceback' not in proc.stderr
    return proc.stdout


def load_example(name: str) -> ModuleType:
    # Imports an example as a module (its folder on sys.path, as when run).
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(
            f'example_{Path(name).stem}', EXAMPLES / name)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


def is_metric(x) -> bool:
    return isinstance(x, float) and math.isfinite(x) and 0.0 <= x <= 1.0


def test_every_example_is_tested():
    scripts = {p.name for p in EXAMPLES.glob('*.py')
               if not p.name.startswith('_')}
    assert scripts == {
        'quickstart.py', 'compare_losses.py', 'propagation_rules.py',
        'custom_dataset.py', 'pyg_dataset.py', 'longtail_analysis.py'
    }


def test_quickstart(tmp_path):
    stdout = run_example('quickstart.py', tmp_path)
    assert 'LightGCN + SimCE' in stdout and 'most popular' in stdout
    results = json.loads((tmp_path / 'out' / 'results.json').read_text())
    assert is_metric(results['test']['recall@20'])
    items = results['recommendation']['items']
    assert len(items) == 10 and len(set(items)) == 10
    assert (tmp_path / 'out' / 'model.pt').is_file()


def test_compare_losses(tmp_path):
    stdout = run_example('compare_losses.py', tmp_path)
    results = json.loads((tmp_path / 'out' / 'results.json').read_text())
    assert set(results['results']) == {'bpr', 'ssm', 'simce', 'mml'}
    for name, r in results['results'].items():
        assert is_metric(r['test']['recall@20']), name
        assert (tmp_path / 'out' / f'{name}.jsonl').is_file()
    for label in ('BPR', 'SSM', 'SimCE', 'MML'):
        assert label in stdout
    png = tmp_path / 'out' / 'convergence.png'
    if WITH_MATPLOTLIB:
        assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    else:
        assert 'matplotlib is not installed' in stdout


def test_propagation_rules(tmp_path):
    stdout = run_example('propagation_rules.py', tmp_path, '--loss', 'bpr')
    results = json.loads((tmp_path / 'out' / 'results.json').read_text())
    grid = [(r['model'], r['alpha0'], r['alpha1'])
            for r in results['results']]
    assert grid == [
        ('SVD++ user-side', 0.5, 0.0), ('SVD++ user-side', 0.5, 0.5),
        ('SVD++ user-side', 1.0, 0.0), ('SVD++ item-side', 0.5, 0.0),
        ('SVD++ item-side', 0.5, 0.5), ('SVD++ item-side', 1.0, 0.0),
        ('LightGCN', 0.5, 0.5)
    ]
    assert all(is_metric(r['test']['recall@20']) for r in results['results'])
    assert 'best user-side exponents here' in stdout


def test_custom_dataset_demo_csv(tmp_path):
    stdout = run_example('custom_dataset.py', tmp_path)
    csv = tmp_path / 'out' / 'interactions.csv'
    assert csv.read_text().startswith('user_id,item_id,rating,timestamp\n')
    # The demo file repeats 1% of its rows; they are reported as removed.
    rows = len(csv.read_text().splitlines()) - 1
    assert f'read_csv: {rows} rows' in stdout
    assert f'({rows // 101} repeated rows removed)' in stdout
    assert "top-5 for user 'user_00000'" in stdout


def test_custom_dataset_own_file_errors(tmp_path, capsys):
    module = load_example('custom_dataset.py')
    bad = tmp_path / 'bad.csv'
    bad.write_text('user_id,item_id\nann,1\nbob\n')
    with pytest.raises(SystemExit) as info:
        module.main(['--csv', str(bad), '--out-dir', str(tmp_path / 'o')])
    message = str(info.value)
    assert 'bad.csv' in message and 'line 3' in message
    with pytest.raises(SystemExit) as info:
        module.main(['--csv', str(tmp_path / 'missing.csv'), '--out-dir',
                     str(tmp_path / 'o')])
    assert 'missing.csv' in str(info.value)


@pytest.mark.skipif(not WITH_PANDAS, reason='PyG processes the raw files of '
                    'MovieLens100K with pandas, which is not installed')
def test_pyg_dataset_synthetic_raw_layout(tmp_path):
    stdout = run_example('pyg_dataset.py', tmp_path)
    raw = tmp_path / 'out' / 'MovieLens100K-synthetic' / 'raw'
    assert sorted(p.name for p in raw.iterdir()) == [
        'u.item', 'u.user', 'u1.base', 'u1.test'
    ]
    assert "('user', 'rates', 'movie')" in stdout
    assert "node types ['user', 'item']" in stdout
    assert 'LightGCN + SimCE: test Recall@20' in stdout


def test_pyg_dataset_missing_raw_files(tmp_path):
    module = load_example('pyg_dataset.py')
    (tmp_path / 'ml').mkdir()
    (tmp_path / 'ml' / 'u.item').write_text('')
    with pytest.raises(SystemExit) as info:
        module.main(['--root', str(tmp_path / 'ml'), '--out-dir',
                     str(tmp_path / 'o')])
    message = str(info.value)
    if WITH_PANDAS:
        assert 'missing: u.user, u1.base, u1.test' in message
        assert 'does not download' in message
    else:
        assert 'pandas' in message


def test_longtail_analysis(tmp_path):
    stdout = run_example('longtail_analysis.py', tmp_path)
    results = json.loads((tmp_path / 'out' / 'results.json').read_text())
    assert set(results) == {'bpr', 'ssm', 'simce'}
    for r in results.values():
        assert len(r['recall_per_group']) == 10
        assert math.isclose(sum(r['recall_per_group']), r['recall'],
                            rel_tol=1e-6, abs_tol=1e-9)
        assert math.isclose(sum(r['share_per_group']), 1.0, rel_tol=1e-6)
    assert 'of the top-20 slots go to the most popular group' in stdout
    if WITH_MATPLOTLIB:
        assert (tmp_path / 'out' / 'longtail.png').is_file()


def examples_extra() -> set:
    # The packages of the ``examples`` extra, read from setup.py.
    tree = ast.parse((ROOT / 'setup.py').read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == 'examples':
                    return {re.split(r'[<>=!~\[]', ast.literal_eval(v))[0]
                            for v in value.elts}
    raise AssertionError('setup.py has no examples extra')


def test_examples_extra_holds_the_optional_imports():
    # Every optional package an example checks for is in the extra that
    # its message names.
    optional = set()
    for script in EXAMPLES.glob('*.py'):
        text = script.read_text()
        optional |= set(re.findall(r"find_spec\('(\w+)'\)", text))
        if 'WITH_MATPLOTLIB' in text:
            optional.add('matplotlib')
    assert optional == {'pandas', 'matplotlib'}
    assert optional <= examples_extra()


def test_make_examples_runs_every_example():
    makefile = (ROOT / 'Makefile').read_text()
    listed = re.search(r'^EXAMPLES :=(.*)$', makefile, re.MULTILINE)
    assert listed is not None
    scripts = {p.stem for p in EXAMPLES.glob('*.py')
               if not p.name.startswith('_')}
    assert set(listed.group(1).split()) == scripts
    assert re.search(r'^examples: .*\n(?:\t.*\n)*\t.*--smoke', makefile,
                     re.MULTILINE)
    assert '.[examples]' in makefile


def test_pyg_dataset_without_pandas_names_the_extra(tmp_path, monkeypatch):
    # As on a `make run` installation: the example stops with one line
    # that names the extra to install (a SystemExit, never a traceback).
    module = load_example('pyg_dataset.py')
    monkeypatch.setitem(sys.modules, 'pandas', None)
    with pytest.raises(SystemExit) as info:
        module.main(['--smoke', '--out-dir', str(tmp_path / 'out')])
    message = str(info.value)
    assert message.startswith('error: ') and '\n' not in message
    assert 'pandas' in message and '.[examples]' in message
    assert not (tmp_path / 'out').exists()


def test_plots_without_matplotlib_name_the_extra(tmp_path):
    stdout = run_example('longtail_analysis.py', tmp_path, '--losses', 'bpr',
                         without=('matplotlib', ))
    line = next(x for x in stdout.splitlines() if 'matplotlib' in x)
    assert 'not installed' in line and '.[examples]' in line
    assert not (tmp_path / 'out' / 'longtail.png').exists()
    assert (tmp_path / 'out' / 'results.json').is_file()
