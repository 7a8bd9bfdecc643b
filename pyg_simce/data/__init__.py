r"""Data layer: bipartite user-item :class:`~torch_geometric.data.HeteroData`
construction, vectorised readers, seeded splits, k-core filtering, the
synthetic generator, adapters for PyG's data sets, the data-set registry and
statistics."""
from pyg_simce.data.interactions import Interactions
from pyg_simce.data.interaction_split import InteractionSplit
from pyg_simce.data.bipartite_data import (
    RATES,
    RATED_BY,
    build_hetero_data,
    raw_to_id,
    remap_ids,
)
from pyg_simce.data.lightgcn_reader import read_lightgcn
from pyg_simce.data.raw_ids import to_raw_ids
from pyg_simce.data.delimited_reader import (
    read_csv,
    read_movielens,
    read_tsv_pairs,
)
from pyg_simce.data.split_overlap import (
    check_split_overlap,
    overlap_counts,
    resolve_overlap,
)
from pyg_simce.data.splitting import (
    check_ratios,
    given_split,
    leave_one_out_split,
    random_split,
    split_data,
    temporal_split,
)
from pyg_simce.data.k_core import k_core, k_core_mask
from pyg_simce.data.synthetic_generator import make_synthetic
from pyg_simce.data.pyg_adapters import (
    from_amazon_book,
    from_movielens_100k,
    normalize_node_types,
    pyg_to_split,
)
from pyg_simce.data.dataset_registry import (
    available_datasets,
    load_data_dir,
    load_dataset,
    registered_datasets,
    resolve_data_root,
)
from pyg_simce.data.dataset_statistics import (
    dataset_statistics,
    format_statistics,
)

__all__ = [
    'Interactions',
    'InteractionSplit',
    'RATES',
    'RATED_BY',
    'build_hetero_data',
    'raw_to_id',
    'remap_ids',
    'to_raw_ids',
    'read_lightgcn',
    'read_csv',
    'read_movielens',
    'read_tsv_pairs',
    'check_split_overlap',
    'overlap_counts',
    'resolve_overlap',
    'check_ratios',
    'given_split',
    'leave_one_out_split',
    'random_split',
    'split_data',
    'temporal_split',
    'k_core',
    'k_core_mask',
    'make_synthetic',
    'from_amazon_book',
    'from_movielens_100k',
    'normalize_node_types',
    'pyg_to_split',
    'available_datasets',
    'load_data_dir',
    'load_dataset',
    'registered_datasets',
    'resolve_data_root',
    'dataset_statistics',
    'format_statistics',
]
