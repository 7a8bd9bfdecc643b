import pytest
import torch

from pyg_simce.sampler import UniformNegativeSampler


def random_graph(num_users=30, num_items=50, num_edges=400, seed=0):
    gen = torch.Generator().manual_seed(seed)
    row = torch.randint(num_users, (num_edges, ), generator=gen)
    col = torch.randint(num_items, (num_edges, ), generator=gen)
    edge_index = torch.stack([row, col])
    sets = [set() for _ in range(num_users)]
    for u, i in edge_index.t().tolist():
        sets[u].add(i)
    return edge_index, sets


@pytest.mark.parametrize('max_rounds', [10, 0])
def test_excluded_items_never_appear(max_rounds):
    edge_index, sets = random_graph()
    sampler = UniformNegativeSampler(edge_index, 30, 50, num_negatives=16,
                                     seed=1, max_rounds=max_rounds)
    users = torch.arange(30).repeat(5)
    neg = sampler.sample(users)
    assert neg.shape == (150, 16) and neg.dtype == torch.long
    assert neg.min() >= 0 and neg.max() < 50
    for u, row in zip(users.tolist(), neg.tolist()):
        assert not set(row) & sets[u]


def test_without_exclusion_positives_can_appear():
    edge_index, sets = random_graph()
    sampler = UniformNegativeSampler(edge_index, 30, 50, num_negatives=50,
                                     exclude_positives=False, seed=0)
    users = torch.arange(30)
    neg = sampler.sample(users)
    hits = sum(len(set(row) & sets[u])
               for u, row in zip(users.tolist(), neg.tolist()))
    assert hits > 0


@pytest.mark.parametrize('max_rounds', [10, 0])
def test_uniform_over_admissible_items(max_rounds):
    # user 0 rated 10 of 40 items: the other 30 are drawn equally often
    num_items, draws = 40, 60000
    positives = torch.arange(0, 40, 4)
    edge_index = torch.stack([torch.zeros_like(positives), positives])
    sampler = UniformNegativeSampler(edge_index, 1, num_items,
                                     num_negatives=draws // 100, seed=3,
                                     max_rounds=max_rounds)
    neg = sampler.sample(torch.zeros(100, dtype=torch.long)).view(-1)
    counts = torch.bincount(neg, minlength=num_items).double()
    assert counts[positives].sum() == 0
    free = torch.ones(num_items, dtype=torch.bool)
    free[positives] = False
    expected = draws / 30
    chi2 = ((counts[free] - expected)**2 / expected).sum().item()
    # 29 degrees of freedom: P(chi2 > 70) < 1e-4
    assert chi2 < 70, chi2


def test_exact_fallback_for_dense_users():
    # user 0 rated all items but 2 and 997: rejection almost never succeeds
    num_items = 1000
    items = torch.tensor([i for i in range(num_items) if i not in (2, 997)])
    edge_index = torch.stack([torch.zeros_like(items), items])
    sampler = UniformNegativeSampler(edge_index, 2, num_items,
                                     num_negatives=500, seed=0, max_rounds=2)
    neg = sampler.sample(torch.tensor([0, 1]))
    assert set(neg[0].tolist()) == {2, 997}
    share = (neg[0] == 2).double().mean().item()
    assert 0.4 < share < 0.6
    assert neg[1].unique().numel() > 300  # user 1 has no positives


def test_user_with_every_item_raises():
    edge_index = torch.tensor([[0, 0, 0, 1], [0, 1, 2, 0]])
    sampler = UniformNegativeSampler(edge_index, 2, 3, seed=0)
    assert sampler.sample(torch.tensor([1, 1])).tolist() != []
    with pytest.raises(ValueError, match=r'users \[0\]'):
        sampler.sample(torch.tensor([1, 0]))
    free = UniformNegativeSampler(edge_index, 2, 3, exclude_positives=False)
    assert free.sample(torch.tensor([0])).shape == (1, 1)
