import pytest
import torch

from pyg_simce.metrics import (
    evaluate_ranking,
    longtail_decomposition,
    popularity_groups,
)


def test_popularity_groups_small_example():
    # degrees 1..8 (total 36): groups of about 36 / 3 = 12 interactions
    degree = torch.tensor([8, 1, 7, 2, 6, 3, 5, 4])
    group = popularity_groups(degree, num_groups=3)
    # sorted: 1 2 3 4 5 | 6 7 | 8 ; midpoints 0.5 2 4.5 8 12.5 18 24.5 32
    expected = {1: 0, 2: 0, 3: 0, 4: 0, 5: 1, 6: 1, 7: 2, 8: 2}
    assert group.tolist() == [expected[d] for d in degree.tolist()]


def test_popularity_groups_equal_mass_and_order():
    gen = torch.Generator().manual_seed(0)
    degree = torch.randint(0, 30, (5000, ), generator=gen)
    group = popularity_groups(degree, num_groups=10)
    # monotone: a more popular item never sits in a lower group
    order = torch.argsort(degree, stable=True)
    assert torch.all(group[order][1:] >= group[order][:-1])
    mass = torch.zeros(10).index_add_(0, group, degree.float())
    target = degree.sum().item() / 10
    assert torch.all((mass - target).abs() <= degree.max())
    assert group[degree == 0].eq(0).all()
    # long tail: group 0 has the most items, the top group the fewest
    count = torch.bincount(group, minlength=10)
    assert count[0] == count.max() and count[9] == count.min()


def test_popularity_groups_errors():
    with pytest.raises(ValueError, match='num_groups'):
        popularity_groups(torch.ones(5), num_groups=0)
    with pytest.raises(ValueError, match='item_degree'):
        popularity_groups(torch.zeros(5))
    with pytest.raises(ValueError, match='item_degree'):
        popularity_groups(torch.tensor([1.0, -1.0]))


def case(seed=0, num_users=40, num_items=300):
    gen = torch.Generator().manual_seed(seed)
    # skewed training popularity
    prob = torch.arange(1, num_items + 1, dtype=torch.float64).pow(2)
    items = torch.multinomial(prob, 3000, replacement=True, generator=gen)
    users = torch.randint(num_users, (3000, ), generator=gen)
    key = torch.unique(users * num_items + items)
    perm = key[torch.randperm(key.numel(), generator=gen)]
    split = int(0.8 * perm.numel())
    to_ei = lambda p: torch.stack([p // num_items, p % num_items])  # noqa
    user_emb = torch.randn(num_users, 6, generator=gen)
    item_emb = torch.randn(num_items, 6, generator=gen)
    return user_emb, item_emb, to_ei(perm[:split]), to_ei(perm[split:])


@pytest.mark.parametrize('k', [5, 20])
def test_groups_sum_to_recall_and_match_naive(k):
    user_emb, item_emb, train, test = case()
    out = longtail_decomposition(user_emb, item_emb, train, test, k=k,
                                 chunk_size=7)
    total = evaluate_ranking(user_emb, item_emb, train, test, ks=(k, ),
                             return_per_user=True)
    assert sum(out['recall_per_group']) == pytest.approx(out['recall'],
                                                         abs=1e-12)
    assert out['recall'] == pytest.approx(total[f'recall@{k}'], abs=1e-6)
    assert out['num_users'] == total['num_users']

    # naive per-group recall and top-K share
    group = out['item_group']
    targets = {}
    for u, i in test.t().tolist():
        targets.setdefault(u, set()).add(i)
    per_group = [0.0] * 10
    slots = [0] * 10
    users = total['per_user']['user_index'].tolist()
    for u, top in zip(users, total['per_user']['topk'].tolist()):
        for i in top:
            slots[group[i]] += 1
            if i in targets[u]:
                per_group[group[i]] += 1 / len(targets[u]) / len(users)
    assert out['recall_per_group'] == pytest.approx(per_group, abs=1e-12)
    assert out['share_per_group'] == pytest.approx(
        [s / sum(slots) for s in slots])
    assert sum(out['item_count_per_group']) == 300
    degree = torch.bincount(train[1], minlength=300)
    assert torch.equal(group, popularity_groups(degree))
    assert sum(out['interactions_per_group']) == train.size(1)


def test_exclusion_and_errors():
    user_emb, item_emb, train, test = case(seed=1)
    valid, test = test[:, ::2], test[:, 1::2]
    out = longtail_decomposition(user_emb, item_emb, train, test,
                                 exclude_edge_index=valid, k=10)
    ref = evaluate_ranking(user_emb, item_emb, train, test, ks=(10, ),
                           exclude_edge_index=valid)
    assert out['recall'] == pytest.approx(ref['recall@10'], abs=1e-6)
    with pytest.raises(ValueError, match="'k'"):
        longtail_decomposition(user_emb, item_emb, train, test, k=0)
    with pytest.raises(ValueError, match='item_degree'):
        longtail_decomposition(user_emb, item_emb, train, test,
                               item_degree=torch.ones(3))
