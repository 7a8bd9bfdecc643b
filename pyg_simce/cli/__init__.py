r"""The ``pyg-simce`` command line (also ``python -m pyg_simce``).

.. code-block:: text

    pyg-simce train --dataset synthetic --model lightgcn --layers 2 \
        --loss simce --epochs 30 --out runs/result.json
    pyg-simce eval --checkpoint runs/ckpt/last.pt
    pyg-simce train --dataset synthetic --epochs 30 --save-model runs/model.pt
    pyg-simce recommend --model-file runs/model.pt --users all --k 10 \
        --exclude-seen --out runs/recommendations.csv
    pyg-simce data stats ml-100k
    pyg-simce data stats --data DIR --format lightgcn

User errors (unknown names, incompatible options, unreadable data) print one
line ``pyg-simce: error: ...`` on standard error and exit with status 2,
without a traceback.  :func:`console_main` is the console script;
:func:`main` is the same command line as a function that returns the exit
status.

:mod:`~pyg_simce.cli.parser` builds the options,
:mod:`~pyg_simce.cli.validation` checks them before anything is loaded,
:mod:`~pyg_simce.cli.commands` runs ``train``, ``eval`` and ``data stats``,
:mod:`~pyg_simce.cli.recommend_command` runs ``recommend``, and
:mod:`~pyg_simce.cli.output` writes their lines and JSON files.
"""
import os
import sys
from typing import Any, List, Optional, Sequence

from pyg_simce.cli.commands import (
    build_loss,
    build_model,
    cmd_data_stats,
    cmd_eval,
    cmd_train,
    load_split,
)
from pyg_simce.cli.output import PROG, _fail, _show
from pyg_simce.cli.parser import build_parser
from pyg_simce.cli.validation import (
    CLIError,
    _flag,
    validate_data_args,
    validate_train_args,
)
from pyg_simce.train.exceptions import (
    CollectiveTimeoutError,
    ConfigMismatchError,
    TrainingInterrupted,
)

__all__ = [
    'main',
    'console_main',
    'build_parser',
    'validate_data_args',
    'validate_train_args',
    'load_split',
    'build_model',
    'build_loss',
    'cmd_train',
    'cmd_eval',
    'cmd_data_stats',
    'CLIError',
]


def main(argv: Optional[Sequence[str]] = None) -> int:
    r"""Runs the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, 'handler', None) is None:
        _fail("expected a command: train, eval, recommend or data (see "
              "'pyg-simce --help')")
    try:
        return int(args.handler(args) or 0)
    except ConfigMismatchError as e:
        diffs = ', '.join(f'{_flag(k)} (checkpoint: {_show(a)}, now: '
                          f'{_show(b)})' for k, a, b in _cli_diffs(e))
        _fail(f"checkpoint '{e.path}' was written with different options: "
              f"{diffs}")
    except TrainingInterrupted as e:
        sys.stderr.write(f'{PROG}: {e}; continue with --resume\n'
                         if e.checkpoint is not None else
                         f'{PROG}: {e}\n')
        return 130
    except KeyboardInterrupt:
        sys.stderr.write(f'{PROG}: interrupted\n')
        return 130
    except (ValueError, FileNotFoundError, IsADirectoryError,
            NotADirectoryError, PermissionError, FloatingPointError,
            TimeoutError) as e:
        _fail(str(e) or type(e).__name__)
    return 0  # pragma: no cover


def _cli_diffs(e: Any) -> List[Any]:
    # Prefer the command-line names of the differing options.
    cli = [(k[len('cli.'):], a, b) for k, a, b in e.differences
           if k.startswith('cli.')]
    return cli or [(k, a, b) for k, a, b in e.differences
                   if k not in ('model_repr', 'loss_repr')] or e.differences


def console_main(argv: Optional[Sequence[str]] = None) -> None:
    r"""The ``pyg-simce`` console script: runs :func:`main` and exits with
    its status.

    After a :class:`~pyg_simce.train.CollectiveTimeoutError` (a peer process
    of a distributed run stalled), the process ends with :func:`os._exit`
    once the error line is written: the backend still holds the stalled
    collective, and the usual interpreter shutdown could abort the process
    instead of exiting with status 2.
    """
    try:
        code: Any = main(argv)
    except SystemExit as e:
        if not isinstance(e.__context__, CollectiveTimeoutError):
            raise
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(e.code if isinstance(e.code, int) else 1)
    sys.exit(code)
