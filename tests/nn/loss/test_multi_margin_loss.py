import pytest
import torch

from pyg_simce.nn.loss import CCLLoss, MultiMarginLoss


@pytest.mark.parametrize('margin,weight', [(0.9, 150.0), (0.3, 7.0)])
@pytest.mark.parametrize('ragged', [False, True])
def test_one_margin_of_weight_one_is_ccl(margin, weight, ragged):
    g = torch.Generator().manual_seed(1)
    pos = (torch.rand(12, generator=g, dtype=torch.float64) * 2 - 1)
    neg = (torch.rand(12, 9, generator=g, dtype=torch.float64) * 2 - 1)
    pos.requires_grad_()
    neg.requires_grad_()
    mml = MultiMarginLoss(margins=[margin], weights=[1.0],
                          positive_weight=1.0, negative_weight=weight,
                          reduction='none')
    ccl = CCLLoss(margin=margin, negative_weight=weight, reduction='none')
    if ragged:
        index = torch.arange(12).repeat_interleave(9)[10:]
        args = (pos, neg.reshape(-1)[10:], index)
    else:
        args = (pos, neg)
    a, b = mml(*args), ccl(*args)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    ga = torch.autograd.grad(a.sum(), (pos, neg))
    gb = torch.autograd.grad(b.sum(), (pos, neg))
    for x, y in zip(ga, gb):
        torch.testing.assert_close(x, y, rtol=0, atol=0)


def test_hand_computed_value():
    pos = torch.tensor([0.4], dtype=torch.float64)
    neg = torch.tensor([[0.85, 0.65]], dtype=torch.float64)
    # negative 0.85: 0.05*0.25 + 0.15*0.15 + 0.2*0.05 = 0.045
    # negative 0.65: 0.05*0.05 = 0.0025
    exp = 2.0 * 0.6 + 10.0 * (0.045 + 0.0025) / 2
    loss = MultiMarginLoss(positive_weight=2.0, negative_weight=10.0)
    torch.testing.assert_close(loss(pos, neg),
                               torch.tensor(exp, dtype=torch.float64))


def test_validation():
    with pytest.raises(ValueError, match="'margins' and 'weights'"):
        MultiMarginLoss(margins=(0.5, 0.6), weights=(1.0, ))
    with pytest.raises(ValueError, match=r"'weights\[1\]'"):
        MultiMarginLoss(margins=(0.5, 0.6), weights=(1.0, -0.1))
    with pytest.raises(ValueError, match="'margins'"):
        MultiMarginLoss(margins=(), weights=())
    with pytest.raises(ValueError, match="'margins'"):
        MultiMarginLoss(margins=0.5, weights=(1.0, ))
    with pytest.raises(ValueError, match="'positive_weight'"):
        MultiMarginLoss(positive_weight=-1.0)
    with pytest.raises(ValueError, match="'negative_weight'"):
        MultiMarginLoss(negative_weight=-350.0)
    loss = MultiMarginLoss(margins=[0.5], weights=[0.0])
    assert loss.margins == (0.5, ) and loss.weights == (0.0, )
