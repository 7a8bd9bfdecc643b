r"""The data of the clean protocol: training, a validation split carved from
the training interactions, and a test split that is locked until the final
evaluation.

The validation interactions are drawn per user from the training part
(:func:`pyg_simce.data.random_split` with ratios
``(1 - val_ratio, val_ratio)`` and its own seed), so that the test split is
read neither for training nor for selection.  The test part is held by a
:class:`LockedTest`, whose :meth:`LockedTest.open` is the one way to reach
it; :func:`final_evaluation` is the context in which it may be opened.
"""
import contextlib
import contextvars
from dataclasses import dataclass
from typing import Any, Iterator

from pyg_simce.data import random_split

_FINAL = contextvars.ContextVar('pyg_simce_final_evaluation', default=False)


class SplitLockedError(RuntimeError):
    r"""The test split was read outside the final evaluation."""


@contextlib.contextmanager
def final_evaluation() -> Iterator[None]:
    r"""The context in which a :class:`LockedTest` may be opened: the final
    evaluation of a selected configuration, never a tuning trial."""
    token = _FINAL.set(True)
    try:
        yield
    finally:
        _FINAL.reset(token)


def in_final_evaluation() -> bool:
    r"""Whether the caller runs inside :func:`final_evaluation`."""
    return _FINAL.get()


class LockedTest:
    r"""Holds the test part; :meth:`open` returns it inside
    :func:`final_evaluation` and raises :class:`SplitLockedError` anywhere
    else."""
    def __init__(self, test: Any) -> None:
        self._test = test

    def open(self) -> Any:
        if not in_final_evaluation():
            raise SplitLockedError(
                'the clean protocol reads the test split only in the final '
                'evaluation of a selected configuration')
        return self._test


@dataclass
class CleanData:
    r"""Training and validation parts for tuning, and the locked test part.

    Attributes:
        train: The training part (validation interactions removed).
        val: The validation part (targets in ``edge_label_index``).
        test: The test part, locked (:class:`LockedTest`).
        val_ratio: The share of each user's training interactions carved
            out for validation (0 when the split's own validation part is
            used).
        val_seed: The seed of that carve (-1 when not carved).
    """
    train: Any
    val: Any
    test: LockedTest
    val_ratio: float
    val_seed: int

    @property
    def num_users(self) -> int:
        return int(self.train['user'].num_nodes)

    @property
    def num_items(self) -> int:
        return int(self.train['item'].num_nodes)


def carve_validation(split: Any, val_ratio: float = 0.1,
                     val_seed: int = 0) -> CleanData:
    r"""The clean-protocol data of a loaded :obj:`split`: validation carved
    from :obj:`split.train`, or the split's own validation part when it has
    one (already disjoint from training and test); the test part locked.

    Args:
        split (InteractionSplit): A loaded dataset.
        val_ratio (float): Share of each user's training interactions held
            out for validation, in ``(0, 1)``. (default: :obj:`0.1`)
        val_seed (int): Seed of the carve. (default: :obj:`0`)
    """
    if not 0.0 < float(val_ratio) < 1.0:
        raise ValueError(f"'val_ratio' expected a share in (0, 1) (got "
                         f"{val_ratio})")
    if split.val is not None:
        return CleanData(train=split.train, val=split.val,
                         test=LockedTest(split.test), val_ratio=0.0,
                         val_seed=-1)
    carved = random_split(split.train, (1.0 - val_ratio, val_ratio),
                          seed=val_seed)
    return CleanData(train=carved.train, val=carved.test,
                     test=LockedTest(split.test), val_ratio=float(val_ratio),
                     val_seed=int(val_seed))
