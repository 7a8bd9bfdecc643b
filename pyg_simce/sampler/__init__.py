r"""Negative samplers and the positive index they share with evaluation."""
from .positive_index import PositiveIndex
from .negative_sampler import NegativeSampler
from .uniform_negative_sampler import UniformNegativeSampler
from .popularity_negative_sampler import PopularityNegativeSampler
from .in_batch_sampler import InBatchSampler

__all__ = [
    'PositiveIndex',
    'NegativeSampler',
    'UniformNegativeSampler',
    'PopularityNegativeSampler',
    'InBatchSampler',
]
