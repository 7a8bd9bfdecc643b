import itertools

import pytest
import torch

from pyg_simce.nn.conv import BipartiteConv
from pyg_simce.nn.models import SVDPP

ALPHAS = list(itertools.product([0.0, 0.5, 1.0], repeat=2))


def inv_pow(deg, alpha):
    out = deg.pow(-alpha)
    out[deg == 0] = 0
    return out


def graph():
    # 5 users (user 4 isolated), 6 items (item 5 isolated).
    edge_index = torch.tensor([[0, 0, 0, 1, 1, 2, 3, 3, 3, 3],
                               [0, 1, 2, 1, 3, 0, 0, 1, 2, 4]])
    return edge_index, 5, 6


def dense_svdpp(model, edge_index):
    U, I = model.num_users, model.num_items
    R = torch.zeros(U, I, dtype=torch.float64)
    R[edge_index[0], edge_index[1]] = 1.0
    du, di = R.sum(1), R.sum(0)
    a0, a1 = model.alpha0, model.alpha1
    p0, q0 = model.user_embedding.weight, model.item_embedding.weight
    if model.side == 'user':  # eq. (23)
        M = inv_pow(du, a0)[:, None] * R * inv_pow(di, a1)[None, :]
        return p0 + M @ q0, q0
    N = inv_pow(di, a0)[:, None] * R.t() * inv_pow(du, a1)[None, :]
    return p0, q0 + N @ p0  # eq. (31)


@pytest.mark.parametrize('side', ['user', 'item'])
@pytest.mark.parametrize('alpha0,alpha1', ALPHAS)
def test_equals_dense_formula_outputs_and_gradients(side, alpha0, alpha1):
    edge_index, U, I = graph()
    torch.manual_seed(0)
    model = SVDPP(U, I, 4, side=side, alpha0=alpha0, alpha1=alpha1).double()
    got = model.get_embedding(edge_index)
    expected = dense_svdpp(model, edge_index)
    for a, b in zip(got, expected):
        assert torch.allclose(a, b)
        assert torch.isfinite(a).all()
    params = [model.user_embedding.weight, model.item_embedding.weight]
    w = [torch.randn(U, 4, dtype=torch.float64),
         torch.randn(I, 4, dtype=torch.float64)]
    g1 = torch.autograd.grad(sum((a * b).sum() for a, b in zip(got, w)),
                             params)
    g2 = torch.autograd.grad(sum((a * b).sum() for a, b in zip(expected, w)),
                             params)
    for a, b in zip(g1, g2):
        assert torch.allclose(a, b)


@pytest.mark.parametrize('side', ['user', 'item'])
def test_equals_residual_bipartite_conv(side):
    edge_index, U, I = graph()
    model = SVDPP(U, I, 4, side=side, alpha0=0.5, alpha1=0.5)
    p0, q0 = model.user_embedding.weight, model.item_embedding.weight
    conv = BipartiteConv(0.5, 0.5)
    user_out, item_out = model.get_embedding(edge_index)
    if side == 'user':
        expected = p0 + conv((q0, p0), edge_index.flip(0))
        assert torch.allclose(user_out, expected, atol=1e-6)
        assert torch.equal(item_out, q0)
    else:
        expected = q0 + conv((p0, q0), edge_index)
        assert torch.allclose(item_out, expected, atol=1e-6)
        assert torch.equal(user_out, p0)


def test_defaults_and_repr():
    model = SVDPP(3, 4)
    assert (model.side, model.alpha0, model.alpha1) == ('user', 1.0, 0.0)
    assert model.embedding_dim == 64
    assert repr(model) == ("SVDPP(3, 4, embedding_dim=64, side='user', "
                           "alpha0=1.0, alpha1=0.0)")


def test_cache_rebuilt_for_another_graph():
    edge_index, U, I = graph()
    model = SVDPP(U, I, 4, side='item').double()
    model.get_embedding(edge_index)
    other = edge_index[:, :5]
    got = model.get_embedding(other)
    expected = dense_svdpp(model, other)
    assert torch.allclose(got[1], expected[1])


@pytest.mark.parametrize('kwargs,match', [
    ({'side': 'both'}, 'side'),
    ({'alpha0': float('inf')}, 'alpha0'),
    ({'alpha1': '0'}, 'alpha1'),
    ({'num_users': 0}, 'num_users'),
    ({'num_items': 2.0}, 'num_items'),
])
def test_invalid_arguments(kwargs, match):
    args = dict(num_users=3, num_items=4)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        SVDPP(**args)


def test_invalid_edge_index():
    model = SVDPP(3, 4)
    with pytest.raises(ValueError, match="'edge_index' row 1"):
        model.get_embedding(torch.tensor([[0, 1], [0, 4]]))


def test_model_is_made_of_one_cached_bipartite_conv():
    model = SVDPP(3, 4, 2, side='item', alpha0=0.5, alpha1=0.0)
    assert type(model.conv) is BipartiteConv and model.conv.cached
    assert (model.conv.alpha0, model.conv.alpha1) == (0.5, 0.0)
    old = {'user_embedding.weight': torch.randn(3, 2),
           'item_embedding.weight': torch.randn(4, 2)}
    assert set(model.state_dict()) == set(old)
    model.load_state_dict(old, strict=True)  # earlier checkpoints load


class PlainLayer(torch.nn.Module):
    # A layer without dst_index: the model propagates all rows and indexes.
    def __init__(self, alpha0, alpha1):
        super().__init__()
        self.conv = BipartiteConv(alpha0, alpha1)

    def forward(self, x, edge_index, size=None):
        return self.conv(x, edge_index, size=size)


@pytest.mark.parametrize('side', ['user', 'item'])
def test_replaced_layer_gives_the_same_rows(side):
    edge_index, U, I = graph()
    torch.manual_seed(1)
    model = SVDPP(U, I, 4, side=side, alpha0=1.0, alpha1=0.5).double()
    user_index, item_index = torch.tensor([4, 0, 0, 3]), torch.tensor([5, 1])
    params = [model.user_embedding.weight, model.item_embedding.weight]
    for layer in (None, PlainLayer(1.0, 0.5)):
        if layer is not None:
            model.conv = layer
        expected = dense_svdpp(model, edge_index)
        expected = (expected[0][user_index], expected[1][item_index])
        got = model.get_embedding_rows(edge_index, user_index, item_index)
        for a, b in zip(got, expected):
            assert torch.allclose(a, b)
        g1 = torch.autograd.grad(sum(a.square().sum() for a in got), params)
        g2 = torch.autograd.grad(sum(b.square().sum() for b in expected),
                                 params)
        for a, b in zip(g1, g2):
            assert torch.allclose(a, b)
