r"""Checks that need a CUDA device: skipped on a machine without one (CI),
run where a GPU is lent. They cover what the CPU tests cannot: tensors and
indices living on different devices, and Adam's fused CUDA kernel."""
import pytest
import torch

from pyg_simce.data import load_dataset
from pyg_simce.metrics import evaluate_ranking, longtail_decomposition
from pyg_simce.nn.loss import loss_resolver
from pyg_simce.nn.models import MF, SVDPP, LightGCN
from pyg_simce.train import Trainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason='needs a CUDA device')

EDGE = ('user', 'rates', 'item')


@pytest.fixture(scope='module')
def split():
    return load_dataset('synthetic', num_users=300, num_items=200, seed=0)


def _embeddings(split, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(split.num_users, 8, generator=gen,
                        dtype=torch.float64),
            torch.randn(split.num_items, 8, generator=gen,
                        dtype=torch.float64))


def test_ranking_on_cuda_equals_cpu(split):
    user, item = _embeddings(split)
    train = split.train[EDGE].edge_index
    test = split.test[EDGE].edge_index
    val = split.val[EDGE].edge_index
    cpu = evaluate_ranking(user, item, train, test, exclude_edge_index=val,
                           ks=(5, 20))
    gpu = evaluate_ranking(user.cuda(), item.cuda(), train, test,
                           exclude_edge_index=val, ks=(5, 20))
    assert cpu.keys() == gpu.keys()
    for key in cpu:
        assert gpu[key] == pytest.approx(cpu[key], abs=1e-12), key


def test_longtail_on_cuda_equals_cpu(split):
    user, item = _embeddings(split, seed=1)
    train = split.train[EDGE].edge_index
    test = split.test[EDGE].edge_index
    cpu = longtail_decomposition(user, item, train, test, num_groups=5)
    gpu = longtail_decomposition(user.cuda(), item.cuda(), train, test,
                                 num_groups=5)
    for key in ('recall', 'recall_per_group', 'share_per_group',
                'target_share_per_group', 'item_count_per_group'):
        assert gpu[key] == pytest.approx(cpu[key], abs=1e-12), key
    assert torch.equal(gpu['item_group'].cpu(), cpu['item_group'].cpu())


def _model(name, split):
    if name == 'mf':
        return MF(split.num_users, split.num_items, embedding_dim=32)
    if name == 'svdpp':
        return SVDPP(split.num_users, split.num_items, embedding_dim=32)
    if name == 'svdpp-item':
        return SVDPP(split.num_users, split.num_items, embedding_dim=32,
                     side='item')
    return LightGCN(split.num_users, split.num_items, embedding_dim=32,
                    num_layers=2)


def _fit(split, model, loss, mode, n, fused, epochs=2):
    torch.manual_seed(0)
    kwargs = {} if n is None else {'num_negatives': n}
    trainer = Trainer(_model(model, split), loss_resolver(loss), split.train,
                      val_data=split.val, test_data=split.test,
                      epochs=epochs, batch_size=256, lr=5e-3, reg=1e-4,
                      seed=0, quiet=True, negative_sampling=mode,
                      fused_optimizer=fused, device='cuda', **kwargs)
    out = trainer.fit()
    assert all(p.is_cuda for p in trainer.model.parameters())
    return out['test']


@pytest.mark.parametrize('model,loss,mode,n', [
    ('lightgcn', 'bpr', 'uniform', 1),
    ('lightgcn', 'bce', 'uniform', 4),
    ('lightgcn', 'simce', 'uniform', 64),
    ('lightgcn', 'simce', 'shared', 64),
    ('lightgcn', 'ssm', 'in-batch', None),
    ('lightgcn', 'softmax', 'full', None),
    ('lightgcn', 'mml', 'shared', 64),
    ('lightgcn', 'ccl', 'in-batch', None),
    ('lightgcn', 'bpr', 'popularity', 2),
    ('mf', 'bpr', 'uniform', 1),
    ('svdpp', 'ssm', 'in-batch', None),
    ('svdpp-item', 'ssm', 'shared', 64),
])
def test_fused_adam_on_cuda_matches_unfused(split, model, loss, mode, n):
    # Same seed, same device, so the same batches and negatives: the fused
    # kernel may only change the result by float rounding.
    fused = _fit(split, model, loss, mode, n, fused=True)
    plain = _fit(split, model, loss, mode, n, fused=False)
    for key in ('recall@20', 'ndcg@20'):
        assert 0.0 < plain[key] <= 1.0
        assert fused[key] == pytest.approx(plain[key], abs=2e-3), key
