import pytest
import torch

import pyg_simce
from pyg_simce.data import to_raw_ids
from pyg_simce.nn.models import MF, SVDPP, LightGCN, RecommenderBase


def random_graph(U, I, E, seed):
    gen = torch.Generator().manual_seed(seed)
    edge_index = torch.stack([torch.randint(0, U, (E, ), generator=gen),
                              torch.randint(0, I, (E, ), generator=gen)])
    return torch.unique(edge_index, dim=1)


def dense_topk(model, edge_index, users, k, exclude):
    # Independent reference: dense scores, excluded pairs removed, argsort.
    user_out, item_out = model.get_embedding(edge_index)
    scores = (user_out @ item_out.t()).double()
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


MODELS = [
    lambda U, I: MF(U, I, embedding_dim=8),
    lambda U, I: LightGCN(U, I, embedding_dim=8, num_layers=2,
                          layer_weights=[0.5, 0.3, 0.2]),
    lambda U, I: LightGCN(U, I, embedding_dim=8, num_layers=1, alpha0=1.0,
                          alpha1=0.0),
    lambda U, I: SVDPP(U, I, embedding_dim=8, side='user'),
    lambda U, I: SVDPP(U, I, embedding_dim=8, side='item', alpha0=0.5,
                       alpha1=0.5),
]


@pytest.mark.parametrize('make', MODELS)
def test_round_trip_gives_identical_recommendations(tmp_path, make):
    torch.manual_seed(0)
    U, I = 9, 14
    edge_index = random_graph(U, I, 40, seed=1)
    model = make(U, I)
    user_raw = torch.arange(U) * 10 + 7
    item_raw = [f'item-{i:02d}' for i in range(I)]
    path = model.save(tmp_path / 'model.pt', edge_index,
                      user_raw_id=user_raw, item_raw_id=item_raw)
    assert path == tmp_path / 'model.pt'
    # The file loads with weights_only=True as it is.
    raw = torch.load(path, weights_only=True)
    assert raw['format'] == 'pyg_simce.model' and raw['version'] == 1
    assert raw['class'] == type(model).__name__

    for loaded in (type(model).load(path), RecommenderBase.load(path),
                   pyg_simce.load(path)):
        assert type(loaded) is type(model)
        assert repr(loaded) == repr(model)
        assert not loaded.training
        for key, value in model.state_dict().items():
            assert torch.equal(loaded.state_dict()[key], value), key
        assert torch.equal(loaded.train_edge_index, edge_index)
        assert torch.equal(loaded.user_raw_id, user_raw)
        assert loaded.item_raw_id == item_raw

        users = torch.tensor([0, 3, 8, 5])
        want = model.recommend(edge_index, src_index=users, k=6,
                               exclude_edge_index=edge_index,
                               return_scores=True)
        # The loaded model propagates over and excludes its own graph.
        got = loaded.recommend(src_index=users, k=6, exclude_seen=True,
                               return_scores=True)
        assert torch.equal(got[0], want[0])
        assert torch.equal(got[1], want[1])
        ref_ids, ref_vals = dense_topk(model, edge_index, users, 6,
                                       [edge_index])
        assert torch.equal(got[0], ref_ids)
        assert torch.allclose(got[1].double(), ref_vals, atol=1e-6)


def test_return_scores_padding_and_raw_id_helper():
    torch.manual_seed(0)
    U, I = 3, 5
    edge_index = torch.tensor([[0, 0, 0, 0, 1], [0, 1, 2, 3, 4]])
    model = LightGCN(U, I, embedding_dim=4, num_layers=1)
    ids, scores = model.recommend(edge_index, k=3, exclude_seen=True,
                                  return_scores=True)
    # User 0 has one admissible item (4): two padded slots.
    assert ids[0, 0].item() == 4 and ids[0, 1:].tolist() == [-1, -1]
    assert torch.isinf(scores[0, 1:]).all() and (scores[0, 1:] < 0).all()
    assert torch.isfinite(scores[1:]).all() and (ids[1:] >= 0).all()
    # Scores are the model's dot products, sorted.
    user_out, item_out = model.get_embedding(edge_index)
    dense = user_out @ item_out.t()
    assert torch.allclose(scores[1:], dense[1:].gather(1, ids[1:]))
    assert (scores[:, :-1] >= scores[:, 1:]).all()
    raw = torch.tensor([100, 101, 102, 103, 104])
    assert to_raw_ids(raw, ids[0, :1]) == [104]
    with pytest.raises(ValueError, match=r"'index' expected node ids in "
                       r"\[0, 5\) \(got -1 \(-1 marks an empty "
                       r"recommendation slot, not an item\)\)"):
        to_raw_ids(raw, ids[0])
    # Without return_scores the result is the same ids tensor as before.
    assert torch.equal(model.recommend(edge_index, k=3,
                                       exclude_edge_index=edge_index), ids)


def test_exclude_list_of_edge_tensors_and_exclude_seen():
    torch.manual_seed(0)
    U, I = 6, 10
    train = random_graph(U, I, 20, seed=2)
    val = random_graph(U, I, 8, seed=3)
    model = SVDPP(U, I, embedding_dim=4)
    users = torch.arange(U)
    both = torch.cat([train, val], dim=1)
    want = model.recommend(train, k=4, exclude_edge_index=both,
                           return_scores=True)
    for got in (model.recommend(train, k=4, exclude_edge_index=[train, val],
                                return_scores=True),
                model.recommend(train, k=4, exclude_edge_index=(val, ),
                                exclude_seen=True, return_scores=True)):
        assert torch.equal(got[0], want[0])
        assert torch.equal(got[1], want[1])
    ref_ids, _ = dense_topk(model, train, users, 4, [train, val])
    assert torch.equal(want[0], ref_ids)


def test_recommend_and_save_errors(tmp_path):
    model = LightGCN(4, 5, embedding_dim=4, num_layers=1)
    with pytest.raises(ValueError, match="'exclude_seen' expected the "
                       "training edges"):
        model.recommend(k=2, exclude_seen=True)
    with pytest.raises(ValueError, match=r"'exclude_edge_index\[1\]' "):
        model.recommend(torch.tensor([[0], [0]]), k=2, exclude_edge_index=[
            torch.tensor([[0], [0]]), torch.tensor([[9], [0]])])
    with pytest.raises(ValueError, match=r"'train_data' expected the "
                       r"training edges \(LightGCN propagates over them; "
                       r"got None\)"):
        model.save(tmp_path / 'm.pt')
    with pytest.raises(ValueError, match="expected an existing parent "
                       "directory"):
        model.save(tmp_path / 'missing' / 'm.pt', torch.tensor([[0], [0]]))
    with pytest.raises(ValueError, match="expected a file path"):
        model.save(tmp_path, torch.tensor([[0], [0]]))
    with pytest.raises(ValueError, match="'item_raw_id' expected one raw id "
                       "per node, 5"):
        model.save(tmp_path / 'm.pt', torch.tensor([[0], [0]]),
                   item_raw_id=['a'])
    assert not (tmp_path / 'm.pt').exists()

    class Custom(MF):
        pass

    with pytest.raises(ValueError, match="save\\(\\) expected a model of one "
                       "of MF, LightGCN"):
        Custom(2, 2).save(tmp_path / 'c.pt')
    # MF needs no graph; a file of one class refuses to load as another.
    MF(4, 5).save(tmp_path / 'mf.pt')
    assert MF.load(tmp_path / 'mf.pt').train_edge_index is None
    with pytest.raises(ValueError, match=r"model file '.*mf\.pt' holds a MF "
                       r"\(expected a LightGCN\)"):
        LightGCN.load(tmp_path / 'mf.pt')


def test_save_from_hetero_data_keeps_raw_ids(tmp_path):
    from pyg_simce.data import build_hetero_data
    data = build_hetero_data(['bob', 'amy', 'bob', 'cat'],
                             [30, 10, 20, 30])
    model = LightGCN(3, 3, embedding_dim=4, num_layers=1)
    model.save(tmp_path / 'm.pt', data)
    loaded = pyg_simce.load(tmp_path / 'm.pt')
    assert loaded.user_raw_id == ['amy', 'bob', 'cat']
    assert loaded.item_raw_id.tolist() == [10, 20, 30]
    edge_index = data['user', 'rates', 'item'].edge_index
    assert torch.equal(loaded.train_edge_index, edge_index)
    ids = loaded.recommend(k=2, exclude_seen=True)
    # 'amy' (user 0) rated item 10: never recommended back to her.
    assert 10 not in to_raw_ids(loaded.item_raw_id, ids[0][ids[0] >= 0])
