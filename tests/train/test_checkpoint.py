import os
import pickle
from fractions import Fraction
from collections import OrderedDict

import numpy as np
import pytest
import torch

from pyg_simce.train import latest_checkpoint, load_checkpoint, save_checkpoint
from pyg_simce.train.checkpoint import to_safe


def _state():
    gen = torch.Generator().manual_seed(3)
    return {
        'format': 'test/1',
        'model': OrderedDict(w=torch.randn(3, 4)),
        'epoch': 7,
        'rng': {'torch': torch.get_rng_state(), 'gen': gen.get_state()},
        'metrics': {'recall@20': 0.25},
        'numpy_array': np.arange(5),
        'numpy_scalar': np.float32(1.5),
        'history': [(1, 0.1), (2, 0.2)],
        'none': None,
    }


def test_round_trip_with_weights_only(tmp_path):
    path = save_checkpoint(_state(), tmp_path / 'sub' / 'last.pt')
    assert path.is_file()
    state = load_checkpoint(path)
    assert state['epoch'] == 7
    assert state['model']['w'].shape == (3, 4)
    # NumPy values were converted to tensors / Python numbers.
    assert torch.equal(state['numpy_array'], torch.arange(5))
    assert state['numpy_scalar'] == 1.5 and isinstance(
        state['numpy_scalar'], float)
    assert state['history'] == [(1, 0.1), (2, 0.2)]
    # The generator state restores the same stream.
    g = torch.Generator()
    g.set_state(state['rng']['gen'])
    assert torch.equal(torch.randperm(10, generator=g),
                       torch.randperm(10, generator=torch.Generator()
                                      .manual_seed(3)))
    # And plain torch.load(weights_only=True) accepts the file.
    torch.load(path, weights_only=True)


def test_no_partial_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / 'last.pt'
    save_checkpoint({'format': 'x', 'epoch': 1}, path)
    before = path.read_bytes()

    real_save = torch.save

    def failing_save(obj, f, *args, **kwargs):
        real_save(obj, f, *args, **kwargs)  # some bytes are written ...
        raise OSError('disk full')  # ... then the write fails midway

    monkeypatch.setattr(torch, 'save', failing_save)
    with pytest.raises(OSError, match='disk full'):
        save_checkpoint({'format': 'x', 'epoch': 2}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before  # the old checkpoint is intact
    assert sorted(os.listdir(tmp_path)) == ['last.pt']  # no temp file left
    assert load_checkpoint(path)['epoch'] == 1


def test_replace_failure_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / 'last.pt'

    def failing_replace(src, dst):
        raise OSError('rename failed')

    monkeypatch.setattr(os, 'replace', failing_replace)
    with pytest.raises(OSError):
        save_checkpoint({'format': 'x'}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


def test_unsafe_content_is_rejected_before_writing(tmp_path):
    with pytest.raises(TypeError, match='set'):
        save_checkpoint({'format': 'x', 'bad': {1, 2}}, tmp_path / 'c.pt')
    assert not (tmp_path / 'c.pt').exists()
    assert to_safe((np.int64(3), [np.bool_(True)])) == (3, [True])


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_checkpoint(tmp_path / 'missing.pt')
    garbage = tmp_path / 'garbage.pt'
    garbage.write_bytes(b'not a checkpoint at all')
    with pytest.raises(ValueError, match='garbage.pt'):
        load_checkpoint(garbage)

    # A pickle of an arbitrary object is refused by weights_only loading.
    evil = tmp_path / 'evil.pt'
    with open(evil, 'wb') as f:
        torch.save({'format': 'x', 'obj': Fraction(1, 3)}, f,
                   pickle_module=pickle)
    with pytest.raises(ValueError, match='weights_only'):
        load_checkpoint(evil)

    plain = tmp_path / 'plain.pt'
    torch.save(torch.zeros(2), plain)
    with pytest.raises(ValueError, match="'format'"):
        load_checkpoint(plain)


def test_latest_checkpoint(tmp_path):
    assert latest_checkpoint(tmp_path) is None
    save_checkpoint({'format': 'x'}, tmp_path / 'last.pt')
    assert latest_checkpoint(tmp_path) == tmp_path / 'last.pt'


def test_str_subclasses_become_plain_strings(tmp_path):
    save_checkpoint({'format': 'x', 'v': torch.__version__}, tmp_path / 'c.pt')
    assert load_checkpoint(tmp_path / 'c.pt')['v'] == str(torch.__version__)
