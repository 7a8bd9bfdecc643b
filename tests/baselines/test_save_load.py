import pytest
import torch

import pyg_simce
from pyg_simce.baselines import EASE, GFCF, IALS, BaselineRecommender, \
    ItemKNN, MostPopular
from pyg_simce.data import to_raw_ids

pytest.importorskip('scipy')

BASELINES = [
    ('gfcf', lambda: GFCF(rank=4)),
    ('gfcf-randomized', lambda: GFCF(rank=3, svd='randomized', alpha=0.5)),
    ('gfcf-linear', lambda: GFCF(alpha=0.0)),
    ('ease', lambda: EASE(lambda_=5.0)),
    ('ials', lambda: IALS(factors=4, iterations=3, num_threads=1)),
    ('itemknn', lambda: ItemKNN(k=3)),
    ('mostpop', lambda: MostPopular()),
]


def dense_topk(model, users, k, exclude):
    # Independent reference: score() of every user, excluded pairs removed,
    # a dense stable argsort.
    scores = model.score(torch.arange(model.num_users)).double()
    ids, vals = [], []
    for u in users.tolist():
        row = scores[u].clone()
        for ex in exclude:
            row[ex[1, ex[0] == u]] = float('-inf')
        order = torch.argsort(row, descending=True, stable=True)[:k]
        top = row[order]
        order[top == float('-inf')] = -1
        ids.append(order)
        vals.append(top)
    return torch.stack(ids), torch.stack(vals)


@pytest.mark.parametrize('name,make', BASELINES)
def test_round_trip_gives_identical_recommendations(tmp_path, graph_factory,
                                                     name, make):
    if name == 'ials':
        pytest.importorskip('implicit')
    data, _ = graph_factory(num_users=12, num_items=9, seed=3)
    data['user'].raw_id = torch.arange(12) + 1000
    data['item'].raw_id = [f'i{i}' for i in range(9)]
    train = data['user', 'rates', 'item'].edge_index
    model = make().fit(data)
    path = model.save(tmp_path / f'{name}.pt')
    assert torch.load(path, weights_only=True)['class'] == \
        type(model).__name__
    for loaded in (type(model).load(path), BaselineRecommender.load(path),
                   pyg_simce.load(path)):
        assert type(loaded) is type(model)
        assert repr(loaded) == repr(model)
        assert loaded.fit_seconds == model.fit_seconds
        assert torch.equal(loaded.train_edge_index, model.train_edge_index)
        assert loaded.user_raw_id.tolist() == list(range(1000, 1012))
        assert loaded.item_raw_id == [f'i{i}' for i in range(9)]
        users = torch.tensor([0, 5, 11, 2])
        want = model.recommend(train, src_index=users, k=9,
                               exclude_edge_index=train, return_scores=True)
        got = loaded.recommend(src_index=users, k=9, exclude_seen=True,
                               return_scores=True)
        assert torch.equal(got[0], want[0])
        assert torch.equal(got[1], want[1])
        assert torch.equal(loaded.score(torch.arange(12)),
                           model.score(torch.arange(12)))
    # k = num_items with the training items excluded: every user is padded
    # with -1 / -inf, as the dense reference.
    # (Equal scores may come in any order: compare scores, and the
    # scores of the returned ids.)
    ref_ids, ref_vals = dense_topk(model, users, 9, [train])
    pad = got[0] == -1
    assert torch.equal(pad, ref_ids == -1) and pad.any()
    assert torch.allclose(got[1].double(), ref_vals)
    dense = model.score(users).double()
    assert torch.equal(dense.gather(1, got[0].clamp(min=0))[~pad],
                       got[1].double()[~pad])
    seen = torch.zeros(12, 9, dtype=torch.bool)
    seen[train[0], train[1]] = True
    assert not seen[users.view(-1, 1), got[0].clamp(min=0)][~pad].any()
    assert torch.isinf(got[1][pad]).all() and (got[1][pad] < 0).all()
    assert torch.isfinite(got[1][~pad]).all()
    with pytest.raises(ValueError, match="expected node ids in"):
        to_raw_ids(loaded.item_raw_id, got[0])


def test_recommend_defaults_and_exclusion_lists(graph_factory):
    data, _ = graph_factory(num_users=10, num_items=8, seed=4)
    train = data['user', 'rates', 'item'].edge_index
    extra = torch.tensor([[0, 1, 2], [7, 6, 5]])
    model = EASE(lambda_=2.0).fit(data)
    want = model.recommend(train, k=5,
                           exclude_edge_index=torch.cat([train, extra], 1))
    assert torch.equal(model.recommend(k=5, exclude_edge_index=[train, extra]),
                       want)
    assert torch.equal(model.recommend(k=5, exclude_edge_index=(extra, ),
                                       exclude_seen=True), want)
    ids, scores = model.recommend(k=5, exclude_seen=True, return_scores=True)
    assert torch.equal(ids, model.recommend(train, k=5,
                                            exclude_edge_index=train))
    dense = model.score(torch.arange(10))
    valid = ids >= 0
    assert torch.equal(scores[valid], dense.gather(1, ids.clamp(min=0))[valid])


def test_save_errors(tmp_path):
    with pytest.raises(RuntimeError, match="'EASE' expected a call to fit"):
        EASE().save(tmp_path / 'e.pt')
