r"""Build a loss by name, for the command line and the benchmarks."""
import inspect
from typing import Any, Dict, Type, Union

from pyg_simce.nn.loss.bce_loss import BCELoss
from pyg_simce.nn.loss.bpr_loss import BPRLoss
from pyg_simce.nn.loss.ccl_loss import CCLLoss
from pyg_simce.nn.loss.multi_margin_loss import MultiMarginLoss
from pyg_simce.nn.loss.ranking_loss import RankingLoss
from pyg_simce.nn.loss.sampled_softmax_loss import SampledSoftmaxLoss
from pyg_simce.nn.loss.simce_loss import SimCELoss
from pyg_simce.nn.loss.softmax_loss import SoftmaxLoss

LOSSES: Dict[str, Type[RankingLoss]] = {
    'bpr': BPRLoss,
    'bce': BCELoss,
    'softmax': SoftmaxLoss,
    'ssm': SampledSoftmaxLoss,
    'sampled_softmax': SampledSoftmaxLoss,
    'simce': SimCELoss,
    'ccl': CCLLoss,
    'mml': MultiMarginLoss,
    'multi_margin': MultiMarginLoss,
}


def loss_resolver(name: Union[str, RankingLoss],
                  **kwargs: Any) -> RankingLoss:
    r"""Returns a loss by name, e.g. :obj:`loss_resolver('simce',
    margin=5.0)`.

    Names (case-insensitive, :obj:`-` and :obj:`_` alike, a trailing
    :obj:`loss` or the class name also accepted): :obj:`bpr`, :obj:`bce`,
    :obj:`softmax`, :obj:`ssm` (alias :obj:`sampled_softmax`),
    :obj:`simce`, :obj:`ccl`, :obj:`mml` (alias :obj:`multi_margin`).
    Keyword arguments go to the constructor; an unknown one raises
    :class:`ValueError` listing the accepted ones.  A loss instance is
    returned unchanged (without keyword arguments).

    Args:
        name (str or RankingLoss): The loss.
        **kwargs: Constructor arguments.
    """
    if isinstance(name, RankingLoss):
        if kwargs:
            raise ValueError(f"Expected no keyword arguments with a loss "
                             f"instance (got {sorted(kwargs)})")
        return name
    if not isinstance(name, str):
        raise ValueError(f"Expected the loss 'name' to be a string (got "
                         f"{type(name).__name__})")
    key = name.strip().lower().replace('-', '_')
    if key not in LOSSES and key.endswith('loss'):
        key = key[:-len('loss')].rstrip('_')
    if key not in LOSSES:
        by_class = {c.__name__.lower(): c for c in LOSSES.values()}
        if name.strip().lower() in by_class:
            cls = by_class[name.strip().lower()]
        else:
            raise ValueError(f"Unknown loss 'name' (got {name!r}); expected "
                             f"one of {sorted(LOSSES)}")
    else:
        cls = LOSSES[key]
    accepted = [
        p for p in inspect.signature(cls.__init__).parameters
        if p != 'self'
    ]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(f"Unknown argument(s) {unknown} for "
                         f"{cls.__name__} (got {name!r}); accepted: "
                         f"{accepted}")
    return cls(**kwargs)


__all__ = ['loss_resolver', 'LOSSES']
