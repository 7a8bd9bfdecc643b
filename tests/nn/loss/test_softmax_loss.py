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
