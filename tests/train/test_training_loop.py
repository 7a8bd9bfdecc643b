import pytest
import torch

from pyg_simce.data import load_dataset
from pyg_simce.nn.loss import BPRLoss, SampledSoftmaxLoss
from pyg_simce.nn.models import LightGCN
from pyg_simce.train import Trainer
from pyg_simce.train.training_loop import Embedder, build_adam


@pytest.fixture(scope='module')
def split():
    return load_dataset('synthetic', num_users=80, num_items=60, seed=2)


def _trainer(split, fused, loss=None, model=None, **kwargs):
    torch.manual_seed(0)
    model = model or LightGCN(split.num_users, split.num_items,
                              embedding_dim=16, num_layers=2)
    return Trainer(model, loss or SampledSoftmaxLoss(), split.train,
                   test_data=split.test, quiet=True, ks=(5, ), lr=0.01,
                   reg=1e-3, batch_size=64, fused_optimizer=fused, **kwargs)


def test_fused_adam_matches_default_kernel(split):
    fused, plain = _trainer(split, None), _trainer(split, False)
    start = [p.detach().clone() for p in plain.model.parameters()]
    assert fused.fused_optimizer is True  # this CPU build has the kernel
    assert plain.fused_optimizer is False
    assert fused.config['fused_optimizer'] is True
    batch = torch.arange(64)
    for step in range(20):
        for t in (fused, plain):
            t._step(batch + 64 * (step % 5), torch.Generator().manual_seed(
                step), None, 0, step)
    for a, b, s in zip(fused.model.parameters(), plain.model.parameters(),
                       start):
        assert (b - s).abs().max() > 1e-2  # 20 steps moved the weights
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_build_adam_honours_the_choice():
    p = torch.nn.Parameter(torch.zeros(3))
    opt, fused = build_adam([p], 0.1, 0.0, False, torch.device('cpu'))
    assert fused is False and not opt.defaults.get('fused')
    opt, fused = build_adam([p], 0.1, 0.0, True, torch.device('cpu'))
    assert fused is True and opt.defaults.get('fused')


def test_fused_optimizer_option_is_checked(split):
    with pytest.raises(ValueError, match="'fused_optimizer'"):
        _trainer(split, 'yes')


class _FullGraphOnly(torch.nn.Module):
    # A model with get_embedding only (no get_embedding_rows).
    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.num_users, self.num_items = inner.num_users, inner.num_items
        self.user_embedding = inner.user_embedding
        self.item_embedding = inner.item_embedding

    def get_embedding(self, edge_index):
        return self.inner.get_embedding(edge_index)


def test_model_without_row_propagation_trains_the_same(split):
    torch.manual_seed(0)
    inner = LightGCN(split.num_users, split.num_items, embedding_dim=16,
                     num_layers=2)
    plain = _trainer(split, False, BPRLoss(), model=_FullGraphOnly(inner))
    rows = _trainer(split, False, BPRLoss())
    users = torch.arange(10)
    items = split.train['user', 'rates', 'item'].edge_index[1, :10]
    users = split.train['user', 'rates', 'item'].edge_index[0, :10]
    a = plain.batch_loss(users, items, torch.Generator().manual_seed(1))
    b = rows.batch_loss(users, items, torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b)
    # The embedder falls back to the whole graph, then the rows.
    emb = Embedder(plain.model)
    u, i = emb(plain.edge_index, users, None)
    full_u, full_i = inner.get_embedding(plain.edge_index)
    torch.testing.assert_close(u, full_u[users])
    torch.testing.assert_close(i, full_i)
