import itertools

import pytest
import torch

from pyg_simce.nn.conv import (
    bipartite_norm,
    check_edge_index,
    inverse_degree_power,
)

ALPHAS = list(itertools.product([0.0, 0.5, 1.0], repeat=2))


def graph():
    # 4 sources (source 3 isolated), 3 targets (target 2 isolated), one
    # duplicated edge (0 -> 1 twice).
    return torch.tensor([[0, 0, 0, 1, 2, 2], [0, 1, 1, 1, 0, 1]])


@pytest.mark.parametrize('alpha0,alpha1', ALPHAS)
def test_bipartite_norm_matches_per_edge_formula(alpha0, alpha1):
    edge_index = graph()
    out = bipartite_norm(edge_index, (4, 3), alpha0, alpha1,
                         dtype=torch.float64)
    deg_src = {0: 3, 1: 1, 2: 2}
    deg_dst = {0: 2, 1: 4}
    expected = [
        deg_dst[int(d)]**-alpha0 * deg_src[int(s)]**-alpha1
        for s, d in edge_index.t().tolist()
    ]
    assert out.dtype == torch.float64
    assert torch.allclose(out, torch.tensor(expected, dtype=torch.float64))


def test_bipartite_norm_defaults_to_lightgcn_symmetric():
    edge_index = graph()
    out = bipartite_norm(edge_index, (4, 3))
    assert out.dtype == torch.get_default_dtype()
    assert out[0].item() == pytest.approx(1 / (3 * 2)**0.5)


def test_inverse_degree_power_zero_degree_is_zero_not_inf():
    degree = torch.tensor([0.0, 1.0, 4.0])
    for alpha in (0.0, 0.5, 1.0, 2.0):
        out = inverse_degree_power(degree, alpha)
        assert torch.isfinite(out).all()
        assert out[0] == 0
        assert out[2].item() == pytest.approx(4.0**-alpha)


def test_bipartite_norm_empty_graph():
    out = bipartite_norm(torch.empty(2, 0, dtype=torch.long), (3, 3))
    assert out.numel() == 0


def test_bipartite_norm_rejects_negative_size():
    with pytest.raises(ValueError, match='size'):
        bipartite_norm(graph(), (-1, 3))


@pytest.mark.parametrize('bad,match', [
    (torch.zeros(2, 3), 'integer dtype'),
    (torch.zeros(3, 3, dtype=torch.long), r'shape \[2, num_edges\]'),
    (torch.zeros(6, dtype=torch.long), r'shape \[2, num_edges\]'),
    (torch.tensor([[0, 4], [0, 0]]), r'row 0 .* \[0, 4\) .*max 4'),
    (torch.tensor([[0, 0], [0, -1]]), r'row 1 .*min -1'),
    ([[0], [0]], 'dense integer tensor'),
])
def test_check_edge_index_errors_name_the_argument(bad, match):
    with pytest.raises(ValueError, match=match) as info:
        check_edge_index(bad, (4, 3), name='my_edges')
    assert "'my_edges'" in str(info.value)


def test_check_edge_index_accepts_valid_and_empty():
    check_edge_index(graph(), (4, 3))
    check_edge_index(torch.empty(2, 0, dtype=torch.long), (0, 0))
