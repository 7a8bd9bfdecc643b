r"""Seeded synthetic runs give the test metrics the Trainer gave before the
training engine was rebuilt around negative strategies (commit 9326a57,
recorded below), with the fused optimizer turned off.

The figures are the earlier engine's output, not targets: a change of
summation order may move a metric by float noise, which this test bounds at
1e-4 (metrics are averages over 300 users, so one user's changed top-20 moves
them by more than that)."""
import pytest
import torch

from pyg_simce.data import load_dataset
from pyg_simce.nn.loss import loss_resolver
from pyg_simce.nn.models import MF, SVDPP, LightGCN
from pyg_simce.train import Trainer

#: (model, loss, negative_sampling, num_negatives, Recall@20, NDCG@20)
#: measured with the trainer of commit 9326a57.
EARLIER = [
    ('lightgcn2', 'bpr', 'uniform', 1, 0.3290005634916625,
     0.26941135531543065),
    ('lightgcn2', 'bce', 'uniform', 4, 0.3626078209429603,
     0.29495568194659455),
    ('lightgcn2', 'simce', 'uniform', 16, 0.3646426001042874,
     0.2924083305306656),
    ('lightgcn2', 'simce', 'shared', 64, 0.2839826401525318,
     0.21826575738644677),
    ('lightgcn2', 'ssm', 'in-batch', None, 0.32870792031898843,
     0.2510509529915114),
    ('lightgcn2', 'softmax', 'full', None, 0.3580123724887657,
     0.29724138551578994),
    ('lightgcn2', 'mml', 'shared', 64, 0.30684758444742966,
     0.23629736452145628),
    ('lightgcn2', 'ccl', 'in-batch', None, 0.16384036000405972,
     0.11669542928272499),
    ('lightgcn2', 'bpr', 'popularity', 2, 0.3681677740617369,
     0.2967116071712274),
    ('mf', 'bpr', 'uniform', 1, 0.20694910215343654, 0.15759934726248845),
    ('svdpp', 'ssm', 'in-batch', None, 0.21340459947116291,
     0.14818276091552582),
]


@pytest.fixture(scope='module')
def split():
    return load_dataset('synthetic', num_users=300, num_items=200, seed=0)


def _model(name, split):
    if name == 'mf':
        return MF(split.num_users, split.num_items, embedding_dim=32)
    if name == 'svdpp':
        return SVDPP(split.num_users, split.num_items, embedding_dim=32)
    return LightGCN(split.num_users, split.num_items, embedding_dim=32,
                    num_layers=2)


@pytest.mark.parametrize('model,loss,mode,n,recall,ndcg', EARLIER)
def test_seeded_run_reproduces_earlier_engine(split, model, loss, mode, n,
                                              recall, ndcg):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        kwargs = {} if n is None else {'num_negatives': n}
        trainer = Trainer(_model(model, split), loss_resolver(loss),
                          split.train, val_data=split.val,
                          test_data=split.test, epochs=4, batch_size=256,
                          lr=5e-3, reg=1e-4, seed=0, quiet=True,
                          negative_sampling=mode, fused_optimizer=False,
                          **kwargs)
        test = trainer.fit()['test']
    finally:
        torch.set_num_threads(threads)
    assert test['recall@20'] == pytest.approx(recall, abs=1e-4)
    assert test['ndcg@20'] == pytest.approx(ndcg, abs=1e-4)
