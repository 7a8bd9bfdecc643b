import math
from typing import Any, Dict, Optional


class EarlyStopping:
    r"""Tracks the best value of a monitored evaluation metric and decides
    when training should stop, as in the official
    `LightGCN <https://arxiv.org/abs/2002.02126>`_ and
    `SSM <https://arxiv.org/abs/2201.02327>`_ code (stop after
    :obj:`patience` evaluations without improvement of Recall@20).

    An evaluation improves on the best one when

    .. math::
        v_t > v^{*} + \delta \quad \text{(mode 'max')} \qquad
        v_t < v^{*} - \delta \quad \text{(mode 'min')}

    with :math:`\delta` = :obj:`min_delta`.  Patience is counted in
    evaluations, not epochs.

    Args:
        metric (str, optional): The name of the monitored metric, *e.g.*
            :obj:`'recall@20'`. (default: :obj:`'recall@20'`)
        patience (int, optional): Number of consecutive evaluations without
            improvement after which :meth:`should_stop` becomes
            :obj:`True`.  :obj:`None` never stops, but still tracks the best
            evaluation. (default: :obj:`None`)
        mode (str, optional): :obj:`'max'` when larger is better,
            :obj:`'min'` otherwise. (default: :obj:`'max'`)
        min_delta (float, optional): Minimum change that counts as an
            improvement. (default: :obj:`0.0`)
    """
    def __init__(
        self,
        metric: str = 'recall@20',
        patience: Optional[int] = None,
        mode: str = 'max',
        min_delta: float = 0.0,
    ) -> None:
        if patience is not None and (isinstance(patience, bool)
                                     or not isinstance(patience, int)
                                     or patience < 1):
            raise ValueError(f"'patience' expected a positive integer or "
                             f"None (got {patience!r})")
        if mode not in ('max', 'min'):
            raise ValueError(f"'mode' expected 'max' or 'min' "
                             f"(got {mode!r})")
        if not math.isfinite(min_delta) or min_delta < 0:
            raise ValueError(f"'min_delta' expected a non-negative finite "
                             f"number (got {min_delta!r})")
        self.metric = metric
        self.patience = patience
        self.mode = mode
        self.min_delta = float(min_delta)
        self.best_value: Optional[float] = None
        self.best_epoch: Optional[int] = None
        self.num_bad_evaluations = 0

    def _improves(self, value: float) -> bool:
        if self.best_value is None:
            return True
        if self.mode == 'max':
            return value > self.best_value + self.min_delta
        return value < self.best_value - self.min_delta

    def step(self, metrics: Dict[str, float], epoch: int) -> bool:
        r"""Records the evaluation :obj:`metrics` taken after :obj:`epoch`
        and returns :obj:`True` if it is a new best.

        Raises:
            ValueError: If the monitored metric is not in :obj:`metrics`.
        """
        if self.metric not in metrics:
            raise ValueError(f"early-stopping metric expected one of "
                             f"{sorted(metrics)} (got '{self.metric}')")
        value = float(metrics[self.metric])
        if math.isnan(value):
            # A NaN evaluation never counts as an improvement.
            self.num_bad_evaluations += 1
            return False
        if self._improves(value):
            self.best_value = value
            self.best_epoch = int(epoch)
            self.num_bad_evaluations = 0
            return True
        self.num_bad_evaluations += 1
        return False

    @property
    def should_stop(self) -> bool:
        r"""Whether :obj:`patience` evaluations in a row did not improve."""
        return (self.patience is not None
                and self.num_bad_evaluations >= self.patience)

    def state_dict(self) -> Dict[str, Any]:
        r"""Returns the state as plain Python values (safe for
        :obj:`torch.load(weights_only=True)`)."""
        return {
            'metric': self.metric,
            'patience': self.patience,
            'mode': self.mode,
            'min_delta': self.min_delta,
            'best_value': self.best_value,
            'best_epoch': self.best_epoch,
            'num_bad_evaluations': self.num_bad_evaluations,
        }

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        r"""Restores the tracking state written by :meth:`state_dict`.  The
        configuration (:obj:`metric`, :obj:`mode`) must match; the patience
        of this object is kept, so that a resumed run may extend it."""
        if state.get('metric') != self.metric:
            raise ValueError(f"early-stopping state monitors "
                             f"'{state.get('metric')}' expected "
                             f"'{self.metric}'")
        if state.get('mode') != self.mode:
            raise ValueError(f"early-stopping state has mode "
                             f"'{state.get('mode')}' expected '{self.mode}'")
        best = state.get('best_value')
        self.best_value = None if best is None else float(best)
        epoch = state.get('best_epoch')
        self.best_epoch = None if epoch is None else int(epoch)
        self.num_bad_evaluations = int(state.get('num_bad_evaluations', 0))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(metric={self.metric!r}, '
                f'patience={self.patience}, mode={self.mode!r})')
