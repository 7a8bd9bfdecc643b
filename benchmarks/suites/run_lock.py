r"""One process at a time trains a cached run.

Suites share runs (``losses`` and ``backbones`` both train LightGCN + SSM)
and a long suite is often split over several processes; two processes
resuming the same checkpoint would write over each other's checkpoints and
log.  The process that trains a run holds an exclusive lock on
``<run folder>/train.lock`` (``fcntl.flock``: the system drops it when the
process ends, however it ends, so no stale lock is left behind); another
process that needs the run gets :class:`RunInProgress` at once instead of
training it a second time.  On a system without ``fcntl`` runs are not
locked.
"""
import os
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]


class RunInProgress(RuntimeError):
    r"""The run is being trained by another process."""


@contextmanager
def run_lock(folder: Path) -> Iterator[None]:
    r"""Holds the training lock of the run folder :obj:`folder` (created
    when missing) for the duration of the block; raises
    :class:`RunInProgress`, naming the folder and the holder, when another
    process holds it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    handle = open(folder / 'train.lock', 'a+')
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or 'another process'
            raise RunInProgress(
                f'{folder}: this run is being trained by {holder}; wait '
                f'for it to finish (or stop it) and run the command '
                f'again') from None
        handle.seek(0)
        handle.truncate()
        handle.write(f'pid {os.getpid()} on {socket.gethostname()}\n')
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock
