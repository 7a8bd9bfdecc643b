r"""The benchmark plots that the documentation shows: they exist, the docs and
README.md show or link them, every label they use is explained, and
``python -m benchmarks.replot`` draws them again from their JSON files."""
import json
import shutil
from pathlib import Path

import pytest

from benchmarks.replot import main as replot_main
from benchmarks.replot import plotted_results
from benchmarks.suites.report import PLOTS, label_key
from pyg_simce.typing import WITH_MATPLOTLIB

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / 'benchmarks' / 'results'
#: The plots of the full-mode ml-1m runs, shown in docs/benchmarks.rst.
KEY_PLOTS = [f'benchmarks/results/{suite}/ml-1m.png' for suite in PLOTS]
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def labels_of(path: Path):
    payload = json.loads(path.read_text())
    _, key = PLOTS[payload['suite']]
    return [row['label'] for row in payload['summary'][key]]


def test_key_plots_are_committed_and_shown():
    rst = (ROOT / 'docs' / 'benchmarks.rst').read_text()
    readme = (ROOT / 'README.md').read_text()
    for png in KEY_PLOTS:
        assert (ROOT / png).read_bytes()[:8] == PNG_MAGIC, png
        assert f'.. figure:: ../{png}' in rst, png
        assert f']({png})' in readme, png


def test_every_plot_label_is_explained():
    # Each label of each committed plot (the part before a bracketed pair
    # of exponents) is in the key printed under the plot, and the key's
    # abbreviations are explained in docs/benchmarks.rst too.
    rst = (ROOT / 'docs' / 'benchmarks.rst').read_text()
    results = plotted_results(RESULTS)
    assert len(results) >= len(KEY_PLOTS)
    for path in results:
        labels = labels_of(path)
        key = label_key(labels)
        for label in labels:
            name = label.split(' [')[0]
            if name.endswith(' (baseline)'):
                assert '(baseline) = ' in key and '**(baseline)**' in rst
                name = name[:-len(' (baseline)')]
            assert f'{name} = ' in key, (path.name, label, key)
            assert f'**{name}**' in rst, label
            if '[' in label:
                assert '[\u03b10, \u03b11] = ' in key


def test_label_key_lists_only_what_is_used():
    key = label_key(['BPR', 'SSM'])
    assert key.startswith('BPR = ') and 'SSM = sampled softmax' in key
    assert 'SM = ' not in key.replace('SSM = ', '')
    assert 'MML' not in key and '\u03b1' not in key


@pytest.mark.skipif(not WITH_MATPLOTLIB, reason='matplotlib is not '
                    'installed (pip install -e ".[plot]"); plots are not '
                    'drawn')
def test_replot_draws_every_plot_from_json(tmp_path):
    # Every committed PNG has its JSON, so that replot redraws all of them;
    # in a copy of the results, it draws the plots of ml-1m (the full-mode
    # ones the docs show) and only those.
    results = plotted_results(RESULTS)
    committed = {p.relative_to(RESULTS) for p in RESULTS.rglob('*.png')}
    assert committed <= {p.relative_to(RESULTS).with_suffix('.png')
                         for p in results}
    copy = tmp_path / 'results'
    for path in results:
        target = copy / path.relative_to(RESULTS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    written = replot_main(['--results', str(copy), '--only', 'ml-1m'])
    assert sorted(p.relative_to(copy).as_posix() for p in written) == sorted(
        png.replace('benchmarks/results/', '') for png in KEY_PLOTS)
    for png in written:
        data = png.read_bytes()
        assert data[:8] == PNG_MAGIC
        width = int.from_bytes(data[16:20], 'big')
        height = int.from_bytes(data[20:24], 'big')
        assert 900 <= width <= 1100 and 450 <= height <= 700, (png, width,
                                                               height)
    assert not any(copy.rglob('quick/**/*.png'))
