import math
from typing import Optional

from torch import Tensor

from pyg_simce.train.early_stopping import EarlyStopping


class StopPolicy:
    r"""When a :class:`~pyg_simce.train.Trainer` run stops: after
    :obj:`epochs` epochs, after :obj:`patience` evaluations without
    improvement (:class:`~pyg_simce.train.EarlyStopping`), or after the
    epoch during which the accumulated training time passed
    :obj:`time_budget` seconds; and never on a non-finite loss, which is an
    error.

    The reasons are :obj:`'epochs'`, :obj:`'early_stopping'` and
    :obj:`'time_budget'`, as recorded in results files.

    Args:
        epochs (int): Maximum number of epochs.
        early_stopping (EarlyStopping): The tracker of the monitored
            metric.
        time_budget (float, optional): Seconds of training (evaluation
            included). (default: :obj:`None`)
    """
    def __init__(self, epochs: int, early_stopping: EarlyStopping,
                 time_budget: Optional[float] = None) -> None:
        self.epochs = int(epochs)
        self.early_stopping = early_stopping
        self.time_budget = time_budget

    def over_budget(self, train_seconds: float) -> bool:
        r"""Whether :obj:`train_seconds` used up the time budget."""
        return (self.time_budget is not None
                and train_seconds >= self.time_budget)

    def before_epoch(self, epoch: int, train_seconds: float,
                     resuming_mid_epoch: bool = False) -> Optional[str]:
        r"""The reason not to start epoch :obj:`epoch` (0-based), or
        :obj:`None`."""
        if self.early_stopping.should_stop:
            return 'early_stopping'
        if self.over_budget(train_seconds) and not resuming_mid_epoch:
            return 'time_budget'
        if epoch >= self.epochs:
            return 'epochs'
        return None

    def after_epoch(self, epochs_done: int,
                    train_seconds: float) -> Optional[str]:
        r"""The reason to stop after :obj:`epochs_done` epochs, or
        :obj:`None`."""
        if self.early_stopping.should_stop:
            return 'early_stopping'
        if self.over_budget(train_seconds):
            return 'time_budget'
        if epochs_done >= self.epochs:
            return 'epochs'
        return None

    @staticmethod
    def check_loss(loss: Tensor, epoch: int, step: int) -> float:
        r"""Returns the value of :obj:`loss`, or raises
        :class:`FloatingPointError` naming the epoch and step (1-based) when
        it is not finite."""
        value = float(loss.detach())
        if not math.isfinite(value):
            raise FloatingPointError(
                f'training loss became {value} in epoch {epoch}, step '
                f'{step}; lower --lr or check the data')
        return value

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(epochs={self.epochs}, patience='
                f'{self.early_stopping.patience}, time_budget='
                f'{self.time_budget})')
