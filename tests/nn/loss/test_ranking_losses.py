r"""Properties shared by every loss of :mod:`pyg_simce.nn.loss`, each checked
against a naive per-row float64 reference written independently of the
library (plain Python loop over the positives, unstabilised formulas)."""
import math

import pytest
import torch

from pyg_simce.nn.loss.ragged_groups import (
    SEGMENT_MIN_GROUP_SIZE,
    RaggedGroups,
    uniform_fast_path,
)
from pyg_simce.nn.loss import (
    BCELoss,
    BPRLoss,
    CCLLoss,
    MultiMarginLoss,
    SampledSoftmaxLoss,
    SimCELoss,
    SoftmaxLoss,
)

# Naive references: one positive score `p` (0-dim) and its negatives `n` (1-D,
# possibly empty) -> 0-dim loss.  Written from the papers' formulas.


def ref_bpr(p, n):
    if n.numel() == 0:
        return p * 0
    return torch.log(1 + torch.exp(n - p)).mean()


def ref_bce(p, n):
    return torch.log(1 + torch.exp(-p)) + torch.log(1 + torch.exp(n)).sum()


def make_ref_softmax(tau):
    def ref(p, n):
        return -torch.log(torch.exp(p / tau) /
                          (torch.exp(p / tau) + torch.exp(n / tau).sum()))

    return ref


def make_ref_simce(margin, bound='hinge', tau=1.0):
    def ref(p, n):
        if n.numel() == 0:
            return p * 0
        hardest = n.max()
        if bound == 'hinge':
            return torch.clamp(margin - p / tau + hardest / tau, min=0)
        x = (hardest - p) / tau + math.log(n.numel())
        return torch.log(1 + torch.exp(x))

    return ref


def make_ref_mml(margins, weights, wp, wn):
    def ref(p, n):
        out = wp * torch.clamp(1 - p, min=0)
        if n.numel() == 0:
            return out
        total = 0
        for m, w in zip(margins, weights):
            total = total + w * torch.clamp(n - m, min=0)
        return out + wn * total.sum() / n.numel()

    return ref


def make_ref_ccl(margin, w):
    def ref(p, n):
        out = torch.clamp(1 - p, min=0)
        if n.numel() == 0:
            return out
        return out + w * torch.clamp(n - margin, min=0).sum() / n.numel()

    return ref


CASES = [
    ('bpr', lambda: BPRLoss(), ref_bpr),
    ('bce', lambda: BCELoss(), ref_bce),
    ('softmax', lambda: SoftmaxLoss(), make_ref_softmax(1.0)),
    ('softmax_t', lambda: SoftmaxLoss(temperature=0.3),
     make_ref_softmax(0.3)),
    ('ssm', lambda: SampledSoftmaxLoss(), make_ref_softmax(0.1)),
    ('ssm_t', lambda: SampledSoftmaxLoss(temperature=0.7),
     make_ref_softmax(0.7)),
    ('simce', lambda: SimCELoss(), make_ref_simce(5.0)),
    ('simce_m1', lambda: SimCELoss(margin=1.0), make_ref_simce(1.0)),
    ('simce_softplus', lambda: SimCELoss(bound='softplus'),
     make_ref_simce(5.0, 'softplus')),
    ('simce_tau', lambda: SimCELoss(margin=0.5, temperature=0.2),
     make_ref_simce(0.5, 'hinge', 0.2)),
    ('ccl', lambda: CCLLoss(), make_ref_ccl(0.9, 150.0)),
    ('ccl_custom', lambda: CCLLoss(margin=0.2, negative_weight=3.0),
     make_ref_ccl(0.2, 3.0)),
    ('mml', lambda: MultiMarginLoss(),
     make_ref_mml((0.6, 0.7, 0.8, 0.9), (0.05, 0.15, 0.2, 0.6), 1.0, 350.0)),
    ('mml_custom',
     lambda: MultiMarginLoss(margins=(0.1, -0.3), weights=(2.0, 0.0),
                             positive_weight=0.5, negative_weight=4.0),
     make_ref_mml((0.1, -0.3), (2.0, 0.0), 0.5, 4.0)),
]
IDS = [c[0] for c in CASES]


def reference(ref, pos, neg, index=None, reduction='mean'):
    r"""Loops over the rows; `neg` dense [B, N] or ragged with `index`."""
    rows = []
    for b in range(pos.numel()):
        if index is None:
            n = neg[b]
        else:
            n = neg[index == b]
        rows.append(ref(pos[b], n))
    out = torch.stack(rows)
    if reduction == 'mean':
        return out.mean()
    if reduction == 'sum':
        return out.sum()
    return out


def scores(*shape, seed, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(*shape, generator=g, dtype=torch.float64) * 2 -
            1) * scale


def uneven_ragged(B, seed, max_n=6, allow_empty=True):
    g = torch.Generator().manual_seed(seed)
    low = 0 if allow_empty else 1
    counts = torch.randint(low, max_n + 1, (B, ), generator=g)
    if allow_empty and B > 1:
        counts[0] = 0  # at least one positive without negatives
    index = torch.arange(B).repeat_interleave(counts)
    perm = torch.randperm(index.numel(), generator=g)
    return index[perm]  # unsorted on purpose


@pytest.mark.parametrize('name,make,ref', CASES, ids=IDS)
@pytest.mark.parametrize('B,N', [(1, 1), (3, 4), (17, 33)])
def test_dense_matches_reference(name, make, ref, B, N):
    seed = 10 * B + N
    pos = scores(B, seed=seed, scale=2.0).requires_grad_()
    neg = scores(B, N, seed=seed + 1, scale=2.0).requires_grad_()
    for reduction in ('mean', 'sum', 'none'):
        loss = make()
        loss.reduction = reduction
        out = loss(pos, neg)
        exp = reference(ref, pos, neg, reduction=reduction)
        assert out.shape == exp.shape
        torch.testing.assert_close(out, exp, rtol=1e-9, atol=1e-9)
    out = make()(pos, neg)
    exp = reference(ref, pos, neg)
    g_out = torch.autograd.grad(out, (pos, neg))
    g_exp = torch.autograd.grad(exp, (pos, neg))
    for a, b in zip(g_out, g_exp):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize('name,make,ref', CASES, ids=IDS)
@pytest.mark.parametrize('B', [1, 5, 23])
@pytest.mark.parametrize('sort', [False, True], ids=['scatter', 'segment'])
def test_ragged_matches_reference(name, make, ref, B, sort):
    index = uneven_ragged(B, seed=B)
    if sort:  # sorted index: validated by its ends, segment reductions
        index = index.sort().values
    pos = scores(B, seed=B + 100, scale=2.0).requires_grad_()
    neg = scores(index.numel(), seed=B + 200, scale=2.0).requires_grad_()
    for reduction in ('mean', 'sum', 'none'):
        loss = make()
        loss.reduction = reduction
        out = loss(pos, neg, index)
        exp = reference(ref, pos, neg, index, reduction=reduction)
        torch.testing.assert_close(out, exp, rtol=1e-9, atol=1e-9)
    out = make()(pos, neg, index)
    exp = reference(ref, pos, neg, index)
    g_out = torch.autograd.grad(out, (pos, neg), allow_unused=True)
    g_exp = torch.autograd.grad(exp, (pos, neg), allow_unused=True)
    for a, b in zip(g_out, g_exp):
        if b is None:  # only when there are no negatives at all
            assert a is None or bool((a == 0).all())
            continue
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize('name,make,ref', CASES, ids=IDS)
@pytest.mark.parametrize('B,N', [(4, 1), (9, 16)])
@pytest.mark.parametrize('layout', ['shuffled', 'sorted', 'sorted_uniform'])
def test_dense_equals_ragged(name, make, ref, B, N, layout):
    pos = scores(B, seed=1, scale=3.0).requires_grad_()
    neg = scores(B, N, seed=2, scale=3.0).requires_grad_()
    index = torch.arange(B).repeat_interleave(N)
    perm = torch.randperm(B * N, generator=torch.Generator().manual_seed(3))
    if layout != 'shuffled':
        perm = torch.arange(B * N)
    loss = make()
    loss.reduction = 'none'
    dense = loss(pos, neg)
    with uniform_fast_path(layout == 'sorted_uniform'):
        ragged = loss(pos, neg.reshape(-1)[perm], index[perm])
    torch.testing.assert_close(dense, ragged, rtol=1e-12, atol=1e-12)
    g_dense = torch.autograd.grad(dense.sum(), (pos, neg))
    g_ragged = torch.autograd.grad(ragged.sum(), (pos, neg))
    for a, b in zip(g_dense, g_ragged):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('name,make,ref', CASES, ids=IDS)
def test_no_negatives_dense_and_ragged_agree(name, make, ref):
    pos = scores(4, seed=5).requires_grad_()
    loss = make()
    loss.reduction = 'none'
    dense = loss(pos, pos.new_zeros(4, 0))
    ragged = loss(pos, pos.new_zeros(0), torch.zeros(0, dtype=torch.long))
    exp = reference(ref, pos, pos.new_zeros(4, 0), reduction='none')
    torch.testing.assert_close(dense, exp)
    torch.testing.assert_close(ragged, dense)


@pytest.mark.parametrize('name,make,ref', CASES, ids=IDS)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('ragged', [False, 'uniform', 'segment', 'scatter'])
def test_finite_at_large_scores(name, make, ref, dtype, ragged):
    B, N = 6, 5
    g = torch.Generator().manual_seed(7)
    signs = torch.randint(0, 2, (B * (N + 1), ), generator=g) * 2 - 1
    values = (signs * 1e4).to(dtype)
    values[::3] = values[::3] * torch.rand(values[::3].shape,
                                           generator=g).to(dtype)
    pos = values[:B].clone().requires_grad_()
    neg = values[B:].view(B, N).clone().requires_grad_()
    loss = make()
    if ragged:
        index = torch.arange(B).repeat_interleave(N)
        perm = torch.arange(B * N)
        if ragged == 'scatter':
            perm = torch.randperm(B * N, generator=g)
        with uniform_fast_path(ragged == 'uniform'):
            out = loss(pos, neg.reshape(-1)[perm], index[perm])
    else:
        out = loss(pos, neg)
    assert torch.isfinite(out)
    grads = torch.autograd.grad(out, (pos, neg))
    assert all(bool(torch.isfinite(gr).all()) for gr in grads)
    # The value itself is right, not just finite (float64 reference where the
    # naive formula does not overflow is replaced by a stable one):
    exp = _stable_reference(name, loss, pos.double(), neg.double())
    torch.testing.assert_close(out.double(), exp, rtol=1e-5, atol=1e-3)


def _stable_reference(name, loss, pos, neg):
    F = torch.nn.functional
    if name.startswith('bpr'):
        out = F.softplus(neg - pos[:, None]).mean(1)
    elif name.startswith('bce'):
        out = F.softplus(-pos) + F.softplus(neg).sum(1)
    elif name.startswith(('softmax', 'ssm')):
        t = loss.temperature
        logits = torch.cat([pos[:, None], neg], 1) / t
        out = torch.logsumexp(logits, 1) - pos / t
    elif name.startswith('simce'):
        t = loss.temperature
        gap = (neg.max(1).values - pos) / t
        if loss.bound == 'hinge':
            out = (gap + loss.margin).clamp(min=0)
        else:
            out = F.softplus(gap + math.log(neg.size(1)))
    else:
        ref = (make_ref_ccl(loss.margin, loss.negative_weight)
               if name.startswith('ccl') else make_ref_mml(
                   loss.margins, loss.weights, loss.positive_weight,
                   loss.negative_weight))
        out = torch.stack([ref(pos[b], neg[b]) for b in range(pos.numel())])
    return out.mean()


@pytest.mark.parametrize('name,make,ref', CASES, ids=IDS)
def test_float32_close_to_float64(name, make, ref):
    pos = scores(8, seed=11, scale=2.0)
    neg = scores(8, 7, seed=12, scale=2.0)
    loss = make()
    torch.testing.assert_close(
        loss(pos.float(), neg.float()).double(), loss(pos, neg), rtol=1e-5,
        atol=1e-5)


# Arbitrary-order ragged index ###############################################

# Sorted indices take one of two kernels by their average group size; an
# index in arbitrary order is reduced without sorting.  Group sizes of both
# regimes, uneven, with empty groups:
GROUP_SIZES = {
    'small_groups': [0, 3, 1, 7, 2, 0, 5, 4, 1],
    'segment_groups': [0, 31, 17, 1, 40, 0, 26, 22, 19],
}


def sorted_and_shuffled(sizes, seed):
    index = torch.arange(len(sizes)).repeat_interleave(torch.tensor(sizes))
    perm = torch.randperm(index.numel(),
                          generator=torch.Generator().manual_seed(seed))
    return index, perm


@pytest.mark.parametrize('sizes', list(GROUP_SIZES), ids=list(GROUP_SIZES))
def test_group_kernels_match_naive_loops(sizes):
    sizes = GROUP_SIZES[sizes]
    B = len(sizes)
    index, perm = sorted_and_shuffled(sizes, seed=B)
    src = scores(index.numel(), seed=4)
    src[index == 2] = 0.5  # a tied maximum in group 2
    per_group = scores(B, seed=5)
    for idx, values in ((index, src), (index[perm], src[perm])):
        groups = RaggedGroups(idx, B)
        segment = (groups.sorted and
                   index.numel() >= SEGMENT_MIN_GROUP_SIZE * B)
        assert (groups.ptr is not None) == segment
        assert groups.sorted == (idx is index)
        x = values.clone().requires_grad_()
        rows = [x[idx == b] for b in range(B)]
        count = torch.tensor([r.numel() for r in rows])
        assert torch.equal(groups.count(), count)
        exp_sum = torch.stack([r.sum() for r in rows])
        exp_max = torch.stack([
            r.amax() if r.numel() else r.new_tensor(float('-inf'))
            for r in rows
        ])
        exp_mean = exp_sum / count.clamp(min=1)
        w = scores(B, seed=6)
        for out, exp in ((groups.sum(x), exp_sum),
                         (groups.mean(x), exp_mean),
                         (groups.max(x), exp_max)):
            torch.testing.assert_close(out, exp, rtol=1e-12, atol=1e-12)
            finite = torch.isfinite(exp)
            ga, = torch.autograd.grad((out * w)[finite].sum(), x)
            gb, = torch.autograd.grad((exp * w)[finite].sum(), x,
                                      retain_graph=True)
            torch.testing.assert_close(ga, gb, rtol=1e-12, atol=1e-12)
        y = per_group.clone().requires_grad_()
        out = groups.gather(y)
        torch.testing.assert_close(out, per_group[idx])
        ga, = torch.autograd.grad((out * values).sum(), y)
        torch.testing.assert_close(ga, exp_sum.detach(), rtol=1e-12,
                                   atol=1e-12)


@pytest.mark.parametrize('name,make,ref', CASES, ids=IDS)
@pytest.mark.parametrize('sizes', list(GROUP_SIZES), ids=list(GROUP_SIZES))
def test_shuffled_ragged_equals_sorted_and_reference(name, make, ref, sizes):
    sizes = GROUP_SIZES[sizes]
    B = len(sizes)
    index, perm = sorted_and_shuffled(sizes, seed=7)
    pos = scores(B, seed=8, scale=2.0)
    neg = scores(index.numel(), seed=9, scale=2.0)
    w = scores(B, seed=10)  # weights the rows of reduction='none'
    for reduction in ('none', 'mean', 'sum'):
        loss = make()
        loss.reduction = reduction
        outs, grads = [], []
        for layout in ('sorted', 'shuffled', 'reference'):
            order = perm if layout == 'shuffled' else torch.arange(len(neg))
            p = pos.clone().requires_grad_()
            n = neg[order].clone().requires_grad_()
            if layout == 'reference':  # naive per-row loop, sorted layout
                out = reference(ref, p, n, index, reduction=reduction)
            else:
                out = loss(p, n, index[order])
            total = (out * w).sum() if reduction == 'none' else out
            outs.append(out)
            grads.append(torch.autograd.grad(total, (p, n)))
        (sorted_out, shuffled_out, exp) = outs
        (g_sorted, g_shuffled, g_exp) = grads
        assert shuffled_out.shape == exp.shape
        torch.testing.assert_close(shuffled_out, sorted_out, rtol=1e-12,
                                   atol=1e-12)
        torch.testing.assert_close(shuffled_out, exp, rtol=1e-9, atol=1e-9)
        # Gradients come back at the positions the negatives were given in.
        torch.testing.assert_close(g_shuffled[0], g_sorted[0], rtol=1e-12,
                                   atol=1e-12)
        torch.testing.assert_close(g_shuffled[1], g_sorted[1][perm],
                                   rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(g_shuffled[0], g_exp[0], rtol=1e-8,
                                   atol=1e-10)
        torch.testing.assert_close(g_shuffled[1], g_exp[1][perm], rtol=1e-8,
                                   atol=1e-10)


@pytest.mark.parametrize('sizes', list(GROUP_SIZES) + ['uniform'],
                         ids=list(GROUP_SIZES) + ['uniform'])
def test_shuffled_ragged_log_q_equals_sorted_and_reference(sizes):
    B = 9
    sizes = GROUP_SIZES.get(sizes, [6] * B)
    index, perm = sorted_and_shuffled(sizes, seed=11)
    E = index.numel()
    pos = scores(B, seed=12, scale=2.0)
    neg = scores(E, seed=13, scale=2.0)
    log_q = scores(E, seed=14).add(2.0).div(4.0).log()  # q in [0.25, 0.75]
    pos_log_q = scores(B, seed=15).add(2.0).div(4.0).log()
    w = scores(B, seed=16)
    tau = 0.3

    def naive(p, n, lq, plq):
        rows = []
        for b in range(B):
            x = p[b] / tau - plq[b]
            y = n[index == b] / tau - lq[index == b]
            rows.append(-torch.log(x.exp() / (x.exp() + y.exp().sum())))
        return torch.stack(rows)

    for reduction in ('none', 'mean', 'sum'):
        loss = SampledSoftmaxLoss(temperature=tau, reduction=reduction)
        outs, grads = [], []
        for layout in ('sorted', 'shuffled', 'dense', 'reference'):
            if layout == 'dense' and len(set(sizes)) > 1:
                continue
            order = perm if layout == 'shuffled' else torch.arange(E)
            p = pos.clone().requires_grad_()
            n = neg[order].clone().requires_grad_()
            lq = log_q[order].clone().requires_grad_()
            if layout == 'reference':
                out = naive(p, n, lq, pos_log_q)
                out = {'none': out, 'mean': out.mean(),
                       'sum': out.sum()}[reduction]
            elif layout == 'dense':
                out = loss(p, n.view(B, -1), log_q=lq.view(B, -1),
                           pos_log_q=pos_log_q)
            else:
                out = loss(p, n, index[order], lq, pos_log_q)
            total = (out * w).sum() if reduction == 'none' else out
            g_p, g_n, g_lq = torch.autograd.grad(total, (p, n, lq))
            # Back to the sorted order to compare position by position.
            inverse = torch.empty_like(order)
            inverse[order] = torch.arange(E)
            outs.append(out)
            grads.append((g_p, g_n[inverse], g_lq[inverse]))
        for out, grad in zip(outs[1:], grads[1:]):
            torch.testing.assert_close(out, outs[0], rtol=1e-12, atol=1e-12)
            for a, b in zip(grad, grads[0]):
                torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


# Validation ##################################################################


@pytest.mark.parametrize('name,make,ref', CASES, ids=IDS)
def test_shape_and_index_validation(name, make, ref):
    loss = make()
    pos, neg = torch.randn(3), torch.randn(3, 2)
    with pytest.raises(ValueError, match="'pos'"):
        loss(torch.randn(0), torch.randn(0, 2))  # empty batch
    with pytest.raises(ValueError, match="'pos'"):
        loss(torch.randn(3, 1), neg)
    with pytest.raises(ValueError, match="'neg'"):
        loss(pos, torch.randn(4, 2))
    with pytest.raises(ValueError, match="'neg'"):
        loss(pos, torch.randn(3))
    with pytest.raises(ValueError, match="'neg'"):
        loss(pos, neg.flatten(), torch.arange(6).view(3, 2))
    with pytest.raises(ValueError, match="'index'"):
        loss(pos, torch.randn(6), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="'index'"):
        loss(pos, torch.randn(2), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="'index'"):
        loss(pos, torch.randn(2), torch.tensor([-1, 0]))
    with pytest.raises(ValueError, match="'index'"):
        loss(pos, torch.randn(2), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="'pos'"):
        loss(torch.tensor([0, 1, 2]), neg)
    with pytest.raises(ValueError, match="'pos'"):
        loss(torch.tensor([0.0, float('nan'), 1.0]), neg)
    bad = neg.clone()
    bad[1, 1] = float('inf')
    with pytest.raises(ValueError, match="'neg'"):
        loss(pos, bad)
    with pytest.raises(ValueError, match="'reduction'"):
        make().__class__(reduction='avg')


def test_int32_index_and_mixed_dtypes_are_accepted():
    pos = scores(3, seed=1)
    neg = scores(5, seed=2).float()
    index = torch.tensor([0, 0, 1, 2, 2], dtype=torch.int32)
    out = SampledSoftmaxLoss()(pos, neg, index)
    exp = SampledSoftmaxLoss()(pos, neg.double(), index.long())
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, exp)


def test_negative_infinity_negatives_act_as_absent():
    pos = scores(3, seed=1)
    neg = scores(3, 4, seed=2)
    masked = neg.clone()
    masked[:, 2:] = float('-inf')
    for loss in (SampledSoftmaxLoss(), SoftmaxLoss(), BCELoss(), SimCELoss()):
        torch.testing.assert_close(loss(pos, masked), loss(pos, neg[:, :2]))


def test_repr():
    assert repr(SimCELoss()) == ("SimCELoss(margin=5.0, bound='hinge', "
                                 "temperature=1.0, reduction='mean')")
    assert repr(BPRLoss(reduction='sum')) == "BPRLoss(reduction='sum')"
