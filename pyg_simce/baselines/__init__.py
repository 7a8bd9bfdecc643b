r"""Classical recommenders fitted without the Trainer, to stand beside the
seed models in every quality table: :class:`GFCF`, :class:`EASE`,
:class:`IALS`, :class:`ItemKNN` and :class:`MostPopular`.  Each has
:meth:`fit` on the training :class:`~torch_geometric.data.HeteroData`,
:meth:`score` for a chunk of users, the models' :meth:`recommend`, and
:func:`evaluate_baseline` gives the metrics of
:func:`~pyg_simce.metrics.evaluate_ranking` and :func:`baseline_longtail`
the popularity-group split of
:func:`~pyg_simce.metrics.longtail_decomposition`.  They need :obj:`scipy`
(:class:`IALS` also :obj:`implicit`): :obj:`pip install
'pyg_simce[baselines]'`."""
from pyg_simce.baselines.base import BaselineRecommender
from pyg_simce.baselines.evaluation import baseline_longtail, \
    evaluate_baseline
from pyg_simce.baselines.gfcf import GFCF
from pyg_simce.baselines.ease import EASE
from pyg_simce.baselines.ials import IALS
from pyg_simce.baselines.item_knn import ItemKNN
from pyg_simce.baselines.most_popular import MostPopular

#: The CLI / benchmark names of the baselines.
BASELINES = {
    'gfcf': GFCF,
    'ease': EASE,
    'ials': IALS,
    'itemknn': ItemKNN,
    'mostpop': MostPopular,
}

__all__ = [
    'BaselineRecommender',
    'evaluate_baseline',
    'baseline_longtail',
    'GFCF',
    'EASE',
    'IALS',
    'ItemKNN',
    'MostPopular',
    'BASELINES',
]
