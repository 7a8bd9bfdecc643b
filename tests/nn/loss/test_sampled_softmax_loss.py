import math

import pytest
import torch

from pyg_simce.nn.loss import SampledSoftmaxLoss


def _ref(pos, neg_rows, tau, log_q_rows=None, pos_log_q=None):
    out = []
    for b in range(pos.numel()):
        p = pos[b] / tau - (0 if pos_log_q is None else pos_log_q[b])
        n = neg_rows[b] / tau
        if log_q_rows is not None:
            n = n - log_q_rows[b]
        out.append(-torch.log(torch.exp(p) / (torch.exp(p) +
                                              torch.exp(n).sum())))
    return torch.stack(out)


def test_log_q_correction_dense_and_ragged():
    g = torch.Generator().manual_seed(0)
    B, N = 6, 5
    pos = torch.rand(B, generator=g, dtype=torch.float64).requires_grad_()
    neg = torch.rand(B, N, generator=g, dtype=torch.float64).requires_grad_()
    q = torch.rand(B, N, generator=g, dtype=torch.float64) * 0.5 + 0.01
    pq = torch.rand(B, generator=g, dtype=torch.float64) * 0.5 + 0.01
    loss = SampledSoftmaxLoss(temperature=0.2, reduction='none')
    exp = _ref(pos, neg, 0.2, q.log(), pq.log())
    out = loss(pos, neg, log_q=q.log(), pos_log_q=pq.log())
    torch.testing.assert_close(out, exp)
    index = torch.arange(B).repeat_interleave(N)
    out_r = loss(pos, neg.reshape(-1), index, q.log().reshape(-1), pq.log())
    torch.testing.assert_close(out_r, exp)
    ga = torch.autograd.grad(out_r.sum(), (pos, neg))
    gb = torch.autograd.grad(exp.sum(), (pos, neg))
    for a, b in zip(ga, gb):
        torch.testing.assert_close(a, b)


def test_uniform_log_q_on_negatives_only_shifts_by_log_n():
    # With q = 1/N for every negative: log(e^p + N * mean e^n) - p.
    g = torch.Generator().manual_seed(1)
    pos = torch.rand(4, generator=g, dtype=torch.float64)
    neg = torch.rand(4, 3, generator=g, dtype=torch.float64)
    log_q = torch.full((4, 3), -math.log(3), dtype=torch.float64)
    out = SampledSoftmaxLoss(1.0, reduction='none')(pos, neg, log_q=log_q)
    exp = torch.log(pos.exp() + 3 * neg.exp().sum(1)) - pos
    torch.testing.assert_close(out, exp)


def test_default_temperature_and_validation():
    assert SampledSoftmaxLoss().temperature == 0.1
    with pytest.raises(ValueError, match="'temperature'"):
        SampledSoftmaxLoss(temperature=0.0)
    with pytest.raises(ValueError, match="'temperature'"):
        SampledSoftmaxLoss(temperature=-0.1)
    loss = SampledSoftmaxLoss()
    pos, neg = torch.randn(3), torch.randn(3, 2)
    with pytest.raises(ValueError, match="'log_q'"):
        loss(pos, neg, log_q=torch.zeros(3, 3))
    with pytest.raises(ValueError, match="'pos_log_q'"):
        loss(pos, neg, pos_log_q=torch.zeros(2))
    with pytest.raises(ValueError, match="'log_q'"):
        loss(pos, neg, log_q=torch.full((3, 2), float('-inf')))


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_ragged_overflow_falls_back_to_max_shift(dtype):
    # exp(n - p) overflows: the shift-by-positive fast path must not be used.
    pos = torch.tensor([-900.0, 0.0, 5.0], dtype=dtype, requires_grad=True)
    neg = torch.tensor([900.0, 899.0, 1.0, -3.0, 2.0], dtype=dtype,
                       requires_grad=True)
    index = torch.tensor([0, 0, 1, 2, 2])
    loss = SampledSoftmaxLoss(temperature=1.0, reduction='none')
    out = loss(pos, neg, index)
    # float64 reference (logsumexp in float32 is itself inexact at 900)
    p64 = pos.detach().double().requires_grad_()
    n64 = neg.detach().double().requires_grad_()
    rows = [torch.cat([p64[b:b + 1], n64[index == b]]) for b in range(3)]
    exp = torch.stack([torch.logsumexp(r, 0) - r[0] for r in rows])
    torch.testing.assert_close(out.double(), exp)
    ga = torch.autograd.grad(out.sum(), (pos, neg))
    gb = torch.autograd.grad(exp.sum(), (p64, n64))
    for a, b in zip(ga, gb):
        assert bool(torch.isfinite(a).all())
        torch.testing.assert_close(a.double(), b, rtol=1e-6, atol=1e-6)


def test_log_q_on_the_uniform_fast_path():
    from pyg_simce.nn.loss.base import uniform_fast_path
    g = torch.Generator().manual_seed(2)
    pos = torch.rand(4, generator=g, dtype=torch.float64)
    neg = torch.rand(4, 3, generator=g, dtype=torch.float64)
    log_q = torch.rand(4, 3, generator=g, dtype=torch.float64).log()
    index = torch.arange(4).repeat_interleave(3)
    loss = SampledSoftmaxLoss(0.3, reduction='none')
    exp = loss(pos, neg, log_q=log_q)
    for fast in (True, False):
        with uniform_fast_path(fast):
            out = loss(pos, neg.reshape(-1), index, log_q.reshape(-1))
        torch.testing.assert_close(out, exp)
