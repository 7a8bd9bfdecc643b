import numpy as np
import pytest

pytest.importorskip('implicit', reason="IALS needs the optional 'implicit' "
                    "package (pip install 'pyg_simce[baselines]')")

from pyg_simce.baselines import IALS, evaluate_baseline  # noqa: E402
from pyg_simce.metrics import evaluate_ranking  # noqa: E402


def test_ials_objective_does_not_increase(graph_factory):
    data, _ = graph_factory(num_users=30, num_items=20, seed=2)
    model = IALS(factors=4, iterations=1, regularization=0.1, alpha=5.0,
                 use_cg=False, num_threads=1).fit(data)
    losses = [model.objective()]
    for _ in range(8):
        losses.append(model.partial_fit(1).objective())
    assert all(b <= a * (1 + 1e-6) for a, b in zip(losses, losses[1:]))
    assert losses[-1] < losses[0]


def test_ials_user_factors_equal_dense_solve(graph_factory):
    data, r = graph_factory(num_users=30, num_items=20, seed=2)
    lam, alpha = 0.1, 5.0
    model = IALS(factors=4, iterations=3, regularization=lam, alpha=alpha,
                 use_cg=False, num_threads=1).fit(data)
    y = np.array(model.model.item_factors, dtype=np.float64)
    model.partial_fit(1)  # users are solved first, given these items
    x = np.asarray(model.model.user_factors, dtype=np.float64)
    rn = r.numpy()
    for u in (0, 7, 29):
        c = np.where(rn[u] > 0, alpha, 1.0)
        p = (rn[u] > 0).astype(np.float64)
        a = y.T @ (c[:, None] * y) + lam * np.eye(4)
        expected = np.linalg.solve(a, y.T @ (c * p))
        assert np.allclose(x[u], expected, atol=1e-4)


def test_ials_embedding_gives_same_metrics(graph_factory):
    data, r = graph_factory(num_users=30, num_items=20, seed=2)
    _, t = graph_factory(num_users=30, num_items=20, seed=9)
    test = (t * (1 - r)).nonzero().t()
    train = data['user', 'rates', 'item'].edge_index
    model = IALS(factors=4, iterations=3, num_threads=1).fit(data)
    got = evaluate_baseline(model, train, test, ks=(5, ))
    ref = evaluate_ranking(*model.get_embedding(), train, test, ks=(5, ))
    assert abs(got['recall@5'] - ref['recall@5']) < 1e-9


def test_ials_bad_input():
    for name in ('factors', 'iterations', 'regularization', 'alpha'):
        with pytest.raises(ValueError, match=f"'{name}'"):
            IALS(**{name: 0})
    with pytest.raises(ValueError, match="'factors'"):
        IALS(factors=2.5)
    with pytest.raises(ValueError, match="'regularization'"):
        IALS(regularization=-0.1)
