import math

import pytest
import torch

from pyg_simce.nn.loss import SampledSoftmaxLoss, SimCELoss
from pyg_simce.nn.loss.ragged_groups import uniform_fast_path


def _data(B, N, seed, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    pos = (torch.rand(B, generator=g, dtype=torch.float64) * 2 - 1) * scale
    neg = (torch.rand(B, N, generator=g, dtype=torch.float64) * 2 - 1) * scale
    return pos, neg


@pytest.mark.parametrize('tau', [1.0, 0.1, 0.5])
@pytest.mark.parametrize('N', [1, 4, 64])
def test_softplus_bound_is_an_upper_bound_of_ssm(tau, N):
    pos, neg = _data(50, N, seed=N)
    bound = SimCELoss(bound='softplus', temperature=tau, reduction='none')
    ssm = SampledSoftmaxLoss(temperature=tau, reduction='none')
    b, s = bound(pos, neg), ssm(pos, neg)
    assert bool((b >= s - 1e-10 * (1 + s.abs())).all())
    # ... and no looser than log N (all negatives replaced by the hardest):
    assert bool((b - s <= math.log(N) + 1e-12).all())
    if N == 1:  # one negative: the bound is exact
        torch.testing.assert_close(b, s)


def test_softplus_bound_ragged_uses_each_rows_own_count():
    pos, neg = _data(6, 5, seed=3)
    index = torch.arange(6).repeat_interleave(5)
    keep = torch.rand(30, generator=torch.Generator().manual_seed(4)) < 0.6
    bound = SimCELoss(bound='softplus', reduction='none')(
        pos, neg.reshape(-1)[keep], index[keep])
    ssm = SampledSoftmaxLoss(temperature=1.0, reduction='none')(
        pos, neg.reshape(-1)[keep], index[keep])
    assert bool((bound >= ssm - 1e-12).all())
    for b in range(6):
        row = neg.reshape(-1)[keep & (index == b)]
        if row.numel() == 0:
            assert bound[b] == 0 and ssm[b] == 0
            continue
        x = row.max() - pos[b] + math.log(row.numel())
        torch.testing.assert_close(bound[b], torch.nn.functional.softplus(x))


def test_hinge_sandwiches_the_softplus_bound():
    # max(0, x) <= softplus(x) <= max(0, x) + log 2 with margin = log N.
    pos, neg = _data(40, 8, seed=5)
    hinge = SimCELoss(margin=math.log(8), reduction='none')(pos, neg)
    soft = SimCELoss(bound='softplus', reduction='none')(pos, neg)
    assert bool((hinge <= soft + 1e-12).all())
    assert bool((soft <= hinge + math.log(2) + 1e-12).all())


def test_only_the_hardest_negative_gets_gradient():
    pos, neg = _data(5, 7, seed=6)
    pos.requires_grad_()
    neg.requires_grad_()
    SimCELoss(margin=100.0, reduction='sum')(pos, neg).backward()
    hardest = neg.detach().argmax(1)
    exp = torch.zeros_like(neg)
    exp[torch.arange(5), hardest] = 1.0
    torch.testing.assert_close(neg.grad, exp)
    torch.testing.assert_close(pos.grad, -torch.ones(5).double())


def test_tied_hardest_negatives_share_the_gradient_in_both_forms():
    pos = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    neg = torch.tensor([[1.0, 1.0, 0.0], [0.5, 2.0, 2.0]],
                       dtype=torch.float64, requires_grad=True)
    loss = SimCELoss(reduction='sum')
    g_dense = torch.autograd.grad(loss(pos, neg), neg)[0]
    index = torch.arange(2).repeat_interleave(3)
    exp = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]]).double()
    torch.testing.assert_close(g_dense, exp)
    perm = torch.tensor([4, 0, 3, 5, 1, 2])  # unsorted: scatter path
    for order, fast in ((torch.arange(6), True), (torch.arange(6), False),
                        (perm, False)):
        with uniform_fast_path(fast):
            out = loss(pos, neg.reshape(-1)[order], index[order])
        g_ragged = torch.autograd.grad(out, neg)[0]
        torch.testing.assert_close(g_ragged, exp)


def test_inactive_hinge_is_zero_with_zero_gradient():
    pos = torch.tensor([10.0], dtype=torch.float64, requires_grad=True)
    neg = torch.tensor([[1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    out = SimCELoss(margin=5.0)(pos, neg)
    assert out.item() == 0.0
    out.backward()
    assert pos.grad.item() == 0.0 and bool((neg.grad == 0).all())


def test_validation():
    with pytest.raises(ValueError, match="'bound'"):
        SimCELoss(bound='relu')
    with pytest.raises(ValueError, match="'temperature'"):
        SimCELoss(temperature=-1.0)
    with pytest.raises(ValueError, match="'margin'"):
        SimCELoss(margin=float('inf'))
