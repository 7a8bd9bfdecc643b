import gzip

import numpy as np
import pytest

from pyg_simce.data import read_csv, read_movielens, read_tsv_pairs


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_movielens_u_data_matches_naive(tmp_path):
    rng = np.random.default_rng(1)
    rows = np.stack([rng.integers(1, 50, 200), rng.integers(1, 80, 200),
                     rng.integers(1, 6, 200),
                     rng.integers(8 * 10**8, 9 * 10**8, 200)], 1)
    text = '\n'.join('\t'.join(map(str, r)) for r in rows) + '\n'
    out = read_movielens(write(tmp_path, 'u.data', text))
    assert out.user.tolist() == rows[:, 0].tolist()
    assert out.item.tolist() == rows[:, 1].tolist()
    assert out.rating.tolist() == rows[:, 2].astype(float).tolist()
    assert out.timestamp.tolist() == rows[:, 3].tolist()
    thr = read_movielens(write(tmp_path, 'u.data', text), rating_threshold=4)
    keep = rows[:, 2] >= 4
    assert thr.user.tolist() == rows[keep, 0].tolist()
    assert thr.item.tolist() == rows[keep, 1].tolist()


def test_movielens_ratings_dat(tmp_path):
    text = '1::1193::5::978300760\r\n1::661::3::978302109\r\n2::3::4::9\r\n'
    out = read_movielens(write(tmp_path, 'ratings.dat', text))
    assert out.user.tolist() == [1, 1, 2]
    assert out.item.tolist() == [1193, 661, 3]
    assert out.rating.tolist() == [5.0, 3.0, 4.0]
    assert out.timestamp.tolist() == [978300760, 978302109, 9]
    bad = write(tmp_path, 'ratings.dat', '1::2::3::4\n1::2:3::4\n')
    with pytest.raises(ValueError, match=r"ratings.dat', line 2: missing "
                       r'column.*1::2:3::4'):
        read_movielens(bad)


def test_tsv_pairs_gz_with_header(tmp_path):
    path = tmp_path / 'train.tsv.gz'
    path.write_bytes(
        gzip.compress(b'user_procid\titem_procid\n0\t32\n0\t71\n4\t2\n'))
    out = read_tsv_pairs(path)
    assert out.user.tolist() == [0, 0, 4]
    assert out.item.tolist() == [32, 71, 2]
    with pytest.raises(ValueError, match=r"h.tsv', line 3: ragged columns"):
        read_tsv_pairs(write(tmp_path, 'h.tsv', 'u\ti\n0\t1\n0\t1\t5\n'))
    with pytest.raises(ValueError, match=r'only the header'):
        read_tsv_pairs(write(tmp_path, 'h.tsv', 'u\ti\n'))


def test_csv_named_columns_string_ids_threshold(tmp_path):
    text = ('\ufefftimestamp,rating,user,item\n'
            '10,4.5,alice,"The Matrix"\n'
            '11,2,bob,Heat\n'
            '\n'
            '12,3.0, carol ,Heat\n')
    path = write(tmp_path, 'r.csv', text)
    out = read_csv(path, 'user', 'item', 'rating', 'timestamp')
    assert out.user.tolist() == ['alice', 'bob', 'carol']
    assert out.item.tolist() == ['The Matrix', 'Heat', 'Heat']
    assert out.rating.tolist() == [4.5, 2.0, 3.0]
    assert out.timestamp.dtype == np.int64
    assert out.timestamp.tolist() == [10, 11, 12]
    thr = read_csv(path, 'user', 'item', 'rating', rating_threshold=3)
    assert thr.user.tolist() == ['alice', 'carol']
    with pytest.raises(ValueError, match='no.*of 3 rows'):
        read_csv(path, 'user', 'item', 'rating', rating_threshold=5)
    with pytest.raises(ValueError, match="'rating_col'"):
        read_csv(path, rating_threshold=3)


def test_csv_auto_ids_and_positions(tmp_path):
    path = write(tmp_path, 'a.tsv', '7\t8\n9\t10\n')
    out = read_csv(path, 0, 1, delimiter='\t', header=False)
    assert out.user.dtype.kind == 'i' and out.user.tolist() == [7, 9]
    out = read_csv(path, 1, -2, delimiter='\t', header=False, id_type='str')
    assert out.user.tolist() == ['8', '10']
    assert out.item.tolist() == ['7', '9']
    with pytest.raises(ValueError, match="'user_col'.*index below 2"):
        read_csv(path, 2, 0, delimiter='\t', header=False)
    with pytest.raises(ValueError, match="'user_col'.*without header"):
        read_csv(path, 'user', 0, delimiter='\t', header=False)
    with pytest.raises(ValueError, match="'delimiter'"):
        read_csv(path, delimiter=';;')
    with pytest.raises(ValueError, match="'id_type'"):
        read_csv(path, 0, 1, delimiter='\t', header=False, id_type='float')


@pytest.mark.parametrize('text,kwargs,line,fragment', [
    ('user,item\n1,2\n3\n', {}, 3, 'missing column: expected 2 columns'),
    ('user,item\n1,2\n3,4,5\n', {}, 3, 'ragged columns'),
    ('user,item\n1,2\n3,x\n', {'id_type': 'int'}, 3, "item id (got 'x')"),
    ('user,item\n1,2\n-3,4\n', {}, 3, 'negative id (-3)'),
    ('user,item\n1,2\n3,4.0\n', {'id_type': 'int'}, 3, "'4.0'"),
    ('user,item,rating\n1,2,3\n3,4,NaN\n', {'rating_col': 'rating'}, 3,
     'NaN'),
    ('user,item,rating\n1,2,3\n3,4,\n', {'rating_col': 'rating'}, 3,
     'missing value'),
    ('user,item,rating\n1,2,inf\n', {'rating_col': 'rating'}, 2, 'inf'),
    ('user,item\n1,2\nnan,4\n', {}, 3, 'NaN'),
    ('user,item\na,b\n,c\n', {}, 3, 'missing value'),
    ('user,itm\n1,2\n', {}, 1, "missing column: expected a column 'item'"),
    ('user,item,ts\n1,2,3\n1,2,3e\n', {'timestamp_col': 'ts'}, 3, "'3e'"),
])
def test_errors_name_file_and_line(tmp_path, text, kwargs, line, fragment):
    path = write(tmp_path, 'bad.csv', text)
    with pytest.raises(ValueError) as info:
        read_csv(path, **kwargs)
    message = str(info.value)
    assert 'bad.csv' in message
    assert f'line {line}:' in message
    assert fragment in message


def test_empty_and_missing(tmp_path):
    for reader in (read_csv, read_movielens, read_tsv_pairs):
        with pytest.raises(ValueError, match='empty.csv.*empty file'):
            reader(write(tmp_path, 'empty.csv', ''))
        with pytest.raises(FileNotFoundError, match='missing.csv'):
            reader(tmp_path / 'missing.csv')
