import pytest
import torch
import torch.nn.functional as F

from pyg_simce.nn.loss import SoftmaxLoss


def _full(B, num_items, seed):
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(B, num_items, generator=g, dtype=torch.float64)
    target = torch.randint(0, num_items, (B, ), generator=g)
    return scores, target


@pytest.mark.parametrize('tau', [1.0, 0.2])
def test_forward_full_is_cross_entropy(tau):
    scores, target = _full(7, 11, seed=0)
    exp = F.cross_entropy(scores / tau, target)
    torch.testing.assert_close(SoftmaxLoss(tau).forward_full(scores, target),
                               exp)


def test_forward_equals_forward_full_with_all_other_items():
    scores, target = _full(5, 9, seed=1)
    B, num_items = scores.shape
    pos = scores[torch.arange(B), target]
    others = torch.ones(B, num_items, dtype=torch.bool)
    others[torch.arange(B), target] = False
    neg = scores[others].view(B, num_items - 1)
    loss = SoftmaxLoss(0.5, reduction='none')
    torch.testing.assert_close(loss(pos, neg),
                               loss.forward_full(scores, target))


def test_mask_removes_items_but_never_the_target():
    scores, target = _full(4, 6, seed=2)
    mask = torch.zeros(4, 6, dtype=torch.bool)
    mask[:, :3] = True  # including some targets
    loss = SoftmaxLoss(reduction='none')
    out = loss.forward_full(scores, target, mask=mask)
    for b in range(4):
        keep = [k for k in range(6) if k >= 3 or k == int(target[b])]
        row = scores[b, keep]
        exp = -torch.log_softmax(row, 0)[keep.index(int(target[b]))]
        torch.testing.assert_close(out[b], exp)


def test_forward_full_validation():
    scores, target = _full(3, 4, seed=3)
    loss = SoftmaxLoss()
    with pytest.raises(ValueError, match="'target'"):
        loss.forward_full(scores, torch.tensor([0, 1, 4]))
    with pytest.raises(ValueError, match="'target'"):
        loss.forward_full(scores, target[:2])
    with pytest.raises(ValueError, match="'scores'"):
        loss.forward_full(scores[0], target)
    with pytest.raises(ValueError, match="'mask'"):
        loss.forward_full(scores, target, mask=torch.zeros(3, 4))
    with pytest.raises(ValueError, match="'temperature'"):
        SoftmaxLoss(temperature=0.0)


@pytest.mark.parametrize('tau', [1.0, 0.2])
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_forward_logits_is_forward_full_without_mask(tau, reduction):
    scores, target = _full(5, 8, seed=4)
    scores[1, :3] = float('-inf')
    target[1] = 5
    loss = SoftmaxLoss(tau, reduction=reduction)
    torch.testing.assert_close(loss.forward_logits(scores, target),
                               loss.forward_full(scores, target))


@pytest.mark.parametrize('tau', [1.0, 0.2])
def test_forward_full_mask_equals_neg_inf_and_keeps_input(tau):
    scores, target = _full(4, 6, seed=5)
    mask = torch.zeros(4, 6, dtype=torch.bool)
    mask[:, 1::2] = True  # including some targets, which stay
    loss = SoftmaxLoss(tau, reduction='none')
    s = scores.clone().requires_grad_()
    out = loss.forward_full(s, target, mask)
    assert torch.equal(s.detach(), scores)  # masked on a copy
    dropped = mask.clone()
    dropped[torch.arange(4), target] = False
    exp = loss.forward_logits(scores.masked_fill(dropped, float('-inf')),
                              target)
    torch.testing.assert_close(out, exp)
    g, = torch.autograd.grad(out.sum(), s)
    assert bool((g[dropped] == 0).all())


def test_forward_full_non_finite_and_mask_errors():
    scores, target = _full(3, 4, seed=6)
    loss = SoftmaxLoss()
    bad = scores.clone()
    bad[0, int(target[0])] = float('-inf')
    with pytest.raises(ValueError, match=r"'scores\[target\]'"):
        loss.forward_full(bad, target)
    with pytest.raises(ValueError, match="'mask'"):
        loss.forward_full(scores, target, mask=[[True] * 4] * 3)
    with pytest.raises(ValueError, match="'mask'"):
        loss.forward_full(scores, target,
                          mask=torch.zeros(3, 3, dtype=torch.bool))
