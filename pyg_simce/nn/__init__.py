r"""Neural-network building blocks: propagation layers, backbones, ranking
losses and similarity functions.

Everything in :mod:`pyg_simce.nn.loss` is re-exported here, so that
``from pyg_simce.nn import LightGCN, SimCELoss`` works.
"""
from pyg_simce.nn import conv, loss, magnitude, models, similarity
from pyg_simce.nn.conv import BipartiteConv
from pyg_simce.nn.loss import (
    BCELoss,
    BPRLoss,
    CCLLoss,
    MultiMarginLoss,
    RankingLoss,
    SampledSoftmaxLoss,
    SimCELoss,
    SoftmaxLoss,
    in_batch_negatives,
    l2_regularization,
    loss_resolver,
)
from pyg_simce.nn.magnitude import (
    embedding_norm_vs_degree,
    predicted_magnitude_slope,
)
from pyg_simce.nn.models import MF, SVDPP, LightGCN, RecommenderBase

__all__ = [
    'conv',
    'loss',
    'magnitude',
    'models',
    'similarity',
    'BipartiteConv',
    'RecommenderBase',
    'MF',
    'SVDPP',
    'LightGCN',
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
    'embedding_norm_vs_degree',
    'predicted_magnitude_slope',
]
