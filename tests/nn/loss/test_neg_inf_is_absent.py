r""":attr:`RankingLoss.neg_inf_is_absent`: where it is :obj:`True`, a dense
call with :obj:`-inf` negatives equals the ragged call with those negatives
removed, in value and gradient; where it is :obj:`False`, it does not."""
import pytest
import torch

from pyg_simce.nn.loss import (
    BCELoss,
    BPRLoss,
    CCLLoss,
    MultiMarginLoss,
    RankingLoss,
    SampledSoftmaxLoss,
    SimCELoss,
    SoftmaxLoss,
    loss_resolver,
)
from pyg_simce.nn.loss.resolver import LOSSES

CASES = {
    'bpr': lambda: BPRLoss(),
    'bce': lambda: BCELoss(),
    'softmax': lambda: SoftmaxLoss(),
    'softmax_t': lambda: SoftmaxLoss(temperature=0.3),
    'ssm': lambda: SampledSoftmaxLoss(),
    'ssm_t': lambda: SampledSoftmaxLoss(temperature=0.7),
    'simce': lambda: SimCELoss(),
    'simce_tau': lambda: SimCELoss(margin=0.5, temperature=0.2),
    'simce_softplus': lambda: SimCELoss(bound='softplus'),
    'ccl': lambda: CCLLoss(),
    'mml': lambda: MultiMarginLoss(),
}
ABSENT = [name for name, make in CASES.items() if make().neg_inf_is_absent]
NOT_ABSENT = [name for name in CASES if name not in ABSENT]


def test_which_losses_treat_neg_inf_as_absent():
    assert RankingLoss.neg_inf_is_absent is False
    assert set(ABSENT) == {'bce', 'softmax', 'softmax_t', 'ssm', 'ssm_t',
                           'simce', 'simce_tau'}
    for cls in (BPRLoss, CCLLoss, MultiMarginLoss):
        assert cls.neg_inf_is_absent is False
    for cls in (BCELoss, SoftmaxLoss, SampledSoftmaxLoss, SimCELoss):
        assert cls.neg_inf_is_absent is True
    # By name, as a trainer resolves them:
    absent = {name for name in LOSSES if loss_resolver(name).neg_inf_is_absent}
    assert absent == {'bce', 'softmax', 'ssm', 'sampled_softmax', 'simce'}


def _masked(seed, dtype, low=-2.0, high=2.0):
    r"""Dense :obj:`pos [5]`, :obj:`neg [5, 6]` with :obj:`-inf` entries
    (row 0 none, row 3 all, the others some), and the ragged equivalent of
    the finite entries."""
    g = torch.Generator().manual_seed(seed)
    B, N = 5, 6
    pos = torch.rand(B, generator=g, dtype=torch.float64) * 4 - 2
    neg = torch.rand(B, N, generator=g, dtype=torch.float64)
    neg = neg * (high - low) + low
    absent = torch.rand(B, N, generator=g) < 0.4
    absent[0] = False
    absent[3] = True
    absent[1, :2] = True
    absent[1, 2:] = False
    keep = ~absent
    index = torch.arange(B).view(B, 1).expand(B, N)[keep]
    pos, neg = pos.to(dtype), neg.to(dtype)
    return pos, neg.masked_fill(absent, float('-inf')), neg[keep], index, keep


@pytest.mark.parametrize('name', ABSENT)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('shuffle', [False, True])
def test_dense_neg_inf_equals_ragged_without(name, dtype, shuffle):
    pos, neg_inf, neg_kept, index, keep = _masked(0, dtype)
    perm = torch.arange(index.numel())
    if shuffle:
        perm = torch.randperm(index.numel(),
                              generator=torch.Generator().manual_seed(1))
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else {}
    for reduction in ('mean', 'sum', 'none'):
        loss = CASES[name]()
        loss.reduction = reduction
        torch.testing.assert_close(loss(pos, neg_inf),
                                   loss(pos, neg_kept[perm], index[perm]),
                                   **tol)

    loss = CASES[name]()
    loss.reduction = 'none'
    w = torch.linspace(0.5, 1.5, pos.numel(), dtype=dtype)
    p1, n1 = pos.clone().requires_grad_(), neg_inf.clone().requires_grad_()
    g_pos, g_neg = torch.autograd.grad((loss(p1, n1) * w).sum(), (p1, n1))
    p2 = pos.clone().requires_grad_()
    n2 = neg_kept[perm].clone().requires_grad_()
    g_pos_r, g_neg_r = torch.autograd.grad(
        (loss(p2, n2, index[perm]) * w).sum(), (p2, n2))
    assert bool(torch.isfinite(g_pos).all())
    assert bool(torch.isfinite(g_neg).all())  # no NaN at the -inf entries
    assert bool((g_neg[~keep] == 0).all())
    torch.testing.assert_close(g_pos, g_pos_r, **tol)
    torch.testing.assert_close(g_neg[keep][perm], g_neg_r, **tol)


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_ssm_log_q_with_neg_inf_equals_ragged_without(dtype):
    pos, neg_inf, neg_kept, index, keep = _masked(2, dtype)
    g = torch.Generator().manual_seed(3)
    log_q = (torch.rand(neg_inf.shape, generator=g) * 0.9 + 0.05).log()
    log_q = log_q.to(dtype)
    pos_log_q = torch.full_like(pos, -1.5)
    loss = SampledSoftmaxLoss(temperature=0.2, reduction='none')
    n1 = neg_inf.clone().requires_grad_()
    dense = loss(pos, n1, log_q=log_q, pos_log_q=pos_log_q)
    n2 = neg_kept.clone().requires_grad_()
    ragged = loss(pos, n2, index, log_q[keep], pos_log_q)
    torch.testing.assert_close(dense, ragged)
    g1, = torch.autograd.grad(dense.sum(), n1)
    g2, = torch.autograd.grad(ragged.sum(), n2)
    assert bool((g1[~keep] == 0).all()) and bool(torch.isfinite(g1).all())
    torch.testing.assert_close(g1[keep], g2)


@pytest.mark.parametrize('name', NOT_ABSENT)
def test_dense_neg_inf_differs_from_ragged_without(name):
    # Negatives above every margin, so that each finite one contributes.
    pos, neg_inf, neg_kept, index, keep = _masked(4, torch.float64,
                                                  low=0.92, high=0.99)
    loss = CASES[name]()
    assert loss.neg_inf_is_absent is False
    loss.reduction = 'none'
    dense = loss(pos, neg_inf)
    ragged = loss(pos, neg_kept, index)
    # Rows with some (not all) negatives at -inf: the mean over the
    # negatives (or log N) still counts the -inf ones.
    partly = (~keep).any(1) & keep.any(1)
    assert bool(partly.any())
    assert bool(torch.isfinite(dense).all())
    assert bool(((dense - ragged).abs() > 1e-3)[partly].all())
    torch.testing.assert_close(dense[~partly], ragged[~partly])
