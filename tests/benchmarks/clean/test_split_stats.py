r"""The split statistics of the clean protocol against a plain loop over
the interactions, and the command's output file."""
import json

import pytest

from benchmarks.clean import split_stats
from benchmarks.clean.clean_config import clean_settings
from benchmarks.clean.validation_split import (
    carve_validation,
    final_evaluation,
)
from pyg_simce.data import load_dataset

RATES = ('user', 'rates', 'item')


def loop_stats(pairs, popularity):
    users = {}
    for u, _ in pairs:
        users[u] = users.get(u, 0) + 1
    pops = [popularity.get(i, 0) for _, i in pairs]
    return {'interactions': len(pairs), 'users': len(users),
            'per_user': len(pairs) / len(users),
            'mean_train_popularity': sum(pops) / len(pops)}


@pytest.fixture(scope='module')
def data():
    clean = clean_settings('synthetic')
    split = load_dataset('synthetic', **clean.settings.load)
    return carve_validation(split, clean.val_ratio, clean.val_seed)


def test_parts_match_a_loop(data):
    train = data.train[RATES].edge_index.t().tolist()
    popularity = {}
    for _, i in train:
        popularity[i] = popularity.get(i, 0) + 1
    with final_evaluation():
        test = data.test.open()[RATES].edge_label_index.t().tolist()
    expected = {'train': loop_stats(train, popularity),
                'valid': loop_stats(
                    data.val[RATES].edge_label_index.t().tolist(),
                    popularity),
                'test': loop_stats(test, popularity)}
    got = split_stats.split_stats(data)
    assert set(got) == set(expected)
    for part in expected:
        assert got[part]['interactions'] == expected[part]['interactions']
        assert got[part]['users'] == expected[part]['users']
        for key in ('per_user', 'mean_train_popularity'):
            assert got[part][key] == pytest.approx(expected[part][key])


def test_command_writes_the_table_and_json(tmp_path, capsys):
    payload = split_stats.main(['--dataset', 'synthetic',
                                '--out', str(tmp_path)])
    text = capsys.readouterr().out
    assert '| valid |' in text and '| test |' in text
    saved = json.loads((tmp_path / 'synthetic.json').read_text())
    assert saved['parts'] == payload['parts']
    assert (saved['val_ratio'], saved['val_seed']) == \
        (payload['val_ratio'], payload['val_seed'])
    assert 'versions' in saved['environment']


def test_unknown_dataset_is_a_clear_error(capsys):
    with pytest.raises(SystemExit):
        split_stats.main(['--dataset', 'amazon-book'])
    assert 'amazon-book' in capsys.readouterr().err
