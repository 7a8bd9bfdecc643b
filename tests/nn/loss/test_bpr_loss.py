import math

import torch
import torch.nn.functional as F

from pyg_simce.nn.loss import BPRLoss


def test_single_negative_is_classic_bpr():
    g = torch.Generator().manual_seed(0)
    pos = torch.randn(32, generator=g, dtype=torch.float64)
    neg = torch.randn(32, 1, generator=g, dtype=torch.float64)
    exp = -F.logsigmoid(pos - neg[:, 0]).mean()
    torch.testing.assert_close(BPRLoss()(pos, neg), exp)


def test_mean_over_negatives_not_sum():
    pos = torch.zeros(1, dtype=torch.float64)
    neg = torch.zeros(1, 5, dtype=torch.float64)
    # Every pair costs log 2; the mean over 5 negatives is log 2 too.
    torch.testing.assert_close(BPRLoss()(pos, neg),
                               torch.tensor(2.0).log().double())


def test_positive_without_negatives_counts_in_the_mean():
    pos = torch.zeros(2, dtype=torch.float64)
    neg = torch.zeros(1, dtype=torch.float64)
    index = torch.tensor([1])
    out = BPRLoss(reduction='none')(pos, neg, index)
    exp = torch.tensor([0.0, math.log(2.0)], dtype=torch.float64)
    torch.testing.assert_close(out, exp)
    torch.testing.assert_close(BPRLoss()(pos, neg, index), out.sum() / 2)
