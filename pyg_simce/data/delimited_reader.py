r"""Readers of delimited interaction files: generic CSV/TSV with named
columns, MovieLens ``u.data`` / ``ratings.dat`` and IR-Benchmark tsv pairs."""
from typing import List, Optional, Union

import numpy as np

from pyg_simce.data._parse import (
    MAX_STRING_ID,
    PathLike,
    TextBuffer,
    delimited_fields,
    field_positions,
    fixed_width,
    header_names,
    parse_float,
    parse_uint,
    read_bytes,
)
from pyg_simce.data.interactions import Interactions

Column = Union[str, int]

_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[ord('0'):ord('9') + 1] = True


def _resolve_column(col: Column, names: Optional[List[str]], num_columns: int,
                    buf: TextBuffer, argument: str, header_line: int) -> int:
    if isinstance(col, (int, np.integer)) and not isinstance(col, bool):
        if not -num_columns <= col < num_columns:
            raise ValueError(f"'{buf.path}': expected '{argument}' to be a "
                             f'column index below {num_columns} (got {col})')
        return int(col) % num_columns
    if names is None:
        raise ValueError(f"'{buf.path}': expected '{argument}' to be a "
                         f'column index for a file without header '
                         f'(got {col!r})')
    if col not in names:
        buf.error(header_line, f"missing column: expected a column "
                  f"'{col}' for '{argument}' in the header (got {names})")
    return names.index(col)


def _parse_ids(buf: TextBuffer, starts: np.ndarray, ends: np.ndarray,
               id_type: str, what: str) -> np.ndarray:
    if id_type == 'auto':
        lengths = ends - starts
        is_int = False
        if len(starts) > 0 and lengths.min() > 0:
            body = starts + (buf.arr[starts] == ord('-'))
            blen = ends - body
            if blen.min() > 0:
                pos = field_positions(body, blen)
                is_int = bool(_DIGIT[buf.arr[pos]].all())
        id_type = 'int' if is_int else 'str'
    if id_type == 'int':
        return parse_uint(buf, starts, ends, what=f'a non-negative integer '
                          f'{what}')
    if id_type != 'str':
        raise ValueError(f"expected 'id_type' to be one of 'auto', 'int', "
                         f"'str' (got {id_type!r})")
    lengths = ends - starts
    if len(starts) > 0:
        # Strip one pair of surrounding double quotes.
        quoted = lengths >= 2
        quoted[quoted] = ((buf.arr[starts[quoted]] == ord('"')) &
                          (buf.arr[ends[quoted] - 1] == ord('"')))
        starts = starts + quoted
        ends = ends - quoted
        lengths = ends - starts
        if (lengths == 0).any():
            k = int(np.flatnonzero(lengths == 0)[0])
            buf.error(buf.line_of(starts[k:k + 1])[0],
                      f'expected a {what} (got a missing value)')
    strings = fixed_width(buf, starts, ends, MAX_STRING_ID, what)
    low = np.char.lower(strings)
    nan = (low == b'nan') | (low == b'null')
    if nan.any():
        k = int(np.flatnonzero(nan)[0])
        buf.error(buf.line_of(starts[k:k + 1])[0],
                  f"expected a {what} (got a missing value/NaN "
                  f"('{buf.text(int(starts[k]), int(ends[k]))}'))")
    return np.char.decode(strings, 'utf-8', 'surrogateescape')


def read_csv(
    path: PathLike,
    user_col: Column = 'user',
    item_col: Column = 'item',
    rating_col: Optional[Column] = None,
    timestamp_col: Optional[Column] = None,
    delimiter: str = ',',
    header: bool = True,
    rating_threshold: Optional[float] = None,
    id_type: str = 'auto',
) -> Interactions:
    r"""Reads interactions from any delimited text file with named (or
    numbered) columns, plain or gzipped.

    Fields are located and decoded with array operations on the whole file.
    Quoting of fields that contain the delimiter is not supported; a pair of
    double quotes around a string id is stripped.  Blank lines are skipped.

    Args:
        path (str or os.PathLike): The file.
        user_col (str or int): Name (with :obj:`header`) or 0-based index of
            the user column. (default: :obj:`'user'`)
        item_col (str or int): Name or index of the item column.
            (default: :obj:`'item'`)
        rating_col (str or int, optional): Name or index of a numeric rating
            column. (default: :obj:`None`)
        timestamp_col (str or int, optional): Name or index of a numeric
            timestamp column. (default: :obj:`None`)
        delimiter (str): One character, or :obj:`'::'`.
            (default: :obj:`','`)
        header (bool): Whether the first line names the columns.
            (default: :obj:`True`)
        rating_threshold (float, optional): Keep only rows with
            ``rating >= rating_threshold`` (needs :obj:`rating_col`).
            (default: :obj:`None`)
        id_type (str): :obj:`'int'` (non-negative integers), :obj:`'str'`
            (any text) or :obj:`'auto'` (integers when every id of the
            column is one). (default: :obj:`'auto'`)

    Raises:
        FileNotFoundError: if :obj:`path` does not exist.
        ValueError: naming the file and line of a malformed row (missing or
            extra column, bad id, negative id, NaN), a missing header column,
            or an empty file.
    """
    if not isinstance(delimiter, str) or not (
            len(delimiter) == 1 or delimiter == '::') or delimiter in '\r\n':
        raise ValueError(f"expected 'delimiter' to be one character or '::' "
                         f'(got {delimiter!r})')
    if rating_threshold is not None and rating_col is None:
        raise ValueError("expected 'rating_col' when 'rating_threshold' is "
                         f'given (got rating_threshold={rating_threshold})')
    return _parse_csv(read_bytes(path), path, user_col, item_col, rating_col,
                      timestamp_col, delimiter, header, rating_threshold,
                      id_type)


def _parse_csv(raw: bytes, path: PathLike, user_col: Column, item_col: Column,
               rating_col: Optional[Column], timestamp_col: Optional[Column],
               delimiter: str, header: bool,
               rating_threshold: Optional[float],
               id_type: str) -> Interactions:
    delim_name = repr(delimiter)
    if delimiter == '::':
        TextBuffer(raw, path)  # rejects NUL bytes with the line number
        raw = raw.replace(b'::', b'\x00')
        dbyte = 0
        buf: TextBuffer = _NulTolerantBuffer(raw, path)
    else:
        if ord(delimiter) >= 128:
            raise ValueError(f"expected 'delimiter' to be an ASCII character "
                             f'(got {delimiter!r})')
        dbyte = ord(delimiter)
        buf = TextBuffer(raw, path)
    blank = buf.is_blank()
    nonblank = np.flatnonzero(~blank)
    if len(nonblank) == 0:
        raise ValueError(f"'{path}': expected delimited interaction rows "
                         f'(got an empty file)')
    first = int(nonblank[0])
    names = None
    if header:
        names = header_names(buf, first, dbyte)
        num_columns = len(names)
        data_from = first + 1
        if len(nonblank) == 1:
            raise ValueError(f"'{path}': expected interaction rows after the "
                             f'header (got only the header line)')
    else:
        line = buf.raw[buf.line_starts[first]:buf.line_ends[first]]
        num_columns = line.count(bytes([dbyte])) + 1
        data_from = first
    cols = {}
    for arg, col in (('user_col', user_col), ('item_col', item_col),
                     ('rating_col', rating_col),
                     ('timestamp_col', timestamp_col)):
        if col is not None:
            cols[arg] = _resolve_column(col, names, num_columns, buf, arg,
                                        first)
    starts, ends, _ = delimited_fields(buf, dbyte, num_columns,
                                       first_line=data_from,
                                       delimiter_name=delim_name)
    user = _parse_ids(buf, starts[:, cols['user_col']],
                      ends[:, cols['user_col']], id_type, 'user id')
    item = _parse_ids(buf, starts[:, cols['item_col']],
                      ends[:, cols['item_col']], id_type, 'item id')
    rating = timestamp = None
    if 'rating_col' in cols:
        c = cols['rating_col']
        rating = parse_float(buf, starts[:, c], ends[:, c], 'a rating')
    if 'timestamp_col' in cols:
        c = cols['timestamp_col']
        timestamp = parse_float(buf, starts[:, c], ends[:, c],
                                'a numeric timestamp')
        if (timestamp == np.round(timestamp)).all() and (np.abs(timestamp) <
                                                         2**53).all():
            timestamp = timestamp.astype(np.int64)
    out = Interactions(user, item, rating, timestamp)
    if rating_threshold is not None:
        out = out.select(rating >= rating_threshold)
        if out.num_interactions == 0:
            raise ValueError(f"'{path}': expected at least one rating >= "
                             f'rating_threshold={rating_threshold} (got none '
                             f'of {len(rating)} rows)')
    return out


class _NulTolerantBuffer(TextBuffer):
    r"""A :class:`TextBuffer` for content where NUL stands for the two-byte
    delimiter ``'::'`` (real NUL bytes were rejected before)."""
    def __init__(self, raw: bytes, path: PathLike):
        self.path = str(path)
        if raw[:3] == b'\xef\xbb\xbf':
            raw = b'   ' + raw[3:]
        self.raw = raw
        self.arr = np.frombuffer(raw, dtype=np.uint8)
        nl = np.flatnonzero(self.arr == ord('\n'))
        self.line_starts = np.concatenate([[0], nl + 1]).astype(np.int64)
        ends = np.concatenate([nl, [len(raw)]]).astype(np.int64)
        if len(raw) > 0:
            has = ends > self.line_starts
            cr = np.zeros_like(has)
            cr[has] = self.arr[ends[has] - 1] == ord('\r')
            ends = ends - cr
        self.line_ends = ends

    def line_text(self, line: int, limit: int = 80) -> str:
        return super().line_text(line, limit).replace('\x00', '::')

    def text(self, start: int, end: int, limit: int = 40) -> str:
        return super().text(start, end, limit).replace('\x00', '::')


def read_movielens(path: PathLike,
                   rating_threshold: Optional[float] = None) -> Interactions:
    r"""Reads MovieLens ratings from the `GroupLens
    <https://grouplens.org/datasets/movielens/>`_ files: ``u.data`` of
    ML-100K (tab separated) or ``ratings.dat`` of ML-1M/10M (``::``
    separated), columns ``user item rating timestamp`` and no header.  The
    separator is detected from the content.

    Args:
        path (str or os.PathLike): The ratings file.
        rating_threshold (float, optional): Keep only ratings
            ``>= rating_threshold``; :obj:`None` keeps every rating as an
            implicit interaction. (default: :obj:`None`)
    """
    raw = read_bytes(path)
    delimiter = '::' if b'::' in raw[:4096] else '\t'
    return _parse_csv(raw, path, 0, 1, 2, 3, delimiter, False,
                      rating_threshold, 'int')


def read_tsv_pairs(path: PathLike, header: bool = True) -> Interactions:
    r"""Reads ``user<TAB>item`` pairs with a header line, as in the processed
    `IR-Benchmark <https://github.com/Tiny-Snow/IR-Benchmark-Dataset>`_
    datasets of `"PSL: Rethinking and Improving Softmax Loss from Pairwise
    Perspective for Recommendation" <https://arxiv.org/abs/2411.00163>`_
    (``train.tsv``, ``test.tsv``, plain or gzipped).  Ids must be
    non-negative integers; extra columns are not allowed.

    Args:
        path (str or os.PathLike): The file.
        header (bool): Whether the first line is a header.
            (default: :obj:`True`)
    """
    return read_csv(path, user_col=0, item_col=1, delimiter='\t',
                    header=header, id_type='int')
