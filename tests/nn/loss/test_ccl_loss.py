import pytest
import torch

from pyg_simce.nn.loss import CCLLoss


def test_only_negatives_above_margin_count():
    pos = torch.tensor([0.5], dtype=torch.float64)
    neg = torch.tensor([[0.95, 0.5, -1.0, 1.0]], dtype=torch.float64)
    # positive: 1 - 0.5; negatives: (0.05 + 0.1) / 4 * 150
    exp = 0.5 + 150.0 * (0.05 + 0.1) / 4
    torch.testing.assert_close(CCLLoss()(pos, neg),
                               torch.tensor(exp, dtype=torch.float64))


def test_positive_without_negatives_keeps_positive_term():
    pos = torch.tensor([0.2, 0.9], dtype=torch.float64)
    near = torch.tensor([0.95], dtype=torch.float64)
    out = CCLLoss(reduction='none')(pos, near,
                                    torch.tensor([1]))
    torch.testing.assert_close(
        out, torch.tensor([0.8, 0.1 + 150 * 0.05], dtype=torch.float64))


def test_hyper_parameter_validation():
    with pytest.raises(ValueError, match="'negative_weight'"):
        CCLLoss(negative_weight=-1.0)
    with pytest.raises(ValueError, match="'margin'"):
        CCLLoss(margin=float('nan'))
    with pytest.raises(ValueError, match="'margin'"):
        CCLLoss(margin='0.9')
