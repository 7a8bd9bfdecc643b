import itertools

import pytest
import torch

from pyg_simce.nn.conv import SparseAdjacency, UserItemAdjacency


def graph():
    # 6 users (user 5 isolated), 7 items (items 5, 6 isolated).
    edge_index = torch.tensor([[0, 0, 0, 1, 1, 2, 3, 3, 3, 3, 4, 4],
                               [0, 1, 2, 1, 3, 0, 0, 1, 2, 4, 4, 1]])
    return edge_index, 6, 7


ROWS = {
    'none': None,
    'few': torch.tensor([5, 2, 2]),  # few entries: the row block
    'many': torch.tensor([3, 0, 1, 3, 4]),  # most entries: whole + index
    'empty': torch.tensor([], dtype=torch.long),
}


@pytest.mark.parametrize('alpha0,alpha1', [(0.5, 0.5), (1.0, 0.0),
                                           (0.5, 0.0)])
@pytest.mark.parametrize('weights', [(0.7, ), (0.5, 0.5), (0.1, 0.2, 0.3,
                                                             0.4)])
@pytest.mark.parametrize('user_rows,item_rows',
                         list(itertools.product(ROWS, repeat=2)))
def test_propagate_equals_the_stacked_matrix(alpha0, alpha1, weights,
                                             user_rows, item_rows):
    edge_index, U, I = graph()
    adj = UserItemAdjacency.from_edge_index(edge_index, U, I, alpha0,
                                            alpha1, torch.float64)
    assert adj.symmetric == (alpha0 == alpha1)
    stacked = SparseAdjacency.from_user_item(edge_index, U, I, alpha0,
                                             alpha1, torch.float64)
    gen = torch.Generator().manual_seed(0)
    x_u = torch.randn(U, 3, dtype=torch.float64, generator=gen,
                      requires_grad=True)
    x_i = torch.randn(I, 3, dtype=torch.float64, generator=gen,
                      requires_grad=True)
    u_idx, i_idx = ROWS[user_rows], ROWS[item_rows]
    if i_idx is not None:
        i_idx = i_idx.clamp(max=I - 1)
    out_u, out_i = adj.propagate(x_u, x_i, weights, u_idx, i_idx)
    full = stacked.propagate(torch.cat([x_u, x_i]), weights)
    exp_u, exp_i = full[:U], full[U:]
    if u_idx is not None:
        exp_u = exp_u[u_idx]
    if i_idx is not None:
        exp_i = exp_i[i_idx]
    assert torch.allclose(out_u, exp_u) and torch.allclose(out_i, exp_i)
    w_u = torch.randn(out_u.shape, dtype=torch.float64, generator=gen)
    w_i = torch.randn(out_i.shape, dtype=torch.float64, generator=gen)
    g1 = torch.autograd.grad((out_u * w_u).sum() + (out_i * w_i).sum(),
                             [x_u, x_i])
    g2 = torch.autograd.grad((exp_u * w_u).sum() + (exp_i * w_i).sum(),
                             [x_u, x_i])
    for a, b in zip(g1, g2):
        assert torch.allclose(a, b)


def test_gradcheck_and_float32():
    edge_index, U, I = graph()
    adj = UserItemAdjacency.from_edge_index(edge_index, U, I, 1.0, 0.5,
                                            torch.float64)
    x_u = torch.randn(U, 2, dtype=torch.float64, requires_grad=True)
    x_i = torch.randn(I, 2, dtype=torch.float64, requires_grad=True)
    rows = (torch.tensor([1, 1, 5]), torch.tensor([6, 0, 0]))
    assert torch.autograd.gradcheck(
        lambda a, b: adj.propagate(a, b, (0.2, 0.3, 0.5), *rows), (x_u, x_i))
    adj32 = UserItemAdjacency.from_edge_index(edge_index, U, I, 1.0, 0.5)
    out32 = adj32.propagate(x_u.float(), x_i.float(), (0.2, 0.3, 0.5),
                            *rows)
    out64 = adj.propagate(x_u, x_i, (0.2, 0.3, 0.5), *rows)
    for a, b in zip(out32, out64):
        assert a.dtype == torch.float32
        assert torch.allclose(a.double(), b, atol=1e-6)


def test_validation_and_repr():
    edge_index, U, I = graph()
    adj = UserItemAdjacency.from_edge_index(edge_index, U, I)
    with pytest.raises(ValueError, match='weights'):
        adj.propagate(torch.randn(U, 2), torch.randn(I, 2), ())
    with pytest.raises(ValueError, match="'x_item' expected shape"):
        adj.propagate(torch.randn(U, 2), torch.randn(I + 1, 2), (1.0, 1.0))
    with pytest.raises(ValueError, match='CSR'):
        UserItemAdjacency(torch.eye(2).to_sparse(), torch.eye(2).to_sparse())
    assert repr(adj) == ('UserItemAdjacency(num_users=6, num_items=7, '
                         'nnz=12, symmetric=True)')
