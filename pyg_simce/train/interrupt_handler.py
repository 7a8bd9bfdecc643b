import signal
import threading
from typing import Any


class InterruptHandler:
    r"""Turns the first Ctrl-C (:obj:`SIGINT`) during training into a
    request to stop at the next step boundary (:attr:`requested`), so that
    the trainer can checkpoint before it raises
    :class:`~pyg_simce.train.TrainingInterrupted`; a second Ctrl-C
    interrupts at once (:class:`KeyboardInterrupt`).

    Used as a context manager around the training loop; it installs its
    handler only in the main thread and restores the previous one on exit.
    """
    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def request(self) -> None:
        r"""Asks for a stop, as Ctrl-C does."""
        self.requested = True

    def _handle(self, signum, frame) -> None:
        if self.requested:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> 'InterruptHandler':
        self._previous = None
        if threading.current_thread() is not threading.main_thread():
            return self
        previous = signal.getsignal(signal.SIGINT)
        try:
            signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # pragma: no cover - not the main interpreter
            return self
        self._previous = previous
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(requested={self.requested})'
