import pytest
import torch

from pyg_simce.data import RATES, load_dataset, make_synthetic


def recall_at_k(scores, train, test, k=20):
    r"""Naive all-ranking Recall@K: mask training items, loop over users."""
    scores = scores.clone()
    scores[train[0], train[1]] = -float('inf')
    top = scores.topk(k, dim=1).indices.tolist()
    targets = {}
    for u, i in test.t().tolist():
        targets.setdefault(u, set()).add(i)
    values = [len(t & set(top[u])) / len(t) for u, t in targets.items()]
    return sum(values) / len(values)


def test_defaults_size_and_reproducibility():
    a = make_synthetic(seed=0)
    b = make_synthetic(seed=0)
    c = make_synthetic(seed=1)
    assert torch.equal(a[RATES].edge_index, b[RATES].edge_index)
    assert torch.equal(a[RATES].time, b[RATES].time)
    assert not torch.equal(a[RATES].edge_index[:, :100],
                           c[RATES].edge_index[:, :100])
    ei = a[RATES].edge_index
    assert a['user'].num_nodes == 2000 and a['item'].num_nodes == 1500
    assert 60_000 <= ei.size(1) <= 100_000
    assert len(set(map(tuple, ei.t().tolist()))) == ei.size(1)
    deg_u = torch.bincount(ei[0], minlength=2000)
    assert int(deg_u.min()) >= 5 and int(deg_u.max()) <= 750
    assert float(deg_u.float().std()) > 5  # degrees vary per user
    # Power-law popularity: the top 10% of items hold far more than 10%.
    deg_i = torch.bincount(ei[1], minlength=1500).sort(descending=True)[0]
    assert deg_i[:150].sum() > 0.3 * ei.size(1)
    a.validate()


def test_carries_learnable_signal():
    split = load_dataset('synthetic', seed=0, ratios=(0.8, 0.2))
    data = split.train
    train = data[RATES].edge_index
    test = split.test[RATES].edge_label_index
    num_users, num_items = split.num_users, split.num_items
    pop = torch.bincount(train[1], minlength=num_items).float()
    r_pop = recall_at_k(pop.expand(num_users, num_items), train, test)
    truth = (3.0 * data['user'].latent @ data['item'].latent.t() +
             data['item'].log_popularity)
    r_truth = recall_at_k(truth, train, test)
    # A model-free fit of the training split: rank-32 truncated SVD.
    adj = torch.zeros(num_users, num_items)
    adj[train[0], train[1]] = 1.0
    torch.manual_seed(0)
    u, s, v = torch.svd_lowrank(adj, q=32, niter=4)
    r_svd = recall_at_k((u * s) @ v.t(), train, test)
    assert r_truth > 3 * r_pop
    assert r_svd > 1.5 * r_pop
    assert r_truth > r_svd


def test_registry_arguments_and_errors():
    split = load_dataset('synthetic', num_users=50, num_items=40,
                         mean_degree=8, seed=3)
    assert split.num_users == 50 and split.num_items == 40
    assert split.val is not None
    with pytest.raises(ValueError, match="'num_items'"):
        make_synthetic(num_items=1)
    with pytest.raises(ValueError, match="'min_degree'"):
        make_synthetic(num_items=6, min_degree=5)
    with pytest.raises(ValueError, match="'mean_degree'"):
        make_synthetic(mean_degree=float('nan'))
    with pytest.raises(ValueError, match="unexpected argument.*'bogus'"):
        load_dataset('synthetic', bogus=1)
