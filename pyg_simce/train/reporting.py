r"""The console output of training: epoch lines and progress bars."""
import math
import sys
from typing import Any, Dict, List, Optional, Sequence


def format_metrics(metrics: Dict[str, float], keys: Sequence[str]) -> str:
    r""":obj:`'recall@20 0.1234 ndcg@20 0.0987'` for the :obj:`keys` present
    in :obj:`metrics`."""
    return ' '.join(f'{k} {metrics[k]:.4f}' for k in keys if k in metrics)


def stderr_is_tty() -> bool:
    r"""Whether standard error is a terminal (progress bars are shown
    there)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # pragma: no cover
        return False


def format_duration(seconds: float) -> str:
    r""":obj:`'45s'`, :obj:`'3m 05s'` or :obj:`'1h 02m'`."""
    seconds = max(int(round(seconds)), 0)
    if seconds < 60:
        return f'{seconds}s'
    if seconds < 3600:
        return f'{seconds // 60}m {seconds % 60:02d}s'
    return f'{seconds // 3600}h {seconds % 3600 // 60:02d}m'


class Reporter:
    r"""What a :class:`~pyg_simce.train.Trainer` prints: one line per epoch
    on standard output (loss, seconds and, after an evaluation, the
    monitored metric, Recall@20 and NDCG@20, with :obj:`*` marking a new
    best, then the estimated time left), and tqdm progress bars on standard
    error.  A legend of :obj:`*` and of the estimate precedes the first
    epoch line.

    The estimate is the remaining epochs times the mean time (training and
    evaluation) of the epochs run so far; with early stopping it is an upper
    bound (shown as :obj:`ETA <= ...`), and a time budget caps it.

    Args:
        metric (str): The monitored metric.
        quiet (bool, optional): Print nothing. (default: :obj:`False`)
        progress (bool, optional): Show progress bars.
            (default: :obj:`False`)
        epochs (int, optional): The maximum number of epochs; without it no
            estimate is shown. (default: :obj:`None`)
        early_stopping (bool, optional): Whether early stopping may end the
            run before :obj:`epochs`. (default: :obj:`False`)
        time_budget (float, optional): The time budget in seconds.
            (default: :obj:`None`)
    """
    def __init__(self, metric: str, quiet: bool = False,
                 progress: bool = False, epochs: Optional[int] = None,
                 early_stopping: bool = False,
                 time_budget: Optional[float] = None) -> None:
        self.metric = metric
        self.quiet = bool(quiet)
        self.progress = bool(progress)
        self.epochs = epochs
        self.early_stopping = bool(early_stopping)
        self.time_budget = time_budget
        self._seconds: List[float] = []  # the epochs seen by this reporter

    def print(self, message: str) -> None:
        r"""Prints :obj:`message` (above any progress bar) unless quiet."""
        if self.quiet:
            return
        from tqdm import tqdm
        tqdm.write(message, file=sys.stdout)

    def progress_bar(self, total: int, initial: int, desc: str) -> Any:
        r"""A tqdm bar for one epoch's steps (disabled unless
        :obj:`progress`)."""
        from tqdm import tqdm
        return tqdm(total=total, initial=initial, desc=desc, leave=False,
                    disable=not self.progress, dynamic_ncols=True,
                    file=sys.stderr)

    def legend(self) -> str:
        r"""The line printed before the first epoch line."""
        line = f'(* marks a new best {self.metric}, the model kept'
        if self.epochs is not None:
            line += '; ETA = remaining epochs x mean epoch time so far'
            if self.early_stopping:
                line += (', an upper bound: early stopping may end the run '
                         'sooner')
            elif self.time_budget is not None:
                line += ', capped by the time budget'
        return line + ')'

    def eta(self, record: Dict[str, Any]) -> Optional[str]:
        r"""The estimated time left after the epoch of :obj:`record` (as
        :obj:`'ETA 1m 05s'` or :obj:`'ETA <= 1m 05s'`), or :obj:`None`
        once no epoch is left."""
        if self.epochs is None or not self._seconds:
            return None
        left = self.epochs - int(record['epoch'])
        mean = sum(self._seconds) / len(self._seconds)
        if self.time_budget is not None and mean > 0:
            spent = float(record.get('elapsed', 0.0))
            # The budget ends the run after the epoch that passes it.
            budget_left = max(self.time_budget - spent, 0.0)
            left = min(left, math.ceil(budget_left / mean))
        if left <= 0:
            return None
        bound = '<= ' if self.early_stopping else ''
        return f'ETA {bound}{format_duration(left * mean)}'

    def epoch_line(self, record: Dict[str, Any]) -> str:
        r"""The console line of an epoch's log record."""
        line = (f"epoch {record['epoch']:>4d} | loss {record['loss']:.4f} | "
                f"{record['seconds']:.2f}s")
        if 'metrics' in record:
            keys = [f'recall@{k}' for k in (20, )] + ['ndcg@20']
            if self.metric not in keys:
                keys.insert(0, self.metric)
            line += (f" | {record['split']} "
                     f"{format_metrics(record['metrics'], keys)}")
            if record.get('best'):
                line += ' *'
        eta = self.eta(record)
        if eta is not None:
            line += f' | {eta}'
        return line

    def epoch(self, record: Dict[str, Any]) -> None:
        r"""Prints the line of an epoch, after the legend for the first."""
        if not self._seconds:
            self.print(self.legend())
        self._seconds.append(float(record['seconds']) +
                             float(record.get('eval_seconds') or 0.0))
        self.print(self.epoch_line(record))
