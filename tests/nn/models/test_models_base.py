import pytest
import torch

from pyg_simce.nn.models import MF, SVDPP, LightGCN, RecommenderBase


def random_graph(U, I, E, seed):
    gen = torch.Generator().manual_seed(seed)
    edge_index = torch.stack([torch.randint(0, U, (E, ), generator=gen),
                              torch.randint(0, I, (E, ), generator=gen)])
    return torch.unique(edge_index, dim=1)


def naive_recommend(user_out, item_out, users, k, exclude):
    excluded = {}
    for u, i in exclude.t().tolist():
        excluded.setdefault(u, set()).add(i)
    rows = []
    for u in users.tolist():
        scored = [(float(user_out[u] @ item_out[i]), i)
                  for i in range(item_out.size(0))
                  if i not in excluded.get(u, set())]
        scored.sort(key=lambda t: -t[0])
        top = [i for _, i in scored[:k]]
        rows.append(top + [-1] * (k - len(top)))
    return torch.tensor(rows)


@pytest.mark.parametrize('cls', [MF, SVDPP, LightGCN])
def test_recommend_matches_naive_loop_and_never_returns_excluded(cls):
    U, I = 40, 30
    torch.manual_seed(0)
    edge_index = random_graph(U, I, 300, seed=1)
    model = cls(U, I, 8).double()
    user_out, item_out = model.get_embedding(edge_index)
    users = torch.tensor([3, 0, 39, 3, 17])
    got = model.recommend(edge_index, src_index=users, k=5,
                          exclude_edge_index=edge_index)
    expected = naive_recommend(user_out.detach(), item_out.detach(), users,
                               5, edge_index)
    assert torch.equal(got, expected)
    train = set(map(tuple, edge_index.t().tolist()))
    for row, u in zip(got.tolist(), users.tolist()):
        assert not any((u, i) in train for i in row)

    # All users, no exclusion.
    got_all = model.recommend(edge_index, k=3)
    assert got_all.shape == (U, 3)
    expected_all = naive_recommend(user_out.detach(), item_out.detach(),
                                   torch.arange(U), 3,
                                   torch.empty(2, 0, dtype=torch.long))
    assert torch.equal(got_all, expected_all)


def test_recommend_pads_when_too_few_items_remain():
    model = MF(2, 3, 4)
    exclude = torch.tensor([[0, 0], [0, 2]])
    got = model.recommend(None, src_index=torch.tensor([0]), k=3,
                          exclude_edge_index=exclude)
    assert got.tolist() == [[1, -1, -1]]


def test_recommend_validates_arguments():
    model = MF(3, 4, 2)
    with pytest.raises(ValueError, match="'k'"):
        model.recommend(None, k=0)
    with pytest.raises(ValueError, match="'k'"):
        model.recommend(None, k=5)
    with pytest.raises(ValueError, match="'src_index'"):
        model.recommend(None, src_index=torch.tensor([3]), k=2)
    with pytest.raises(ValueError, match="'src_index'"):
        model.recommend(None, src_index=torch.tensor([[0]]), k=2)
    with pytest.raises(ValueError, match="'exclude_edge_index'"):
        model.recommend(None, k=2,
                        exclude_edge_index=torch.tensor([[0], [4]]))


def test_base_requires_propagation():
    model = RecommenderBase(2, 2, 2)
    with pytest.raises(NotImplementedError):
        model.get_embedding(torch.tensor([[0], [1]]))
