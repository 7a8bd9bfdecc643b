import pytest
import torch

from pyg_simce.baselines import ItemKNN


@pytest.mark.parametrize('k', [1, 3, 100])
def test_item_knn_equals_loop_over_users(graph_factory, k):
    data, r = graph_factory(num_users=15, num_items=10, seed=1)
    model = ItemKNN(k=k, block_size=4).fit(data)
    num_users, num_items = r.shape
    norm = r.sum(0).sqrt()
    sim = [[0.0] * num_items for _ in range(num_items)]
    for i in range(num_items):
        for j in range(num_items):
            if i != j and norm[i] > 0 and norm[j] > 0:
                sim[i][j] = float((r[:, i] * r[:, j]).sum() /
                                  (norm[i] * norm[j]))
    neighbours = []
    for i in range(num_items):
        order = sorted((j for j in range(num_items) if j != i),
                       key=lambda j: (-sim[i][j], j))
        neighbours.append(set(order[:k]))
    expected = torch.zeros(num_users, num_items, dtype=torch.float64)
    for u in range(num_users):
        items = [j for j in range(num_items) if r[u, j] > 0]
        for i in range(num_items):
            expected[u, i] = sum(sim[i][j] for j in items
                                 if j in neighbours[i])
    scores = model.score(torch.arange(num_users)).double()
    assert torch.allclose(scores, expected, atol=1e-5)


def test_item_knn_bad_input():
    with pytest.raises(ValueError, match="'k' expected a positive int"):
        ItemKNN(k=0)
