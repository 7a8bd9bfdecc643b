r"""Collaborative-filtering backbones: embeddings -> propagation -> scores."""
from pyg_simce.nn.models.base import RecommenderBase
from pyg_simce.nn.models.lightgcn import LightGCN
from pyg_simce.nn.models.mf import MF
from pyg_simce.nn.models.svdpp import SVDPP

__all__ = [
    'RecommenderBase',
    'MF',
    'SVDPP',
    'LightGCN',
]
