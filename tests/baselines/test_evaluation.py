import pytest
import torch

from pyg_simce.baselines import BASELINES, EASE, GFCF, evaluate_baseline
from pyg_simce.metrics import evaluate_ranking, topk_items


def split(graph_factory):
    data, r = graph_factory(num_users=25, num_items=15, p=0.3, seed=7)
    _, t = graph_factory(num_users=25, num_items=15, p=0.3, seed=8)
    test = (t * (1 - r)).nonzero().t()
    return data, r, test


def test_evaluate_baseline_equals_evaluate_ranking(graph_factory):
    # An item-item model's scores are R B: evaluate_ranking on the dense
    # "embeddings" (R, B^T) is the independent reference.
    data, r, test = split(graph_factory)
    train = data['user', 'rates', 'item'].edge_index
    for model in (EASE(lambda_=2.0), GFCF(rank=3)):
        model.fit(data)
        weight = model.score(torch.arange(25)).double()
        ref = evaluate_ranking(torch.eye(25, dtype=torch.float64), weight.t(),
                               train, test, ks=(3, 5))
        got = evaluate_baseline(model, train, test, ks=(3, 5), chunk_size=4)
        for key in ref:
            assert abs(got[key] - ref[key]) < 1e-9, key


def test_recommend_matches_topk_items(graph_factory):
    data, r, _ = split(graph_factory)
    train = data['user', 'rates', 'item'].edge_index
    model = EASE(lambda_=2.0).fit(data)
    scores = model.score(torch.arange(25))
    src = torch.tensor([3, 0, 24, 3])
    got = model.recommend(train, src_index=src, k=4,
                          exclude_edge_index=train, chunk_size=3)
    ref = topk_items(torch.eye(25), scores.t().contiguous(), 4,
                     src_index=src, exclude_edge_index=train)
    assert torch.equal(got, ref)
    # No training item is ever recommended; -1 pads when items run out.
    full = model.recommend(train, k=15, exclude_edge_index=train)
    for u in range(25):
        items = set(full[u][full[u] >= 0].tolist())
        assert not items & set(r[u].nonzero().view(-1).tolist())
        assert (full[u] == -1).sum() == int(r[u].sum())


def test_empty_training_set_and_unfitted():
    from torch_geometric.data import HeteroData
    data = HeteroData()
    data['user'].num_nodes = 3
    data['item'].num_nodes = 4
    data['user', 'rates', 'item'].edge_index = torch.empty(2, 0,
                                                           dtype=torch.long)
    for name, cls in BASELINES.items():
        if name == 'ials':
            pytest.importorskip('implicit')
        with pytest.raises(ValueError, match="'train_data' expected at "
                           "least one training interaction"):
            cls().fit(data)
        with pytest.raises(RuntimeError, match='fit'):
            cls().score(torch.arange(2))
    with pytest.raises(ValueError, match="'train_data' expected a "
                       "HeteroData"):
        EASE().fit(42)


def test_baseline_longtail_equals_longtail_decomposition(graph_factory):
    # The same dense "embeddings" (I, (R B)^T) as above, through the
    # embedding path of longtail_decomposition, are the reference.
    from pyg_simce.baselines import baseline_longtail
    from pyg_simce.metrics import longtail_decomposition
    data, r, test = split(graph_factory)
    train = data['user', 'rates', 'item'].edge_index
    for model in (EASE(lambda_=2.0), GFCF(rank=3)):
        model.fit(data)
        weight = model.score(torch.arange(25)).double()
        ref = longtail_decomposition(torch.eye(25, dtype=torch.float64),
                                     weight.t(), train, test, num_groups=4,
                                     k=5)
        got = baseline_longtail(model, train, test, num_groups=4, k=5,
                                chunk_size=4)
        for key in ('recall_per_group', 'share_per_group',
                    'target_share_per_group', 'item_count_per_group'):
            assert got[key] == pytest.approx(ref[key], abs=1e-9), key
        assert got['degree_range_per_group'] == ref['degree_range_per_group']
        assert torch.equal(got['item_group'], ref['item_group'])
        recall = evaluate_baseline(model, train, test, ks=5)['recall@5']
        assert sum(got['recall_per_group']) == pytest.approx(recall)
    with pytest.raises(ValueError, match="'k' expected an integer"):
        baseline_longtail(model, train, test, k=16)
    with pytest.raises(ValueError, match="'num_groups' expected"):
        baseline_longtail(model, train, test, num_groups=0, k=5)


def test_baseline_longtail_checks_num_groups_before_ranking(
        graph_factory, monkeypatch):
    from pyg_simce.baselines import baseline_longtail, evaluation
    data, _, test = split(graph_factory)
    model = EASE(lambda_=2.0).fit(data)

    def never(*args, **kwargs):
        raise AssertionError('ranked every user before checking num_groups')

    monkeypatch.setattr(evaluation, '_baseline_topk', never)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="'num_groups' expected a "
                           "positive integer"):
            baseline_longtail(model, data['user', 'rates', 'item']
                              .edge_index, test, num_groups=bad, k=5)
