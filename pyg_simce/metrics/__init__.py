r"""All-ranking top-:math:`K` evaluation and long-tail diagnostics."""
from .topk import topk_items

__all__ = [
    'topk_items',
]
