import pytest
import torch

from pyg_simce.nn.loss import BPRLoss, l2_regularization


def test_lightgcn_convention_against_loop():
    g = torch.Generator().manual_seed(0)
    u = torch.randn(8, 4, generator=g, dtype=torch.float64)
    i = torch.randn(8, 4, generator=g, dtype=torch.float64)
    j = torch.randn(8, 3, 4, generator=g, dtype=torch.float64)
    total = sum(float(x) ** 2 for t in (u, i, j) for x in t.flatten())
    out = l2_regularization(u, i, j, batch_size=8, weight=1e-4)
    torch.testing.assert_close(out, torch.tensor(1e-4 * total / 16,
                                                 dtype=torch.float64))


def test_ssm_convention_is_batch_size_times_lightgcn():
    g = torch.Generator().manual_seed(1)
    u = torch.randn(5, 4, generator=g, dtype=torch.float64,
                    requires_grad=True)
    pos = torch.randn(5, generator=g, dtype=torch.float64)
    neg = torch.randn(5, 2, generator=g, dtype=torch.float64)
    light = BPRLoss()(pos, neg) + l2_regularization(
        u, batch_size=5, weight=0.1)
    ssm = BPRLoss(reduction='sum')(pos, neg) + l2_regularization(
        u, batch_size=5, weight=0.1, convention='ssm')
    torch.testing.assert_close(ssm, 5 * light)
    gl = torch.autograd.grad(light, u)[0]
    gs = torch.autograd.grad(ssm, u)[0]
    torch.testing.assert_close(gs, 5 * gl)
    torch.testing.assert_close(gl, 0.1 * u / 5)


def test_validation():
    x = torch.ones(2, 2)
    with pytest.raises(ValueError, match="'weight'"):
        l2_regularization(x, batch_size=2, weight=-1.0)
    with pytest.raises(ValueError, match="'batch_size'"):
        l2_regularization(x, batch_size=0, weight=1.0)
    with pytest.raises(ValueError, match="'batch_size'"):
        l2_regularization(x, batch_size=2.0, weight=1.0)
    with pytest.raises(ValueError, match="'convention'"):
        l2_regularization(x, batch_size=2, weight=1.0, convention='l2')
    with pytest.raises(ValueError, match='at least one'):
        l2_regularization(batch_size=2, weight=1.0)
    with pytest.raises(ValueError, match=r"'tensors\[1\]'"):
        l2_regularization(x, torch.ones(2, dtype=torch.long), batch_size=2,
                          weight=1.0)
    assert l2_regularization(x, batch_size=2, weight=0.0).item() == 0.0
