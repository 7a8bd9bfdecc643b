r"""All-ranking top-:math:`K` evaluation and long-tail diagnostics."""
from .topk import topk_items, default_chunk_size
from .ranking import evaluate_ranking
from .longtail import longtail_decomposition, popularity_groups

__all__ = [
    'topk_items',
    'default_chunk_size',
    'evaluate_ranking',
    'longtail_decomposition',
    'popularity_groups',
]
