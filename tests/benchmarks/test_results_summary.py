r"""benchmarks/RESULTS.md restates the committed suite results: its generated
part equals ``python -m benchmarks.results_summary`` and every result file it
cites exists."""
import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    'results_summary', ROOT / 'benchmarks' / 'results_summary.py')
results_summary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(results_summary)


def test_results_md_matches_committed_results():
    text = (ROOT / 'benchmarks' / 'RESULTS.md').read_text()
    start, end = results_summary.START, results_summary.END
    assert start in text and end in text
    generated = text.split(start, 1)[1].split(end, 1)[0].strip()
    assert generated == results_summary.render().strip(), (
        'benchmarks/RESULTS.md is stale: run '
        '`python -m benchmarks.results_summary --write`')


def test_every_cited_file_exists():
    text = (ROOT / 'benchmarks' / 'RESULTS.md').read_text()
    cited = set(re.findall(r'benchmarks/results/[\w./-]+\.(?:json|md|png)',
                           text))
    assert cited, 'RESULTS.md cites no result file'
    missing = sorted(p for p in cited if not (ROOT / p).is_file())
    assert not missing, f'RESULTS.md cites missing files: {missing}'


def _payload(suite, dataset, verdicts):
    return {
        'suite': suite, 'dataset': dataset, 'seeds': [0], 'device': 'cpu',
        'wall_seconds': 12.0, 'summary': {'verdicts': verdicts},
        'environment': {'device_name': 'x86_64',
                        'versions': {'pyg_simce': '0.1.0', 'torch': '2'}},
    }


def test_render_lists_each_claim_with_its_file(tmp_path):
    full = tmp_path / 'backbones' / 'ml-1m.json'
    quick = tmp_path / 'quick' / 'backbones' / 'ml-100k.json'
    for path, holds in ((full, True), (quick, False)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_payload(path.stem and 'backbones',
                                            path.stem, [{
            'claim': 'SSM < BPR on MF', 'holds': holds,
            'evidence': 'SSM vs BPR on MF: -3.0%'}])))
    text = results_summary.render(tmp_path)
    rows = [x for x in text.splitlines() if x.startswith('| SSM < BPR on MF')]
    assert len(rows) == 2
    assert '| ml-1m (full) | holds |' in rows[0]
    assert '| ml-100k (quick) | **does not hold** |' in rows[1]
    assert rows[0].endswith(f'| {full.as_posix()} |')
    # A claim no suite has run yet is listed as not run.
    assert '| SSM > BPR on LightGCN |' in text
    assert 'not run' in text


def _row(label, recall, ndcg, published):
    return {'label': label, 'recall@20': {'mean': recall, 'std': None},
            'ndcg@20': {'mean': ndcg, 'std': None}, 'published': published,
            'per_seed': [{'seed': 0, 'key': f'run-{recall}'}]}


def test_render_puts_our_figures_beside_the_published_ones(tmp_path):
    # The same run reported by two suites (under two labels) is listed
    # once; runs without a published counterpart are not listed; skipped
    # runs are named.
    for suite, label in (('backbones', 'LightGCN / SSM'), ('losses', 'SSM')):
        path = tmp_path / suite / 'gowalla.json'
        path.parent.mkdir(parents=True)
        payload = _payload(suite, 'gowalla', [])
        payload['rows'] = [_row(label, 0.1800, 0.1500, [0.2000, 0.1600]),
                           _row('LightGCN / SimCE', 0.1700, 0.1400, None)]
        payload['runs_skipped'] = ['MF / BPR', 'MF / SSM']
        path.write_text(json.dumps(payload))
    text = results_summary.render(tmp_path)
    rows = [x for x in text.splitlines() if x.startswith('| gowalla (full)')]
    assert rows == ['| gowalla (full) | LightGCN / SSM | 0.1800 / 0.1500 | '
                    '0.2000 / 0.1600 | -10.0% | '
                    f"{(tmp_path / 'backbones' / 'gowalla.json').as_posix()}"
                    ' |']
    assert text.count('not run: MF / BPR, MF / SSM') == 2


def test_published_line_shows_the_seeds_of_the_suite_with_most(tmp_path):
    # backbones reports seed 0 of the run, losses seeds 0-2 of it
    # (--run-seeds): one line, from losses, with the std over its seeds.
    one = _row('LightGCN / SSM', 0.1800, 0.1500, [0.2000, 0.1600])
    three = _row('SSM', 0.1810, 0.1510, [0.2000, 0.1600])
    three['recall@20']['std'] = 0.0012
    three['ndcg@20']['std'] = 0.0007
    three['per_seed'] = [{'seed': i, 'key': f'k{i}'} for i in range(3)]
    one['per_seed'] = [{'seed': 0, 'key': 'k0'}]
    for suite, row in (('backbones', one), ('losses', three)):
        path = tmp_path / suite / 'gowalla.json'
        path.parent.mkdir(parents=True)
        payload = _payload(suite, 'gowalla', [])
        payload['rows'] = [row]
        path.write_text(json.dumps(payload))
    rows = [x for x in results_summary.render(tmp_path).splitlines()
            if x.startswith('| gowalla (full)')]
    assert rows == ['| gowalla (full) | SSM | 0.1810 / 0.1510 (± 0.0012 / '
                    '± 0.0007, 3 seeds) | 0.2000 / 0.1600 | -9.5% | '
                    f"{(tmp_path / 'losses' / 'gowalla.json').as_posix()}"
                    ' |']


def test_published_recall_without_ndcg(tmp_path):
    # SSM paper Table 5 gives Recall@20 only.
    path = tmp_path / 'propagation' / 'yelp2018.json'
    path.parent.mkdir(parents=True)
    payload = _payload('propagation', 'yelp2018', [])
    payload['rows'] = [_row('SVD++ item [0.5, 0.5]', 0.0700, 0.0600,
                            [0.0730, None])]
    path.write_text(json.dumps(payload))
    line, = [x for x in results_summary.render(tmp_path).splitlines()
             if x.startswith('| yelp2018 (full)')]
    assert '| 0.0700 / 0.0600 | 0.0730 / - | -4.1% |' in line


def test_render_without_published_counterparts(tmp_path):
    path = tmp_path / 'losses' / 'ml-1m.json'
    path.parent.mkdir(parents=True)
    payload = _payload('losses', 'ml-1m', [])
    payload['rows'] = [_row('SSM', 0.2, 0.2, None)]
    path.write_text(json.dumps(payload))
    assert 'no run with a published counterpart yet' in (
        results_summary.render(tmp_path))


def test_render_lists_the_baselines_beside_the_best_seed_model(tmp_path):
    path = tmp_path / 'losses' / 'ml-1m.json'
    path.parent.mkdir(parents=True)
    data = _payload('losses', 'ml-1m', [])
    data['rows'] = [_row('BPR', 0.25, 0.2, None), _row('SM', 0.27, 0.24, None)]
    path.write_text(json.dumps(data))
    text = results_summary.render(tmp_path)
    assert 'Classical baselines' not in text
    data['baselines'] = [{'model': 'EASE', 'setting': 'lambda=500',
                          'fit_seconds': 2.9, 'recall@20': 0.2759,
                          'ndcg@20': 0.266}]
    data['baselines_file'] = 'benchmarks/results/baselines/ml-1m.json'
    path.write_text(json.dumps(data))
    text = results_summary.render(tmp_path)
    assert ('| ml-1m (full) | best seed model: SM (losses) | 0.2700 |'
            in text)
    assert ('| ml-1m (full) | EASE | 0.2759 | 0.2660 | 2.9 | lambda=500 | '
            'benchmarks/results/baselines/ml-1m.json |') in text


def test_result_files_list_the_seeds_of_runs_given_more(tmp_path):
    # A report with --run-seeds: the file list must not say seeds [0] alone.
    path = tmp_path / 'simce' / 'ml-1m.json'
    path.parent.mkdir(parents=True)
    data = _payload('simce', 'ml-1m', [])
    data['seeds'] = [0]
    path.write_text(json.dumps(data))
    assert 'more for some runs' not in results_summary.render(tmp_path)
    data['seeds_per_run'] = {'BPR': 2, 'SSM': 3}
    path.write_text(json.dumps(data))
    assert ('seeds [0] (more for some runs: BPR 0-1; SSM 0-2), '
            in results_summary.render(tmp_path))


def test_interval_table_lists_both_protocols(tmp_path):
    claim = {'claim': 'SSM > BPR on LightGCN (SSM Table 2)',
             'recall@20': {'mean': 0.012, 'low': 0.004, 'high': 0.02,
                           'relative': 0.04},
             'ndcg@20': {'mean': -0.001, 'low': -0.01, 'high': 0.008,
                         'relative': -0.003},
             'verdict': 'holds'}
    clean = _payload('losses', 'ml-100k', [])
    clean.update(protocol='clean', settings={'seeds': 5}, claims=[claim])
    (tmp_path / 'clean' / 'losses').mkdir(parents=True)
    (tmp_path / 'clean' / 'losses' / 'ml-100k.json').write_text(
        json.dumps(clean))
    paper = _payload('losses', 'ml-100k', [])
    paper.update(protocol='paper', claims=[dict(claim, verdict='inconclusive',
                                                **{'recall@20': dict(
                                                    claim['recall@20'],
                                                    low=-0.001)})])
    (tmp_path / 'quick' / 'losses').mkdir(parents=True)
    (tmp_path / 'quick' / 'losses' / 'ml-100k.json').write_text(
        json.dumps(paper))
    lines = results_summary.interval_table(tmp_path)
    body = [line for line in lines[2:]]
    assert len(body) == 2
    assert '| clean | ml-100k | 5 | +0.0120 (+4.0%) [+0.0040, +0.0200] |' \
        in body[0] and '**holds**' in body[0]
    assert '| paper, quick | ml-100k | 1 |' in body[1]
    assert '[-0.0010, +0.0200]' in body[1] and '**inconclusive**' in body[1]
    assert results_summary.interval_table(tmp_path / 'none') == \
        ['No claim has a paired interval yet.']
