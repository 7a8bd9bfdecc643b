import itertools

import pytest
import torch

from pyg_simce.nn.conv import (
    SparseAdjacency,
    csr_matmul,
    csr_select_rows,
    csr_transpose,
    to_csr,
)

ALPHAS = list(itertools.product([0.0, 0.5, 1.0], repeat=2))


def inv_pow(deg, alpha):
    out = deg.pow(-alpha)
    out[deg == 0] = 0
    return out


def user_item_graph():
    # 5 users (user 4 isolated), 6 items (item 5 isolated).
    edge_index = torch.tensor([[0, 0, 0, 1, 1, 2, 3, 3, 3, 3],
                               [0, 1, 2, 1, 3, 0, 0, 1, 2, 4]])
    return edge_index, 5, 6


def dense_blocks(edge_index, U, I, alpha0, alpha1):
    R = torch.zeros(U, I, dtype=torch.float64)
    R.index_put_((edge_index[0], edge_index[1]),
                 torch.ones(edge_index.size(1), dtype=torch.float64),
                 accumulate=True)
    du, di = R.sum(1), R.sum(0)
    M = inv_pow(du, alpha0)[:, None] * R * inv_pow(di, alpha1)[None, :]
    N = inv_pow(di, alpha0)[:, None] * R.t() * inv_pow(du, alpha1)[None, :]
    A = torch.zeros(U + I, U + I, dtype=torch.float64)
    A[:U, U:] = M
    A[U:, :U] = N
    return M, N, A


def test_to_csr_sums_duplicates_and_uses_int32_indices():
    row = torch.tensor([2, 0, 2, 1, 2])
    col = torch.tensor([1, 3, 1, 0, 0])
    value = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    csr = to_csr(row, col, value, (3, 4))
    dense = torch.zeros(3, 4).index_put_((row, col), value, accumulate=True)
    assert torch.equal(csr.to_dense(), dense)
    assert csr.values().numel() == 4
    assert csr.col_indices().dtype == torch.int32
    assert csr.crow_indices().dtype == torch.int32


def test_csr_transpose_and_select_rows():
    gen = torch.Generator().manual_seed(0)
    dense = torch.rand(7, 5, generator=gen)
    dense[dense < 0.6] = 0
    dense[3] = 0  # an empty row
    csr = to_csr(*dense.nonzero().t(), dense[dense != 0], (7, 5))
    assert torch.equal(csr_transpose(csr).to_dense(), dense.t())
    rows = torch.tensor([6, 3, 0, 6])
    assert torch.equal(csr_select_rows(csr, rows).to_dense(), dense[rows])


@pytest.mark.parametrize('alpha0,alpha1', ALPHAS)
def test_from_edge_index_equals_dense_formula(alpha0, alpha1):
    edge_index, U, I = user_item_graph()
    M, N, _ = dense_blocks(edge_index, U, I, alpha0, alpha1)
    # users -> items: [I, U]
    adj = SparseAdjacency.from_edge_index(edge_index, (U, I), alpha0, alpha1,
                                          dtype=torch.float64)
    assert adj.size == (I, U)
    assert torch.allclose(adj.adj.to_dense(), N)
    assert torch.allclose(adj.adj_t.to_dense(), N.t())
    # items -> users: [U, I]
    adj = SparseAdjacency.from_edge_index(edge_index.flip(0), (I, U), alpha0,
                                          alpha1, dtype=torch.float64)
    assert torch.allclose(adj.adj.to_dense(), M)
    assert torch.isfinite(adj.adj.values()).all()


@pytest.mark.parametrize('alpha0,alpha1', ALPHAS)
def test_from_user_item_block_matrix(alpha0, alpha1):
    edge_index, U, I = user_item_graph()
    _, _, A = dense_blocks(edge_index, U, I, alpha0, alpha1)
    adj = SparseAdjacency.from_user_item(edge_index, U, I, alpha0, alpha1,
                                         dtype=torch.float64)
    assert torch.allclose(adj.adj.to_dense(), A)
    assert torch.allclose(adj.adj_t.to_dense(), A.t())
    # Symmetric exactly when alpha0 == alpha1: the transpose is not stored.
    assert (adj.adj_t is adj.adj) == (alpha0 == alpha1)
    assert adj.nnz() == 2 * edge_index.size(1)
    assert 'nnz=20' in repr(adj)


@pytest.mark.parametrize('alpha0,alpha1', [(0.5, 0.5), (1.0, 0.0)])
@pytest.mark.parametrize('weights', [(1.0, ), (0.5, 0.5), (0.2, 0.3, 0.1,
                                                             0.4)])
def test_propagate_matches_dense_and_gradcheck(alpha0, alpha1, weights):
    edge_index, U, I = user_item_graph()
    _, _, A = dense_blocks(edge_index, U, I, alpha0, alpha1)
    adj = SparseAdjacency.from_user_item(edge_index, U, I, alpha0, alpha1,
                                         dtype=torch.float64)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(U + I, 3, dtype=torch.float64, generator=gen,
                    requires_grad=True)
    expected, h = weights[0] * x, x
    for w in weights[1:]:
        h = A @ h
        expected = expected + w * h
    out = adj.propagate(x, weights)
    assert torch.allclose(out, expected)
    grad_out = torch.randn(out.shape, dtype=torch.float64, generator=gen)
    g1, = torch.autograd.grad(out, x, grad_out)
    g2, = torch.autograd.grad(expected, x, grad_out)
    assert torch.allclose(g1, g2)
    assert torch.autograd.gradcheck(lambda t: adj.propagate(t, weights),
                                    (x, ))


def test_csr_matmul_gradcheck_with_asymmetric_matrix():
    edge_index, U, I = user_item_graph()
    adj = SparseAdjacency.from_edge_index(edge_index.flip(0), (I, U), 1.0,
                                          0.0, dtype=torch.float64)
    x = torch.randn(I, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda t: csr_matmul(t, adj.adj, adj.adj_t), (x, ))
    assert torch.autograd.gradcheck(adj.matmul, (x, ))


def test_propagate_rejects_rectangular_and_empty_weights():
    edge_index, U, I = user_item_graph()
    rect = SparseAdjacency.from_edge_index(edge_index, (U, I))
    with pytest.raises(ValueError, match='square'):
        rect.propagate(torch.randn(U, 2), (1.0, 1.0))
    square = SparseAdjacency.from_user_item(edge_index, U, I)
    with pytest.raises(ValueError, match='weights'):
        square.propagate(torch.randn(U + I, 2), ())


def test_constructor_rejects_non_csr():
    with pytest.raises(ValueError, match='CSR'):
        SparseAdjacency(torch.eye(3).to_sparse())


def test_constructor_computes_transpose():
    dense = torch.tensor([[0.0, 2.0], [0.0, 0.0], [1.0, 3.0]])
    adj = SparseAdjacency(dense.to_sparse_csr())
    assert torch.equal(adj.adj_t.to_dense(), dense.t())


@pytest.mark.parametrize('alpha0,alpha1', [(0.5, 0.5), (1.0, 0.0)])
@pytest.mark.parametrize('weights', [(1.0, ), (0.5, 0.5), (0.2, 0.3, 0.1,
                                                             0.4)])
def test_propagate_rows_equals_full_then_index(alpha0, alpha1, weights):
    edge_index, U, I = user_item_graph()
    adj = SparseAdjacency.from_user_item(edge_index, U, I, alpha0, alpha1,
                                         dtype=torch.float64)
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(U + I, 3, dtype=torch.float64, generator=gen,
                    requires_grad=True)
    rows = torch.tensor([7, 0, 4, 7, 10, 2])  # repeats, isolated 4 and 10
    out = adj.propagate(x, weights, rows)
    expected = adj.propagate(x, weights)[rows]
    assert torch.allclose(out, expected)
    grad_out = torch.randn(out.shape, dtype=torch.float64, generator=gen)
    g1, = torch.autograd.grad(out, x, grad_out)
    g2, = torch.autograd.grad(expected, x, grad_out)
    assert torch.allclose(g1, g2)
    assert torch.autograd.gradcheck(
        lambda t: adj.propagate(t, weights, rows), (x, ))
    empty = adj.propagate(x, weights, rows[:0])
    assert empty.shape == (0, 3)
    with pytest.raises(ValueError, match='rows'):
        adj.propagate(x, weights, rows.float())
