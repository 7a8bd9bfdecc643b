r"""Command-line plumbing shared by the example scripts.

Every example accepts the same data and run options:

* ``--dataset NAME`` (default ``synthetic``, needs no file) and
  ``--data-root DIR`` for the real data sets of
  :func:`pyg_simce.data.load_dataset` (``ml-100k``, ``gowalla``, ...);
* ``--synthetic-users`` / ``--synthetic-items`` for the size of the
  synthetic data set;
* ``--epochs``, ``--seed``, ``--out-dir`` (files written by the example),
  ``--threads``;
* ``--smoke``: a tiny setting (1 epoch, 200 users, 150 items) used by the
  test suite to check that the example runs.

This module is not part of the library; the examples import it from their
own folder (``python examples/quickstart.py`` puts that folder on
``sys.path``).
"""
import argparse
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch

#: How to install the optional packages of the examples (pandas, matplotlib):
#: the ``examples`` extra of setup.py.
INSTALL_EXTRA = 'pip install -e ".[examples]" (or: make examples)'

#: The tiny setting of ``--smoke``.
SMOKE = {'epochs': 1, 'synthetic_users': 200, 'synthetic_items': 150}


def no_plot(what: str) -> str:
    r"""The one line an example prints when matplotlib is missing."""
    return (f'matplotlib is not installed: no {what}; to draw it, '
            f'{INSTALL_EXTRA}')


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected a positive integer (got {text!r})') from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f'expected a positive integer (got {value})')
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected a positive number (got {text!r})') from None
    if not value > 0 or value == float('inf'):
        raise argparse.ArgumentTypeError(
            f'expected a positive finite number (got {value})')
    return value


def example_parser(description: str, *, epochs: int,
                   synthetic_users: int = 2000, synthetic_items: int = 1500,
                   dataset: bool = True) -> argparse.ArgumentParser:
    r"""An :class:`argparse.ArgumentParser` with the options shared by all
    examples (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    if dataset:
        parser.add_argument(
            '--dataset', default='synthetic', metavar='NAME',
            help='a data set of pyg_simce.data.load_dataset: synthetic '
            '(built in, no file needed), ml-100k, gowalla, yelp2018, ml-1m, '
            'irbench/<name> (default: synthetic)')
        parser.add_argument(
            '--data-root', metavar='DIR', default=None,
            help='directory holding the real data sets (default: '
            '$PYG_SIMCE_DATA or ../shared/data)')
    parser.add_argument('--synthetic-users', type=positive_int,
                        default=synthetic_users, metavar='N',
                        help=f'users of the synthetic data set (default: '
                        f'{synthetic_users})')
    parser.add_argument('--synthetic-items', type=positive_int,
                        default=synthetic_items, metavar='N',
                        help=f'items of the synthetic data set (default: '
                        f'{synthetic_items})')
    parser.add_argument('--epochs', type=positive_int, default=epochs,
                        help=f'training epochs (default: {epochs})')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the data, the model and the sampler '
                        '(default: 0)')
    parser.add_argument('--out-dir', metavar='DIR', default=None,
                        help='folder for the files the example writes '
                        '(default: runs/examples/<example>)')
    parser.add_argument('--threads', default='auto', metavar='N|auto',
                        help='torch CPU threads; auto uses 1 when the '
                        'machine is already busy, else torch\'s default '
                        '(default: auto)')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny setting for a quick check: 1 epoch, 200 '
                        'synthetic users, 150 items')
    return parser


def resolve_threads(text: str) -> int:
    r"""Torch CPU threads for ``--threads`` (see
    :func:`pyg_simce.train.resolve_threads`), exiting with the message on a
    bad value."""
    from pyg_simce.train import resolve_threads as resolve
    try:
        return resolve(text)
    except ValueError as e:
        raise SystemExit(str(e)) from None


def parse_args(parser: argparse.ArgumentParser,
               argv: Optional[List[str]] = None) -> argparse.Namespace:
    r"""Parses :obj:`argv`, applies ``--smoke``, sets the torch threads and
    seeds torch."""
    args = parser.parse_args(argv)
    if args.smoke:
        for key, value in SMOKE.items():
            setattr(args, key, value)
    torch.set_num_threads(resolve_threads(args.threads))
    torch.manual_seed(args.seed)
    return args


def load_split(args: argparse.Namespace) -> Any:
    r"""The :class:`~pyg_simce.data.InteractionSplit` named by
    ``--dataset`` (sized by ``--synthetic-users/items`` when synthetic)."""
    from pyg_simce.data import load_dataset

    kwargs: Dict[str, Any] = {'seed': args.seed}
    if args.dataset == 'synthetic':
        kwargs.update(num_users=args.synthetic_users,
                      num_items=args.synthetic_items)
    try:
        return load_dataset(args.dataset, root=args.data_root, **kwargs)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'error: {e}') from None


def out_dir(args: argparse.Namespace, name: str) -> Path:
    r"""The folder for the example's files (created)."""
    path = Path(args.out_dir) if args.out_dir else Path('runs', 'examples',
                                                        name)
    path.mkdir(parents=True, exist_ok=True)
    return path


def describe(split: Any, name: str) -> str:
    r"""One line with the sizes of a split."""
    rates = ('user', 'rates', 'item')
    parts = [f"{split.train[rates].edge_index.size(1)} train"]
    if split.val is not None:
        parts.append(f"{split.val[rates].edge_label_index.size(1)} valid")
    parts.append(f"{split.test[rates].edge_label_index.size(1)} test")
    return (f"data set '{name}': {split.train['user'].num_nodes} users, "
            f"{split.train['item'].num_nodes} items, "
            f"{' / '.join(parts)} interactions")


class Stopwatch:
    r"""Wall-clock seconds since creation."""
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.start


def format_table(header: List[str], rows: List[List[Any]]) -> str:
    r"""A plain-text table with right-aligned numbers."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
        for i, h in enumerate(header)
    ]
    lines = ['  '.join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append('  '.join('-' * w for w in widths))
    for row, raw in zip(cells, rows):
        lines.append('  '.join(
            c.rjust(w) if isinstance(v, (int, float)) else c.ljust(w)
            for c, w, v in zip(row, widths, raw)))
    return '\n'.join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f'{value:.4f}'
    return str(value)
