r"""Negative samplers and the positive index they share with evaluation."""
from .positive_index import PositiveIndex

__all__ = [
    'PositiveIndex',
]
