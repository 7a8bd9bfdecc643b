r"""The magnitude records of a run against the closed form: the one-step
message of a layer with exponents alpha0/alpha1 has squared norm growing as
degree^(1 - 2 alpha0) at initialisation (eq. 29 of the design card)."""
import pytest
import torch

from benchmarks.suites.magnitude_records import message_record


def test_magnitude_fit_at_initialisation_follows_eq_29():
    # A zero-mean message over a wide degree range grows as
    # degree^(1 - 2 alpha0): the check the magnitude suite reports.
    torch.manual_seed(0)
    num_users, num_items = 4000, 300
    degree = torch.logspace(0, 3, num_items).round().long()
    items = torch.repeat_interleave(torch.arange(num_items), degree)
    users = torch.randint(num_users, (items.numel(), ))
    edge_index = torch.stack([users, items])
    user0 = torch.randn(num_users, 32)
    item0 = torch.randn(num_items, 32)
    for alpha0 in (0.5, 1.0):
        spec = {'model': 'svdpp',
                'model_kwargs': {'side': 'item', 'alpha0': alpha0,
                                 'alpha1': 0.0}}
        fit = message_record(spec, user0, item0, edge_index,
                             num_users, num_items)
        assert list(fit) == ['item']
        assert fit['item']['slope'] == pytest.approx(1 - 2 * alpha0,
                                                     abs=0.1)
