r"""The exceptions of :mod:`pyg_simce.train`.

This module imports no :mod:`torch`, so that the command line can catch
them (and test for them) before paying for the import of the training
stack.
"""
from pathlib import Path
from typing import Any, List, Optional, Tuple


class ConfigMismatchError(ValueError):
    r"""Raised when a checkpoint was written with options that differ from
    the current ones in a way that makes resuming meaningless.  The
    :obj:`differences` attribute lists :obj:`(option, checkpoint_value,
    current_value)` triples."""
    def __init__(self, path: Any,
                 differences: List[Tuple[str, Any, Any]]) -> None:
        self.path = path
        self.differences = differences
        parts = ', '.join(f'{k} (checkpoint: {a!r}, now: {b!r})'
                          for k, a, b in differences)
        super().__init__(f"checkpoint '{path}' expected the same options as "
                         f"this run; differing: {parts}")


class TrainingInterrupted(KeyboardInterrupt):
    r"""Raised by :meth:`Trainer.fit` after an interrupt (Ctrl-C) once the
    state has been checkpointed.  :obj:`checkpoint` is the file written, or
    :obj:`None` when no checkpoint folder was configured."""
    def __init__(self, checkpoint: Optional[Path], epoch: int,
                 step: int) -> None:
        self.checkpoint = checkpoint
        self.epoch = epoch
        self.step = step
        where = (f'checkpoint saved to {checkpoint}'
                 if checkpoint is not None else 'no checkpoint directory')
        super().__init__(f'interrupted during epoch {epoch + 1} after step '
                         f'{step}; {where}')


class CollectiveTimeoutError(TimeoutError):
    r"""Raised by :func:`~pyg_simce.train.distributed_session` on the
    processes that waited longer than its timeout for a collective, because
    a peer process is stalled or gone.

    The backend keeps the stalled collective outstanding, and no call of
    :mod:`torch.distributed` cancels it; the interpreter's shutdown can then
    abort the process (``SIGABRT``) instead of letting it exit with its
    status, as seen on a loaded machine.  A program that catches this error
    should therefore report it and end the process with :func:`os._exit`,
    as the ``pyg-simce`` command does.  The last checkpoint written is
    intact."""


__all__ = ['ConfigMismatchError', 'TrainingInterrupted',
           'CollectiveTimeoutError']
