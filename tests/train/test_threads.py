import os

import pytest
import torch

from pyg_simce.train import resolve_threads


def test_integers_pass_through():
    assert resolve_threads(3) == 3
    assert resolve_threads('2') == 2


@pytest.mark.parametrize('value', ['0', -1, 'many', True, '1.5'])
def test_bad_values_name_the_option(value):
    with pytest.raises(ValueError, match='--threads expected a positive'):
        resolve_threads(value)


def test_auto_drops_to_one_thread_on_a_busy_machine(monkeypatch):
    monkeypatch.setattr(os, 'cpu_count', lambda: 4)
    monkeypatch.setattr(torch, 'get_num_threads', lambda: 4)
    monkeypatch.setattr(os, 'getloadavg', lambda: (3.6, 0.0, 0.0))
    assert resolve_threads('auto') == 1
    monkeypatch.setattr(os, 'getloadavg', lambda: (1.0, 0.0, 0.0))
    assert resolve_threads('AUTO') == 4
