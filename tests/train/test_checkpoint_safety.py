import os
import stat
import struct
import zipfile

import pytest
import torch

from pyg_simce import cli
from pyg_simce.data import load_dataset
from pyg_simce.nn.loss import BPRLoss
from pyg_simce.nn.models import LightGCN
from pyg_simce.train import JSONLinesLogger, Trainer, load_checkpoint
from pyg_simce.train.checkpoint import (
    latest_checkpoint,
    move_aside,
    save_checkpoint,
    verify_checkpoint,
)

TINY = [
    '--dataset', 'synthetic', '--synthetic-users', '80', '--synthetic-items',
    '60', '--model', 'lightgcn', '--layers', '1', '--dim', '8',
    '--batch-size', '256', '--lr', '0.01', '--threads', '1', '--epochs',
    '1', '--quiet', '--loss', 'bpr'
]


def _tensor_entry_offset(path, index=0):
    # The file offset of the first data byte of the index-th tensor entry
    # ('<archive>/data/<n>') of a torch.save archive.
    with zipfile.ZipFile(path) as archive:
        infos = [i for i in archive.infolist() if '/data/' in i.filename
                 and i.file_size > 0]
    info = infos[index]
    with open(path, 'rb') as f:
        f.seek(info.header_offset)
        header = f.read(30)
    assert header[:4] == b'PK\x03\x04'
    name_len, extra_len = struct.unpack('<HH', header[26:30])
    return info.header_offset + 30 + name_len + extra_len, info


def _flip_byte(path, index=0):
    offset, info = _tensor_entry_offset(path, index)
    data = bytearray(path.read_bytes())
    data[offset + info.file_size // 2] ^= 0x5A
    path.write_bytes(bytes(data))
    return info.filename


def test_flipped_byte_in_tensor_entry_is_refused(tmp_path):
    path = save_checkpoint({'format': 'x', 'w': torch.randn(64, 8)},
                           tmp_path / 'last.pt')
    verify_checkpoint(path)
    entry = _flip_byte(path)
    with pytest.raises(ValueError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert str(path) in message and entry in message
    assert 'CRC' in message and '\n' not in message
    # A truncated archive is refused as well.
    cut = tmp_path / 'cut.pt'
    save_checkpoint({'format': 'x', 'w': torch.randn(64, 8)}, cut)
    cut.write_bytes(cut.read_bytes()[:-100])
    with pytest.raises(ValueError, match='cut.pt'):
        load_checkpoint(cut)


def test_previous_checkpoint_is_kept_and_stale_temporaries_removed(
        tmp_path):
    last, prev = tmp_path / 'last.pt', tmp_path / 'prev.pt'
    save_checkpoint({'format': 'x', 'epoch': 1}, last, previous=prev)
    assert not prev.exists()
    stale = [tmp_path / '.last.pt.k3j2_x.tmp', tmp_path / '.prev.pt.1.2.tmp']
    others = [tmp_path / '.out.json.abc.tmp', tmp_path / 'notes.tmp']
    for p in stale + others:
        p.write_bytes(b'left by a crash')
    save_checkpoint({'format': 'x', 'epoch': 2}, last, previous=prev)
    assert load_checkpoint(last)['epoch'] == 2
    assert load_checkpoint(prev)['epoch'] == 1
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in others)  # not of our naming
    assert sorted(os.listdir(tmp_path)) == sorted(
        ['last.pt', 'prev.pt'] + [p.name for p in others])
    assert latest_checkpoint(tmp_path) == last
    last.unlink()
    assert latest_checkpoint(tmp_path) == prev


@pytest.mark.parametrize('mask,mode', [(0o022, 0o644), (0o077, 0o600),
                                       (0o002, 0o664)])
def test_files_honour_the_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        last, prev = tmp_path / 'last.pt', tmp_path / 'prev.pt'
        save_checkpoint({'format': 'x'}, last, previous=prev)
        save_checkpoint({'format': 'x'}, last, previous=prev)
    finally:
        os.umask(old)
    assert stat.S_IMODE(last.stat().st_mode) == mode
    assert stat.S_IMODE(prev.stat().st_mode) == mode


def test_move_aside_keeps_every_file(tmp_path):
    assert move_aside(tmp_path) is None
    (tmp_path / 'last.pt').write_bytes(b'a')
    (tmp_path / 'log.jsonl').write_bytes(b'b')
    first = move_aside(tmp_path, [tmp_path / 'log.jsonl'])
    (tmp_path / 'prev.pt').write_bytes(b'c')
    second = move_aside(tmp_path)
    assert first != second and first.name.startswith('replaced-')
    assert (first / 'last.pt').read_bytes() == b'a'
    assert (first / 'log.jsonl').read_bytes() == b'b'
    assert (second / 'prev.pt').read_bytes() == b'c'
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == []


# Trainer and command line ####################################################


@pytest.fixture(scope='module')
def split():
    return load_dataset('synthetic', num_users=120, num_items=80, seed=0)


def _trainer(split, tmp_path, epochs):
    torch.manual_seed(0)
    model = LightGCN(split.num_users, split.num_items, embedding_dim=16,
                     num_layers=1)
    return Trainer(model, BPRLoss(), split.train, val_data=split.val,
                   test_data=split.test, batch_size=256, lr=0.01, ks=(5, 20),
                   quiet=True, seed=0, epochs=epochs, checkpoint_dir=tmp_path,
                   log_path=tmp_path / 'log.jsonl')


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_new_run_refuses_a_folder_with_a_checkpoint(split, tmp_path):
    _trainer(split, tmp_path, epochs=2).fit()
    before = _snapshot(tmp_path)
    assert {'last.pt', 'prev.pt', 'log.jsonl'} <= set(before)
    with pytest.raises(ValueError) as info:
        _trainer(split, tmp_path, epochs=1).fit()
    assert 'resume=True' in str(info.value)
    assert 'fresh=True' in str(info.value)
    assert str(tmp_path) in str(info.value)
    assert _snapshot(tmp_path) == before  # untouched

    result = _trainer(split, tmp_path, epochs=1).fit(fresh=True)
    assert result['epochs_run'] == 1
    [aside] = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert aside.name.startswith('replaced-')
    assert _snapshot(aside) == before  # moved, byte for byte
    assert load_checkpoint(tmp_path / 'last.pt')['epoch'] == 1
    assert not (tmp_path / 'prev.pt').exists()
    assert len(JSONLinesLogger.read(tmp_path / 'log.jsonl')) == 1


def test_resume_falls_back_to_the_previous_checkpoint(split, tmp_path,
                                                      capfd):
    expected = _trainer(split, tmp_path / 'full', epochs=2).fit()
    _trainer(split, tmp_path, epochs=2).fit()
    assert load_checkpoint(tmp_path / 'prev.pt')['epoch'] == 1
    _flip_byte(tmp_path / 'last.pt')
    capfd.readouterr()
    resumed = _trainer(split, tmp_path, epochs=2)
    got = resumed.fit(resume=True)
    err = capfd.readouterr().err
    assert 'prev.pt' in err and '(epoch 1)' in err and 'CRC' in err
    # Epoch 2 was trained again from epoch 1: the same run.
    for name in ('test', 'valid'):
        for key, value in expected[name].items():
            assert got[name][key] == pytest.approx(value, abs=1e-6), key
    log = JSONLinesLogger.read(tmp_path / 'log.jsonl')
    assert [r['epoch'] for r in log] == [1, 2]
    # The damaged file was replaced, not rotated into prev.pt.
    assert load_checkpoint(tmp_path / 'last.pt')['epoch'] == 2
    assert load_checkpoint(tmp_path / 'prev.pt')['epoch'] == 1

    # Without an intact previous checkpoint, resuming is refused.
    _flip_byte(tmp_path / 'last.pt')
    (tmp_path / 'prev.pt').unlink()
    with pytest.raises(ValueError, match='last.pt'):
        _trainer(split, tmp_path, epochs=2).fit(resume=True)


def test_cli_refuses_overwrite_and_fresh_moves_aside(tmp_path, capfd):
    ck = tmp_path / 'ck'
    assert cli.main(['train', *TINY, '--checkpoint-dir', str(ck)]) == 0
    before = _snapshot(ck)
    assert {'last.pt', 'log.jsonl'} <= set(before)
    capfd.readouterr()
    with pytest.raises(SystemExit) as info:
        cli.main(['train', *TINY, '--checkpoint-dir', str(ck)])
    assert info.value.code == 2
    err = capfd.readouterr().err
    assert err.count('\n') == 1 and err.startswith('pyg-simce: error: ')
    assert '--resume' in err and '--fresh' in err and str(ck) in err
    assert _snapshot(ck) == before

    with pytest.raises(SystemExit):
        cli.main(['train', *TINY, '--checkpoint-dir', str(ck), '--resume',
                  '--fresh'])
    assert '--fresh expected no --resume' in capfd.readouterr().err

    old = os.umask(0o027)
    try:
        assert cli.main(['train', *TINY, '--checkpoint-dir', str(ck),
                         '--fresh', '--out', str(ck / 'r.json')]) == 0
    finally:
        os.umask(old)
    for name in ('last.pt', 'log.jsonl', 'r.json'):  # not mkstemp's 0600
        assert stat.S_IMODE((ck / name).stat().st_mode) == 0o640, name
    [aside] = [p for p in ck.iterdir() if p.is_dir()]
    assert _snapshot(aside) == before
    assert load_checkpoint(ck / 'last.pt')['epoch'] == 1
    assert 'replaced-' in capfd.readouterr().err
