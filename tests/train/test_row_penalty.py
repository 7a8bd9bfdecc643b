import pytest
import torch

from pyg_simce.nn.loss import l2_regularization
from pyg_simce.train.row_penalty import densify_gradients, rows_l2_penalty


def _tables(seed=0):
    g = torch.Generator().manual_seed(seed)
    users = torch.randn(9, 4, generator=g, dtype=torch.float64)
    items = torch.randn(11, 4, generator=g, dtype=torch.float64)
    return users.requires_grad_(), items.requires_grad_()


@pytest.mark.parametrize('sorted_rows', [True, False])
def test_equals_l2_regularization_of_the_repeated_rows(sorted_rows):
    users, items = _tables()
    user_rows = torch.tensor([1, 4, 5, 8])
    user_counts = torch.tensor([2, 1, 3, 1])
    item_rows = torch.tensor([0, 2, 3, 7, 10])
    item_counts = torch.tensor([1, 1, 4, 2, 1])
    if not sorted_rows:
        perm = torch.tensor([3, 0, 2, 1])
        user_rows, user_counts = user_rows[perm], user_counts[perm]
    out = rows_l2_penalty([(users, user_rows, user_counts),
                           (items, item_rows, item_counts)], batch_size=6,
                          weight=0.3)
    # Reference: every occurrence as its own row, LightGCN's convention.
    ref = l2_regularization(users[user_rows.repeat_interleave(user_counts)],
                            items[item_rows.repeat_interleave(item_counts)],
                            batch_size=6, weight=0.3)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=0)
    # Beside a dense gradient from another path, as in a training step.
    def other():
        return users.sin().sum() + items.cos().sum()

    g_out = torch.autograd.grad(out + other(), (users, items))
    g_ref = torch.autograd.grad(ref + other(), (users, items))
    for a, b in zip(g_out, g_ref):
        assert a.layout == torch.strided
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-15)


def test_a_table_with_only_the_penalty_gets_a_sparse_gradient_densified():
    users, items = _tables(1)
    rows, counts = torch.tensor([2, 3]), torch.tensor([1, 2])
    loss = rows_l2_penalty([(users, rows, counts), (items, rows, counts)],
                           batch_size=3, weight=1.0) + items.sum()
    loss.backward()
    assert users.grad.layout == torch.sparse_coo
    assert items.grad.layout == torch.strided
    densify_gradients([users, items])
    assert users.grad.layout == torch.strided
    expected = torch.zeros_like(users)
    expected[rows] = users.detach()[rows] * counts.unsqueeze(1) / 3.0
    torch.testing.assert_close(users.grad, expected, rtol=1e-12, atol=0)
    torch.testing.assert_close(items.grad, 1 + expected.new_zeros(11, 4)
                               .index_put((rows, ), items.detach()[rows] *
                                          counts.unsqueeze(1) / 3.0))


def test_densified_gradients_step_adam():
    # A table whose only gradient is the penalty's must still reach Adam,
    # which refuses sparse gradients, densely.
    users, items = _tables(2)
    opt = torch.optim.Adam([users, items], lr=0.1)
    rows_l2_penalty([(users, torch.tensor([0]), torch.tensor([1])),
                     (items, torch.tensor([1]), torch.tensor([1]))],
                    batch_size=1, weight=1.0).backward()
    with pytest.raises(RuntimeError):
        opt.step()  # what densify_gradients prevents
    densify_gradients([users, items])
    opt.step()
    assert bool(torch.isfinite(users).all())
