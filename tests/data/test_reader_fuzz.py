import gzip
import os
import tempfile

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pyg_simce.data import (
    read_csv,
    read_lightgcn,
    read_movielens,
    read_tsv_pairs,
)

ALPHABET = '0123456789 \t\r\n,:-.naNe"x\x00\u00e9'
texts = st.text(alphabet=ALPHABET, max_size=200).map(
    lambda s: s.encode('utf-8'))
blobs = st.one_of(texts, st.binary(max_size=200),
                  texts.map(gzip.compress),
                  texts.map(lambda b: gzip.compress(b)[:-3]))


def run(reader, content, **kwargs):
    fd, path = tempfile.mkstemp(suffix='.txt')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(content)
        try:
            out = reader(path, **kwargs)
        except ValueError as e:
            assert os.path.basename(path) in str(e)
            return None
    finally:
        os.remove(path)
    assert len(out.user) == len(out.item) > 0
    for arr in (out.rating, out.timestamp):
        assert arr is None or len(arr) == len(out.user)
    if out.rating is not None:
        assert np.isfinite(out.rating).all()
    return out


def naive_lightgcn(content):
    users, items = [], []
    for line in content.decode().split('\n'):
        tokens = line.split()
        for t in tokens[1:]:
            users.append(int(tokens[0]))
            items.append(int(t))
    return users, items


@given(blobs)
def test_lightgcn_fuzz(content):
    out = run(read_lightgcn, content)
    if out is not None:
        assert (out.user >= 0).all() and (out.item >= 0).all()
        if content[:2] != b'\x1f\x8b':
            assert (out.user.tolist(),
                    out.item.tolist()) == naive_lightgcn(content)


@given(blobs)
def test_movielens_fuzz(content):
    out = run(read_movielens, content)
    if out is not None:
        assert (out.user >= 0).all() and (out.item >= 0).all()


@given(blobs)
def test_tsv_pairs_fuzz(content):
    out = run(read_tsv_pairs, content)
    if out is not None:
        assert (out.user >= 0).all() and (out.item >= 0).all()


@given(blobs, st.sampled_from([',', '\t', '::', ' ']),
       st.sampled_from(['auto', 'int', 'str']), st.booleans())
def test_csv_fuzz(content, delimiter, id_type, header):
    cols = dict(user_col='user', item_col='item') if header else dict(
        user_col=0, item_col=1)
    try:
        run(read_csv, content, delimiter=delimiter, header=header,
            id_type=id_type, **cols)
    except ValueError as e:  # a header that lacks the named columns
        assert 'expected' in str(e)


@given(st.lists(st.tuples(st.integers(0, 10**12), st.integers(0, 10**12),
                          st.integers(0, 5)), min_size=1, max_size=30))
def test_csv_roundtrip_of_valid_rows(rows):
    content = 'user,item,rating\n' + ''.join(f'{u},{i},{r}\n'
                                            for u, i, r in rows)
    out = run(read_csv, content.encode(), rating_col='rating')
    assert out.user.tolist() == [r[0] for r in rows]
    assert out.item.tolist() == [r[1] for r in rows]
    assert out.rating.tolist() == [float(r[2]) for r in rows]
