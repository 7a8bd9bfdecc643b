r"""Every legal negative strategy x loss pair: the Trainer's step (rows
propagated only where needed, fast paths chosen by the loss) gives the same
loss and gradients as a plain full-graph reference written here, which
propagates the whole graph, builds every row's negatives by a Python loop and
calls the loss in its ragged form."""
import pytest
import torch
import torch.nn.functional as F

from pyg_simce.data import load_dataset
from pyg_simce.nn.loss import SimCELoss, loss_resolver
from pyg_simce.nn.models import MF, SVDPP, LightGCN
from pyg_simce.train import Trainer
from pyg_simce.train.batching import epoch_generator
from pyg_simce.train.negatives import per_user_negatives

LOSSES = ('bpr', 'bce', 'ssm', 'simce', 'ccl', 'mml')
STRATEGIES = (('uniform', 3), ('uniform', 12), ('popularity', 2),
              ('shared', 30), ('in-batch', None))


@pytest.fixture(scope='module')
def split():
    return load_dataset('synthetic', num_users=60, num_items=40, seed=1)


def _trainer(split, loss, model, **kwargs):
    model = model.double()
    return Trainer(model, loss, split.train, test_data=split.test,
                   quiet=True, fused_optimizer=False, ks=(5, ), reg=0.3,
                   **kwargs)


def _reference(trainer, users, items, seed):
    # The loss of the batch from the full-graph embeddings, with negatives
    # listed one by one.
    model, loss_fn = trainer.model, trainer.loss
    user_out, item_out = model.get_embedding(trainer.edge_index)
    if trainer.train_similarity == 'cosine':
        user_out = F.normalize(user_out, dim=-1)
        item_out = F.normalize(item_out, dim=-1)
    ei = trainer.train_pairs
    known = {(int(u), int(i)) for u, i in ei.t()}
    mode, n = trainer.negative_sampling, trainer.num_negatives
    gen = epoch_generator(seed, 0)
    B = users.numel()
    sampler = trainer.strategy.sampler if hasattr(trainer.strategy,
                                                  'sampler') else None
    if mode in ('uniform', 'popularity'):
        drawn = sampler.sample(users, generator=gen).view(B, -1)
    elif mode == 'shared':
        pool = sampler.sample_shared(n, generator=gen)
    negs = []
    for b in range(B):
        u, i = int(users[b]), int(items[b])
        if mode in ('uniform', 'popularity'):
            negs.append(drawn[b].tolist())
        elif mode == 'shared':
            negs.append([int(j) for j in pool if (u, int(j)) not in known])
        elif mode == 'in-batch':
            negs.append([int(items[c]) for c in range(B)
                         if c != b and int(items[c]) != i])
        else:  # full
            negs.append([j for j in range(trainer.num_items) if j != i])
    pos = (user_out[users] * item_out[items]).sum(-1)
    index = torch.tensor([b for b in range(B) for _ in negs[b]])
    neg_items = torch.tensor([j for row in negs for j in row])
    neg = (user_out[users[index]] * item_out[neg_items]).sum(-1)
    loss = loss_fn(pos, neg, index)
    P0 = model.user_embedding.weight
    Q0 = model.item_embedding.weight
    penalty = P0[users].pow(2).sum() + Q0[items].pow(2).sum()
    if mode in ('uniform', 'popularity', 'shared'):
        penalty = penalty + Q0[neg_items].pow(2).sum()
    return loss + trainer.reg * penalty / (2 * B)


def _grads(trainer, loss):
    model = trainer.model
    model.zero_grad(set_to_none=True)
    loss.backward()
    return (model.user_embedding.weight.grad.clone(),
            model.item_embedding.weight.grad.clone())


def _check(trainer, users, items, seed=5):
    step = trainer.batch_loss(users, items, epoch_generator(seed, 0))
    g_step = _grads(trainer, step)
    ref = _reference(trainer, users, items, seed)
    g_ref = _grads(trainer, ref)
    torch.testing.assert_close(step, ref, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(g_step[0], g_ref[0], rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(g_step[1], g_ref[1], rtol=1e-8, atol=1e-10)


def _batch(split, size=48, repeat=True):
    ei = split.train['user', 'rates', 'item'].edge_index
    perm = torch.randperm(ei.size(1), generator=torch.Generator()
                          .manual_seed(0))[:size]
    users, items = ei[0, perm], ei[1, perm]
    if repeat:  # the same item in several rows, the same user too
        items[5], items[9] = items[3], items[3]
        users[7] = users[2]
    return users, items


@pytest.mark.parametrize('strategy', STRATEGIES)
@pytest.mark.parametrize('name', LOSSES)
def test_step_equals_full_graph_reference(split, name, strategy):
    mode, n = strategy
    torch.manual_seed(0)
    model = LightGCN(split.num_users, split.num_items, embedding_dim=8,
                     num_layers=2)
    trainer = _trainer(split, loss_resolver(name), model,
                       negative_sampling=mode, num_negatives=n)
    _check(trainer, *_batch(split))


@pytest.mark.parametrize('similarity', ['dot', 'cosine'])
def test_full_catalogue_softmax_equals_reference(split, similarity):
    torch.manual_seed(0)
    model = LightGCN(split.num_users, split.num_items, embedding_dim=8,
                     num_layers=1)
    trainer = _trainer(split, loss_resolver('softmax', temperature=0.5),
                       model, train_similarity=similarity)
    _check(trainer, *_batch(split))


@pytest.mark.parametrize('make', [
    lambda s: MF(s.num_users, s.num_items, embedding_dim=8),
    lambda s: SVDPP(s.num_users, s.num_items, embedding_dim=8),
    lambda s: SVDPP(s.num_users, s.num_items, embedding_dim=8, side='item',
                    alpha0=0.5, alpha1=0.5),
    lambda s: LightGCN(s.num_users, s.num_items, embedding_dim=8,
                       num_layers=3, alpha0=1.0, alpha1=0.0),
])
@pytest.mark.parametrize('strategy', [('in-batch', None), ('uniform', 4),
                                      ('shared', 25)])
def test_every_backbone_equals_reference(split, make, strategy):
    torch.manual_seed(0)
    trainer = _trainer(split, loss_resolver('ssm'), make(split),
                       negative_sampling=strategy[0],
                       num_negatives=strategy[1])
    _check(trainer, *_batch(split))


def test_both_per_user_paths_agree(split, monkeypatch):
    # The direct gather, the gathered_dot and the distinct-candidate
    # product paths of per-user negatives give the same loss and gradients
    # (the cost model only picks one).
    torch.manual_seed(0)
    model = LightGCN(split.num_users, split.num_items, embedding_dim=8,
                     num_layers=1)
    trainer = _trainer(split, SimCELoss(margin=1.0), model,
                       negative_sampling='uniform', num_negatives=6)
    users, items = _batch(split)
    values = []
    # direct gather / gathered_dot / always the product
    for small_n, advantage in ((10**6, 1), (0, 1), (0, 10**6)):
        monkeypatch.setattr(per_user_negatives, 'SMALL_N', small_n)
        monkeypatch.setattr(per_user_negatives, 'GEMM_ADVANTAGE', advantage)
        values.append(trainer.batch_loss(users, items,
                                         epoch_generator(2, 0)))
        _check(trainer, users, items)
    torch.testing.assert_close(values[0], values[1], rtol=1e-12, atol=0)
    torch.testing.assert_close(values[0], values[2], rtol=1e-12, atol=0)


@pytest.mark.parametrize('bound', ['hinge', 'softplus'])
def test_hardest_negative_path_with_ties(split, bound):
    # SimCE reads each row's hardest negative only, so the step scores the
    # negatives without autograd and recomputes the maximal entries.  Items
    # sharing one of three embeddings make exact ties between distinct
    # items, and 12 draws from 40 items repeat items within a row: the
    # gradient must still be split among the tied entries as the plain
    # reference (a ragged maximum) splits it.
    torch.manual_seed(0)
    model = MF(split.num_users, split.num_items, embedding_dim=8)
    with torch.no_grad():
        base = model.item_embedding.weight[:3].clone()
        model.item_embedding.weight.copy_(
            base[torch.arange(split.num_items) % 3])
    trainer = _trainer(split, SimCELoss(margin=50.0, bound=bound), model,
                       negative_sampling='uniform', num_negatives=12)
    assert trainer.loss.max_negative_only
    users, items = _batch(split)
    _check(trainer, users, items)
