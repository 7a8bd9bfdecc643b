import pytest
import torch

from pyg_simce.baselines import GFCF


def dense_gfcf(r, alpha, rank, alpha0, alpha1):
    du, di = r.sum(1), r.sum(0)
    pu = torch.where(du > 0, du.pow(-alpha0), torch.zeros_like(du))
    pi = torch.where(di > 0, di.pow(-alpha1), torch.zeros_like(di))
    qi = torch.where(di > 0, di.pow(alpha1), torch.zeros_like(di))
    rt = pu.view(-1, 1) * r * pi.view(1, -1)
    out = r @ rt.t() @ rt
    if alpha > 0:
        v = torch.linalg.svd(rt, full_matrices=False)[2][:rank].t()
        out = out + alpha * r @ torch.diag(pi) @ v @ v.t() @ torch.diag(qi)
    return out


@pytest.mark.parametrize('alpha,alpha0,alpha1', [(0.3, 0.5, 0.5),
                                                  (0.0, 0.5, 0.5),
                                                  (1.0, 0.2, 0.8)])
def test_gfcf_equals_dense_formula(tiny_graph, alpha, alpha0, alpha1):
    data, r = tiny_graph
    model = GFCF(alpha=alpha, rank=4, alpha0=alpha0, alpha1=alpha1)
    model.fit(data)
    users = torch.arange(r.size(0))
    expected = dense_gfcf(r, alpha, 4, alpha0, alpha1)
    assert torch.allclose(model.score(users).double(), expected, atol=1e-5)
    # A chunk of users gives the same rows.
    sub = torch.tensor([5, 0, 7])
    assert torch.allclose(model.score(sub).double(), expected[sub],
                          atol=1e-5)


def test_gfcf_item_without_interactions(graph_factory):
    data, r = graph_factory(num_users=10, num_items=8, seed=3)
    ei = data['user', 'rates', 'item'].edge_index
    keep = ei[1] != 4
    data['user', 'rates', 'item'].edge_index = ei[:, keep]
    r[:, 4] = 0
    model = GFCF(alpha=0.5, rank=3).fit(data)
    scores = model.score(torch.arange(10))
    assert torch.isfinite(scores).all()
    assert torch.allclose(scores.double(), dense_gfcf(r, 0.5, 3, 0.5, 0.5),
                          atol=1e-5)


def test_gfcf_bad_input(tiny_graph):
    data, r = tiny_graph
    with pytest.raises(ValueError, match="'rank'.*min\\(num_users"):
        GFCF(rank=9).fit(data)
    with pytest.raises(ValueError, match="'rank'"):
        GFCF(rank=0)
    with pytest.raises(ValueError, match="'alpha'"):
        GFCF(alpha=-1.0)
    GFCF(alpha=0.0, rank=100).fit(data)  # rank unused without low-pass
    assert 'GFCF(alpha=0.3' in repr(GFCF())


def test_gfcf_randomized_svd_equals_dense_formula(graph_factory):
    data, r = graph_factory(num_users=40, num_items=30, seed=6)
    model = GFCF(alpha=0.3, rank=5, svd='randomized',
                 power_iterations=30).fit(data)
    expected = dense_gfcf(r, 0.3, 5, 0.5, 0.5)
    assert torch.allclose(model.score(torch.arange(40)).double(), expected,
                          atol=1e-4)
    with pytest.raises(ValueError, match="'svd'"):
        GFCF(svd='qr')
