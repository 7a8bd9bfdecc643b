import math

import pytest
import torch

from pyg_simce.nn.conv import BipartiteConv
from pyg_simce.nn.magnitude import (
    embedding_norm_vs_degree,
    predicted_magnitude_slope,
)


def test_recovers_planted_power_law():
    gen = torch.Generator().manual_seed(0)
    degree = torch.randint(1, 500, (2000, ), generator=gen)
    direction = torch.nn.functional.normalize(
        torch.randn(2000, 16, generator=gen), dim=1)
    # ||e||^2 = 3 * d^0.7  ->  slope 0.7, intercept log 3
    emb = direction * (3.0 * degree.double()**0.7).sqrt()[:, None]
    emb[0] = 0.0  # a zero vector is skipped, not log(0)
    degree[1] = 0  # degree 0 is skipped
    out = embedding_norm_vs_degree(emb.float(), degree)
    assert out['slope'] == pytest.approx(0.7, abs=1e-4)
    assert out['intercept'] == pytest.approx(math.log(3.0), abs=1e-3)
    assert out['num_fitted'] == 1998
    assert out['norms'].shape == (2000, )
    assert out['norms'][0] == 0
    assert torch.allclose(out['norms'][2:].double(),
                          emb[2:].norm(dim=1), rtol=1e-5)
    out = embedding_norm_vs_degree(emb, degree, min_degree=100)
    assert out['num_fitted'] == int(
        ((degree >= 100) & (emb.norm(dim=1) > 0)).sum())
    assert out['slope'] == pytest.approx(0.7, abs=1e-4)


def test_single_degree_gives_nan_slope():
    out = embedding_norm_vs_degree(torch.ones(3, 2), torch.tensor([2, 2, 2]))
    assert math.isnan(out['slope'])


@pytest.mark.parametrize('alpha0', [0.0, 0.5, 1.0])
def test_prediction_formula(alpha0):
    assert predicted_magnitude_slope(alpha0) == 2 - 2 * alpha0
    assert predicted_magnitude_slope(alpha0, zero_mean=True) == 1 - 2 * alpha0


def random_item_graph(num_users, num_items, gen):
    # Item degrees spread over two decades: item i gets ~ 2 + i**1.3 users.
    rows, cols = [], []
    for i in range(num_items):
        d = min(num_users, 2 + int(i**1.3))
        users = torch.randperm(num_users, generator=gen)[:d]
        rows.append(users)
        cols.append(torch.full((d, ), i))
    return torch.stack([torch.cat(rows), torch.cat(cols)])


@pytest.mark.parametrize('alpha0', [0.0, 0.5, 1.0])
def test_one_propagation_step_follows_section_4_2(alpha0):
    gen = torch.Generator().manual_seed(int(alpha0 * 10))
    U, I = 2000, 150
    edge_index = random_item_graph(U, I, gen)
    degree = torch.bincount(edge_index[1], minlength=I)
    conv = BipartiteConv(alpha0=alpha0, alpha1=0.5)

    p = torch.randn(U, 64, generator=gen)  # zero mean
    q = conv((p, None), edge_index, size=(U, I))
    slope = embedding_norm_vs_degree(q, degree)['slope']
    assert slope == pytest.approx(
        predicted_magnitude_slope(alpha0, zero_mean=True), abs=0.15)

    p = p + 2.0  # mu0 != 0: the b-term dominates for large degrees
    q = conv((p, None), edge_index, size=(U, I))
    slope = embedding_norm_vs_degree(q, degree, min_degree=50)['slope']
    assert slope == pytest.approx(predicted_magnitude_slope(alpha0),
                                  abs=0.15)


@pytest.mark.parametrize('call,match', [
    (lambda: embedding_norm_vs_degree(torch.ones(3), torch.ones(3)),
     'embedding'),
    (lambda: embedding_norm_vs_degree(torch.ones(3, 2), torch.ones(2)),
     'degree'),
    (lambda: embedding_norm_vs_degree(torch.ones(2, 2), -torch.ones(2)),
     'degree'),
    (lambda: embedding_norm_vs_degree(torch.ones(2, 2), torch.ones(2),
                                      min_degree=0), 'min_degree'),
    (lambda: predicted_magnitude_slope(float('nan')), 'alpha0'),
])
def test_invalid_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
