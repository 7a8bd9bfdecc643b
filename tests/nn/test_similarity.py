import pytest
import torch
import torch.nn.functional as F

from pyg_simce.nn import similarity
from pyg_simce.nn.similarity import (
    cosine,
    cosine_matrix,
    dot,
    dot_matrix,
    get_similarity,
    similarity_resolver,
)


def _pair(n=6, m=None, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, d, generator=g, dtype=torch.float64)
    b = torch.randn(n if m is None else m, d, generator=g,
                    dtype=torch.float64)
    return a, b


def test_row_wise_against_loops_and_pytorch():
    a, b = _pair()
    exp_dot = torch.stack([sum(a[k, t] * b[k, t] for t in range(5))
                           for k in range(6)])
    torch.testing.assert_close(dot(a, b), exp_dot)
    torch.testing.assert_close(cosine(a, b), F.cosine_similarity(a, b))


def test_matrix_forms_against_row_wise():
    a, b = _pair(4, 7)
    D, C = dot_matrix(a, b), cosine_matrix(a, b)
    assert D.shape == C.shape == (4, 7)
    for r in range(4):
        for c in range(7):
            torch.testing.assert_close(D[r, c], dot(a[r], b[c]))
            torch.testing.assert_close(C[r, c], cosine(a[r], b[c]))


def test_cosine_is_finite_at_zero_vectors():
    a, b = _pair(3, 3)
    a[1] = 0.0
    b[2] = 0.0
    for fn in (cosine, cosine_matrix):
        x, y = a.clone().requires_grad_(), b.clone().requires_grad_()
        out = fn(x, y)
        assert bool(torch.isfinite(out).all())
        gx, gy = torch.autograd.grad(out.sum(), (x, y))
        assert bool(torch.isfinite(gx).all() and torch.isfinite(gy).all())
    assert cosine(a, b)[1] == 0 and cosine(a, b)[2] == 0
    # Tiny but non-zero vectors are still normalised exactly.
    tiny = torch.tensor([[3e-6, 4e-6]], dtype=torch.float64)
    torch.testing.assert_close(
        cosine(tiny, torch.tensor([[1.0, 0.0]], dtype=torch.float64)),
        torch.tensor([0.6], dtype=torch.float64))


def test_resolver_and_independent_train_and_test_choice():
    assert get_similarity('cosine') is cosine
    assert get_similarity('dot') is dot
    assert get_similarity('IP') is dot
    assert get_similarity('cos', matrix=True) is cosine_matrix
    assert similarity_resolver('dot', matrix=True) is dot_matrix
    assert similarity.get_similarity is get_similarity
    with pytest.raises(ValueError, match="'name'"):
        get_similarity('euclidean')


def test_validation():
    a, b = _pair()
    with pytest.raises(ValueError, match="'a' and 'b'"):
        dot(a, b[:, :3])
    with pytest.raises(ValueError, match="'a'"):
        dot_matrix(a[0], b)
    with pytest.raises(ValueError, match="'eps'"):
        cosine(a, b, eps=0.0)
