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
    # The layers hold the cache (the first one for the fused layers).
    cache = model.convs[0]._cache
    assert cache.hits >= 1
    model.reset_parameters()
    assert all(conv._cache.value is None for conv in model.convs)


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
    # Copies start with an empty cache.
    assert all(conv._cache.value is None for conv in clone.convs)
    assert torch.allclose(clone.get_embedding(edge_index)[0], expected)
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert torch.allclose(loaded.get_embedding(edge_index)[0], expected)


def test_model_is_made_of_cached_bipartite_conv_layers():
    from pyg_simce.nn.conv import BipartiteConv, UserItemAdjacency

    edge_index, U, I = graph()
    model = LightGCN(U, I, 4, num_layers=3, alpha0=1.0, alpha1=0.0)
    assert isinstance(model.convs, torch.nn.ModuleList)
    assert len(model.convs) == 3
    for conv in model.convs:
        assert type(conv) is BipartiteConv and conv.cached
        assert (conv.alpha0, conv.alpha1) == (1.0, 0.0)
    assert len(LightGCN(U, I, 4, num_layers=0).convs) == 0
    # The fused path runs on the first layer's cached block adjacency.
    model.get_embedding(edge_index)
    assert isinstance(model.convs[0]._cache.value, UserItemAdjacency)
    assert model.convs[1]._cache.value is None


class LGConvLayer(torch.nn.Module):
    # A user's own layer: PyG's LGConv, called as conv(x, edge_index).
    def __init__(self):
        super().__init__()
        from torch_geometric.nn import LGConv
        self.conv = LGConv()
        self.calls = 0

    def forward(self, x, edge_index):
        self.calls += 1
        return self.conv(x, edge_index)


@pytest.mark.parametrize('replacement', ['lgconv', 'uncached', 'hook'])
@pytest.mark.parametrize('num_layers', [1, 3])
def test_replaced_layers_are_called_one_by_one(replacement, num_layers):
    from pyg_simce.nn.conv import BipartiteConv

    edge_index, U, I = graph()
    torch.manual_seed(2)
    model = LightGCN(U, I, 4, num_layers=num_layers,
                     layer_weights=torch.rand(num_layers + 1)).double()
    calls = []
    if replacement == 'lgconv':
        model.convs[-1] = LGConvLayer()
    elif replacement == 'uncached':
        model.convs[0] = BipartiteConv(0.5, 0.5)
    else:
        model.convs[0].register_forward_hook(
            lambda module, args, out: calls.append(out.shape))
    params = [model.user_embedding.weight, model.item_embedding.weight]
    user_index = torch.tensor([0, 5, 3, 3])
    item_index = torch.tensor([6, 1, 1, 0, 4])
    for rows in (False, True):
        exp_user, exp_item = dense_lightgcn(
            model, dense_A(edge_index, U, I, 0.5, 0.5))
        if rows:
            got = model.get_embedding_rows(edge_index, user_index,
                                           item_index)
            expected = (exp_user[user_index], exp_item[item_index])
        else:
            got, expected = model.get_embedding(edge_index), (exp_user,
                                                              exp_item)
        for a, b in zip(got, expected):
            assert torch.allclose(a, b)
        w = [torch.randn_like(a) for a in got]
        g1 = torch.autograd.grad(sum((a * c).sum() for a, c in zip(got, w)),
                                 params)
        g2 = torch.autograd.grad(
            sum((b * c).sum() for b, c in zip(expected, w)), params)
        for a, b in zip(g1, g2):
            assert torch.allclose(a, b)
    if replacement == 'lgconv':
        assert model.convs[-1].calls == 2
    if replacement == 'hook':
        assert len(calls) == 2 and calls[0] == (U + I, 4)


def test_layers_define_the_fused_propagation():
    from pyg_simce.nn.conv import BipartiteConv

    edge_index, U, I = graph()
    model = LightGCN(U, I, 4, num_layers=2).double()
    for k in range(2):  # all layers replaced alike: still fused
        model.convs[k] = BipartiteConv(1.0, 0.0, cached=True)
    got = model.get_embedding(edge_index)
    expected = dense_lightgcn(model, dense_A(edge_index, U, I, 1.0, 0.0))
    assert torch.allclose(got[0], expected[0])
    assert model.convs[0]._cache.value is not None
    model.convs.append(BipartiteConv(cached=True))
    with pytest.raises(ValueError, match="'convs' expected 2 layers"):
        model.get_embedding(edge_index)


@pytest.mark.parametrize('num_layers', [0, 1, 3])
def test_state_dict_of_earlier_versions_loads_strictly(num_layers):
    edge_index, U, I = graph()
    model = LightGCN(U, I, 4, num_layers=num_layers)
    # The keys a checkpoint of the earlier model (no layer modules) has.
    old = {
        'user_embedding.weight': torch.randn(U, 4),
        'item_embedding.weight': torch.randn(I, 4),
        'layer_weights': torch.rand(num_layers + 1),
    }
    assert set(model.state_dict()) == set(old)
    model.load_state_dict(old, strict=True)
    assert torch.equal(model.layer_weights, old['layer_weights'])
    expected = dense_lightgcn(model.double(),
                              dense_A(edge_index, U, I, 0.5, 0.5))
    assert torch.allclose(model.get_embedding(edge_index)[0], expected[0])
