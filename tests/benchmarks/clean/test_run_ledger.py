r"""The ledger of finished clean-protocol runs: what it stores, that it
serves an entry only to the run it belongs to, and that it says which file
is broken."""
import gzip
import json

import pytest

from benchmarks.clean.run_ledger import RunLedger
from benchmarks.suites.training import spec_key


def spec(seed=0, lr=0.005):
    return {'dataset': 'irbench/amazon2014-health', 'model': 'lightgcn',
            'loss': 'bpr', 'lr': lr, 'seed': seed, 'protocol': 'clean'}


def record(s, recall=0.25):
    return {'key': spec_key(s), 'spec': s, 'valid': {'recall@20': recall},
            'best_epoch': 4, 'curve': [{'epoch': 2, 'recall@20': 0.2}],
            'cached': False}


def test_round_trip_without_and_with_test_metrics(tmp_path):
    ledger = RunLedger(tmp_path)
    s = spec()
    assert ledger.get(s) is None
    ledger.put(s, record(s))
    path = tmp_path / 'irbench-amazon2014-health' / f'{spec_key(s)}.json.gz'
    assert ledger.path(s) == path and path.is_file()
    entry = ledger.get(s)
    assert entry['key'] == spec_key(s) and 'test' not in entry
    assert 'cached' not in entry['record']  # how it was found is not kept
    assert entry['record']['valid'] == {'recall@20': 0.25}
    test = {'test': {'recall@20': 0.3}, 'users': [0, 2],
            'recall@20': [0.5, 0.1], 'ndcg@20': [0.4, 0.2]}
    ledger.put(s, record(s), test)
    assert ledger.get(s)['test'] == test
    # A later record without test metrics keeps the stored ones.
    ledger.put(s, record(s, recall=0.26))
    entry = ledger.get(s)
    assert entry['test'] == test
    assert entry['record']['valid'] == {'recall@20': 0.26}
    # Other runs have other files.
    assert ledger.get(spec(seed=1)) is None


def test_entries_are_byte_for_byte_reproducible(tmp_path):
    s = spec()
    a, b = RunLedger(tmp_path / 'a'), RunLedger(tmp_path / 'b')
    a.put(s, record(s))
    b.put(s, dict(reversed(list(record(s).items()))))
    assert a.path(s).read_bytes() == b.path(s).read_bytes()


def test_a_broken_or_foreign_entry_names_its_file(tmp_path):
    ledger = RunLedger(tmp_path)
    s, other = spec(), spec(lr=0.01)
    path = ledger.path(s)
    path.parent.mkdir(parents=True)
    path.write_bytes(b'not gzip')
    with pytest.raises(ValueError, match='not a readable ledger entry') as e:
        ledger.get(s)
    assert str(path) in str(e.value)
    # An entry of another run under this run's name is refused.
    path.write_bytes(gzip.compress(json.dumps(
        {'key': spec_key(s), 'record': record(other)}).encode()))
    with pytest.raises(ValueError, match='holds another run') as e:
        ledger.get(s)
    assert str(path) in str(e.value)


def baseline_spec(seed=0):
    return {'protocol': 'clean', 'dataset': 'irbench/amazon2014-health',
            'baseline': 'gfcf', 'kwargs': {'alpha': 0.1}, 'seed': seed,
            'validation': {'ratio': 0.1, 'seed': 0}}


def test_baseline_fits_round_trip_per_split(tmp_path):
    ledger = RunLedger(tmp_path)
    s = baseline_spec()
    assert ledger.get_baseline(s, final=False) is None
    valid = {'spec': s, 'fit_seconds': 1.5, 'valid': {'recall@20': 0.2}}
    test = {'spec': s, 'fit_seconds': 1.6, 'test': {'recall@20': 0.3},
            'users': [0, 2], 'recall@20': [0.5, 0.1]}
    ledger.put_baseline(s, False, valid)
    assert ledger.get_baseline(s, final=True) is None  # another split
    ledger.put_baseline(s, True, test)
    assert ledger.get_baseline(s, final=False) == valid
    assert ledger.get_baseline(s, final=True) == test
    folder = tmp_path / 'irbench-amazon2014-health' / 'baselines'
    assert sorted(p.name for p in folder.iterdir()) == [
        f'{spec_key(s)}-test.json.gz', f'{spec_key(s)}.json.gz']
    # Byte-for-byte reproducible, whatever the key order.
    other = RunLedger(tmp_path / 'b')
    other.put_baseline(s, True, dict(reversed(list(test.items()))))
    assert other.baseline_path(s, True).read_bytes() == \
        ledger.baseline_path(s, True).read_bytes()
    assert ledger.get_baseline(baseline_spec(seed=1), final=True) is None


def test_a_foreign_baseline_fit_is_refused(tmp_path):
    ledger = RunLedger(tmp_path)
    s, other = baseline_spec(), baseline_spec(seed=1)
    with pytest.raises(ValueError, match='another fit'):
        ledger.put_baseline(s, False, {'spec': other, 'valid': {}})
    path = ledger.baseline_path(s, False)
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(json.dumps({'spec': other}).encode()))
    with pytest.raises(ValueError, match='holds another fit') as e:
        ledger.get_baseline(s, final=False)
    assert str(path) in str(e.value)
    path.write_bytes(b'not gzip')
    with pytest.raises(ValueError, match='not a readable ledger entry') as e:
        ledger.get_baseline(s, final=False)
    assert str(path) in str(e.value)
