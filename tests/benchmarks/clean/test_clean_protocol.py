r"""The clean protocol end to end on tiny synthetic data: it never reads the
test split outside the final evaluation of a chosen configuration, its
choices do not depend on the test split, and its report holds every trial,
the chosen configuration, per-seed metrics and each claim's interval."""
import gzip
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmarks.clean import clean_baselines, clean_suite
from benchmarks.clean.clean_config import clean_settings, load_clean
from benchmarks.clean.validation_split import (
    SplitLockedError,
    carve_validation,
)
from benchmarks.suites.config import load_suite
from pyg_simce.data import load_dataset

ROOT = Path(__file__).resolve().parents[3]
RATES = ('user', 'rates', 'item')


class SentinelTest:
    r"""A test part that raises on any access unless :attr:`allowed`; counts
    the accesses."""
    allowed = False
    reads = 0

    def __init__(self, data):
        self._data = data

    def __getitem__(self, key):
        return self._get()[key]

    def __getattr__(self, name):
        return getattr(self._get(), name)

    def _get(self):
        if not SentinelTest.allowed:
            raise AssertionError('the test split was read before the final '
                                 'evaluation')
        SentinelTest.reads += 1
        return self._data


def synthetic_split(shuffle_test=False):
    clean = clean_settings('synthetic')
    split = load_dataset('synthetic', **clean.settings.load)
    if shuffle_test:
        # Another test split: the same users with random items.
        store = split.test[RATES]
        target = store.edge_label_index.clone()
        g = torch.Generator().manual_seed(5)
        target[1] = torch.randint(0, split.num_items, (target.size(1), ),
                                  generator=g)
        store.edge_label_index = target
    return clean, split


def run_suite(tmp_path, split, clean, monkeypatch, suite='losses'):
    split = split._replace(test=SentinelTest(split.test))
    data = carve_validation(split, clean.val_ratio, clean.val_seed)
    real_final_test = clean_suite.final_test
    calls = []

    def guarded_final_test(spec, record, data, work):
        # Only here, for a configuration already chosen on validation.
        SentinelTest.allowed = True
        try:
            calls.append(spec['seed'])
            return real_final_test(spec, record, data, work)
        finally:
            SentinelTest.allowed = False

    real_fit_evaluate = clean_baselines._fit_evaluate

    def guarded_fit_evaluate(name, kwargs, seed, data, dataset, work, final,
                             ledger=None):
        # A baseline's tuning fits run unguarded: they must not read it.
        SentinelTest.allowed = final
        try:
            if final:
                calls.append((name, seed))
            return real_fit_evaluate(name, kwargs, seed, data, dataset,
                                     work, final, ledger)
        finally:
            SentinelTest.allowed = False

    monkeypatch.setattr(clean_suite, 'final_test', guarded_final_test)
    monkeypatch.setattr(clean_baselines, '_fit_evaluate',
                        guarded_fit_evaluate)
    cfg = load_suite(suite)
    cfg['runs'] = cfg['runs'][:3]
    out = clean_suite.run_clean_suite(cfg, clean, data, tmp_path, 'cpu',
                                      load_clean(), log=lambda s: None)
    return out, calls


def test_the_test_split_is_read_only_in_final_evaluations(tmp_path,
                                                          monkeypatch):
    clean, split = synthetic_split()
    SentinelTest.reads = 0
    out, calls = run_suite(tmp_path, split, clean, monkeypatch)
    # One final evaluation per method and seed, each reading the test split.
    seeds = list(range(clean.seeds))
    assert calls[:3 * clean.seeds] == seeds * 3
    assert calls[3 * clean.seeds:] == [
        (name, s) for name in load_clean()['baselines'] for s in seeds]
    assert SentinelTest.reads >= 3 * clean.seeds  # cached fits read none
    # Outside the final evaluation the locked split refuses to open.
    data = carve_validation(split, clean.val_ratio, clean.val_seed)
    with pytest.raises(SplitLockedError, match='final evaluation'):
        data.test.open()
    # The validation split is carved from training: no pair in two parts.
    train = {tuple(p) for p in data.train[RATES].edge_index.t().tolist()}
    val = {tuple(p) for p in data.val[RATES].edge_label_index.t().tolist()}
    test = {tuple(p) for p in split.test[RATES].edge_label_index.t().tolist()}
    assert val and not train & val and not (train | val) & test


def test_choices_do_not_depend_on_the_test_split(tmp_path, monkeypatch):
    clean, split = synthetic_split()
    first, _ = run_suite(tmp_path / 'a', split, clean, monkeypatch)
    clean, other = synthetic_split(shuffle_test=True)
    second, _ = run_suite(tmp_path / 'b', other, clean, monkeypatch)
    def timeless(trials):
        return [{k: v for k, v in t.items() if k != 'train_seconds'}
                for t in trials]

    for a, b in zip(first['methods'], second['methods']):
        assert timeless(a['trials']) == timeless(b['trials'])
        assert a['chosen'] == b['chosen']
        assert [f['valid'] for f in a['finals']] == \
            [f['valid'] for f in b['finals']]
    # ... while the test figures do (the shuffled targets are other items).
    assert [m['test'] for m in first['methods']] != \
        [m['test'] for m in second['methods']]


def clean_losses(work, out, *args):
    r"""``python -m benchmarks.run losses --protocol clean`` on the
    synthetic data set (2 trials, 2 seeds unless :obj:`args` say)."""
    return subprocess.run(
        [sys.executable, '-m', 'benchmarks.run', 'losses', '--protocol',
         'clean', '--datasets', 'synthetic', '--trials', '2', '--seeds', '2',
         '--work', str(work), '--out', str(out), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_smoke_run_end_to_end(tmp_path):
    work, out = tmp_path / 'work', tmp_path / 'results'
    proc = clean_losses(work, out, '--threads', '1')
    assert proc.returncode == 0, proc.stderr
    payload = json.loads((out / 'clean' / 'losses' / 'synthetic.json')
                         .read_text())
    assert payload['protocol'] == 'clean'
    assert payload['environment']['torch_threads'] == 1  # --threads applies
    assert payload['settings']['trials'] == 2
    assert payload['settings']['seeds'] == 2
    labels = [m['label'] for m in payload['methods']]
    assert labels == ['BCE', 'BPR', 'SM', 'CCL', 'SSM', 'SimCE', 'MML']
    for m in payload['methods']:
        assert len(m['trials']) == 2
        best = max(m['trials'], key=lambda t: t['valid']['recall@20'])
        assert m['chosen'] == best['point']
        assert [f['seed'] for f in m['finals']] == [0, 1]
        values = [f['test']['recall@20'] for f in m['finals']]
        assert m['test']['recall@20']['mean'] == pytest.approx(
            sum(values) / 2)
        # Seed 0 of the chosen setting is the chosen trial itself.
        assert m['finals'][0]['key'] == best['key']
    # The classical baselines get the same budget, selected on validation.
    names = [b['label'] for b in payload['baselines']]
    assert names == ['MostPopular', 'ItemKNN', 'EASE', 'GF-CF', 'iALS']
    for b in payload['baselines']:
        assert len(b['trials']) == (1 if b['label'] == 'MostPopular' else 2)
        feasible = [t for t in b['trials'] if t['valid'] is not None]
        best = max(feasible, key=lambda t: t['valid']['recall@20'])
        assert b['chosen'] == best['point']
        assert len(b['finals']) == 2
        if not b['seeded']:
            assert b['finals'][0]['test'] == b['finals'][1]['test']
    claims = {c['claim']: c for c in payload['claims']}
    assert len(claims) == 5
    assert any(c.startswith('best trained method') for c in claims)
    for c in claims.values():
        r = c['recall@20']
        assert r['low'] <= r['mean'] <= r['high']
        assert c['verdict'] in ('holds', 'does not hold', 'inconclusive')
    md = (out / 'clean' / 'losses' / 'synthetic.md').read_text()
    assert 'clean protocol' in md and 'Every trial' in md
    # A second run trains nothing: everything comes from the run cache.
    again = clean_losses(work, out)
    assert again.returncode == 0, again.stderr
    assert re.search(r'cached \d', again.stdout)
    assert not re.search(r'trained \d', again.stdout)
    assert json.loads((out / 'clean' / 'losses' / 'synthetic.json')
                      .read_text())['claims'] == payload['claims']
    # A subset of the methods (--runs) reports the same rows for them (each
    # method's trials come from its own label) and says which claims have
    # no interval and why.
    part_out = tmp_path / 'part'
    part = clean_losses(work, part_out, '--runs', 'SimCE', 'BPR')
    assert part.returncode == 0, part.stderr
    assert not re.search(r'trained \d', part.stdout)
    sub = json.loads((part_out / 'clean' / 'losses' / 'synthetic.json')
                     .read_text())
    assert [m['label'] for m in sub['methods']] == ['BPR', 'SimCE']
    full = {m['label']: m for m in payload['methods']}
    for m in sub['methods']:
        assert m['chosen'] == full[m['label']]['chosen']
        assert m['test'] == full[m['label']]['test']
    assert sub['runs_skipped'] == ['BCE', 'SM', 'CCL', 'SSM', 'MML']
    by_claim = {c['claim']: c for c in sub['claims']}
    assert by_claim['SimCE > BPR (SimCE paper)'] == \
        claims['SimCE > BPR (SimCE paper)']
    assert any(c.startswith('best trained method run here (')
               for c in by_claim)
    left = {c['claim']: c['reason'] for c in sub['claims_left_out']}
    assert set(left) == {'SSM > BPR on LightGCN (SSM Table 2)',
                         'SimCE > SSM (SimCE paper)',
                         'MML > CCL (MML paper)'}
    assert 'not in this report' in left['MML > CCL (MML paper)']
    md = (part_out / 'clean' / 'losses' / 'synthetic.md').read_text()
    assert '--protocol clean --datasets synthetic --runs BPR SimCE`' in md
    assert 'not run for this report: BCE, SM, CCL, SSM, MML.' in md
    assert 'Claims without an interval here: ' in md
    # Every finished run is in the ledger, test metrics only for the final
    # runs.
    ledger = sorted((out / 'clean' / 'ledger' / 'synthetic').glob('*.gz'))
    finals = {f['key'] for m in payload['methods'] for f in m['finals']}
    trials = {t['key'] for m in payload['methods'] for t in m['trials']}
    assert {p.name.split('.')[0] for p in ledger} == finals | trials
    for path in ledger:
        entry = json.loads(gzip.decompress(path.read_bytes()))
        assert ('test' in entry) == (entry['key'] in finals)
        assert entry['record']['key'] == entry['key']
    # Without the ledger, the same subset written over the full report
    # keeps the other methods' rows and every interval whose sides did not
    # change.
    ledger_dir = out / 'clean' / 'ledger'
    ledger_dir.rename(tmp_path / 'ledger')
    over = clean_losses(work, out, '--runs', 'SimCE', 'BPR')
    assert over.returncode == 0, over.stderr
    merged = json.loads((out / 'clean' / 'losses' / 'synthetic.json')
                        .read_text())
    assert [m['label'] for m in merged['methods']] == labels
    assert [m['label'] for m in merged['methods'] if m.get('carried')] == \
        ['BCE', 'SM', 'CCL', 'SSM', 'MML']
    for m in merged['methods']:
        assert m['test'] == full[m['label']]['test']
    assert merged['runs_skipped'] == [] and merged['claims_left_out'] == []
    plain = [{k: v for k, v in c.items() if k != 'carried'}
             for c in merged['claims']]
    assert plain == payload['claims']
    kept = {c['claim'] for c in merged['claims'] if c.get('carried')}
    assert 'MML > CCL (MML paper)' in kept  # neither side run again
    assert 'SimCE > BPR (SimCE paper)' not in kept  # computed again
    md = (out / 'clean' / 'losses' / 'synthetic.md').read_text()
    assert '--protocol clean --datasets synthetic`' in md
    assert '| MML * |' in md and '| SimCE |' in md
    # With it, a checkout without the run cache trains nothing: the methods
    # left out by --runs are reported again from the ledger, with fresh
    # intervals equal to the first ones.
    shutil.rmtree(ledger_dir)
    (tmp_path / 'ledger').rename(ledger_dir)
    shutil.rmtree(work)
    fresh = clean_losses(work, out, '--runs', 'BPR')
    assert fresh.returncode == 0, fresh.stderr
    assert ('from the ledger, without training: BCE, SM, CCL, SSM, SimCE, '
            'MML') in fresh.stdout
    assert not re.search(r'trained \d', fresh.stdout)
    # ... nor fits a classical baseline: every fit, on validation and on
    # test, comes from the ledger, with the same test figures.
    assert 'fitted' not in fresh.stdout
    assert re.search(r'final, seed 0: test Recall@20 [0-9.]+ '
                     r'\(from the ledger\)', fresh.stdout)
    again_payload = json.loads((out / 'clean' / 'losses' / 'synthetic.json')
                               .read_text())
    assert again_payload['claims'] == payload['claims']  # none carried
    assert [m['test'] for m in again_payload['methods']] == \
        [m['test'] for m in payload['methods']]
    assert [b['test'] for b in again_payload['baselines']] == \
        [b['test'] for b in payload['baselines']]
    assert not any(m.get('carried') for m in again_payload['methods'])
    # Another budget gives other runs: nothing of the earlier report is
    # carried over, and the report says so.
    other = clean_losses(work, out, '--seeds', '3', '--runs', 'BPR')
    assert other.returncode == 0, other.stderr
    assert 'not carried over: SimCE: its runs in the earlier report differ' \
        in other.stdout
    alone = json.loads((out / 'clean' / 'losses' / 'synthetic.json')
                       .read_text())
    assert [m['label'] for m in alone['methods']] == ['BPR']
    assert not any(c.get('carried') for c in alone['claims'])


def test_unknown_dataset_and_suite_are_refused(tmp_path, capsys):
    from benchmarks.run import main

    for argv, message in (
            (['longtail'], '--protocol clean expected a suite of'),
            (['losses', '--datasets', 'amazon-book'],
             "no clean-protocol settings for dataset 'amazon-book'"),
            (['losses', '--datasets', 'synthetic', '--trials', '0'],
             '--trials expected a positive integer'),
            (['losses', '--datasets', 'synthetic', '--quick'],
             '--protocol clean takes none of --quick'),
            (['losses', '--datasets', 'synthetic', '--threads', '0'],
             '--threads expected a positive integer'),
            (['losses', '--datasets', 'synthetic', '--runs', 'SimCE',
              'Nope'], "--runs: ['Nope'] are not runs of suite 'losses'")):
        with pytest.raises(SystemExit) as info:
            main(argv + ['--protocol', 'clean', '--work', str(tmp_path)])
        assert info.value.code == 2
        assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # refused before any training
