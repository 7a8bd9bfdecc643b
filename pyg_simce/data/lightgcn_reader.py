r"""Reader of the LightGCN adjacency format (``train.txt`` / ``test.txt``)."""
import numpy as np

from pyg_simce.data._parse import (
    PathLike,
    TextBuffer,
    parse_uint,
    read_bytes,
    whitespace_tokens,
)
from pyg_simce.data.interactions import Interactions


def read_lightgcn(path: PathLike) -> Interactions:
    r"""Reads a file in the adjacency format of `"LightGCN: Simplifying and
    Powering Graph Convolution Network for Recommendation"
    <https://arxiv.org/abs/2002.02126>`_ (also NGCF, UltraGCN): one line per
    user, ``user item item ...``, separated by blanks, optionally gzipped.

    A line holding a user id and no item is allowed (the user has no
    interaction in this file); blank lines are skipped.  The whole file is
    parsed with array operations on its token stream.

    Args:
        path (str or os.PathLike): The file, plain or gzip-compressed.

    Returns:
        :class:`Interactions` with one row per (user, item) pair, in file
        order (raw ids, duplicates kept).

    Raises:
        FileNotFoundError: if :obj:`path` does not exist.
        ValueError: naming the file and line of a non-integer or negative
            id, or when the file holds no interaction.
    """
    buf = TextBuffer(read_bytes(path), path)
    starts, ends = whitespace_tokens(buf)
    if len(starts) == 0:
        raise ValueError(f"'{path}': expected lines 'user item item ...' "
                         f'(got an empty file)')
    values = parse_uint(buf, starts, ends,
                        what='a non-negative integer id')
    line = buf.line_of(starts)
    # Tokens are in file order, so each line's tokens are contiguous.
    first = np.ones(len(line), dtype=bool)
    first[1:] = line[1:] != line[:-1]
    head = np.flatnonzero(first)
    counts = np.diff(np.concatenate([head, [len(line)]]))
    users = values[head]
    user = np.repeat(users, counts - 1)
    item = values[~first]
    if len(item) == 0:
        raise ValueError(f"'{path}': expected lines 'user item item ...' "
                         f'(got {len(users)} user(s) and no item)')
    return Interactions(user, item)
