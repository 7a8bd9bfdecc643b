import math

import pytest
import torch
from torch_geometric.metrics import (
    LinkPredHitRatio,
    LinkPredMRR,
    LinkPredNDCG,
    LinkPredPrecision,
    LinkPredRecall,
)

from pyg_simce.metrics import evaluate_ranking
from pyg_simce.sampler import PositiveIndex


def make_case(num_users, num_items, num_train, num_test, dim=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    user_emb = torch.randn(num_users, dim, generator=gen)
    item_emb = torch.randn(num_items, dim, generator=gen)
    pairs = torch.randperm(num_users * num_items, generator=gen)
    train = pairs[:num_train]
    test = pairs[num_train:num_train + num_test]
    to_ei = lambda p: torch.stack([p // num_items, p % num_items])  # noqa
    return user_emb, item_emb, to_ei(train), to_ei(test)


def naive(user_emb, item_emb, train, test, ks, exclude=None):
    num_users = user_emb.size(0)
    masked = [set() for _ in range(num_users)]
    targets = [set() for _ in range(num_users)]
    for u, i in train.t().tolist():
        masked[u].add(i)
    if exclude is not None:
        for u, i in exclude.t().tolist():
            masked[u].add(i)
    for u, i in test.t().tolist():
        targets[u].add(i)
    sums, n = {}, 0
    for u in range(num_users):
        if not targets[u]:
            continue
        n += 1
        scores = (user_emb[u] @ item_emb.t()).tolist()
        ranking = sorted((i for i in range(len(scores)) if i not in masked[u]),
                         key=lambda i: -scores[i])
        for k in ks:
            top = ranking[:k]
            rel = [i in targets[u] for i in top]
            hits = sum(rel)
            dcg = sum(r / math.log2(p + 2) for p, r in enumerate(rel))
            idcg = sum(1 / math.log2(p + 2)
                       for p in range(min(len(targets[u]), k)))
            first = next((p for p, r in enumerate(rel) if r), None)
            vals = {
                'recall': hits / len(targets[u]),
                'ndcg': dcg / idcg,
                'precision': hits / k,
                'hit': float(hits > 0),
                'mrr': 0.0 if first is None else 1.0 / (first + 1),
            }
            for name, v in vals.items():
                key = f'{name}@{k}'
                sums[key] = sums.get(key, 0.0) + v
    out = {key: v / n for key, v in sums.items()}
    out['num_users'] = n
    return out


@pytest.mark.parametrize('seed,chunk_size', [(0, None), (1, 4), (2, 7)])
def test_against_naive_loop(seed, chunk_size):
    user_emb, item_emb, train, test = make_case(30, 60, 500, 150, seed=seed)
    ks = (1, 5, 10, 20)
    got = evaluate_ranking(user_emb, item_emb, train, test, ks=ks,
                           chunk_size=chunk_size)
    ref = naive(user_emb, item_emb, train, test, ks)
    assert got['num_users'] == ref['num_users']
    assert set(got) == set(ref)
    for key in ref:
        assert got[key] == pytest.approx(ref[key], abs=1e-12), key


def test_large_catalogue_two_stage_path_and_exclusion():
    user_emb, item_emb, train, test = make_case(25, 3000, 9000, 800,
                                                seed=4)
    valid, test = test[:, :300], test[:, 300:]
    ks = (3, 20, 50)
    got = evaluate_ranking(user_emb, item_emb, train, test, ks=ks,
                           exclude_edge_index=valid, chunk_size=6)
    ref = naive(user_emb, item_emb, train, test, ks, exclude=valid)
    for key in ref:
        assert got[key] == pytest.approx(ref[key], abs=1e-12), key
    # prebuilt indices give the same numbers
    again = evaluate_ranking(user_emb, item_emb, PositiveIndex(train, 25, 3000),
                             test, ks=ks, exclude_edge_index=[valid])
    for key in ref:
        assert again[key] == pytest.approx(got[key], abs=1e-12)


def test_matches_pyg_link_pred_metrics():
    user_emb, item_emb, train, test = make_case(40, 80, 900, 300, seed=5)
    ks = (5, 20)
    got = evaluate_ranking(user_emb, item_emb, train, test, ks=ks,
                           return_per_user=True)
    per_user = got['per_user']
    users, topk = per_user['user_index'], per_user['topk']
    assert (topk >= 0).all()
    # edge_label_index with row 0 = rows of the prediction matrix
    local = torch.full((40, ), -1, dtype=torch.long)
    local[users] = torch.arange(users.numel())
    label = torch.stack([local[test[0]], test[1]])
    for k in ks:
        for name, cls in [('recall', LinkPredRecall), ('ndcg', LinkPredNDCG),
                          ('precision', LinkPredPrecision),
                          ('hit', LinkPredHitRatio), ('mrr', LinkPredMRR)]:
            metric = cls(k)
            metric.update(topk[:, :k], label)
            assert got[f'{name}@{k}'] == pytest.approx(
                float(metric.compute()), abs=1e-6), (name, k)


def test_training_items_are_masked():
    # user 0's training items are the top scorers: the next ones are ranked
    item_emb = torch.tensor([[5.0], [4.0], [3.0], [2.0], [1.0]])
    user_emb = torch.tensor([[1.0], [1.0]])
    train = torch.tensor([[0, 0], [0, 1]])
    test = torch.tensor([[0, 0, 1], [0, 2, 1]])  # (0, 0) is masked
    out = evaluate_ranking(user_emb, item_emb, train, test, ks=(1, 2),
                           return_per_user=True)
    assert out['per_user']['topk'].tolist() == [[2, 3], [0, 1]]
    assert out['recall@1'] == pytest.approx((1 / 2 + 0) / 2)
    assert out['ndcg@2'] == pytest.approx(
        (1 / (1 + 1 / math.log2(3)) + (1 / math.log2(3))) / 2)
    assert out['mrr@2'] == pytest.approx((1.0 + 0.5) / 2)
    assert out['hit@1'] == pytest.approx(0.5)
    # the masked target counts in |T_u| but can never be hit
    assert out['per_user']['recall@2'].tolist() == [0.5, 1.0]


def test_users_without_targets_are_skipped():
    user_emb, item_emb, train, test = make_case(20, 30, 100, 40, seed=6)
    keep = test[0] < 5
    out = evaluate_ranking(user_emb, item_emb, train, test[:, keep],
                           ks=(10, ), return_per_user=True)
    assert out['num_users'] == test[0][keep].unique().numel()
    assert set(out['per_user']['user_index'].tolist()) == set(
        test[0][keep].tolist())
    ref = naive(user_emb, item_emb, train, test[:, keep], (10, ))
    assert out['recall@10'] == pytest.approx(ref['recall@10'])


def test_cosine_similarity():
    user_emb, item_emb, train, test = make_case(15, 40, 100, 60, seed=7)
    scale = torch.rand(40, 1, generator=torch.Generator().manual_seed(0))
    scaled = item_emb * (scale * 10 + 0.1)  # norms change the dot ranking
    dot = evaluate_ranking(user_emb, scaled, train, test, ks=(5, ))
    cos = evaluate_ranking(user_emb, scaled, train, test, ks=(5, ),
                           similarity='cosine')
    ref = naive(torch.nn.functional.normalize(user_emb),
                torch.nn.functional.normalize(scaled), train, test, (5, ))
    assert cos['ndcg@5'] == pytest.approx(ref['ndcg@5'])
    assert cos['ndcg@5'] != pytest.approx(dot['ndcg@5'])
    zero = evaluate_ranking(torch.zeros(15, 8), scaled, train, test,
                            ks=(5, ), similarity='cosine')
    assert all(math.isfinite(v) for v in zero.values())


def test_errors():
    user_emb, item_emb, train, test = make_case(10, 20, 30, 20)
    with pytest.raises(ValueError, match='similarity'):
        evaluate_ranking(user_emb, item_emb, train, test, ks=(5, ),
                         similarity='l2')
    with pytest.raises(ValueError, match='ks'):
        evaluate_ranking(user_emb, item_emb, train, test, ks=(0, 5))
    with pytest.raises(ValueError, match='ks'):
        evaluate_ranking(user_emb, item_emb, train, test, ks=(21, ))
    with pytest.raises(ValueError, match='target_edge_index'):
        evaluate_ranking(user_emb, item_emb, train,
                         torch.empty(2, 0, dtype=torch.long), ks=(5, ))
    with pytest.raises(ValueError, match='target_edge_index'):
        evaluate_ranking(user_emb, item_emb, train, torch.tensor([[0], [20]]),
                         ks=(5, ))
    with pytest.raises(ValueError, match='train_edge_index'):
        evaluate_ranking(user_emb, item_emb, torch.tensor([[10], [0]]), test,
                         ks=(5, ))
