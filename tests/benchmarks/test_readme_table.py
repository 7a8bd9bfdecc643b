r"""The results teaser restates the JSON files exactly, in Markdown and
reStructuredText, and skips files it cannot read."""
import importlib.util
import json
from pathlib import Path

# Loaded by path: the repository root need not be on sys.path.
_PATH = Path(__file__).resolve().parents[2] / 'benchmarks' / 'readme_table.py'
_spec = importlib.util.spec_from_file_location('readme_table', _PATH)
readme_table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(readme_table)
main, quality_rows = readme_table.main, readme_table.quality_rows
render, speed_rows = readme_table.render, readme_table.speed_rows


def write(path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))


def make_tree(root):
    write(root / 'quality' / 'ml-100k.json', {
        'benchmark': 'quality', 'dataset': 'ml-100k',
        'setting': {'model': 'LightGCN(layers=2, dim=64)'},
        'results': {
            'bpr': {'best': {'recall@20': 0.31504, 'ndcg@20': 0.38106,
                             'epochs_run': 105, 'train_seconds': 121.2}},
            'ssm': {'best': {'recall@20': 0.2, 'ndcg@20': 0.25,
                             'epochs_run': 7, 'train_seconds': 3.0}},
        }})
    write(root / 'runs' / 'gowalla.json', {
        'test': {'recall@20': 0.18712, 'ndcg@20': 0.15803},
        'config': {'dataset': 'gowalla', 'model': 'lightgcn', 'layers': 3,
                   'loss': 'ssm'},
        'epochs_run': 40, 'train_seconds': 1500.0})
    write(root / 'speed' / 'data_loading.json', {
        'target_seconds': 3.0,
        'results': {'gowalla': {'seconds_median': 0.88,
                                'speedup_vs_naive': 6.43}}})
    write(root / 'speed' / 'evaluation.json', {
        'benchmark': 'evaluation', 'dataset': 'gowalla'})  # incomplete
    (root / 'broken.json').write_text('{not json')


def test_quality_and_speed_rows(tmp_path, capsys):
    root = tmp_path / 'results'
    make_tree(root)
    rows = quality_rows(root)
    assert [r[:5] for r in rows] == [
        ['ml-100k', 'LightGCN(layers=2, dim=64)', 'bpr', '0.3150', '0.3811'],
        ['ml-100k', 'LightGCN(layers=2, dim=64)', 'ssm', '0.2000', '0.2500'],
        ['gowalla', 'lightgcn (3 layers)', 'ssm', '0.1871', '0.1580'],
    ]
    assert rows[0][5] == '105 epochs, 121 s'
    assert rows[2][6].endswith('runs/gowalla.json')
    speed = speed_rows(root)
    assert len(speed) == 1
    assert speed[0][:2] == ['data_loading', 'load gowalla into HeteroData']
    assert '0.88 s' in speed[0][2] and '6.4x' in speed[0][2]
    err = capsys.readouterr().err
    assert 'broken.json' in err and 'evaluation.json' in err


def test_markdown_and_rst(tmp_path):
    root = tmp_path / 'results'
    make_tree(root)
    md = render(root, 'md')
    lines = md.splitlines()
    assert lines[0].startswith('| data set | model | loss | Recall@20')
    assert sum(line.startswith('| ml-100k') for line in lines) == 2
    rst = render(root, 'rst', speed=False)
    assert rst.startswith('.. list-table::')
    assert '     - 0.1871' in rst


def test_empty_tree_and_cli(tmp_path, capsys):
    assert render(tmp_path, 'md') == ('No quality result committed yet.\n\n'
                                      'No speed result committed yet.\n')
    out = tmp_path / 'teaser.md'
    make_tree(tmp_path / 'r')
    main(['--results', str(tmp_path / 'r'), '--no-speed', '--out',
          str(out)])
    assert out.read_text().count('\n| ') == 3


def test_best_baseline_row_per_listed_dataset(tmp_path):
    root = tmp_path / 'results'
    make_tree(root)
    write(root / 'baselines' / 'ml-100k.json', {'models': {
        'ease': {'runs': [{'status': 'ok', 'setting': 'lambda=500',
                           'fit_seconds': 0.4,
                           'test': {'recall@20': 0.35, 'ndcg@20': 0.43}}]},
        'ials': {'runs': [
            {'status': 'ok', 'setting': 'f=64', 'fit_seconds': 0.6,
             'test': {'recall@20': 0.30, 'ndcg@20': 0.40}},
            {'status': 'ok', 'setting': 'f=128', 'fit_seconds': 0.9,
             'test': {'recall@20': 0.36, 'ndcg@20': 0.44}}]},
        'big': {'runs': [{'status': 'not run', 'reason': 'memory'}]}}})
    write(root / 'baselines' / 'yelp2018.json', {'models': {
        'ease': {'runs': [{'status': 'ok', 'setting': 'x',
                           'test': {'recall@20': 0.9, 'ndcg@20': 0.9}}]}}})
    rows = readme_table.baseline_rows(['ml-100k', 'gowalla'], root)
    # The best recorded setting of ml-100k; gowalla has no file, yelp2018
    # is not listed.
    assert [r[:5] for r in rows] == [[
        'ml-100k', 'ials (classical baseline, best setting on test)',
        'f=128', '0.3600', '0.4400']]
    assert rows[0][5] == 'fit 0.90 s'
    assert '0.3600' in render(root, speed=False)
