import json

import pytest
import torch

from pyg_simce.train import JSONLinesLogger


def test_lines_are_strict_json_and_positions_are_byte_offsets(tmp_path):
    path = tmp_path / 'log.jsonl'
    log = JSONLinesLogger(path)
    log.log({'epoch': 1, 'loss': 0.5, 'seconds': 1.0})
    first = log.position
    assert first == path.stat().st_size
    log.log({'epoch': 2, 'loss': float('nan'), 'metrics': {'r': torch.tensor(
        0.25)}})
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[1]) == {'epoch': 2, 'loss': None,
                                    'metrics': {'r': 0.25}}
    assert JSONLinesLogger.read(path)[0] == {'epoch': 1, 'loss': 0.5,
                                             'seconds': 1.0}
    # Resuming from the first position drops the second line.
    resumed = JSONLinesLogger(path, append=True)
    resumed.truncate(first)
    resumed.log({'epoch': 2, 'loss': 0.4})
    assert [r['epoch'] for r in JSONLinesLogger.read(path)] == [1, 2]
    assert JSONLinesLogger.read(path)[1]['loss'] == 0.4


def test_new_logger_overwrites_and_memory_only(tmp_path):
    path = tmp_path / 'log.jsonl'
    path.write_text('old\n')
    JSONLinesLogger(path).log({'a': 1})
    assert path.read_text() == '{"a": 1}\n'
    mem = JSONLinesLogger(None)
    mem.log({'a': 1})
    assert mem.records == [{'a': 1}] and mem.position == 0


def test_read_names_file_and_line(tmp_path):
    path = tmp_path / 'bad.jsonl'
    path.write_text('{"a": 1}\n{oops\n')
    with pytest.raises(ValueError, match=r'bad.jsonl:2'):
        JSONLinesLogger.read(path)


def test_truncate_beyond_end_is_an_error(tmp_path):
    path = tmp_path / 'log.jsonl'
    log = JSONLinesLogger(path)
    with pytest.raises(ValueError, match='expected at least 10 bytes'):
        log.truncate(10)
