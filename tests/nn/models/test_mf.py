import math

import pytest
import torch

from pyg_simce.nn.models import MF


def test_embeddings_are_the_tables_and_scores_are_dots():
    model = MF(4, 5, 3)
    edge_index = torch.tensor([[0, 1, 3], [4, 0, 2]])
    user_out, item_out = model.get_embedding(edge_index)
    assert user_out is model.user_embedding.weight
    assert item_out is model.item_embedding.weight
    label = torch.tensor([[0, 3, 3], [1, 4, 0]])
    expected = torch.stack([
        model.user_embedding.weight[u] @ model.item_embedding.weight[i]
        for u, i in label.t().tolist()
    ])
    assert torch.allclose(model(edge_index, label), expected)
    assert torch.allclose(model(None, label), expected)


def test_xavier_uniform_init_and_reset():
    torch.manual_seed(0)
    model = MF(300, 500, 64)
    for table, n in ((model.user_embedding, 300), (model.item_embedding,
                                                   500)):
        bound = math.sqrt(6.0 / (n + 64))
        w = table.weight
        assert w.abs().max() <= bound
        assert w.abs().max() > 0.95 * bound  # uniform fills the range
        assert abs(w.var().item() - bound**2 / 3) < 0.05 * bound**2
    before = model.user_embedding.weight.detach().clone()
    model.reset_parameters()
    assert not torch.equal(before, model.user_embedding.weight)


def test_attributes_and_repr():
    model = MF(3, 4)
    assert (model.num_users, model.num_items, model.embedding_dim) == (3, 4,
                                                                      64)
    assert repr(model) == 'MF(3, 4, embedding_dim=64)'


def test_invalid_edge_index_is_reported():
    with pytest.raises(ValueError, match="'edge_index' row 0"):
        MF(3, 4).get_embedding(torch.tensor([[3], [0]]))


def test_embedding_rows_index_the_tables_without_a_graph():
    model = MF(4, 5, 3)
    user_index, item_index = torch.tensor([3, 0, 3]), torch.tensor([4, 4])
    user_out, item_out = model.get_embedding_rows(None, user_index,
                                                  item_index)
    assert torch.equal(user_out, model.user_embedding.weight[user_index])
    assert torch.equal(item_out, model.item_embedding.weight[item_index])
    old = {'user_embedding.weight': torch.randn(4, 3),
           'item_embedding.weight': torch.randn(5, 3)}
    model.load_state_dict(old, strict=True)
