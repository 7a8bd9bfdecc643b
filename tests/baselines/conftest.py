import pytest
import torch
from torch_geometric.data import HeteroData


def make_graph(num_users=12, num_items=9, p=0.35, seed=0):
    gen = torch.Generator().manual_seed(seed)
    dense = torch.rand(num_users, num_items, generator=gen) < p
    dense[:, 0] |= torch.arange(num_users) % 3 == 0  # a popular item
    dense[0, 1] = True  # every user has at least one item
    dense[dense.sum(1) == 0, 2] = True
    edge_index = dense.nonzero().t()
    data = HeteroData()
    data['user'].num_nodes = num_users
    data['item'].num_nodes = num_items
    data['user', 'rates', 'item'].edge_index = edge_index
    data['item', 'rated_by', 'user'].edge_index = edge_index.flip(0)
    return data, dense.double()


@pytest.fixture
def tiny_graph():
    return make_graph()


@pytest.fixture
def graph_factory():
    return make_graph
