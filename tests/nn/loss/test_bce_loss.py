import torch
import torch.nn.functional as F

from pyg_simce.nn.loss import BCELoss


def test_matches_binary_cross_entropy_with_logits_summed_per_row():
    g = torch.Generator().manual_seed(0)
    pos = torch.randn(6, generator=g, dtype=torch.float64)
    neg = torch.randn(6, 4, generator=g, dtype=torch.float64)
    logits = torch.cat([pos[:, None], neg], 1)
    labels = torch.zeros_like(logits)
    labels[:, 0] = 1
    exp = F.binary_cross_entropy_with_logits(logits, labels,
                                             reduction='none').sum(1)
    torch.testing.assert_close(BCELoss(reduction='none')(pos, neg), exp)
    torch.testing.assert_close(BCELoss(reduction='sum')(pos, neg), exp.sum())


def test_positive_without_negatives_keeps_its_term():
    pos = torch.tensor([0.3, -1.0], dtype=torch.float64)
    two = torch.tensor([2.0], dtype=torch.float64)
    out = BCELoss(reduction='none')(pos, two,
                                    torch.tensor([1]))
    exp = torch.stack([F.softplus(-pos[0]), F.softplus(-pos[1]) +
                       F.softplus(torch.tensor(2.0).double())])
    torch.testing.assert_close(out, exp)
