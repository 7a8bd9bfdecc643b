r"""Ranking losses for collaborative filtering on scores (not embeddings),
with dense :obj:`loss(pos [B], neg [B, N])` and ragged
:obj:`loss(pos [B], neg [E], index [E])` call forms, plus the in-batch
negative helper, the L2 regulariser and a name resolver."""
from .ranking_loss import RankingLoss
from .bpr_loss import BPRLoss
from .bce_loss import BCELoss
from .softmax_loss import SoftmaxLoss
from .sampled_softmax_loss import SampledSoftmaxLoss
from .simce_loss import SimCELoss
from .ccl_loss import CCLLoss
from .multi_margin_loss import MultiMarginLoss
from .in_batch import in_batch_negatives
from .regularization import l2_regularization
from .resolver import loss_resolver

__all__ = [
    'RankingLoss',
    'BPRLoss',
    'BCELoss',
    'SoftmaxLoss',
    'SampledSoftmaxLoss',
    'SimCELoss',
    'CCLLoss',
    'MultiMarginLoss',
    'in_batch_negatives',
    'l2_regularization',
    'loss_resolver',
]
