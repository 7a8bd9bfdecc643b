import math

import pytest
import torch

from pyg_simce.nn.loss import SampledSoftmaxLoss, SoftmaxLoss


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
    from pyg_simce.nn.loss.ragged_groups import uniform_fast_path
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


# forward_logits ##############################################################

NEG_INF = float('-inf')


def _ref_logits(scores, target, tau, reduction):
    r"""Naive per-row reference: log-sum-exp over the finite columns of the
    row divided by tau, minus the target's scaled score."""
    rows = []
    for b in range(scores.size(0)):
        row = scores[b]
        keep = row != NEG_INF
        x = row[keep] / tau
        t = int(keep[:int(target[b])].sum())  # target among the kept columns
        rows.append(torch.logsumexp(x, 0) - x[t])
    out = torch.stack(rows)
    return {'mean': out.mean(), 'sum': out.sum(), 'none': out}[reduction]


def _logits(seed, dtype=torch.float64):
    r"""Scores [6, 7] with -inf columns (none in row 0, all but the target
    in row 4) and repeated target columns."""
    g = torch.Generator().manual_seed(seed)
    scores = (torch.rand(6, 7, generator=g, dtype=torch.float64) * 6 - 3)
    target = torch.tensor([0, 3, 3, 0, 6, 3])
    absent = torch.rand(6, 7, generator=g) < 0.35
    absent[0] = False
    absent[4] = True
    absent[torch.arange(6), target] = False
    return scores.masked_fill(absent, NEG_INF).to(dtype), target, absent


LOGITS_LOSSES = [SampledSoftmaxLoss, SoftmaxLoss]


@pytest.mark.parametrize('cls', LOGITS_LOSSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize('tau', [1.0, 0.1, 0.37])
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_forward_logits_matches_reference(cls, tau, reduction):
    scores, target, absent = _logits(seed=5)
    loss = cls(temperature=tau, reduction=reduction)
    s1 = scores.clone().requires_grad_()
    out = loss.forward_logits(s1, target)
    s2 = scores.clone().requires_grad_()
    exp = _ref_logits(s2, target, tau, reduction)
    assert out.shape == exp.shape
    torch.testing.assert_close(out, exp, rtol=1e-10, atol=1e-12)
    w = torch.linspace(0.5, 1.5, 6, dtype=torch.float64)
    g_out, = torch.autograd.grad((out * w).sum(), s1)
    g_exp, = torch.autograd.grad((exp * w).sum(), s2)
    assert bool(torch.isfinite(g_out).all())
    assert bool((g_out[absent] == 0).all())
    torch.testing.assert_close(g_out, g_exp, rtol=1e-10, atol=1e-12)
    assert out.dtype == torch.float64
    assert torch.equal(scores, s1.detach())  # the input is not written


@pytest.mark.parametrize('cls', LOGITS_LOSSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_forward_logits_equals_ragged_forward(cls, reduction):
    scores, target, absent = _logits(seed=6)
    B, C = scores.shape
    is_target = torch.zeros(B, C, dtype=torch.bool)
    is_target[torch.arange(B), target] = True
    neg_mask = ~is_target & ~absent
    index = torch.arange(B).view(B, 1).expand(B, C)[neg_mask]
    loss = cls(temperature=0.2, reduction=reduction)
    s = scores.clone().requires_grad_()
    out = loss.forward_logits(s, target)
    pos = scores[torch.arange(B), target].requires_grad_()
    neg = scores[neg_mask].requires_grad_()
    exp = loss(pos, neg, index)
    torch.testing.assert_close(out, exp, rtol=1e-10, atol=1e-12)
    g, = torch.autograd.grad(out.sum(), s)
    g_pos, g_neg = torch.autograd.grad(exp.sum(), (pos, neg))
    torch.testing.assert_close(g[torch.arange(B), target], g_pos)
    torch.testing.assert_close(g[neg_mask], g_neg)


def test_forward_logits_float32_at_large_scores():
    scores, target, _ = _logits(seed=7)
    scores = scores * 3e3  # logits up to 9e4 at tau = 0.1
    loss = SampledSoftmaxLoss(temperature=0.1, reduction='none')
    s = scores.float().requires_grad_()
    out = loss.forward_logits(s, target)
    assert out.dtype == torch.float32
    exp = _ref_logits(scores, target, 0.1, 'none')
    torch.testing.assert_close(out.double(), exp, rtol=1e-5, atol=1e-2)
    g, = torch.autograd.grad(out.sum(), s)
    assert bool(torch.isfinite(g).all())


def test_forward_logits_float32_keeps_precision_past_softmax_underflow():
    # Rows whose target probability is a float32 denormal or zero (losses
    # from about 80 to 140) against the float64 reference: the relative
    # error stays at float32 rounding instead of the denormal's few bits.
    g = torch.Generator().manual_seed(3)
    scores = torch.randn(64, 300, generator=g, dtype=torch.float64) * 25
    target = torch.randint(300, (64, ), generator=g)
    loss = SampledSoftmaxLoss(temperature=1.0, reduction='none')
    exp = _ref_logits(scores, target, 1.0, 'none')
    assert float(exp.max()) > 104  # p below the smallest denormal
    assert bool(((exp > 88) & (exp < 103)).any())  # p a denormal
    s = scores.float().requires_grad_()
    out = loss.forward_logits(s, target)
    torch.testing.assert_close(out.double(), exp, rtol=1e-6, atol=1e-5)
    g_out, = torch.autograd.grad(out.sum(), s)
    s64 = scores.clone().requires_grad_()
    g_exp, = torch.autograd.grad(_ref_logits(s64, target, 1.0,
                                             'none').sum(), s64)
    torch.testing.assert_close(g_out.double(), g_exp, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('cls', LOGITS_LOSSES, ids=lambda c: c.__name__)
def test_forward_logits_second_backward_equals_first(cls):
    # The first backward turns the saved softmax into the gradient in
    # place; a second one through the retained graph must not reuse it.
    scores, target, _ = _logits(seed=8)
    s = scores.clone().requires_grad_()
    out = cls(temperature=0.3).forward_logits(s, target)
    first, = torch.autograd.grad(out, s, retain_graph=True)
    second, = torch.autograd.grad(out, s)
    torch.testing.assert_close(second, first, rtol=0, atol=0)


@pytest.mark.parametrize('cls', LOGITS_LOSSES, ids=lambda c: c.__name__)
def test_forward_logits_validation(cls):
    loss = cls()
    scores, target = torch.randn(3, 4), torch.tensor([0, 1, 3])
    bad_inputs = [
        (scores.tolist(), target, "'scores' to be a tensor"),
        (scores.long(), target, "'scores' to hold floating-point"),
        (scores[0], target, r"'scores' of shape \[B, C\]"),
        (scores[:0], target[:0], r"'scores' of shape \[B, C\]"),
        (scores[:, :0], target, r"'scores' of shape \[B, C\]"),
        (scores, [0, 1, 3], "'target' to be a tensor"),
        (scores, target.float(), "'target' to hold integers"),
        (scores, target.bool(), "'target' to hold integers"),
        (scores, target[:2], r"'target' of shape \[B\] = \[3\]"),
        (scores, target.view(3, 1), r"'target' of shape \[B\] = \[3\]"),
        (scores, torch.tensor([0, 1, 4]), r"'target' values in \[0, 4\)"),
        (scores, torch.tensor([-1, 1, 2]), r"'target' values in \[0, 4\)"),
    ]
    for s, t, match in bad_inputs:
        with pytest.raises(ValueError, match=match):
            loss.forward_logits(s, t)
    # int32 targets are accepted:
    torch.testing.assert_close(loss.forward_logits(scores, target.int()),
                               loss.forward_logits(scores, target))


@pytest.mark.parametrize('cls', LOGITS_LOSSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_forward_logits_non_finite_is_an_error(cls, reduction):
    loss = cls(reduction=reduction)
    scores, target = torch.randn(3, 4), torch.tensor([0, 1, 3])
    at_target = scores.clone()
    at_target[1, 1] = NEG_INF  # a -inf positive: loss +inf, not silent
    with pytest.raises(ValueError, match=r"'scores\[target\]' holds 1 non"):
        loss.forward_logits(at_target, target)
    whole_row = scores.clone()
    whole_row[2] = NEG_INF  # nan row
    with pytest.raises(ValueError, match=r"'scores\[target\]' holds 1 non"):
        loss.forward_logits(whole_row, target)
    for value in (float('nan'), float('inf')):
        bad = scores.clone()
        bad[0, 2] = value
        with pytest.raises(ValueError, match="'scores' holds 1 non-finite"):
            loss.forward_logits(bad, target)
    # A -inf column elsewhere is fine:
    ok = scores.clone()
    ok[0, 2] = NEG_INF
    assert bool(torch.isfinite(loss.forward_logits(ok, target)).all())


@pytest.mark.parametrize('cls,tau', [('SampledSoftmaxLoss', 0.2),
                                     ('SoftmaxLoss', 0.5),
                                     ('SoftmaxLoss', 1.0)])
def test_forward_logits_prescaled_equals_unscaled(cls, tau):
    import pyg_simce.nn.loss as L
    loss = getattr(L, cls)(temperature=tau)
    assert loss.logit_scale == pytest.approx(1.0 / tau)
    g = torch.Generator().manual_seed(0)
    s = torch.randn(6, 9, generator=g, dtype=torch.float64)
    s[1, 3] = float('-inf')
    t = torch.tensor([0, 2, 8, 1, 1, 5])
    a = s.clone().requires_grad_()
    b = s.clone().requires_grad_()
    plain = loss.forward_logits(a, t)
    folded = loss.forward_logits(b * loss.logit_scale, t, scaled=True)
    torch.testing.assert_close(plain, folded)
    plain.backward()
    folded.backward()
    torch.testing.assert_close(a.grad, b.grad)
    # Without scaled=True the scale would be applied twice.
    twice = loss.forward_logits(s * loss.logit_scale, t)
    assert tau == 1.0 or not torch.allclose(twice, plain.detach())
