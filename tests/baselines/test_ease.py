import pytest
import torch

from pyg_simce.baselines import EASE


def test_ease_weight_equals_closed_form(tiny_graph):
    data, r = tiny_graph
    lam = 3.0
    model = EASE(lambda_=lam).fit(data)
    p = torch.linalg.inv(r.t() @ r + lam * torch.eye(r.size(1),
                                                     dtype=r.dtype))
    b = torch.eye(r.size(1), dtype=r.dtype) - p / p.diagonal().view(1, -1)
    b.fill_diagonal_(0.0)
    assert torch.allclose(model.weight.double(), b, atol=1e-6)
    assert (model.weight.diagonal() == 0).all()
    # B is the minimiser of ||R - RB||^2 + lam ||B||^2 with diag(B) = 0:
    # the gradient vanishes off the diagonal.
    grad = -r.t() @ (r - r @ b) + lam * b
    grad.fill_diagonal_(0.0)
    assert grad.abs().max() < 1e-8
    assert torch.allclose(model.score(torch.arange(r.size(0))).double(),
                          r @ b, atol=1e-5)


def test_ease_bad_input(tiny_graph):
    data, _ = tiny_graph
    for lam in (0.0, -1.0, float('nan')):
        with pytest.raises(ValueError, match="'lambda_'"):
            EASE(lambda_=lam)
    model = EASE(max_memory=1000)
    with pytest.raises(ValueError, match=r"'train_data'.*got 9 items.*GiB"):
        model.fit(data)
    # Gowalla's catalogue is refused by default, naming the memory needed.
    with pytest.raises(ValueError, match='40981 items, which need about'):
        EASE(dtype=torch.float32).check_sizes(29858, 40981)


def test_ease_in_place_fit_in_both_precisions():
    from torch_geometric.data import HeteroData
    gen = torch.Generator().manual_seed(0)
    r = (torch.rand(40, 30, generator=gen) < 0.3).double()
    data = HeteroData()
    data['user'].num_nodes, data['item'].num_nodes = 40, 30
    data['user', 'rates', 'item'].edge_index = r.nonzero().t()
    lam = 2.0
    p = torch.linalg.inv(r.t() @ r + lam * torch.eye(30, dtype=r.dtype))
    b = -p / p.diagonal().view(1, -1)
    b.fill_diagonal_(0.0)
    for dtype, atol in ((torch.float64, 1e-6), (torch.float32, 1e-4)):
        model = EASE(lambda_=lam, dtype=dtype).fit(data)
        assert model.weight.dtype == torch.float32
        assert torch.allclose(model.weight.double(), b, atol=atol)
    # The memory estimate: two matrices, plus the float32 copy of a float64
    # fit.
    assert EASE(dtype=torch.float32).memory_needed(30) == 2 * 30 * 30 * 4
    assert EASE().memory_needed(30) == 2 * 30 * 30 * 8 + 30 * 30 * 4
