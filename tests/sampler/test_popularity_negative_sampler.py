import pytest
import torch

from pyg_simce.sampler import PopularityNegativeSampler


def popularity_graph():
    # item j has j + 1 distinct users among 20 (items 0..9); item 10 none
    rows, cols = [], []
    for j in range(10):
        for u in range(j + 1):
            rows.append(u)
            cols.append(j)
    return torch.tensor([rows, cols]), 20, 11


@pytest.mark.parametrize('beta', [0.0, 0.5, 1.0, 2.0])
def test_frequencies_follow_popularity_power(beta):
    edge_index, num_users, num_items = popularity_graph()
    sampler = PopularityNegativeSampler(edge_index, num_users, num_items,
                                        num_negatives=500, beta=beta, seed=7)
    user = 15  # no training items: the plain distribution
    neg = sampler.sample(torch.full((100, ), user)).view(-1)
    freq = torch.bincount(neg, minlength=num_items).double() / neg.numel()
    degree = torch.tensor([j + 1.0 for j in range(10)] + [0.0],
                          dtype=torch.float64)
    weight = degree.pow(beta)
    expected = weight / weight.sum()
    assert torch.allclose(sampler.prob, expected)
    assert torch.allclose(freq, expected, atol=0.01)
    if beta > 0:
        assert freq[10] == 0  # no training users: never drawn


@pytest.mark.parametrize('max_rounds', [10, 0])
def test_exclusion_renormalises(max_rounds):
    edge_index, num_users, num_items = popularity_graph()
    sampler = PopularityNegativeSampler(edge_index, num_users, num_items,
                                        num_negatives=400, beta=1.0, seed=1,
                                        max_rounds=max_rounds)
    user = 3  # rated items 3..9
    neg = sampler.sample(torch.full((100, ), user)).view(-1)
    assert not set(neg.tolist()) & set(range(3, 10))
    freq = torch.bincount(neg, minlength=num_items).double() / neg.numel()
    expected = torch.zeros(num_items, dtype=torch.float64)
    expected[:3] = torch.tensor([1.0, 2.0, 3.0]) / 6.0
    assert torch.allclose(freq, expected, atol=0.01)


def test_naive_set_check_on_random_graph():
    gen = torch.Generator().manual_seed(0)
    row = torch.randint(25, (300, ), generator=gen)
    col = torch.randint(40, (300, ), generator=gen)
    edge_index = torch.stack([row, col])
    sets = [set() for _ in range(25)]
    for u, i in edge_index.t().tolist():
        sets[u].add(i)
    sampler = PopularityNegativeSampler(edge_index, 25, 40, num_negatives=8,
                                        beta=0.75, seed=2)
    users = torch.arange(25).repeat(4)
    neg = sampler.sample(users)
    for u, items in zip(users.tolist(), neg.tolist()):
        assert not set(items) & sets[u]


def test_errors_for_unreachable_users_and_bad_beta():
    edge_index, num_users, num_items = popularity_graph()
    sampler = PopularityNegativeSampler(edge_index, num_users, num_items,
                                        beta=1.0, seed=0)
    # user 0 rated every item of non-zero popularity (items 0..9)
    with pytest.raises(ValueError, match=r'users \[0\]'):
        sampler.sample(torch.tensor([0, 5]))
    uniform = PopularityNegativeSampler(edge_index, num_users, num_items,
                                        beta=0.0, seed=0)
    assert uniform.sample(torch.tensor([0, 0])).view(-1).tolist() == [10, 10]
    with pytest.raises(ValueError, match='beta'):
        PopularityNegativeSampler(edge_index, num_users, num_items, beta=-1)
    with pytest.raises(ValueError, match='beta'):
        PopularityNegativeSampler(edge_index, num_users, num_items,
                                  beta=float('nan'))
