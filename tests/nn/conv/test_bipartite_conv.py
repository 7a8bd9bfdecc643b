import itertools

import pytest
import torch
from torch_geometric.nn import LGConv

from pyg_simce.nn.conv import BipartiteConv
from pyg_simce.testing import with_package

ALPHAS = list(itertools.product([0.0, 0.5, 1.0], repeat=2))


def inv_pow(deg, alpha):
    out = deg.pow(-alpha)
    out[deg == 0] = 0
    return out


def graph():
    # 5 sources (source 4 isolated) -> 4 targets (target 3 isolated).
    edge_index = torch.tensor([[0, 0, 1, 1, 2, 3, 3, 3],
                               [0, 1, 0, 2, 2, 0, 1, 2]])
    return edge_index, 5, 4


def dense(edge_index, n_src, n_dst, alpha0, alpha1):
    A = torch.zeros(n_dst, n_src, dtype=torch.float64)
    A[edge_index[1], edge_index[0]] = 1.0
    return (inv_pow(A.sum(1), alpha0)[:, None] * A *
            inv_pow(A.sum(0), alpha1)[None, :])


def sparse_inputs(edge_index, n_src, n_dst):
    coo = torch.sparse_coo_tensor(edge_index.flip(0),
                                  torch.ones(edge_index.size(1)),
                                  (n_dst, n_src))
    return {'coo': coo, 'csr': coo.to_sparse_csr()}


def run(conv, x_src, graph_input, size):
    out = conv((x_src, None), graph_input, size=size)
    grad_out = torch.linspace(-1, 1, out.numel(),
                              dtype=out.dtype).view_as(out)
    grad, = torch.autograd.grad(out, x_src, grad_out)
    return out, grad, grad_out


@pytest.mark.parametrize('alpha0,alpha1', ALPHAS)
def test_all_paths_equal_dense_formula_outputs_and_gradients(alpha0, alpha1):
    edge_index, n_src, n_dst = graph()
    D = dense(edge_index, n_src, n_dst, alpha0, alpha1)
    x = torch.randn(n_src, 3, dtype=torch.float64, requires_grad=True)
    inputs = {'edge_index': (False, edge_index), 'cached': (True, edge_index)}
    for name, sp in sparse_inputs(edge_index, n_src, n_dst).items():
        inputs[name] = (False, sp)
        inputs[name + '_cached'] = (True, sp)
    for name, (cached, graph_input) in inputs.items():
        conv = BipartiteConv(alpha0, alpha1, cached=cached)
        out, grad, grad_out = run(conv, x, graph_input, (n_src, n_dst))
        assert out.shape == (n_dst, 3), name
        assert torch.allclose(out, D @ x), name
        assert torch.allclose(grad, D.t() @ grad_out), name
        assert torch.isfinite(out).all(), name
        assert (out[3] == 0).all(), name  # isolated target receives zero


@with_package('torch_sparse')
def test_torch_sparse_path_agrees():  # pragma: no cover - optional package
    from torch_sparse import SparseTensor

    edge_index, n_src, n_dst = graph()
    adj_t = SparseTensor(row=edge_index[1], col=edge_index[0],
                         sparse_sizes=(n_dst, n_src))
    x = torch.randn(n_src, 3, dtype=torch.float64, requires_grad=True)
    for alpha0, alpha1 in ALPHAS:
        D = dense(edge_index, n_src, n_dst, alpha0, alpha1)
        for cached in (False, True):
            conv = BipartiteConv(alpha0, alpha1, cached=cached)
            out, grad, grad_out = run(conv, x, adj_t, (n_src, n_dst))
            assert torch.allclose(out, D @ x)
            assert torch.allclose(grad, D.t() @ grad_out)


def test_fast_path_gradcheck_float64():
    edge_index, n_src, n_dst = graph()
    conv = BipartiteConv(1.0, 0.5, cached=True)
    x = torch.randn(n_src, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda t: conv((t, None), edge_index, size=(n_src, n_dst)), (x, ))


def test_homogeneous_input_equals_pyg_lgconv():
    edge_index, n_src, _ = graph()
    # A symmetric homogeneous graph on 5 nodes.
    sym = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    x = torch.randn(n_src, 4)
    ours = BipartiteConv()(x, sym)
    assert torch.allclose(ours, LGConv()(x, sym), atol=1e-6)
    ours_cached = BipartiteConv(cached=True)(x, sym)
    assert torch.allclose(ours_cached, LGConv()(x, sym), atol=1e-6)


def test_cache_reuse_invalidation_and_reset():
    edge_index, n_src, n_dst = graph()
    conv = BipartiteConv(0.5, 0.5, cached=True)
    x = torch.randn(n_src, 3, dtype=torch.float64)
    size = (n_src, n_dst)
    conv((x, None), edge_index, size=size)
    conv((x, None), edge_index, size=size)
    assert (conv._cache.hits, conv._cache.misses) == (1, 1)

    # A different graph of the same shape must not reuse the cache.
    other = edge_index.clone()
    other[0, 0] = 4
    out = conv((x, None), other, size=size)
    assert torch.allclose(out, dense(other, n_src, n_dst, 0.5, 0.5) @ x)
    # Writing into the cached tensor in place is detected as well.
    other[0, 1] = 4
    out = conv((x, None), other, size=size)
    assert torch.allclose(out, dense(other, n_src, n_dst, 0.5, 0.5) @ x)
    # Another dtype rebuilds the adjacency in that dtype.
    out = conv((x.float(), None), other, size=size)
    assert out.dtype == torch.float32

    conv.reset_parameters()
    assert conv._cache.value is None


def test_uncached_layer_never_caches():
    edge_index, n_src, n_dst = graph()
    conv = BipartiteConv()
    conv((torch.randn(n_src, 2), None), edge_index, size=(n_src, n_dst))
    assert conv._cache.value is None


def test_repr_and_defaults():
    conv = BipartiteConv()
    assert repr(conv) == 'BipartiteConv(alpha0=0.5, alpha1=0.5)'
    assert conv.aggr == 'add'
    assert repr(BipartiteConv(1, 0)) == 'BipartiteConv(alpha0=1.0, alpha1=0.0)'


@pytest.mark.parametrize('kwargs,match', [
    ({'alpha0': float('nan')}, 'alpha0'),
    ({'alpha1': 'x'}, 'alpha1'),
    ({'aggr': 'mean'}, 'aggr'),
    ({'flow': 'target_to_source'}, 'flow'),
])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BipartiteConv(**kwargs)


def test_invalid_inputs():
    edge_index, n_src, n_dst = graph()
    conv = BipartiteConv()
    x = torch.randn(n_src, 2)
    with pytest.raises(ValueError, match='size'):
        conv((x, None), edge_index)
    with pytest.raises(ValueError, match='source rows'):
        conv((x[:3], None), edge_index, size=(n_src, n_dst))
    with pytest.raises(ValueError, match='target rows'):
        conv((x, torch.randn(2, 2)), edge_index, size=(n_src, n_dst))
    with pytest.raises(ValueError, match=r'row 1 .* \[0, 2\)'):
        conv((x, None), edge_index, size=(n_src, 2))
    with pytest.raises(ValueError, match=r'row 1 .* \[0, 2\)'):
        BipartiteConv(cached=True)((x, None), edge_index, size=(n_src, 2))
    with pytest.raises(ValueError, match="'x' expected"):
        conv((x[0], None), edge_index, size=(n_src, n_dst))
    with pytest.raises(ValueError, match="'edge_index' expected"):
        conv((x, None), [[0], [0]], size=(n_src, n_dst))


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
@pytest.mark.parametrize('index', [[2, 0, 2, 3], [0, 1, 2, 3, 2, 1, 0, 0]])
def test_dst_index_equals_indexing_every_path(index, dtype):
    # The first index holds few entries (row block), the second most of
    # them (whole product, indexed).
    edge_index, n_src, n_dst = graph()
    index = torch.tensor(index)
    D = dense(edge_index, n_src, n_dst, 1.0, 0.5).to(dtype)
    x = torch.randn(n_src, 3, dtype=dtype, requires_grad=True)
    inputs = {'edge_index': (False, edge_index), 'cached': (True, edge_index)}
    for name, sp in sparse_inputs(edge_index, n_src, n_dst).items():
        inputs[name] = (False, sp)
        inputs[name + '_cached'] = (True, sp)
    grad_out = torch.randn(index.numel(), 3, dtype=dtype)
    expected = (D @ x)[index]
    g_exp, = torch.autograd.grad(expected, x, grad_out)
    tol = {} if dtype == torch.float64 else dict(atol=1e-6)
    for name, (cached, graph_input) in inputs.items():
        conv = BipartiteConv(1.0, 0.5, cached=cached)
        for _ in range(2):  # a filled cache too
            out = conv((x, None), graph_input, size=(n_src, n_dst),
                       dst_index=index)
            g, = torch.autograd.grad(out, x, grad_out)
            assert torch.allclose(out, expected, **tol), name
            assert torch.allclose(g, g_exp, **tol), name


def test_dst_index_gradcheck_and_validation():
    edge_index, n_src, n_dst = graph()
    conv = BipartiteConv(0.5, 1.0, cached=True)
    x = torch.randn(n_src, 2, dtype=torch.float64, requires_grad=True)
    for index in ([1, 1, 3], [0, 1, 2, 2, 1]):
        index = torch.tensor(index)
        assert torch.autograd.gradcheck(
            lambda t: conv((t, None), edge_index, size=(n_src, n_dst),
                           dst_index=index), (x, ))
    with pytest.raises(ValueError, match=r"'dst_index' expected ids in"):
        conv((x, None), edge_index, size=(n_src, n_dst),
             dst_index=torch.tensor([4]))
    with pytest.raises(ValueError, match="'dst_index' expected a 1-dim"):
        conv((x, None), edge_index, size=(n_src, n_dst),
             dst_index=torch.tensor([0.0]))


def test_uses_pyg_generated_propagate():
    # PyG compiles a propagate() that skips the per-call edge collection.
    assert BipartiteConv.propagate.__module__.endswith('_propagate')


@pytest.mark.parametrize('alpha0,alpha1', [(0.5, 0.5), (1.0, 0.0)])
def test_user_item_adjacency_is_the_layer_on_the_homogeneous_graph(
        alpha0, alpha1):
    edge_index = torch.tensor([[0, 0, 1, 2, 2, 2], [0, 2, 2, 0, 1, 3]])
    U, I = 4, 5  # user 3 and item 4 isolated
    homo = torch.cat([
        torch.stack([edge_index[0], edge_index[1] + U]),
        torch.stack([edge_index[1] + U, edge_index[0]])
    ], dim=1)
    conv = BipartiteConv(alpha0, alpha1, cached=True)
    x = torch.randn(U + I, 3, dtype=torch.float64)
    expected = BipartiteConv(alpha0, alpha1)(x, homo)
    adj = conv.user_item_adjacency(edge_index, U, I, torch.float64)
    user_out, item_out = adj.propagate(x[:U], x[U:], (0.0, 1.0))
    assert torch.allclose(torch.cat([user_out, item_out]), expected)
    assert conv.user_item_adjacency(edge_index, U, I, torch.float64) is adj
    uncached = BipartiteConv(alpha0, alpha1)
    assert uncached.user_item_adjacency(edge_index, U, I) is not \
        uncached.user_item_adjacency(edge_index, U, I)
    with pytest.raises(ValueError, match='row 1'):
        conv.user_item_adjacency(edge_index, U, 3)
