r"""Message-passing layers and normalisation for user-item propagation."""
from pyg_simce.nn.conv.adjacency_cache import AdjacencyCache, graph_key
from pyg_simce.nn.conv.bipartite_conv import BipartiteConv
from pyg_simce.nn.conv.norm import (
    bipartite_norm,
    check_edge_index,
    inverse_degree_power,
)
from pyg_simce.nn.conv.row_block import csr_matmul_rows
from pyg_simce.nn.conv.sparse_adjacency import (
    SparseAdjacency,
    csr_matmul,
    csr_select_rows,
    csr_spmm,
    csr_transpose,
    to_csr,
)
from pyg_simce.nn.conv.user_item_adjacency import UserItemAdjacency

__all__ = [
    'BipartiteConv',
    'SparseAdjacency',
    'UserItemAdjacency',
    'AdjacencyCache',
    'graph_key',
    'bipartite_norm',
    'check_edge_index',
    'inverse_degree_power',
    'csr_matmul',
    'csr_matmul_rows',
    'csr_select_rows',
    'csr_spmm',
    'csr_transpose',
    'to_csr',
]
