r"""The registry of named data sets, the data root, and directory loading."""
import inspect
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from pyg_simce.data.bipartite_data import build_hetero_data
from pyg_simce.data.delimited_reader import (
    Column,
    read_csv,
    read_movielens,
    read_tsv_pairs,
)
from pyg_simce.data.interaction_split import InteractionSplit
from pyg_simce.data.interactions import Interactions
from pyg_simce.data.k_core import k_core as _k_core
from pyg_simce.data.lightgcn_reader import read_lightgcn
from pyg_simce.data.splitting import given_split, split_data
from pyg_simce.data.synthetic_generator import make_synthetic
from pyg_simce._dataset_names import (  # noqa: F401 (re-exported)
    DATA_ENV,
    IRBENCH,
    LIGHTGCN_DIRS,
    REPO_ROOT,
    find_data_root,
    unknown_name_message,
)

PathLike = Union[str, os.PathLike]

FORMATS = ('lightgcn', 'movielens', 'tsv', 'csv')
_REPO_ROOT = REPO_ROOT  # tests point it elsewhere


def resolve_data_root(root: Optional[PathLike] = None) -> Path:
    r"""Returns the directory holding the real data sets (the layout of
    ``shared/data``: ``gowalla/``, ``yelp2018/``, ``ml-100k/``,
    ``ml-1m-ultragcn/``, ``irbench/<name>/``, ``amazon-book/``).

    Looked up, in order: :obj:`root`; else ``$PYG_SIMCE_DATA``; else
    ``../shared/data`` relative to the working directory when it exists;
    else ``../shared/data`` beside the repository checkout when it exists.

    Raises:
        FileNotFoundError: naming each place tried once, and
            ``docs/data.rst`` for the expected layout.
    """
    return find_data_root(root, _REPO_ROOT)


def _find(directory: Path, names: Sequence[str]) -> Optional[Path]:
    for name in names:
        path = directory / name
        if path.is_file():
            return path
    return None


def _require(directory: Path, names: Sequence[str], dataset: str) -> Path:
    path = _find(directory, names)
    if path is None:
        looked = ', '.join(f"'{directory / n}'" for n in names)
        raise FileNotFoundError(f"data set '{dataset}': no file found "
                                f'(looked for {looked})')
    return path


def _resplit(parts: List[Interactions], split: str,
             ratios: Optional[Sequence[float]],
             seed: int) -> InteractionSplit:
    data = build_hetero_data(*Interactions.concat(*parts))
    return split_data(data, split, ratios, seed)


def _presplit(directory: Path, dataset: str, kind: str, split: str,
              ratios: Optional[Sequence[float]], seed: int,
              drop_overlap: bool = False) -> InteractionSplit:
    if kind == 'lightgcn':
        train_names = ('train.txt', 'train.txt.gz')
        test_names = ('test.txt', 'test.txt.gz')
        reader: Callable[[Path], Interactions] = read_lightgcn
    else:
        train_names = ('train.tsv', 'train.tsv.gz')
        test_names = ('test.tsv', 'test.tsv.gz')
        reader = read_tsv_pairs
    if not directory.is_dir():
        raise FileNotFoundError(
            f"data set '{dataset}': directory '{directory}' not found "
            f"(expected {train_names[0]}[.gz] and {test_names[0]}[.gz] "
            f'there)')
    train_path = _require(directory, train_names, dataset)
    test_path = _require(directory, test_names, dataset)
    train, test = reader(train_path), reader(test_path)
    name = str(split).lower()
    if name == 'given':
        if ratios is not None:
            raise ValueError(f"expected no 'ratios' for the given split of "
                             f"'{dataset}' (got {ratios!r}); pass "
                             f"split='random' to re-split")
        return given_split(train, test, drop_overlap=drop_overlap,
                           source=f"data set '{dataset}' (given split "
                           f"'{test_path}' against '{train_path}')")
    return _resplit([train, test], split, ratios, seed)


def _raw(inter: Interactions, split: str, ratios: Optional[Sequence[float]],
         seed: int, k_core: Optional[int]) -> InteractionSplit:
    data = build_hetero_data(*inter)
    if k_core is not None:
        data = _k_core(data, k=k_core)
    if str(split).lower() == 'given':
        raise ValueError(f"expected 'split' to be one of 'random', "
                         f"'leave-one-out', 'temporal' for a data set "
                         f'without a given split (got {split!r})')
    return split_data(data, split, (0.8, 0.2) if ratios is None else ratios,
                      seed)


def _load_lightgcn(name: str) -> Callable[..., InteractionSplit]:
    def loader(root: Optional[PathLike] = None, split: str = 'given',
               ratios: Optional[Sequence[float]] = None,
               seed: int = 0, drop_overlap: bool = False) -> InteractionSplit:
        directory = resolve_data_root(root) / LIGHTGCN_DIRS[name]
        return _presplit(directory, name, 'lightgcn', split, ratios, seed,
                         drop_overlap)

    return loader


def _load_irbench(name: str) -> Callable[..., InteractionSplit]:
    def loader(root: Optional[PathLike] = None, split: str = 'given',
               ratios: Optional[Sequence[float]] = None,
               seed: int = 0, drop_overlap: bool = False) -> InteractionSplit:
        sub = name.split('/', 1)[1]
        directory = resolve_data_root(root) / 'irbench' / sub
        return _presplit(directory, name, 'tsv', split, ratios, seed,
                         drop_overlap)

    return loader


def _load_ml100k(root: Optional[PathLike] = None, split: str = 'random',
                 ratios: Optional[Sequence[float]] = None, seed: int = 0,
                 rating_threshold: Optional[float] = None,
                 k_core: Optional[int] = None) -> InteractionSplit:
    directory = resolve_data_root(root) / 'ml-100k'
    path = _require(directory, ('u.data', ), 'ml-100k')
    return _raw(read_movielens(path, rating_threshold), split, ratios, seed,
                k_core)


def _load_synthetic(root: Optional[PathLike] = None, num_users: int = 2000,
                    num_items: int = 1500, latent_dim: int = 16,
                    mean_degree: float = 40.0, min_degree: int = 5,
                    popularity_exponent: float = 1.0,
                    popularity_weight: float = 1.0,
                    preference_strength: float = 3.0, seed: int = 0,
                    split: str = 'random',
                    ratios: Optional[Sequence[float]] = None
                    ) -> InteractionSplit:
    data = make_synthetic(num_users=num_users, num_items=num_items,
                          latent_dim=latent_dim, mean_degree=mean_degree,
                          min_degree=min_degree,
                          popularity_exponent=popularity_exponent,
                          popularity_weight=popularity_weight,
                          preference_strength=preference_strength,
                          seed=seed)
    if ratios is None:
        ratios = (0.7, 0.1, 0.2)
    return split_data(data, split, ratios, seed)


def _registry() -> Dict[str, Callable[..., InteractionSplit]]:
    out: Dict[str, Callable[..., InteractionSplit]] = {
        name: _load_lightgcn(name)
        for name in LIGHTGCN_DIRS
    }
    out['ml-100k'] = _load_ml100k
    for name in IRBENCH:
        out[f'irbench/{name}'] = _load_irbench(f'irbench/{name}')
    out['synthetic'] = _load_synthetic
    return out


def registered_datasets() -> List[str]:
    r"""Every name :func:`load_dataset` accepts (other directories under
    ``irbench/`` of the data root are accepted too)."""
    return list(_registry())


def available_datasets(root: Optional[PathLike] = None) -> List[str]:
    r"""The registered data sets whose files exist under the data root
    (see :func:`resolve_data_root`), plus ``'synthetic'``, which needs no
    file.  Without a data root, only ``'synthetic'``."""
    try:
        base = resolve_data_root(root)
    except FileNotFoundError:
        return ['synthetic']
    out = []
    for name, directory in LIGHTGCN_DIRS.items():
        d = base / directory
        if _find(d, ('train.txt', 'train.txt.gz')) and _find(
                d, ('test.txt', 'test.txt.gz')):
            out.append(name)
    if (base / 'ml-100k' / 'u.data').is_file():
        out.append('ml-100k')
    irbench = base / 'irbench'
    if irbench.is_dir():
        for d in sorted(irbench.iterdir()):
            if _find(d, ('train.tsv', 'train.tsv.gz')) and _find(
                    d, ('test.tsv', 'test.tsv.gz')):
                out.append(f'irbench/{d.name}')
    out.append('synthetic')
    return out


def _call(fn: Callable[..., InteractionSplit], what: str,
          kwargs: Dict[str, Any]) -> InteractionSplit:
    params = inspect.signature(fn).parameters
    unexpected = sorted(set(kwargs) - set(params))
    if unexpected:
        valid = [p for p in params]
        raise ValueError(f'unexpected argument(s) {unexpected} for {what}; '
                         f'expected any of {valid}')
    return fn(**kwargs)


def load_dataset(name: str, root: Optional[PathLike] = None,
                 **kwargs: Any) -> InteractionSplit:
    r"""Loads a named data set as an :class:`InteractionSplit`.

    Registered names:

    * ``'gowalla'``, ``'yelp2018'``, ``'amazon-book'`` (LightGCN splits) and
      ``'ml-1m'`` (the LCF/UltraGCN split): pre-split, returned as given
      (``val`` is :obj:`None`).
    * ``'irbench/<name>'``, e.g. ``'irbench/amazon2014-health'``: the
      pre-split IR-Benchmark tsv sets.
    * ``'ml-100k'``: raw MovieLens 100K ratings with a seeded per-user
      80/20 random split by default.
    * ``'synthetic'``: :func:`make_synthetic`, needs no file; seeded per-user
      70/10/20 split by default.

    Keyword arguments (checked per data set): ``split`` (``'given'`` for the
    pre-split sets, ``'random'``, ``'leave-one-out'``, ``'temporal'``;
    pre-split sets are merged and re-split when it is not ``'given'``),
    ``ratios``, ``seed``; for the pre-split sets also ``drop_overlap``
    (drop, with a warning, the test pairs that are also training pairs
    instead of raising a :class:`ValueError`; see
    :func:`~pyg_simce.data.given_split`); for ``'ml-100k'`` also
    ``rating_threshold`` and
    ``k_core``; for ``'synthetic'`` the arguments of :func:`make_synthetic`.

    Args:
        name (str): The data set name.
        root (str or os.PathLike, optional): The data root; see
            :func:`resolve_data_root`. (default: :obj:`None`)
        **kwargs: Data-set specific keyword arguments.

    Raises:
        ValueError: for an unknown name (listing the valid ones) or argument.
        FileNotFoundError: when the data root or the files are missing,
            naming where it looked.
    """
    if not isinstance(name, str):
        raise ValueError(f"expected 'name' to be a string (got {name!r})")
    key = name.strip().lower()
    registry = _registry()
    if key in registry:
        return _call(registry[key], f"data set '{key}'",
                     dict(kwargs, root=root))
    if key.startswith('irbench/') and len(key) > len('irbench/') and \
            '/' not in key[len('irbench/'):]:
        return _call(_load_irbench(key), f"data set '{key}'",
                     dict(kwargs, root=root))
    raise ValueError(unknown_name_message(name))


def load_data_dir(path: PathLike, format: str, **kwargs: Any
                  ) -> InteractionSplit:
    r"""Loads interactions from a directory (or file) in a known format.

    * ``'lightgcn'``: :obj:`path` holds ``train.txt[.gz]`` and
      ``test.txt[.gz]``; the given split is returned (``split='random'``
      etc. re-splits; ``drop_overlap=True`` drops the test pairs that are
      also training pairs instead of raising).
    * ``'tsv'``: :obj:`path` holds ``train.tsv[.gz]`` and ``test.tsv[.gz]``
      (IR-Benchmark pairs with a header).
    * ``'movielens'``: :obj:`path` is ``u.data`` / ``ratings.dat`` or a
      directory holding one; seeded split (``split``, ``ratios``, ``seed``,
      ``rating_threshold``, ``k_core``).
    * ``'csv'``: :obj:`path` is a delimited file (or a directory holding
      exactly one ``*.csv``/``*.tsv``/``*.txt`` file, optionally ``.gz``);
      the arguments of :func:`read_csv` plus ``split``, ``ratios``,
      ``seed`` and ``k_core``.

    Args:
        path (str or os.PathLike): The directory or file.
        format (str): One of ``'lightgcn'``, ``'movielens'``, ``'tsv'``,
            ``'csv'``.
        **kwargs: Format specific keyword arguments.
    """
    fmt = str(format).lower()
    if fmt not in FORMATS:
        raise ValueError(f"expected 'format' to be one of {list(FORMATS)} "
                         f'(got {format!r})')
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"No such file or directory: '{path}'")
    label = str(path)
    if fmt in ('lightgcn', 'tsv'):
        if not path.is_dir():
            raise ValueError(f"expected a directory for format '{fmt}' "
                             f"(got the file '{path}')")

        def presplit(split: str = 'given',
                     ratios: Optional[Sequence[float]] = None,
                     seed: int = 0,
                     drop_overlap: bool = False) -> InteractionSplit:
            return _presplit(path, label, fmt, split, ratios, seed,
                             drop_overlap)

        return _call(presplit, f"format '{fmt}'", kwargs)
    if fmt == 'movielens':
        if path.is_dir():
            path = _require(path, ('u.data', 'ratings.dat', 'ratings.dat.gz'),
                            label)

        def movielens(split: str = 'random',
                      ratios: Optional[Sequence[float]] = None,
                      seed: int = 0, rating_threshold: Optional[float] = None,
                      k_core: Optional[int] = None) -> InteractionSplit:
            return _raw(read_movielens(path, rating_threshold), split, ratios,
                        seed, k_core)

        return _call(movielens, "format 'movielens'", kwargs)
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir() if p.is_file() and any(
                p.name.endswith(s) for s in ('.csv', '.tsv', '.txt',
                                             '.csv.gz', '.tsv.gz')))
        if len(files) != 1:
            raise ValueError(f"expected exactly one .csv/.tsv/.txt file in "
                             f"'{path}' for format 'csv' (got "
                             f'{[f.name for f in files]})')
        path = files[0]

    def csv(user_col: Column = 'user', item_col: Column = 'item',
            rating_col: Optional[Column] = None,
            timestamp_col: Optional[Column] = None,
            delimiter: Optional[str] = None, header: bool = True,
            rating_threshold: Optional[float] = None, id_type: str = 'auto',
            split: str = 'random', ratios: Optional[Sequence[float]] = None,
            seed: int = 0, k_core: Optional[int] = None) -> InteractionSplit:
        if delimiter is None:
            delimiter = '\t' if '.tsv' in path.name else ','
        inter = read_csv(path, user_col, item_col, rating_col, timestamp_col,
                         delimiter, header, rating_threshold, id_type)
        return _raw(inter, split, ratios, seed, k_core)

    return _call(csv, "format 'csv'", kwargs)
