r"""Vectorised text parsing shared by the readers.

A file is read whole into a ``uint8`` array.  Tokens and fields are located
with array operations (no Python object per interaction), and integers are
decoded digit by digit with :func:`numpy.add.reduceat`.  Every failure is a
:class:`ValueError` that names the file and the 1-based line number, or a
:class:`FileNotFoundError` naming the missing file.
"""
import gzip
import os
import stat
import zlib
from pathlib import Path
from typing import List, Optional, Tuple, Union

import numpy as np

PathLike = Union[str, os.PathLike]

_NEWLINE = ord('\n')
_CR = ord('\r')
_SPACE = ord(' ')
_TAB = ord('\t')
_MINUS = ord('-')
_POW10 = 10**np.arange(19, dtype=np.int64)
#: Longest decimal integer that fits into int64 without overflow checks.
MAX_DIGITS = 18
#: Longest string id accepted by the delimited reader.
MAX_STRING_ID = 256


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, 'a FIFO'),
                       (stat.S_ISCHR, 'a character device'),
                       (stat.S_ISBLK, 'a block device'),
                       (stat.S_ISSOCK, 'a socket')):
        if test(mode):
            return name
    return 'a special file'  # pragma: no cover


def read_bytes(path: PathLike) -> bytes:
    r"""Returns the content of :obj:`path`, decompressed when it is gzip
    (detected from its magic bytes, not its name).  Anything but a regular
    file (a FIFO, a device, a socket) is refused at once, without reading
    from it."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such file: '{path}'")
    if path.is_dir():
        raise ValueError(f"'{path}': expected a file (got a directory)")
    # O_NONBLOCK: opening a FIFO must not wait for a writer; the type is
    # checked on the open descriptor, so it cannot change in between.
    fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"'{path}': expected a regular file (got "
                             f'{_file_kind(mode)})')
        if hasattr(os, 'set_blocking'):
            os.set_blocking(fd, True)
        with os.fdopen(fd, 'rb') as f:
            fd = -1  # closed by the file object
            raw = f.read()
    finally:
        if fd >= 0:
            os.close(fd)
    if raw[:2] == b'\x1f\x8b':
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"'{path}': expected a valid gzip file "
                             f"(got a corrupt stream: {e})") from None
    return raw


class TextBuffer:
    r"""A file's bytes with the line structure needed for error messages.

    Args:
        raw (bytes): The file content.
        path (str): The file name used in error messages.
    """
    def __init__(self, raw: bytes, path: PathLike):
        self.path = str(path)
        if raw[:3] == b'\xef\xbb\xbf':  # UTF-8 byte-order mark
            raw = b'   ' + raw[3:]
        self.raw = raw
        self.arr = np.frombuffer(raw, dtype=np.uint8)
        nl = np.flatnonzero(self.arr == _NEWLINE)
        #: Byte offset of the first character of every line.
        self.line_starts = np.concatenate([[0], nl + 1]).astype(np.int64)
        #: Byte offset one past the last character of every line, excluding
        #: the newline and a trailing carriage return.
        ends = np.concatenate([nl, [len(raw)]]).astype(np.int64)
        if len(raw) > 0:
            has_cr = ends > self.line_starts
            cr = np.zeros_like(has_cr)
            cr[has_cr] = self.arr[ends[has_cr] - 1] == _CR
            ends = ends - cr
        self.line_ends = ends
        nul = np.flatnonzero(self.arr == 0)
        if len(nul) > 0:
            self.error(self.line_of(nul[:1])[0],
                       'expected text (got a NUL byte: binary data)')

    @property
    def num_lines(self) -> int:
        return len(self.line_starts)

    @property
    def byte_line(self) -> np.ndarray:
        r"""The 0-based line index of every byte (computed once)."""
        if getattr(self, '_byte_line', None) is None:
            nl = self.arr == _NEWLINE
            line = np.cumsum(nl, dtype=np.int64)
            line -= nl  # the newline belongs to the line it ends
            self._byte_line = line
        return self._byte_line

    def line_of(self, offsets: np.ndarray) -> np.ndarray:
        r"""The 0-based line index of every byte offset."""
        offsets = np.asarray(offsets, dtype=np.int64)
        if len(self.arr) == 0:
            return np.zeros(len(offsets), dtype=np.int64)
        inside = np.minimum(offsets, len(self.arr) - 1)
        out = self.byte_line[inside]
        # An offset at the very end belongs to the last line.
        out[offsets >= len(self.arr)] = self.num_lines - 1
        return out

    def count_per_line(self, mask: np.ndarray) -> np.ndarray:
        r"""Number of bytes per line (newline excluded) where :obj:`mask`
        holds."""
        cs = np.zeros(len(mask) + 1, dtype=np.int64)
        np.cumsum(mask, out=cs[1:])
        return cs[self.line_ends] - cs[self.line_starts]

    def line_text(self, line: int, limit: int = 80) -> str:
        text = self.raw[self.line_starts[line]:self.line_ends[line]]
        out = text.decode('utf-8', errors='replace')
        if len(out) > limit:
            out = out[:limit] + '...'
        return out

    def text(self, start: int, end: int, limit: int = 40) -> str:
        out = self.raw[start:end].decode('utf-8', errors='replace')
        if len(out) > limit:
            out = out[:limit] + '...'
        return out

    def error(self, line: int, message: str) -> None:
        r"""Raises :class:`ValueError` naming the file and 1-based line."""
        raise ValueError(f"'{self.path}', line {int(line) + 1}: {message}")

    def is_blank(self) -> np.ndarray:
        r"""Whether each line holds only whitespace."""
        if getattr(self, '_blank', None) is not None:
            return self._blank.copy()
        arr = self.arr
        nonws = ~((arr == _SPACE) | (arr == _TAB) | (arr == _NEWLINE) |
                  (arr == _CR))
        self._blank = self.count_per_line(nonws) == 0
        return self._blank.copy()


def field_positions(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    r"""Byte offsets of all bytes of the fields, field after field."""
    total = int(lengths.sum())
    shift = starts - (np.cumsum(lengths) - lengths)
    return np.arange(total, dtype=np.int64) + np.repeat(shift, lengths)


def _describe_bad_token(token: str) -> str:
    if any(c.isdigit() and not c.isascii() for c in token):
        return (f"'{token}', a non-ASCII digit: only the digits 0-9 are "
                f'accepted')
    low = token.strip().lower()
    if low in ('nan', '+nan', '-nan', 'na', 'null', 'none', ''):
        return f"a missing value/NaN ('{token}')"
    if token.startswith('-') and token[1:].isascii() and \
            token[1:].isdigit():
        return f'a negative id ({token})'
    return f"'{token}'"


def parse_uint(buf: TextBuffer, starts: np.ndarray, ends: np.ndarray,
               what: str = 'a non-negative integer id') -> np.ndarray:
    r"""Decodes the fields ``raw[starts[k]:ends[k]]`` as non-negative decimal
    integers, or raises a :class:`ValueError` naming the first bad line."""
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int64)
    lengths = ends - starts
    bad = (lengths <= 0) | (lengths > MAX_DIGITS)
    lengths = np.maximum(lengths, 0)
    pos = field_positions(starts, lengths)
    digits = buf.arr[pos].astype(np.int64) - 48
    nondigit = (digits < 0) | (digits > 9)
    if nondigit.any() or bad.any():
        field_bad = bad.copy()
        if nondigit.any():
            owner = np.repeat(np.arange(len(starts)), lengths)
            field_bad[owner[nondigit]] = True
        k = int(np.flatnonzero(field_bad)[0])
        token = buf.text(int(starts[k]), int(ends[k]))
        if 0 < lengths[k] and token.isascii() and token.isdigit():
            got = f'{token} (more than {MAX_DIGITS} digits)'
        else:
            got = _describe_bad_token(token)
        buf.error(buf.line_of(starts[k:k + 1])[0],
                  f'expected {what} (got {got})')
    exp = np.repeat(ends, lengths) - pos - 1
    return np.add.reduceat(digits * _POW10[exp],
                           np.cumsum(lengths) - lengths)


def fixed_width(buf: TextBuffer, starts: np.ndarray, ends: np.ndarray,
                max_len: int, what: str) -> np.ndarray:
    r"""Copies the fields into a fixed-width ``S`` array (vectorised)."""
    lengths = ends - starts
    n = len(starts)
    width = int(lengths.max()) if n > 0 else 1
    if width > max_len:
        k = int(np.argmax(lengths))
        buf.error(buf.line_of(starts[k:k + 1])[0],
                  f'expected {what} of at most {max_len} characters '
                  f'(got {int(lengths[k])} characters)')
    width = max(width, 1)
    col = np.arange(width, dtype=np.int64)
    mask = col[None, :] < lengths[:, None]
    idx = (starts[:, None] + col[None, :])[mask]
    out = np.zeros((n, width), dtype=np.uint8)
    out[mask] = buf.arr[idx]
    return out.view(f'S{width}').reshape(n)


_FLOAT_CHARS = np.zeros(256, dtype=bool)
for _c in b'0123456789.eE+-':
    _FLOAT_CHARS[_c] = True


def parse_float(buf: TextBuffer, starts: np.ndarray, ends: np.ndarray,
                what: str = 'a number') -> np.ndarray:
    r"""Decodes the fields as finite floats, or raises a
    :class:`ValueError` naming the first bad line (NaN included)."""
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    if len(starts) == 0:
        return np.zeros(0, dtype=np.float64)
    lengths = ends - starts
    field_bad = lengths <= 0
    lengths = np.maximum(lengths, 0)
    pos = field_positions(starts, lengths)
    badchar = ~_FLOAT_CHARS[buf.arr[pos]]
    if badchar.any():
        owner = np.repeat(np.arange(len(starts)), lengths)
        field_bad[owner[badchar]] = True

    def fail(k: int) -> None:
        token = buf.text(int(starts[k]), int(ends[k]))
        buf.error(buf.line_of(starts[k:k + 1])[0],
                  f'expected {what} (got {_describe_bad_token(token)})')

    if field_bad.any():
        fail(int(np.flatnonzero(field_bad)[0]))
    strings = fixed_width(buf, starts, ends, 64, what)
    try:
        values = strings.astype(np.float64)
    except ValueError:
        for k in range(len(strings)):  # error path only
            try:
                float(strings[k])
            except ValueError:
                fail(k)
        raise  # pragma: no cover
    finite = np.isfinite(values)
    if not finite.all():
        fail(int(np.flatnonzero(~finite)[0]))
    return values


def whitespace_tokens(buf: TextBuffer) -> Tuple[np.ndarray, np.ndarray]:
    r"""Start and end offsets of the runs of non-whitespace bytes."""
    arr = buf.arr
    if len(arr) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    ws = (arr == _SPACE) | (arr == _TAB) | (arr == _NEWLINE) | (arr == _CR)
    edge = np.diff(np.concatenate([[True], ws, [True]]).astype(np.int8))
    starts = np.flatnonzero(edge == -1)
    ends = np.flatnonzero(edge == 1)
    return starts.astype(np.int64), ends.astype(np.int64)


def delimited_fields(
    buf: TextBuffer,
    delimiter: int,
    num_columns: int,
    first_line: int = 0,
    delimiter_name: Optional[str] = None,
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Splits the lines from :obj:`first_line` on into exactly
    :obj:`num_columns` fields.

    Blank lines are skipped.  Returns ``(starts [n, c], ends [n, c],
    line [n])`` with 0-based line indices.
    """
    name = delimiter_name or repr(chr(delimiter))
    blank = buf.is_blank()
    blank[:first_line] = True
    lines = np.flatnonzero(~blank)
    arr = buf.arr
    dpos = np.flatnonzero(arr == delimiter)
    dline = buf.line_of(dpos)
    keep = ~blank[dline] if len(dpos) > 0 else np.zeros(0, dtype=bool)
    dpos, dline = dpos[keep], dline[keep]
    counts = np.bincount(dline, minlength=buf.num_lines)[lines]
    wrong = counts != num_columns - 1
    if wrong.any():
        k = int(np.flatnonzero(wrong)[0])
        got = int(counts[k]) + 1
        kind = 'missing column' if got < num_columns else 'ragged columns'
        buf.error(lines[k], f'{kind}: expected {num_columns} columns '
                  f'separated by {name} (got {got}: '
                  f"'{buf.line_text(lines[k])}')")
    n = len(lines)
    starts = np.empty((n, num_columns), dtype=np.int64)
    ends = np.empty((n, num_columns), dtype=np.int64)
    starts[:, 0] = buf.line_starts[lines]
    ends[:, -1] = buf.line_ends[lines]
    if num_columns > 1:
        d = dpos.reshape(n, num_columns - 1)
        starts[:, 1:] = d + 1
        ends[:, :-1] = d
    # Strip surrounding blanks of every field (at most a few bytes).
    for _ in range(4):
        lead = (starts < ends)
        lead[lead] = np.isin(arr[starts[lead]], (_SPACE, _TAB))
        trail = (starts < ends)
        trail[trail] = np.isin(arr[ends[trail] - 1], (_SPACE, _TAB))
        if not lead.any() and not trail.any():
            break
        starts = starts + lead
        ends = ends - trail
    return starts, ends, lines


def header_names(buf: TextBuffer, line: int, delimiter: int) -> List[str]:
    r"""The column names of a header line."""
    text = buf.raw[buf.line_starts[line]:buf.line_ends[line]]
    try:
        decoded = text.decode('utf-8')
    except UnicodeDecodeError:
        buf.error(line, 'expected a UTF-8 header line (got undecodable '
                  'bytes)')
    names = decoded.split(chr(delimiter))
    return [n.strip().strip('"').strip("'").strip() for n in names]
