import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pyg_simce.cli import build_parser
from pyg_simce.train import defaults

# Option of 'pyg-simce train' -> the key of loss_defaults() its help names.
PER_LOSS_FLAGS = {
    '--sampler': 'negative_sampling',
    '--num-negatives': 'num_negatives',
    '--train-similarity': 'train_similarity',
    '--test-similarity': 'test_similarity',
    '--temperature': 'temperature',
    '--margin': 'margin',
    '--margins': 'margins',
    '--weights': 'weights',
    '--negative-weight': 'negative_weight',
}
NEGATIVES_AND_SIMILARITIES = ('negative_sampling', 'num_negatives',
                              'train_similarity', 'test_similarity')


def test_console_script_and_help_list_per_loss_defaults(cli_env):
    script = Path(sys.executable).parent / 'pyg-simce'
    if not script.exists():
        pytest.skip('console script not installed')
    proc = subprocess.run([str(script), 'train', '--help'],
                          capture_output=True, text=True, env=cli_env,
                          timeout=120)
    assert proc.returncode == 0
    assert 'per-loss defaults' in proc.stdout
    assert 'simce    64 negatives excluding training items' in proc.stdout


def _train_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    sub = next(action for action in parser._actions
               if isinstance(action, argparse._SubParsersAction))
    return sub.choices['train']


def _expected(key):
    values = {loss: defaults.loss_defaults(loss).get(key)
              for loss in defaults.LOSS_NAMES}
    return {loss: value for loss, value in values.items() if value is not None}


def _named_defaults(help_text):
    # '... (default: bpr/bce dot, ssm cosine)' -> {'bpr': 'dot', ...}
    assert help_text.endswith(')'), help_text
    named = {}
    for group in help_text.rsplit('(default: ', 1)[1][:-1].split(', '):
        losses, value = group.split(' ', 1)
        named.update({loss: value for loss in losses.split('/')})
    return named


def _same(text, value):
    if isinstance(value, str):
        return text == value
    if isinstance(value, (list, tuple)):
        return [float(x) for x in text.split(',')] == list(value)
    return float(text) == value


_SWAP = {
    'uniform': 'popularity',
    'popularity': 'uniform',
    'in-batch': 'full',
    'full': 'in-batch',
    'dot': 'cosine',
    'cosine': 'dot',
}


def _shifted(values):
    # Defaults that no loss has today: the help must follow them.
    out = {}
    for key, value in values.items():
        if isinstance(value, str):
            value = _SWAP.get(value, value)
        elif isinstance(value, tuple):
            value = tuple(v + 0.25 for v in value)
        elif isinstance(value, float):
            value = value + 0.25
        elif isinstance(value, int):
            value = value + 3
        out[key] = value
    return out


@pytest.fixture(params=['defaults', 'changed defaults'])
def loss_defaults(request, monkeypatch):
    if request.param == 'changed defaults':
        real = defaults.loss_defaults
        monkeypatch.setattr(defaults, 'loss_defaults',
                            lambda name: _shifted(real(name)))
    return defaults.loss_defaults


def test_every_per_loss_default_has_an_option():
    keys = set()
    for loss in defaults.LOSS_NAMES:
        keys |= set(defaults.loss_defaults(loss))
    assert keys == set(PER_LOSS_FLAGS.values())


def test_option_help_names_the_default_of_every_loss(loss_defaults):
    actions = {
        option: action
        for action in _train_parser()._actions
        for option in action.option_strings
    }
    for flag, key in PER_LOSS_FLAGS.items():
        named = _named_defaults(actions[flag].help)
        expected = _expected(key)
        assert set(named) == set(expected), (flag, actions[flag].help)
        for loss, value in expected.items():
            assert _same(named[loss], value), (flag, loss, named[loss], value)


def test_help_table_lists_the_defaults_of_every_loss(loss_defaults):
    lines = _train_parser().epilog.splitlines()
    assert lines[0] == 'per-loss defaults (used unless overridden):'
    rows = {}
    for line in lines[1:]:
        if not line.startswith(' ' * 3):
            loss = line.split()[0]
        rows[loss] = ' '.join([rows.get(loss, ''), *line.split()])
    assert list(rows) == list(defaults.LOSS_NAMES)
    for loss, row in rows.items():
        values = loss_defaults(loss)
        assert values['negative_sampling'] in row, row
        if values['num_negatives'] is not None:
            assert f" {loss} {values['num_negatives']} " in f'{row} ', row
        for key in ('train_similarity', 'test_similarity'):
            assert values[key] in row, row
        for key, value in values.items():
            if key in NEGATIVES_AND_SIMILARITIES:
                continue
            label = key.replace('_', ' ')
            match = re.search(rf'\b{label} ([-+.,e0-9]+?),?(?: |$)', row)
            assert match is not None, (label, row)
            assert _same(match.group(1), value), (label, row)
