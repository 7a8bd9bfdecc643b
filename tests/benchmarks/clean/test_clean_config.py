r"""A dataset's own ``search`` entry narrows the declared space for that
dataset alone; a malformed one is refused with its place in the file; a
dataset marked ``default: false`` is run only when named."""
import copy
import json
from pathlib import Path

import pytest

from benchmarks.clean import clean_main
from benchmarks.clean.clean_config import (
    clean_settings,
    dataset_search,
    load_clean,
)
from benchmarks.clean.clean_suite import method_trials
from benchmarks.clean.search import grid
from benchmarks.suites.config import CONFIGS, ConfigError, load_suite

RAW = json.loads((CONFIGS / 'clean.json').read_text())


def _write(tmp_path: Path, raw) -> Path:
    path = tmp_path / 'clean.json'
    path.write_text(json.dumps(raw))
    return path


def _with_override(tmp_path: Path, override, **extra) -> Path:
    raw = copy.deepcopy(RAW)
    entry = raw['datasets']['synthetic']
    entry['search'] = override
    entry.update(extra)
    return _write(tmp_path, raw)


def test_without_an_entry_the_global_search_is_used():
    config = load_clean()
    search = dataset_search(config, 'ml-100k')
    assert search['narrowed_by'] is None
    for key in ('common', 'loss', 'baselines', 'seed'):
        assert search[key] == config[key]


def test_an_entry_narrows_only_what_it_names(tmp_path):
    override = {'common': {'lr': [0.001], 'reg': [0.0, 1e-5]},
                'loss': {'ssm': {'loss.temperature': [0.1, 0.2]}},
                'baselines': {'gfcf': {'alpha': [0.3]}}}
    config = load_clean(_with_override(tmp_path, override))
    search = dataset_search(config, 'synthetic')
    assert search['narrowed_by'] == "datasets.'synthetic'.search"
    assert search['common'] == override['common']
    assert search['loss']['ssm'] == override['loss']['ssm']
    # The losses it does not name keep their global axes.
    for loss in set(config['loss']) - {'ssm'}:
        assert search['loss'][loss] == config['loss'][loss]
    # Its baselines replace the list: the others are not run.
    assert search['baselines'] == {'gfcf': {'alpha': [0.3]}}
    # The loaded config itself is untouched.
    assert config['common'] == RAW['search']['common']
    # Trials are drawn from the narrowed grid: the product of its axes.
    clean = clean_settings('synthetic', search)
    runs = {r.label: r for r in load_suite('losses')['runs']}
    space, points = method_trials(runs['SSM'], clean, search)
    want = grid({'lr': [0.001], 'reg': [0.0, 1e-5],
                 'loss.temperature': [0.1, 0.2]})
    assert space == {'lr': [0.001], 'reg': [0.0, 1e-5],
                     'loss.temperature': [0.1, 0.2]}
    assert len(points) == clean.trials
    assert all(p in want for p in points)


@pytest.mark.parametrize('override,match', [
    ({'axes': {}}, r"datasets.'synthetic'.search expected an object with"),
    ({'loss': {'hinge': {}}},
     r"datasets.'synthetic'.search.loss expected an object keyed by"),
    ({'common': {'learning_rate': [1]}},
     r"datasets.'synthetic'.search.common.learning_rate: expected 'lr'"),
    ({'loss': {'ssm': {'loss.temperature': []}}},
     r"search.loss.ssm.loss.temperature expected a non-empty list"),
    ({'baselines': {'slim': {}}},
     r"datasets.'synthetic'.search.baselines expected an object keyed"),
    ({'baselines': {'ease': {'lambda_': 100.0}}},
     r"search.baselines.ease expected an object of argument: \[values\]"),
    ([1], r"datasets.'synthetic'.search expected an object"),
])
def test_a_malformed_entry_is_refused_with_its_place(tmp_path, override,
                                                     match):
    path = _with_override(tmp_path, override)
    with pytest.raises(ConfigError, match=match) as e:
        load_clean(path)
    assert str(path) in str(e.value)


def test_default_must_be_a_bool_and_false_keeps_it_out(tmp_path,
                                                       monkeypatch):
    config = load_clean(_with_override(tmp_path, {}, default='no'))
    with pytest.raises(ConfigError, match=r"synthetic'.default expected "
                                          r"true or false"):
        clean_settings('synthetic', config)
    raw = copy.deepcopy(RAW)
    names = [d for d in raw['datasets'] if d != 'synthetic']
    for name in names:
        raw['datasets'][name]['default'] = name != names[0]
    path = _write(tmp_path, raw)
    monkeypatch.setattr(clean_main, 'load_clean', lambda: load_clean(path))
    assert clean_main.clean_datasets() == names[1:]


@pytest.mark.parametrize('dataset', ['gowalla', 'yelp2018'])
def test_paper_scale_entries_give_every_narrowed_method_the_budget(dataset):
    # Each method and baseline the entry narrows has exactly as many grid
    # points as trials: every one of them is tried, none has more.
    config = load_clean()
    search = dataset_search(config, dataset)
    clean = clean_settings(dataset, search)
    override = config['datasets'][dataset]['search']
    assert config['datasets'][dataset]['default'] is False
    assert dataset not in clean_main.clean_datasets()
    for loss in override['loss']:
        space = dict(search['common'], **search['loss'][loss])
        assert len(grid(space)) == clean.trials, loss
    for name, space in search['baselines'].items():
        assert len(grid(space)) in ((1, ) if not space else
                                    (clean.trials, )), name
