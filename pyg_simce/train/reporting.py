import sys
from typing import Any, Dict, Sequence


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


class Reporter:
    r"""What a :class:`~pyg_simce.train.Trainer` prints: one line per epoch
    on standard output (loss, seconds and, after an evaluation, the
    monitored metric, Recall@20 and NDCG@20, with :obj:`*` marking a new
    best), and tqdm progress bars on standard error.

    Args:
        metric (str): The monitored metric.
        quiet (bool, optional): Print nothing. (default: :obj:`False`)
        progress (bool, optional): Show progress bars.
            (default: :obj:`False`)
    """
    def __init__(self, metric: str, quiet: bool = False,
                 progress: bool = False) -> None:
        self.metric = metric
        self.quiet = bool(quiet)
        self.progress = bool(progress)

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
        return line

    def epoch(self, record: Dict[str, Any]) -> None:
        r"""Prints the line of an epoch."""
        self.print(self.epoch_line(record))
