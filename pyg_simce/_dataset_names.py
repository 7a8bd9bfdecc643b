r"""The names of the registered data sets and the search for the data root,
with the standard library alone.

This module lives outside :mod:`pyg_simce.data`, whose import loads
:mod:`torch`, so that the command line can reject an unknown data set name or
a missing data root at once, before paying for that import.
:mod:`pyg_simce.data.dataset_registry` builds its registry from these names
and finds the data root with :func:`find_data_root`.
"""
import difflib
import os
from pathlib import Path
from typing import List, Optional, Sequence, Union

PathLike = Union[str, os.PathLike]

#: The environment variable naming the data root.
DATA_ENV = 'PYG_SIMCE_DATA'
#: IR-Benchmark data sets known to the registry (any other directory under
#: ``irbench/`` is found too).
IRBENCH = ('amazon2014-beauty', 'amazon2014-cd', 'amazon2014-health',
           'amazon2014-movie', 'douban-music', 'movielens-1m')
#: Pre-split data sets in the LightGCN format: name -> directory.
LIGHTGCN_DIRS = {
    'gowalla': 'gowalla',
    'yelp2018': 'yelp2018',
    'amazon-book': 'amazon-book',
    'ml-1m': 'ml-1m-ultragcn',
}
#: Where the expected layout of the data root is documented.
LAYOUT_DOC = 'docs/data.rst'
REPO_ROOT = Path(__file__).resolve().parents[1]


def registered_names() -> List[str]:
    r"""Every registered data set name, in the order of the registry."""
    return (list(LIGHTGCN_DIRS) + ['ml-100k'] +
            [f'irbench/{name}' for name in IRBENCH] + ['synthetic'])


def is_dataset_name(name: str) -> bool:
    r"""Whether :obj:`name` is registered or of the form
    ``irbench/<name>`` (another directory under ``irbench/``)."""
    key = str(name).strip().lower()
    if key in registered_names():
        return True
    sub = key[len('irbench/'):] if key.startswith('irbench/') else ''
    return bool(sub) and '/' not in sub


def close_names(name: str, n: int = 3) -> List[str]:
    r"""The registered names closest to :obj:`name` (best first), matched
    on the full name and, for ``irbench/...``, on the part after the
    prefix."""
    key = str(name).strip().lower()
    names = registered_names()
    by_alias = {}
    for full in names:
        by_alias.setdefault(full, full)
        by_alias.setdefault(full.rsplit('/', 1)[-1], full)
    out: List[str] = []
    for alias in difflib.get_close_matches(key, list(by_alias), n=2 * n,
                                           cutoff=0.6):
        if by_alias[alias] not in out:
            out.append(by_alias[alias])
    return out[:n]


def unknown_name_message(name: str, what: str = 'data set') -> str:
    r"""The one-line error for an unknown data set name: the closest
    registered names, then every registered one."""
    close = close_names(name)
    quoted = [f"'{c}'" for c in close]
    hint = ''
    if quoted:
        alternatives = ', '.join(quoted[:-1])
        hint = ('did you mean ' + (f'{alternatives} or ' if alternatives
                                   else '') + f'{quoted[-1]}? ')
    return (f"unknown {what} '{name}'; {hint}expected one of "
            f"{', '.join(repr(n) for n in registered_names())} (or "
            f"'irbench/<name>' for "
            f"another directory under irbench/ of the data root)")


def search_paths(repo_root: Optional[Path] = None) -> List[Path]:
    r"""The folders tried for the data root after the argument and
    ``$PYG_SIMCE_DATA``, in order and each once."""
    repo_root = REPO_ROOT if repo_root is None else Path(repo_root)
    out: List[Path] = []
    seen = set()
    for path in (Path.cwd().parent / 'shared' / 'data',
                 repo_root.parent / 'shared' / 'data'):
        key = os.path.normcase(os.path.abspath(path))
        try:
            key = os.path.normcase(str(path.resolve()))
        except OSError:  # pragma: no cover - unreadable parent
            pass
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out


def find_data_root(root: Optional[PathLike] = None,
                   repo_root: Optional[Path] = None, *,
                   flag: Optional[str] = None) -> Path:
    r"""The data root: :obj:`root`, else ``$PYG_SIMCE_DATA``, else the
    first existing folder of :func:`search_paths`.

    Args:
        root (str or os.PathLike, optional): The explicit data root.
        repo_root (pathlib.Path, optional): The checkout whose sibling
            ``shared/data`` is searched. (default: this checkout)
        flag (str, optional): The command-line flag that gives
            :obj:`root` (*e.g.* :obj:`'--data-root'`); the errors then name
            it instead of the argument :obj:`root`. (default: :obj:`None`)

    Raises:
        FileNotFoundError: naming each folder searched once.
    """
    given = f'{flag}' if flag else "argument 'root'"
    if root is not None:
        path = Path(root).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"data root '{path}' ({given}) is not a "
                                    f"directory")
        return path
    env = os.environ.get(DATA_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"data root '{path}' (from ${DATA_ENV}) "
                                    f"is not a directory")
        return path
    candidates = search_paths(repo_root)
    for path in candidates:
        if path.is_dir():
            return path
    raise FileNotFoundError(missing_root_message(candidates, flag))


def missing_root_message(tried: Sequence[Path],
                         flag: Optional[str] = None) -> str:
    r"""The error when no data root is found: how to give one (the flag
    :obj:`flag` on the command line, else the argument :obj:`root`), the
    folders searched, and where the layout is documented."""
    how = f'pass {flag} DIR' if flag else 'pass root=...'
    searched = ', '.join(f"'{p}'" for p in tried)
    return (f'no data root found: {how}, set ${DATA_ENV}, or create one of '
            f'the searched folders ({searched}); {LAYOUT_DOC} describes the '
            f'expected layout')
