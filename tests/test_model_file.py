import os
import pickle
import stat

import pytest
import torch

import pyg_simce
from pyg_simce.model_file import MODEL_FORMAT, load_model, model_classes, \
    read_model_file
from pyg_simce.nn.models import MF, LightGCN


class _Hostile:
    # Unpickling this would create the marker file.
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, 'w'))


@pytest.fixture
def saved(tmp_path):
    edge_index = torch.tensor([[0, 1, 2, 2], [1, 0, 3, 4]])
    model = LightGCN(3, 5, embedding_dim=4, num_layers=1)
    path = model.save(tmp_path / 'model.pt', edge_index)
    return model, path


@pytest.mark.filterwarnings('ignore::UserWarning')
@pytest.mark.parametrize('writer', ['torch', 'pickle'])
def test_hostile_pickle_is_refused_without_side_effect(tmp_path, writer):
    marker = tmp_path / 'marker'
    path = tmp_path / 'model.pt'
    payload = {'format': MODEL_FORMAT, 'version': 1, 'class': 'MF',
               'init_args': _Hostile(marker), 'state': {}}
    if writer == 'torch':
        torch.save(payload, path)
    else:
        with open(path, 'wb') as f:
            pickle.dump(payload, f)
    assert not marker.exists()
    # A plain pickle (not a torch.save archive) is refused the same way.
    with pytest.raises(ValueError, match=(
            f"model file '{path}' refused: not a pyg_simce model file "
            f"\\(torch.load\\(weights_only=True\\) found content other "
            f"than tensors and plain Python values; nothing in it was "
            f"run\\)")):
        pyg_simce.load(path)
    with pytest.raises(ValueError, match=f"model file '{path}'"):
        MF.load(path)
    assert not marker.exists()


def test_not_a_model_file_unknown_version_and_class(tmp_path, saved):
    model, path = saved
    text = tmp_path / 'notes.pt'
    text.write_text('hello\n')
    with pytest.raises(ValueError, match=f"model file '{text}' is not a "
                       f"pyg_simce model file, or it is truncated"):
        pyg_simce.load(text)

    other = tmp_path / 'other.pt'
    torch.save({'weights': torch.zeros(2)}, other)
    with pytest.raises(ValueError, match=f"model file '{other}' is not a "
                       f"pyg_simce model file \\(expected format "
                       f"'pyg_simce.model'\\)"):
        pyg_simce.load(other)

    ckpt = tmp_path / 'last.pt'
    torch.save({'format': 'pyg_simce.checkpoint', 'model': {}}, ckpt)
    with pytest.raises(ValueError, match="it looks like a training "
                       "checkpoint: use 'pyg-simce eval'"):
        pyg_simce.load(ckpt)

    content = torch.load(path, weights_only=True)
    content['version'] = 99
    future = tmp_path / 'future.pt'
    torch.save(content, future)
    with pytest.raises(ValueError, match=f"model file '{future}' has unknown "
                       f"version 99 \\(this pyg_simce reads version 1\\)"):
        pyg_simce.load(future)

    content['version'] = 1
    content['class'] = 'os.system'
    odd = tmp_path / 'odd.pt'
    torch.save(content, odd)
    with pytest.raises(ValueError, match=f"model file '{odd}' names unknown "
                       f"class 'os.system' \\(expected one of MF, LightGCN, "
                       f"SVDPP, GFCF, EASE, IALS, ItemKNN, MostPopular\\)"):
        pyg_simce.load(odd)

    content['class'] = 'LightGCN'
    content['init_args'] = dict(content['init_args'], num_layers=3)
    bad = tmp_path / 'bad.pt'
    torch.save(content, bad)
    with pytest.raises(ValueError, match=f"model file '{bad}' holds a "
                       f"LightGCN that cannot be rebuilt"):
        pyg_simce.load(bad)

    del content['state']
    lacking = tmp_path / 'lacking.pt'
    torch.save(content, lacking)
    with pytest.raises(ValueError, match="lacks the entry 'state'"):
        read_model_file(lacking)

    with pytest.raises(FileNotFoundError, match=f"model file "
                       f"'{tmp_path / 'none.pt'}' does not exist"):
        pyg_simce.load(tmp_path / 'none.pt')


def test_truncated_and_damaged_files(tmp_path, saved):
    model, path = saved
    data = path.read_bytes()
    cut = tmp_path / 'cut.pt'
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=f"model file '{cut}' is not a "
                       f"pyg_simce model file, or it is truncated"):
        pyg_simce.load(cut)
    # One flipped byte inside the stored weights: the CRC check finds it.
    weights = model.user_embedding.weight.detach().numpy().tobytes()
    at = data.find(weights)
    assert at > 0
    damaged = tmp_path / 'damaged.pt'
    damaged.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) +
                        data[at + 1:])
    with pytest.raises(ValueError, match=f"model file '{damaged}' is "
                       f"damaged \\(entry '.*' fails its CRC-32 check\\)"):
        pyg_simce.load(damaged)


def test_atomic_write_honours_umask_and_leaves_no_temporary(tmp_path):
    old = os.umask(0o027)
    try:
        path = MF(2, 3).save(tmp_path / 'm.pt')
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ['m.pt']
    # Overwriting keeps a loadable file.
    MF(2, 3, embedding_dim=2).save(path)
    assert load_model(path).embedding_dim == 2


def test_allow_list_holds_exactly_the_library_classes():
    from pyg_simce.baselines import BASELINES
    from pyg_simce.nn.models import SVDPP
    classes = model_classes()
    assert set(classes.values()) == {MF, LightGCN, SVDPP,
                                     *BASELINES.values()}
    assert all(name == cls.__name__ for name, cls in classes.items())


def test_damaged_header_and_bad_save_arguments(tmp_path, saved):
    model, path = saved
    data = path.read_bytes()
    assert data[:4] == b'PK\x03\x04'
    broken = tmp_path / 'broken.pt'
    broken.write_bytes(b'XX\x03\x04' + data[4:])
    with pytest.raises(ValueError, match=f"model file '{broken}' is damaged "
                       f"\\(entry '.*' fails its CRC-32 check\\)"):
        pyg_simce.load(broken)

    edge_index = torch.tensor([[0], [1]])
    with pytest.raises(ValueError, match="'metadata' expected tensors and "
                       "plain Python values"):
        model.save(tmp_path / 'm.pt', edge_index, metadata={'x': object()})
    with pytest.raises(ValueError, match=r"'user_raw_id' expected a "
                       r"1-dimensional vector of integer or string raw ids "
                       r"\(got torch.float32, shape \[3\]\)"):
        model.save(tmp_path / 'm.pt', edge_index,
                   user_raw_id=torch.zeros(3))
    with pytest.raises(ValueError, match=r"'train_data' expected a \[2, E\] "
                       r"edge tensor or a HeteroData with \('user', 'rates', "
                       r"'item'\) edge_index \(got list\)"):
        model.save(tmp_path / 'm.pt', [[0], [1]])
    assert not (tmp_path / 'm.pt').exists()
