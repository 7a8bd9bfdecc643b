import pytest
import torch

from pyg_simce.train.negatives import gathered_dot as gathered_dot_module
from pyg_simce.train.negatives.gathered_dot import gathered_dot


# 4 * 5 elements a row: one block of all 7 rows, or blocks of 3, 3 and 1.
@pytest.mark.parametrize('chunk', [1 << 19, 60])
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_gathered_dot_equals_naive_gather(dtype, chunk, monkeypatch):
    monkeypatch.setattr(gathered_dot_module, 'CHUNK_ELEMENTS', chunk)
    g = torch.Generator().manual_seed(0)
    cand = torch.randn(11, 5, generator=g, dtype=dtype, requires_grad=True)
    u = torch.randn(7, 5, generator=g, dtype=dtype, requires_grad=True)
    index = torch.randint(0, 11, (7, 4), generator=g)
    index[0, :] = 3  # a candidate repeated in one row and across rows
    index[5, 1] = 3
    weight = torch.randn(7, 4, generator=g, dtype=dtype)
    out = gathered_dot(cand, u, index)
    (out * weight).sum().backward()
    dc, du = cand.grad.clone(), u.grad.clone()
    cand.grad = u.grad = None
    ref = (u.unsqueeze(1) * cand[index]).sum(-1)
    (ref * weight).sum().backward()
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else {}
    torch.testing.assert_close(out, ref, **tol)
    torch.testing.assert_close(dc, cand.grad, **tol)
    torch.testing.assert_close(du, u.grad, **tol)
    assert dc[[i for i in range(11) if i not in index]].abs().sum() == 0


def test_gathered_dot_gradcheck():
    g = torch.Generator().manual_seed(1)
    cand = torch.randn(6, 3, generator=g, dtype=torch.float64,
                       requires_grad=True)
    u = torch.randn(4, 3, generator=g, dtype=torch.float64,
                    requires_grad=True)
    index = torch.randint(0, 6, (4, 5), generator=g)
    assert torch.autograd.gradcheck(
        lambda c, q: gathered_dot(c, q, index), (cand, u))
