r"""Readers refuse anything but a regular file at once (a FIFO must not block),
and a non-ASCII digit in an id column is reported as such, naming the file
and line."""
import os
import threading

import pytest

from pyg_simce.data import (
    load_data_dir,
    read_csv,
    read_lightgcn,
    read_movielens,
    read_tsv_pairs,
)

READERS = {
    'lightgcn': read_lightgcn,
    'tsv': read_tsv_pairs,
    'csv': read_csv,
    'movielens': read_movielens,
}


@pytest.mark.skipif(not hasattr(os, 'mkfifo'), reason='no FIFOs')
@pytest.mark.parametrize('reader', list(READERS))
def test_fifo_is_refused_without_blocking(tmp_path, reader):
    fifo = tmp_path / 'train.txt'
    os.mkfifo(fifo)
    result = {}

    def call():
        try:
            READERS[reader](fifo)
        except Exception as e:  # noqa: BLE001 - reported below
            result['error'] = e

    # Opening a FIFO for reading waits for a writer: a reader that opened it
    # would hang, so it runs in a thread under a time limit.
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(5.0)
    if thread.is_alive():  # release the blocked open, then fail
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        thread.join(5.0)
        pytest.fail(f'{reader} blocked on a FIFO for more than 5 s')
    error = result.get('error')
    assert isinstance(error, ValueError), error
    assert str(error) == f"'{fifo}': expected a regular file (got a FIFO)"


def test_character_device_is_refused():
    if not os.path.exists('/dev/null'):
        pytest.skip('no /dev/null')
    with pytest.raises(ValueError, match='expected a regular file \\(got a '
                       'character device\\)'):
        read_lightgcn('/dev/null')


@pytest.mark.skipif(not hasattr(os, 'mkfifo'), reason='no FIFOs')
def test_movielens_folder_with_fifo_is_refused(tmp_path):
    os.mkfifo(tmp_path / 'ratings.dat')
    with pytest.raises((ValueError, FileNotFoundError)):
        load_data_dir(tmp_path / 'ratings.dat', 'movielens')


ARABIC_3 = '\u0663'  # ARABIC-INDIC DIGIT THREE
DEVANAGARI_7 = '\u096d'


@pytest.mark.parametrize('digit', [ARABIC_3, DEVANAGARI_7])
def test_unicode_digit_in_lightgcn_file(tmp_path, digit):
    path = tmp_path / 'train.txt'
    path.write_text(f'0 1 2\n1 4 1{digit}\n', encoding='utf-8')
    with pytest.raises(ValueError) as e:
        read_lightgcn(path)
    msg = str(e.value)
    assert msg.startswith(f"'{path}', line 2: ")
    assert f"'1{digit}', a non-ASCII digit" in msg
    assert 'digits 0-9' in msg and 'more than' not in msg


def test_unicode_digit_in_tsv_and_csv(tmp_path):
    path = tmp_path / 'train.tsv'
    path.write_text(f'user\titem\n0\t1\n{ARABIC_3}\t2\n', encoding='utf-8')
    with pytest.raises(ValueError, match=f"line 3: expected a non-negative "
                       f"integer user id \\(got '{ARABIC_3}', a non-ASCII "
                       f'digit'):
        read_tsv_pairs(path)
    csv = tmp_path / 'r.csv'
    csv.write_text(f'user,item,rating\n0,1,4\n1,2,{ARABIC_3}\n',
                   encoding='utf-8')
    with pytest.raises(ValueError, match=f"'{csv}', line 3: expected a "
                       f"rating \\(got '{ARABIC_3}', a non-ASCII digit"):
        read_csv(csv, rating_col='rating')
    with pytest.raises(ValueError, match='line 3: .*non-ASCII digit'):
        read_csv(csv, item_col='rating', id_type='int')
    # With id_type='auto', such a column is a column of string ids.
    out = read_csv(csv, item_col='rating')
    assert out.item.tolist() == ['4', ARABIC_3]


def test_ascii_overlong_id_keeps_its_message(tmp_path):
    path = tmp_path / 'train.txt'
    path.write_text('0 1 1234567890123456789\n')
    with pytest.raises(ValueError, match='more than 18 digits'):
        read_lightgcn(path)


def test_regular_and_gzip_files_still_read(tmp_path):
    import gzip
    path = tmp_path / 'train.txt.gz'
    path.write_bytes(gzip.compress(b'0 1 2\n1 3\n'))
    out = read_lightgcn(path)
    assert out.user.tolist() == [0, 0, 1] and out.item.tolist() == [1, 2, 3]
    ml = tmp_path / 'u.data'
    ml.write_text('1\t2\t5\t100\n')
    assert read_movielens(ml).rating.tolist() == [5.0]
