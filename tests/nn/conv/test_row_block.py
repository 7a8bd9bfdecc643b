import pytest
import torch

from pyg_simce.nn.conv import csr_matmul_rows, to_csr
from pyg_simce.nn.conv.row_block import (
    check_index,
    csr_transposed_matmul,
    is_small_block,
)
from pyg_simce.nn.conv.sparse_adjacency import csr_spmm, csr_transpose


def random_csr(num_rows, num_cols, dtype=torch.float64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    dense = torch.rand(num_rows, num_cols, generator=gen, dtype=dtype)
    dense[dense < 0.6] = 0
    dense[2] = 0  # an empty row
    row, col = dense.nonzero().t()
    return to_csr(row, col, dense[row, col], (num_rows, num_cols)), dense


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_csr_spmm_and_transposed_matmul(dtype):
    adj, dense = random_csr(7, 5, dtype)
    x = torch.randn(5, 3, dtype=dtype)
    tol = {} if dtype == torch.float64 else dict(atol=1e-6)
    assert torch.allclose(csr_spmm(adj, x), dense @ x, **tol)
    y = torch.randn(7, 3, dtype=dtype)
    assert torch.allclose(csr_transposed_matmul(adj, y, 0.5),
                          0.5 * dense.t() @ y, **tol)
    empty = to_csr(torch.tensor([], dtype=torch.long),
                   torch.tensor([], dtype=torch.long),
                   torch.tensor([], dtype=dtype), (4, 5))
    assert torch.equal(csr_spmm(empty, x), torch.zeros(4, 3, dtype=dtype))


@pytest.mark.parametrize('index', [[6, 2, 6], [1, 4, 6], [0, 1, 3, 4, 5, 6, 6, 0]])
def test_csr_matmul_rows_gradcheck(index):
    adj, dense = random_csr(7, 5)
    index = torch.tensor(index)
    assert is_small_block(adj, index) == (len(index) == 3)
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    out = csr_matmul_rows(x, adj, csr_transpose(adj), index)
    assert torch.allclose(out, (dense @ x)[index])
    assert torch.autograd.gradcheck(
        lambda t: csr_matmul_rows(t, adj, csr_transpose(adj), index), (x, ))


def test_check_index():
    check_index(torch.tensor([0, 2], dtype=torch.int32), 3, 'idx')
    check_index(torch.tensor([], dtype=torch.long), 0, 'idx')
    for bad in (torch.tensor([3]), torch.tensor([-1]), torch.tensor([True]),
                torch.tensor([[0]]), [0]):
        with pytest.raises(ValueError, match="'idx' expected"):
            check_index(bad, 3, 'idx')
