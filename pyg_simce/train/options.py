r"""The training options of :class:`~pyg_simce.train.Trainer`: their
defaults, their per-loss resolution and their validation, in one place."""
import dataclasses
import math
from typing import Any, Optional, Sequence, Tuple

from pyg_simce.train.defaults import NEGATIVE_SAMPLING, SIMILARITIES
from pyg_simce.train.defaults import resolve_options


def check_positive_int(name: str, value: Any,
                       allow_zero: bool = False) -> None:
    r"""Raises :class:`ValueError` unless :obj:`value` is a positive (or,
    with :obj:`allow_zero`, non-negative) :obj:`int`."""
    ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok or value < (0 if allow_zero else 1):
        kind = 'non-negative' if allow_zero else 'positive'
        raise ValueError(f"'{name}' expected a {kind} integer (got {value!r})")


def check_number(name: str, value: Any, positive: bool = False) -> None:
    r"""Raises :class:`ValueError` unless :obj:`value` is a finite
    non-negative (or positive) number."""
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
          and math.isfinite(value))
    if not ok or value < 0 or (positive and value == 0):
        kind = 'positive' if positive else 'non-negative'
        raise ValueError(f"'{name}' expected a {kind} finite number "
                         f"(got {value!r})")


@dataclasses.dataclass
class TrainerOptions:
    r"""The options of a training run that are not objects (model, loss,
    data) nor places (device, files): every keyword of
    :class:`~pyg_simce.train.Trainer` with its default, see there for their
    meaning.  Options left at :obj:`None` take the per-loss defaults of
    :mod:`pyg_simce.train.defaults` in :meth:`resolve`, which also
    validates them, so that the Trainer, the command line and the benchmark
    configs share one set of defaults and one set of checks.

    :obj:`fused_optimizer` selects Adam's fused kernel
    (:obj:`torch.optim.Adam(fused=True)`): :obj:`None` uses it where the
    device has one, :obj:`False` never.
    """
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 2048
    epochs: int = 100
    reg: float = 0.0
    negative_sampling: Optional[str] = None
    num_negatives: Optional[int] = None
    beta: float = 1.0
    train_similarity: Optional[str] = None
    test_similarity: Optional[str] = None
    eval_every: int = 1
    metric: str = 'recall@20'
    patience: Optional[int] = None
    time_budget: Optional[float] = None
    ks: Sequence[int] = (10, 20, 50)
    seed: int = 0
    checkpoint_every: int = 1
    eval_chunk_size: Optional[int] = None
    global_in_batch: bool = False
    fused_optimizer: Optional[bool] = None

    def resolve(self, loss_name: str, loss: Any = None,
                world_size: int = 1) -> 'TrainerOptions':
        r"""Returns a copy with the per-loss defaults filled in, after
        checking every option.

        Args:
            loss_name (str): The loss name (:obj:`'custom'` for a loss the
                library does not define).
            loss (torch.nn.Module, optional): The loss module.
                (default: :obj:`None`)
            world_size (int, optional): The number of processes.
                (default: :obj:`1`)

        Raises:
            ValueError: Naming the option and what it expected.
        """
        out = dataclasses.replace(self, **resolve_options(
            loss_name, **{k: getattr(self, k) for k in (
                'negative_sampling', 'num_negatives', 'train_similarity',
                'test_similarity')}))
        out._check(loss_name, loss, world_size)
        out.ks = _check_ks(out.ks, out.metric)
        out.lr, out.weight_decay, out.reg, out.beta = (
            float(out.lr), float(out.weight_decay), float(out.reg),
            float(out.beta))
        if out.time_budget is not None:
            out.time_budget = float(out.time_budget)
        if out.num_negatives is not None:
            out.num_negatives = int(out.num_negatives)
        out.seed = int(out.seed)
        out.global_in_batch = bool(out.global_in_batch)
        return out

    def _check(self, loss_name: str, loss: Any, world_size: int) -> None:
        check_positive_int('batch_size', self.batch_size)
        check_positive_int('epochs', self.epochs, allow_zero=True)
        check_positive_int('eval_every', self.eval_every)
        check_positive_int('checkpoint_every', self.checkpoint_every)
        check_number('lr', self.lr, positive=True)
        check_number('weight_decay', self.weight_decay)
        check_number('reg', self.reg)
        check_number('beta', self.beta)
        if self.time_budget is not None:
            check_number('time_budget', self.time_budget, positive=True)
        mode = self.negative_sampling
        if mode not in NEGATIVE_SAMPLING:
            raise ValueError(f"'negative_sampling' expected one of "
                             f"{', '.join(NEGATIVE_SAMPLING)} "
                             f"(got '{mode}')")
        for name in ('train_similarity', 'test_similarity'):
            sim = getattr(self, name)
            if sim not in SIMILARITIES:
                raise ValueError(f"'{name}' expected one of "
                                 f"{', '.join(SIMILARITIES)} (got '{sim}')")
        if loss_name == 'softmax' and mode != 'full':
            raise ValueError(f"the softmax loss expected "
                             f"negative_sampling='full' (got '{mode}'); use "
                             f"'ssm' for sampled negatives")
        if mode in ('uniform', 'popularity', 'shared'):
            if self.num_negatives is None:
                raise ValueError(f"'num_negatives' expected a positive "
                                 f"integer for negative_sampling="
                                 f"'{mode}' (got None)")
            check_positive_int('num_negatives', self.num_negatives)
        if mode == 'in-batch' and self.batch_size < 2:
            raise ValueError(f"'batch_size' expected at least 2 for "
                             f"in-batch negatives (got {self.batch_size})")
        if mode == 'full' and loss_name not in ('softmax', 'custom') and \
                not hasattr(loss, 'forward_full'):
            raise ValueError(f"negative_sampling='full' expected the "
                             f"softmax loss (got '{loss_name}')")
        if self.global_in_batch and mode != 'in-batch':
            raise ValueError(f"'global_in_batch' expected "
                             f"negative_sampling='in-batch' (got '{mode}')")
        if self.fused_optimizer not in (None, True, False):
            raise ValueError(f"'fused_optimizer' expected None, True or False "
                             f"(got {self.fused_optimizer!r})")
        if world_size > 1:
            per_rank = 2 if (mode == 'in-batch'
                             and not self.global_in_batch) else 1
            if self.batch_size < per_rank * world_size:
                raise ValueError(
                    f"'batch_size' (the global batch) expected at least "
                    f"{per_rank * world_size} with {world_size} "
                    f"processes (got {self.batch_size})")
            reduction = getattr(loss, 'reduction', 'mean')
            if reduction != 'mean':
                raise ValueError(f"multi-process training expected a loss "
                                 f"with reduction='mean' (got "
                                 f"'{reduction}')")


def _check_ks(ks: Sequence[int], metric: str) -> Tuple[int, ...]:
    ks = tuple(sorted({int(k) for k in ks}))
    if not ks or ks[0] < 1:
        raise ValueError(f"'ks' expected positive cut-offs (got {ks})")
    if '@' in metric:
        metric_k = metric.rsplit('@', 1)[1]
        if not metric_k.isdigit():
            raise ValueError(f"'metric' expected a name like 'recall@20' "
                             f"(got '{metric}')")
        ks = tuple(sorted(set(ks) | {int(metric_k)}))
    return ks


__all__ = ['TrainerOptions', 'check_positive_int', 'check_number']
