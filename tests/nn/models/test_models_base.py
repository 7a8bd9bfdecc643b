import pytest
import torch

from pyg_simce.nn.models import MF, SVDPP, LightGCN, RecommenderBase


def random_graph(U, I, E, seed):
    gen = torch.Generator().manual_seed(seed)
    edge_index = torch.stack([torch.randint(0, U, (E, ), generator=gen),
                              torch.randint(0, I, (E, ), generator=gen)])
    return torch.unique(edge_index, dim=1)


def naive_recommend(user_out, item_out, users, k, exclude):
    excluded = {}
    for u, i in exclude.t().tolist():
        excluded.setdefault(u, set()).add(i)
    rows = []
    for u in users.tolist():
        scored = [(float(user_out[u] @ item_out[i]), i)
                  for i in range(item_out.size(0))
                  if i not in excluded.get(u, set())]
        scored.sort(key=lambda t: -t[0])
        top = [i for _, i in scored[:k]]
        rows.append(top + [-1] * (k - len(top)))
    return torch.tensor(rows)


@pytest.mark.parametrize('cls', [MF, SVDPP, LightGCN])
def test_recommend_matches_naive_loop_and_never_returns_excluded(cls):
    U, I = 40, 30
    torch.manual_seed(0)
    edge_index = random_graph(U, I, 300, seed=1)
    model = cls(U, I, 8).double()
    user_out, item_out = model.get_embedding(edge_index)
    users = torch.tensor([3, 0, 39, 3, 17])
    got = model.recommend(edge_index, src_index=users, k=5,
                          exclude_edge_index=edge_index)
    expected = naive_recommend(user_out.detach(), item_out.detach(), users,
                               5, edge_index)
    assert torch.equal(got, expected)
    train = set(map(tuple, edge_index.t().tolist()))
    for row, u in zip(got.tolist(), users.tolist()):
        assert not any((u, i) in train for i in row)

    # All users, no exclusion.
    got_all = model.recommend(edge_index, k=3)
    assert got_all.shape == (U, 3)
    expected_all = naive_recommend(user_out.detach(), item_out.detach(),
                                   torch.arange(U), 3,
                                   torch.empty(2, 0, dtype=torch.long))
    assert torch.equal(got_all, expected_all)


def test_recommend_pads_when_too_few_items_remain():
    model = MF(2, 3, 4)
    exclude = torch.tensor([[0, 0], [0, 2]])
    got = model.recommend(None, src_index=torch.tensor([0]), k=3,
                          exclude_edge_index=exclude)
    assert got.tolist() == [[1, -1, -1]]


def test_recommend_validates_arguments():
    model = MF(3, 4, 2)
    with pytest.raises(ValueError, match="'k'"):
        model.recommend(None, k=0)
    with pytest.raises(ValueError, match="'k'"):
        model.recommend(None, k=5)
    with pytest.raises(ValueError, match="'src_index'"):
        model.recommend(None, src_index=torch.tensor([3]), k=2)
    with pytest.raises(ValueError, match="'src_index'"):
        model.recommend(None, src_index=torch.tensor([[0]]), k=2)
    with pytest.raises(ValueError, match="'exclude_edge_index'"):
        model.recommend(None, k=2,
                        exclude_edge_index=torch.tensor([[0], [4]]))


def test_base_requires_propagation():
    model = RecommenderBase(2, 2, 2)
    with pytest.raises(NotImplementedError):
        model.get_embedding(torch.tensor([[0], [1]]))


def dense_reference(model, edge_index):
    # The final embeddings from the dense formulas (float64), for any model.
    U, I = model.num_users, model.num_items
    R = torch.zeros(U, I, dtype=torch.float64)
    R[edge_index[0], edge_index[1]] = 1.0
    du, di = R.sum(1), R.sum(0)

    def inv_pow(deg, alpha):
        return torch.where(deg > 0, deg.pow(-alpha), torch.zeros_like(deg))

    p0 = model.user_embedding.weight.double()
    q0 = model.item_embedding.weight.double()
    if isinstance(model, MF):
        return p0, q0
    a0, a1 = model.alpha0, model.alpha1
    M = inv_pow(du, a0)[:, None] * R * inv_pow(di, a1)[None, :]
    N = inv_pow(di, a0)[:, None] * R.t() * inv_pow(du, a1)[None, :]
    if isinstance(model, SVDPP):
        return (p0 + M @ q0, q0) if model.side == 'user' else (p0,
                                                                q0 + N @ p0)
    weights = model.layer_weights.tolist()
    out_u, out_i, h_u, h_i = weights[0] * p0, weights[0] * q0, p0, q0
    for w in weights[1:]:
        h_u, h_i = M @ h_i, N @ h_u
        out_u, out_i = out_u + w * h_u, out_i + w * h_i
    return out_u, out_i


def rows_models():
    out = [('mf', lambda U, I: MF(U, I, 6))]
    for K in range(4):
        for a0, a1 in [(0.5, 0.5), (1.0, 0.0), (0.5, 0.0)]:
            out.append((f'lightgcn{K}-{a0}-{a1}', lambda U, I, K=K, a0=a0,
                        a1=a1: LightGCN(U, I, 6, num_layers=K, alpha0=a0,
                                        alpha1=a1)))
    for side in ('user', 'item'):
        for a0, a1 in [(1.0, 0.0), (0.5, 0.5)]:
            out.append((f'svdpp-{side}-{a0}-{a1}', lambda U, I, s=side, a0=a0,
                        a1=a1: SVDPP(U, I, 6, side=s, alpha0=a0, alpha1=a1)))
    return out


ROW_SETS = {
    # A few rows (restricted propagation) with repeats and isolated nodes.
    'few': (torch.tensor([3, 0, 39, 3, 17, 38, 3]),
            torch.tensor([29, 5, 5, 0, 28, 12, 5, 1])),
    # Distinct increasing rows, as a training step asks (no re-indexing).
    'distinct': (torch.tensor([0, 3, 17, 38, 39]),
                 torch.tensor([1, 5, 12, 28, 29])),
    # Many rows (most edges: propagated whole, then indexed).
    'many': (torch.arange(120) % 40, torch.arange(100).flip(0) % 30),
    'empty': (torch.tensor([], dtype=torch.long), torch.tensor([4, 4])),
}


@pytest.mark.parametrize('rows', list(ROW_SETS))
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
@pytest.mark.parametrize('name,build', rows_models(),
                         ids=[n for n, _ in rows_models()])
def test_get_embedding_rows_equals_indexing_the_full_reference(
        name, build, dtype, rows):
    U, I = 40, 30
    edge_index = random_graph(U - 2, I - 2, 300, seed=3)  # isolated nodes
    torch.manual_seed(0)
    model = build(U, I).to(dtype)
    user_index, item_index = ROW_SETS[rows]
    params = [model.user_embedding.weight, model.item_embedding.weight]
    got_u, got_i = model.get_embedding_rows(edge_index, user_index,
                                            item_index)
    full_u, full_i = model.get_embedding(edge_index)
    exp_u, exp_i = dense_reference(model, edge_index)
    tol = dict(atol=1e-12, rtol=1e-10) if dtype == torch.float64 else \
        dict(atol=1e-5, rtol=1e-4)
    assert got_u.dtype == dtype and got_u.shape == (user_index.numel(), 6)
    assert got_i.shape == (item_index.numel(), 6)
    for got, full, exp, index in ((got_u, full_u, exp_u, user_index),
                                  (got_i, full_i, exp_i, item_index)):
        assert torch.allclose(got, full[index], **tol)
        assert torch.allclose(got.double(), exp[index], **tol)

    gen = torch.Generator().manual_seed(1)
    w_u = torch.randn(got_u.shape, generator=gen, dtype=torch.float64)
    w_i = torch.randn(got_i.shape, generator=gen, dtype=torch.float64)

    def loss(u, i):
        return (u.double() * w_u).sum() + (i.double() * w_i).sum()

    grads = torch.autograd.grad(loss(got_u, got_i), params)
    grads_full = torch.autograd.grad(
        loss(full_u[user_index], full_i[item_index]), params)
    grads_dense = torch.autograd.grad(
        loss(exp_u[user_index], exp_i[item_index]), params)
    for a, b, c in zip(grads, grads_full, grads_dense):
        assert torch.allclose(a, b, **tol)
        assert torch.allclose(a, c, **tol)


@pytest.mark.parametrize('cls', [MF, SVDPP, LightGCN])
def test_get_embedding_rows_validates_its_indices(cls):
    model = cls(3, 4, 2)
    edge_index = torch.tensor([[0, 1, 2], [3, 2, 0]])
    ok = torch.tensor([0, 2])
    for bad, match in [(torch.tensor([0.0]), 'user_index'),
                       (torch.tensor([[0]]), 'user_index'),
                       (torch.tensor([3]), r'user_index.*\[0, 3\)'),
                       (torch.tensor([-1]), 'user_index')]:
        with pytest.raises(ValueError, match=match):
            model.get_embedding_rows(edge_index, bad, ok)
    with pytest.raises(ValueError, match=r'item_index.*\[0, 4\)'):
        model.get_embedding_rows(edge_index, ok, torch.tensor([4]))
    with pytest.raises(ValueError, match="item_index.*device"):
        model.get_embedding_rows(edge_index, ok, ok.to('meta'))
    with pytest.raises(ValueError, match="'edge_index'"):
        model.get_embedding_rows(torch.tensor([[3], [0]]), ok, ok)
