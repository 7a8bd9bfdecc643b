r"""Half-precision inputs (float16, bfloat16) give the float64 loss, computed
in float32 and returned as float32; a non-finite positive score raises in
every loss.  The reference is a stable float64 formula written here from
the papers' definitions, evaluated on the very same (rounded) inputs."""
import math

import pytest
import torch
import torch.nn.functional as F

from pyg_simce.nn.loss import SampledSoftmaxLoss, SoftmaxLoss
from pyg_simce.nn.loss.resolver import LOSSES

# Every loss with its defaults, and variants of temperature and bound.
VARIANTS = [('bpr', {}), ('bce', {}), ('softmax', {}),
            ('softmax', {'temperature': 0.3}), ('ssm', {}), ('simce', {}),
            ('simce', {'bound': 'softplus'}),
            ('simce', {'margin': 0.5, 'temperature': 0.2}), ('ccl', {}),
            ('mml', {})]
CASES = {
    '_'.join([name] + [f'{k}={v}' for k, v in kw.items()]):
    (lambda name=name, kw=kw: LOSSES[name](**kw))
    for name, kw in VARIANTS
}
HALF = [torch.float16, torch.bfloat16]


def ref_row(name, loss, p, n):
    r"""Float64 loss of one positive ``p`` against negatives ``n``."""
    if name == 'bpr':
        return F.softplus(n - p).mean() if n.numel() else p * 0
    if name == 'bce':
        return F.softplus(-p) + F.softplus(n).sum()
    if name.startswith(('softmax', 'ssm')):
        t = loss.temperature
        return torch.logsumexp(torch.cat([p[None], n]) / t, 0) - p / t
    if name.startswith('simce'):
        if n.numel() == 0:
            return p * 0
        gap = (n.max() - p) / loss.temperature
        if loss.bound == 'hinge':
            return (gap + loss.margin).clamp(min=0)
        return F.softplus(gap + math.log(n.numel()))
    if name == 'ccl':
        out = (1 - p).clamp(min=0)
        if n.numel():
            out = out + loss.negative_weight * (n - loss.margin).clamp(
                min=0).mean()
        return out
    assert name == 'mml'
    out = loss.positive_weight * (1 - p).clamp(min=0)
    if n.numel():
        total = sum(w * (n - m).clamp(min=0)
                    for m, w in zip(loss.margins, loss.weights))
        out = out + loss.negative_weight * total.mean()
    return out


def reference(name, loss, pos, neg, index=None):
    pos, neg = pos.double(), neg.double()
    rows = [
        ref_row(name, loss, pos[b], neg[b] if index is None else
                neg[index == b]) for b in range(pos.numel())
    ]
    return torch.stack(rows).mean()


def inputs(kind, dtype, B=6, N=5):
    g = torch.Generator().manual_seed(3)
    if kind == 'all_1e4':  # every score equal: softmax gives log(N + 1)
        values = torch.full((B * (N + 1), ), 1e4)
    elif kind == 'mixed_1e4':
        sign = torch.randint(0, 2, (B * (N + 1), ), generator=g) * 2 - 1
        values = sign * 1e4 * (0.5 + torch.rand(B * (N + 1), generator=g))
    else:  # normal scores
        values = torch.randn(B * (N + 1), generator=g) * 2
    values = values.to(dtype)
    return values[:B].clone(), values[B:].view(B, N).clone()


@pytest.mark.parametrize('name', list(CASES))
@pytest.mark.parametrize('dtype', HALF, ids=['fp16', 'bf16'])
@pytest.mark.parametrize('kind', ['all_1e4', 'mixed_1e4', 'normal'])
@pytest.mark.parametrize('form', ['dense', 'ragged'])
def test_half_precision_equals_float64(name, dtype, kind, form):
    loss = CASES[name]()
    pos, neg = inputs(kind, dtype)
    pos.requires_grad_()
    neg.requires_grad_()
    if form == 'dense':
        out = loss(pos, neg)
        exp = reference(name, loss, pos.detach(), neg.detach())
    else:  # uneven groups in arbitrary order, one positive without any
        index = torch.tensor([1, 0, 2, 5, 5, 1, 3, 3, 3, 4, 1, 5, 4, 2])
        flat = neg.reshape(-1)[:index.numel()]
        out = loss(pos, flat, index)
        exp = reference(name, loss, pos.detach(), flat.detach(), index)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.double(), exp, rtol=1e-3, atol=1e-6)
    grads = torch.autograd.grad(out, (pos, neg), allow_unused=True)
    for param, grad in zip((pos, neg), grads):
        assert grad is None or (grad.dtype == param.dtype
                                and bool(torch.isfinite(grad).all()))


@pytest.mark.parametrize('dtype', HALF, ids=['fp16', 'bf16'])
def test_softmax_of_equal_large_scores_is_log_n(dtype):
    pos, neg = inputs('all_1e4', dtype)
    for loss in (SoftmaxLoss(), SampledSoftmaxLoss()):
        out = loss(pos, neg)
        assert abs(float(out) - math.log(6)) < 1e-3 * math.log(6)


@pytest.mark.parametrize('make', [SoftmaxLoss, SampledSoftmaxLoss])
@pytest.mark.parametrize('dtype', HALF, ids=['fp16', 'bf16'])
@pytest.mark.parametrize('kind', ['all_1e4', 'mixed_1e4', 'normal'])
@pytest.mark.parametrize('scaled', [False, True])
def test_forward_logits_half_precision(make, dtype, kind, scaled):
    loss = make()
    pos, neg = inputs(kind, dtype)
    scores = torch.cat([neg[:, :2], pos[:, None], neg[:, 2:]], 1)
    target = torch.full((pos.numel(), ), 2)
    t = loss.temperature
    if scaled:  # the caller folded 1 / tau in: scores are the logits
        logits = scores.double()
    else:
        logits = scores.double() / t
    out = loss.forward_logits(scores, target, scaled=scaled)
    assert out.dtype == torch.float32
    exp = (torch.logsumexp(logits, 1) - logits[:, 2]).mean()
    torch.testing.assert_close(out.double(), exp, rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize('name', list(CASES))
@pytest.mark.parametrize('bad', [float('inf'), float('nan')])
@pytest.mark.parametrize('form', ['dense', 'ragged'])
def test_non_finite_positive_raises(name, bad, form):
    loss = CASES[name]()
    pos = torch.tensor([0.5, -0.2, 1.0])
    neg = torch.tensor([[0.1, -0.3], [0.2, 0.0], [-1.0, 0.4]])
    pos[1] = bad
    with pytest.raises(ValueError, match="'pos' holds 1 non-finite"):
        if form == 'dense':
            loss(pos, neg)
        else:
            loss(pos, neg.reshape(-1), torch.tensor([0, 0, 1, 1, 2, 2]))


@pytest.mark.parametrize('name', list(CASES))
def test_minus_inf_negative_stays_allowed(name):
    loss = CASES[name]()
    pos = torch.tensor([0.5, -0.2])
    neg = torch.tensor([[0.1, float('-inf')], [0.2, 0.0]])
    assert bool(torch.isfinite(loss(pos, neg)))


def test_non_finite_target_score_raises_in_forward_logits():
    scores = torch.tensor([[0.1, float('nan'), 0.3], [0.0, 0.2, 0.1]])
    with pytest.raises(ValueError, match='non-finite'):
        SoftmaxLoss().forward_logits(scores, torch.tensor([1, 0]))
