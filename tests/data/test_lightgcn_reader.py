import gzip

import numpy as np
import pytest

from pyg_simce.data import read_lightgcn


def naive_lightgcn(text):
    users, items = [], []
    for line in text.splitlines():
        tokens = line.split()
        if not tokens:
            continue
        for t in tokens[1:]:
            users.append(int(tokens[0]))
            items.append(int(t))
    return users, items


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_matches_naive_parser(tmp_path):
    rng = np.random.default_rng(0)
    lines = []
    for u in rng.permutation(50):
        items = rng.integers(0, 1000, size=rng.integers(0, 12))
        sep = ' ' if u % 3 else '\t'
        lines.append(sep.join(str(x) for x in [u, *items]))
    text = '\n'.join(lines) + '\n'
    out = read_lightgcn(write(tmp_path, 'train.txt', text))
    users, items = naive_lightgcn(text)
    assert out.user.tolist() == users
    assert out.item.tolist() == items
    assert out.rating is None and out.timestamp is None


def test_gzip_crlf_blank_lines_and_itemless_users(tmp_path):
    text = '0 5 6\r\n\r\n1\r\n  \r\n2 7   8 \r\n3 \n4 100'
    path = tmp_path / 'train.txt.gz'
    path.write_bytes(gzip.compress(text.encode()))
    out = read_lightgcn(path)
    assert out.user.tolist() == [0, 0, 2, 2, 4]
    assert out.item.tolist() == [5, 6, 7, 8, 100]
    # Compression is detected from the content, not the name.
    plain = write(tmp_path, 'x.gz', text)
    assert read_lightgcn(plain).item.tolist() == [5, 6, 7, 8, 100]


def test_large_ids(tmp_path):
    big = 10**17 + 3
    out = read_lightgcn(write(tmp_path, 'a.txt', f'{big} 0 {big}\n'))
    assert out.user.tolist() == [big, big]
    assert out.item.tolist() == [0, big]


@pytest.mark.parametrize('text,line,fragment', [
    ('0 1 2\n1 2 x\n', 2, "'x'"),
    ('0 1 2\n1 2\n2 -3\n', 3, 'negative id (-3)'),
    ('0 1\n\n\n1 2.5\n', 4, "'2.5'"),
    ('0 1\n1 nan\n', 2, 'NaN'),
    ('0 1\n1 1234567890123456789012\n', 2, 'more than 18 digits'),
])
def test_errors_name_file_and_line(tmp_path, text, line, fragment):
    path = write(tmp_path, 'train.txt', text)
    with pytest.raises(ValueError) as info:
        read_lightgcn(path)
    message = str(info.value)
    assert 'train.txt' in message
    assert f'line {line}:' in message
    assert fragment in message
    assert 'expected' in message


def test_empty_and_itemless_files(tmp_path):
    for text in ('', '\n\n  \n'):
        with pytest.raises(ValueError, match='empty.txt.*empty file'):
            read_lightgcn(write(tmp_path, 'empty.txt', text))
    with pytest.raises(ValueError, match='users.txt.*no item'):
        read_lightgcn(write(tmp_path, 'users.txt', '0\n1\n'))


def test_missing_file_directory_and_corrupt_gzip(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        read_lightgcn(tmp_path / 'nope.txt')
    with pytest.raises(ValueError, match='directory'):
        read_lightgcn(tmp_path)
    path = tmp_path / 'bad.txt.gz'
    path.write_bytes(gzip.compress(b'0 1 2\n' * 100)[:-20])
    with pytest.raises(ValueError, match='bad.txt.gz.*gzip'):
        read_lightgcn(path)
    binary = tmp_path / 'bin.txt'
    binary.write_bytes(b'0 1\n1 2\x003\n')
    with pytest.raises(ValueError, match='bin.txt.*line 2.*NUL'):
        read_lightgcn(binary)
