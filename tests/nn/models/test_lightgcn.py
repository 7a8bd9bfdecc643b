import itertools

import pytest
import torch
from torch_geometric.nn.models import LightGCN as PyGLightGCN

from pyg_simce.nn.models import MF, LightGCN

ALPHAS = list(itertools.product([0.0, 0.5, 1.0], repeat=2))


def inv_pow(deg, alpha):
    out = deg.pow(-alpha)
    out[deg == 0] = 0
    return out


def graph():
    # 6 users (user 5 isolated), 7 items (items 5 and 6 isolated).
    edge_index = torch.tensor([[0, 0, 0, 1, 1, 2, 3, 3, 3, 3, 4],
                               [0, 1, 2, 1, 3, 0, 0, 1, 2, 4, 4]])
    return edge_index, 6, 7


def dense_A(edge_index, U, I, alpha0, alpha1):
    R = torch.zeros(U, I, dtype=torch.float64)
    R[edge_index[0], edge_index[1]] = 1.0
    du, di = R.sum(1), R.sum(0)
    A = torch.zeros(U + I, U + I, dtype=torch.float64)
    A[:U, U:] = inv_pow(du, alpha0)[:, None] * R * inv_pow(di, alpha1)
    A[U:, :U] = inv_pow(di, alpha0)[:, None] * R.t() * inv_pow(du, alpha1)
    return A


def dense_lightgcn(model, A):
    x = torch.cat([model.user_embedding.weight,
                   model.item_embedding.weight]).double()
    weights = model.layer_weights.tolist()
    out, h = weights[0] * x, x
    for w in weights[1:]:
        h = A @ h
        out = out + w * h
    return out[:model.num_users], out[model.num_users:]


@pytest.mark.parametrize('num_layers', [1, 2, 3])
def test_equals_pyg_lightgcn_get_embedding(num_layers):
    edge_index, U, I = graph()
    torch.manual_seed(num_layers)
    ours = LightGCN(U, I, embedding_dim=8, num_layers=num_layers)
    pyg = PyGLightGCN(U + I, 8, num_layers)
    with torch.no_grad():
        pyg.embedding.weight.copy_(
            torch.cat([ours.user_embedding.weight,
                       ours.item_embedding.weight]))
    homo = torch.cat([
        torch.stack([edge_index[0], edge_index[1] + U]),
        torch.stack([edge_index[1] + U, edge_index[0]])
    ], dim=1)
    expected = pyg.get_embedding(homo)
    user_out, item_out = ours.get_embedding(edge_index)
    assert torch.allclose(user_out, expected[:U], atol=1e-5)
    assert torch.allclose(item_out, expected[U:], atol=1e-5)
    # Isolated nodes keep a/(K+1) of their layer-0 embedding.
    assert torch.allclose(user_out[5],
                          ours.user_embedding.weight[5] / (num_layers + 1))

    # Gradients of a loss through both models agree as well.
    label = torch.tensor([[0, 1, 3, 4], [2, 3, 4, 6]])
    ours(edge_index, label).square().sum().backward()
    pyg(homo, torch.stack([label[0], label[1] + U])).square().sum().backward()
    ours_grad = torch.cat(
        [ours.user_embedding.weight.grad, ours.item_embedding.weight.grad])
    assert torch.allclose(ours_grad, pyg.embedding.weight.grad, atol=1e-5)


@pytest.mark.parametrize('alpha0,alpha1', ALPHAS)
def test_equals_dense_formula_for_every_alpha(alpha0, alpha1):
    edge_index, U, I = graph()
    torch.manual_seed(0)
    model = LightGCN(U, I, 4, num_layers=2, alpha0=alpha0, alpha1=alpha1,
                     layer_weights=[0.5, 0.3, 0.2]).double()
    user_out, item_out = model.get_embedding(edge_index)
    exp_user, exp_item = dense_lightgcn(model,
                                        dense_A(edge_index, U, I, alpha0,
                                                alpha1))
    assert torch.allclose(user_out, exp_user)
    assert torch.allclose(item_out, exp_item)
    assert torch.isfinite(user_out).all() and torch.isfinite(item_out).all()

    # Gradients equal those of the dense formula.
    w_u = torch.randn(U, 4, dtype=torch.float64)
    w_i = torch.randn(I, 4, dtype=torch.float64)
    loss = (user_out * w_u).sum() + (item_out * w_i).sum()
    grads = torch.autograd.grad(
        loss, [model.user_embedding.weight, model.item_embedding.weight])
    loss_dense = (exp_user * w_u).sum() + (exp_item * w_i).sum()
    grads_dense = torch.autograd.grad(
        loss_dense, [model.user_embedding.weight, model.item_embedding.weight])
    for a, b in zip(grads, grads_dense):
        assert torch.allclose(a, b)


def test_forward_scores_are_dot_products_of_get_embedding():
    edge_index, U, I = graph()
    model = LightGCN(U, I, 8, num_layers=2)
    label = torch.tensor([[0, 5, 2, 2], [6, 0, 1, 1]])
    user_out, item_out = model.get_embedding(edge_index)
    expected = (user_out[label[0]] * item_out[label[1]]).sum(-1)
    assert torch.allclose(model(edge_index, label), expected, atol=1e-6)


def test_zero_layers_is_mf():
    edge_index, U, I = graph()
    lightgcn = LightGCN(U, I, 8, num_layers=0)
    mf = MF(U, I, 8)
    mf.load_state_dict(lightgcn.state_dict(), strict=False)
    for a, b in zip(lightgcn.get_embedding(edge_index),
                    mf.get_embedding(edge_index)):
        assert torch.equal(a, b)
    label = torch.tensor([[0, 1], [2, 3]])
    assert torch.allclose(lightgcn(edge_index, label), mf(edge_index, label))


def test_default_layer_weights_are_uniform_and_stored():
    model = LightGCN(3, 4, 2, num_layers=3)
    assert torch.allclose(model.layer_weights, torch.full((4, ), 0.25))
    assert 'layer_weights' in model.state_dict()
    assert repr(model) == ('LightGCN(3, 4, embedding_dim=2, num_layers=3, '
                           'alpha0=0.5, alpha1=0.5)')


def test_cache_invalidation_with_another_graph():
    edge_index, U, I = graph()
    model = LightGCN(U, I, 4, num_layers=2).double()
    model.get_embedding(edge_index)
    other = edge_index.clone()
    other[1, 0] = 6  # same shape, different graph
    got = model.get_embedding(other)
    expected = dense_lightgcn(model, dense_A(other, U, I, 0.5, 0.5))
    assert torch.allclose(got[0], expected[0])
    assert torch.allclose(got[1], expected[1])
    # In-place modification of the cached tensor is detected.
    other[1, 0] = 5
    got = model.get_embedding(other)
    expected = dense_lightgcn(model, dense_A(other, U, I, 0.5, 0.5))
    assert torch.allclose(got[1], expected[1])
    model.get_embedding(other)
    assert model._cache.hits >= 1
    model.reset_parameters()
    assert model._cache.value is None


@pytest.mark.parametrize('kwargs,match', [
    ({'num_layers': -1}, 'num_layers'),
    ({'num_layers': 1.5}, 'num_layers'),
    ({'layer_weights': [1.0, 2.0]}, 'layer_weights'),
    ({'layer_weights': [1.0, 2.0, float('inf'), 1.0]}, 'layer_weights'),
    ({'layer_weights': 'abc'}, 'layer_weights'),
    ({'alpha0': None}, 'alpha0'),
    ({'alpha1': float('nan')}, 'alpha1'),
    ({'embedding_dim': 0}, 'embedding_dim'),
])
def test_invalid_arguments(kwargs, match):
    args = dict(num_users=3, num_items=4)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        LightGCN(**args)


def test_invalid_edge_index():
    edge_index, U, I = graph()
    model = LightGCN(U, I, 4)
    with pytest.raises(ValueError, match=r"'edge_index' row 0 .*\[0, 6\)"):
        model.get_embedding(torch.tensor([[6], [0]]))
    with pytest.raises(ValueError, match=r"'edge_index' row 1 .*\[0, 7\)"):
        model.get_embedding(torch.tensor([[0], [7]]))
    with pytest.raises(ValueError, match="'edge_index' expected shape"):
        model.get_embedding(edge_index.t())
    with pytest.raises(ValueError, match="'edge_index' expected an integer"):
        model.get_embedding(edge_index.float())
    with pytest.raises(ValueError, match="'edge_label_index'"):
        model(edge_index, torch.tensor([[0], [9]]))


@pytest.mark.parametrize('alpha0,alpha1', [(0.5, 0.5), (1.0, 0.0)])
@pytest.mark.parametrize('num_layers', [0, 1, 3])
def test_forward_rows_path_gradients_equal_dense(alpha0, alpha1, num_layers):
    edge_index, U, I = graph()
    torch.manual_seed(1)
    model = LightGCN(U, I, 4, num_layers=num_layers, alpha0=alpha0,
                     alpha1=alpha1).double()
    label = torch.tensor([[0, 5, 2, 2, 3], [6, 0, 1, 1, 4]])
    scores = model(edge_index, label)
    exp_user, exp_item = dense_lightgcn(
        model, dense_A(edge_index, U, I, alpha0, alpha1))
    expected = (exp_user[label[0]] * exp_item[label[1]]).sum(-1)
    assert torch.allclose(scores, expected)
    params = [model.user_embedding.weight, model.item_embedding.weight]
    w = torch.randn(5, dtype=torch.float64)
    for a, b in zip(torch.autograd.grad((scores * w).sum(), params),
                    torch.autograd.grad((expected * w).sum(), params)):
        assert torch.allclose(a, b)


def test_deepcopy_and_pickle_with_a_filled_cache():
    import copy
    import io

    edge_index, U, I = graph()
    model = LightGCN(U, I, 4, num_layers=2)
    expected = model.get_embedding(edge_index)[0]
    clone = copy.deepcopy(model)
    assert clone._cache.value is None  # copies start with an empty cache
    assert torch.allclose(clone.get_embedding(edge_index)[0], expected)
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert torch.allclose(loaded.get_embedding(edge_index)[0], expected)
