r"""Negative strategies of the :class:`~pyg_simce.train.Trainer`, one object
per way of choosing a batch's negatives (see :class:`NegativeStrategy`).

The strategy is resolved once, from the :obj:`negative_sampling` option, by
:func:`negative_strategy`; the training step then only calls its methods.
"""
from typing import Optional

from pyg_simce.train.negatives.full_catalogue_negatives import (
    FullCatalogueNegatives,
)
from pyg_simce.train.negatives.global_in_batch_negatives import (
    GlobalInBatchNegatives,
    shard_sizes,
)
from pyg_simce.train.negatives.in_batch_negatives import InBatchNegatives
from pyg_simce.train.negatives.negative_batch import NegativeBatch
from pyg_simce.train.negatives.negative_strategy import NegativeStrategy
from pyg_simce.train.negatives.per_user_negatives import (
    GEMM_ADVANTAGE,
    PerUserNegatives,
)
from pyg_simce.train.negatives.shared_pool_negatives import (
    SharedPoolNegatives,
)


def negative_strategy(name: str, *, num_negatives: Optional[int] = None,
                      beta: float = 1.0, global_in_batch: bool = False,
                      world_size: int = 1) -> NegativeStrategy:
    r"""Builds the strategy of a :obj:`negative_sampling` option.

    Args:
        name (str): :obj:`'uniform'`, :obj:`'popularity'`, :obj:`'shared'`,
            :obj:`'in-batch'` or :obj:`'full'`.
        num_negatives (int, optional): Negatives per positive (pool size for
            :obj:`'shared'`). (default: :obj:`None`)
        beta (float, optional): Popularity exponent. (default: :obj:`1.0`)
        global_in_batch (bool, optional): In a process group of
            :obj:`world_size > 1`, in-batch negatives over the global batch.
            (default: :obj:`False`)
        world_size (int, optional): The number of processes.
            (default: :obj:`1`)
    """
    if name in ('uniform', 'popularity'):
        return PerUserNegatives(num_negatives, distribution=name, beta=beta)
    if name == 'shared':
        return SharedPoolNegatives(num_negatives)
    if name == 'in-batch':
        if global_in_batch and world_size > 1:
            return GlobalInBatchNegatives()
        return InBatchNegatives()
    if name == 'full':
        return FullCatalogueNegatives()
    raise ValueError(f"'negative_sampling' expected one of uniform, "
                     f"popularity, shared, in-batch, full (got '{name}')")


__all__ = [
    'NegativeStrategy',
    'NegativeBatch',
    'PerUserNegatives',
    'SharedPoolNegatives',
    'InBatchNegatives',
    'GlobalInBatchNegatives',
    'FullCatalogueNegatives',
    'negative_strategy',
    'shard_sizes',
    'GEMM_ADVANTAGE',
]
