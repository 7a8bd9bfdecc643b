r"""Importing a committed report into the paper ledger: a suite reported
again from the imported entries, with an empty run cache, shows the very
figures of the report that trained the runs; runs whose settings changed,
unfinished runs and entries already in the ledger are left alone, and a
suite that needs a run's embeddings trains it again."""
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def run_cli(*args):
    return subprocess.run([sys.executable, '-m', *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    # A real suite on the synthetic data: the report the import reads.
    base = tmp_path_factory.mktemp('import')
    res = run_cli('benchmarks.run', 'losses', '--quick', '--datasets',
                  'synthetic', '--runs', 'SSM', 'BPR', '--work',
                  str(base / 'work'), '--out', str(base / 'results'))
    assert res.returncode == 0, res.stderr
    return base / 'results' / 'quick' / 'losses' / 'synthetic.json'


@pytest.fixture
def api(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.suites import paper_ledger, report_import
    return paper_ledger, report_import


def _rows(path):
    return {r['label']: r for r in json.loads(path.read_text())['rows']}


def test_a_suite_is_reported_again_from_the_imported_report(trained,
                                                             tmp_path):
    report = tmp_path / 'report.json'
    shutil.copy(trained, report)
    out = tmp_path / 'results'
    res = run_cli('benchmarks.suites.report_import', str(report), '--out',
                  str(out))
    assert res.returncode == 0, res.stderr
    assert res.stdout.count('imported (Recall@20') == 2
    entries = sorted((out / 'paper_ledger' / 'synthetic').glob('*.json.gz'))
    assert len(entries) == 2
    # An empty run cache: every figure comes from the imported entries.
    res = run_cli('benchmarks.run', 'losses', '--quick', '--datasets',
                  'synthetic', '--runs', 'SSM', 'BPR', '--work',
                  str(tmp_path / 'empty'), '--out', str(out),
                  '--report-only')
    assert res.returncode == 0, res.stderr
    assert res.stdout.count('from the ledger') == 2
    again = out / 'quick' / 'losses' / 'synthetic.json'
    old, new = _rows(trained), _rows(again)
    assert sorted(new) == sorted(old) == ['BPR', 'SSM']
    for label, row in old.items():
        for key in ('recall@20', 'ndcg@20', 'loss_kwargs', 'model_kwargs',
                    'negative_sampling', 'num_negatives'):
            assert new[label][key] == row[key], (label, key)
        assert new[label]['per_seed'] == row['per_seed']
    # The claim between the two had a paired interval; without per-user
    # metrics it gets none, and the report says why.
    claims = json.loads(trained.read_text())['claims']
    assert [c['claim'] for c in claims] == ['SSM > BPR on LightGCN (SSM '
                                            'Table 2)']
    payload = json.loads(again.read_text())
    assert payload['claims'] == []
    assert payload['claims_left_out'][0]['reason'].startswith(
        'a seed without per-user test metrics')
    # A second import changes nothing.
    before = [p.read_bytes() for p in entries]
    res = run_cli('benchmarks.suites.report_import', str(report), '--out',
                  str(out))
    assert res.stdout.count('already in the ledger') == 2
    assert [p.read_bytes() for p in entries] == before


def test_changed_settings_and_unfinished_runs_are_not_imported(
        api, trained, tmp_path):
    paper_ledger, report_import = api
    payload = json.loads(trained.read_text())
    ssm, bpr = sorted(payload['rows'], key=lambda r: r['label'] != 'SSM')
    ssm['per_seed'][0]['key'] = '0123456789abcdef'  # trained otherwise
    bpr['per_seed'][0]['stopped_by'] = 'unfinished'
    report = tmp_path / 'report.json'
    report.write_text(json.dumps(payload))
    ledger = paper_ledger.paper_ledger(tmp_path / 'results')
    lines = sorted(report_import.import_report(report, ledger))
    assert lines[0] == 'BPR seed 0: not imported, unfinished'
    assert lines[1].startswith('SSM seed 0: not imported, its settings '
                               'differ')
    assert not (tmp_path / 'results').exists()


def test_an_imported_entry_is_not_used_where_embeddings_are_needed(
        api, trained, tmp_path):
    paper_ledger, report_import = api
    ledger = paper_ledger.paper_ledger(tmp_path / 'results')
    report_import.import_report(trained, ledger)
    path = next((tmp_path / 'results' / 'paper_ledger' /
                 'synthetic').glob('*.json.gz'))
    entry = json.loads(gzip.decompress(path.read_bytes()))
    spec, record = entry['record']['spec'], entry['record']
    assert record['imported']['missing'] == ['per_user', 'longtail',
                                             'magnitude', 'environment']
    assert record['per_user'] is None and record['longtail'] is None
    calls = []

    def train(spec, splits, work, fresh=False, quiet=True):
        calls.append(spec['seed'])
        return {'spec': spec, 'test': {'recall@20': 0.5}, 'cached': False,
                'longtail': {'recall_per_group': [0.5]}}

    kw = dict(splits=None, work=tmp_path / 'empty', ledger=ledger,
              train=train)
    got = paper_ledger.paper_record(spec, **kw)
    assert got['source'] == 'ledger' and calls == []
    assert got['test'] == record['test']
    # The long-tail suite (partial_ok=False) reads the final embeddings.
    assert paper_ledger.paper_record(spec, report_only=True,
                                     partial_ok=False, **kw) is None
    got = paper_ledger.paper_record(spec, partial_ok=False, **kw)
    assert calls == [spec['seed']] and got['longtail'] is not None
    # The run trained here replaces the imported entry.
    assert 'imported' not in ledger.get(spec)['record']


@pytest.mark.parametrize('content,expected', [
    ('{not json', 'not a readable report'),
    ('[1, 2]', "expected a suite report"),
    ('{"rows": [], "protocol": "clean"}', "'clean'-protocol report"),
    ('{"rows": []}', "names its ['suite', 'dataset', 'mode', 'device']"),
    ('{"rows": [{"label": "nope"}], "suite": "losses", "dataset": '
     '"synthetic", "mode": "quick", "device": "cpu"}',
     "run 'nope' is not in"),
])
def test_bad_reports_are_named(api, tmp_path, content, expected):
    paper_ledger, report_import = api
    path = tmp_path / 'bad.json'
    path.write_text(content)
    with pytest.raises(report_import.ReportImportError) as e:
        report_import.import_report(path, paper_ledger.paper_ledger(
            tmp_path))
    assert str(path) in str(e.value) and expected in str(e.value)
    res = run_cli('benchmarks.suites.report_import', str(path), '--out',
                  str(tmp_path))
    assert res.returncode == 2 and expected in res.stderr
