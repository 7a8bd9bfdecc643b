import os
import signal

import pytest
import torch

from pyg_simce.data import load_dataset
from pyg_simce.nn.loss import (
    BPRLoss,
    SampledSoftmaxLoss,
    SimCELoss,
    l2_regularization,
    loss_resolver,
)
from pyg_simce.nn.models import MF, LightGCN
from pyg_simce.train import (
    ConfigMismatchError,
    JSONLinesLogger,
    Trainer,
    TrainingInterrupted,
    load_checkpoint,
    popularity_baseline,
)
from pyg_simce.train.batching import epoch_generator


@pytest.fixture(scope='module')
def split():
    return load_dataset('synthetic', num_users=120, num_items=80, seed=0)


def _trainer(split, loss=None, model=None, seed=0, **kwargs):
    torch.manual_seed(seed)
    if model is None:
        model = LightGCN(split.num_users, split.num_items, embedding_dim=16,
                         num_layers=1)
    kwargs.setdefault('batch_size', 256)
    kwargs.setdefault('lr', 0.01)
    kwargs.setdefault('ks', (5, 20))
    kwargs.setdefault('quiet', True)
    kwargs.setdefault('seed', seed)
    return Trainer(model, loss or BPRLoss(), split.train, val_data=split.val,
                   test_data=split.test, **kwargs)


def _edges(part):
    return part['user', 'rates', 'item']


def test_learns_and_beats_most_popular():
    split = load_dataset('synthetic', num_users=200, num_items=150, seed=0)
    trainer = _trainer(split, epochs=8, batch_size=512, eval_every=4,
                       lr=0.02)
    result = trainer.fit()
    baseline = popularity_baseline(_edges(split.train).edge_index,
                                   _edges(split.test).edge_label_index,
                                   split.num_users, split.num_items,
                                   exclude_edge_index=_edges(
                                       split.val).edge_label_index, ks=(20, ))
    assert result['test']['recall@20'] > 1.3 * baseline['recall@20']
    assert result['test']['ndcg@20'] > 1.3 * baseline['ndcg@20']
    assert result['epochs_run'] == 8 and result['stopped_by'] == 'epochs'
    assert result['eval_split'] == 'valid'


def test_popularity_baseline_matches_naive_loop():
    gen = torch.Generator().manual_seed(0)
    num_users, num_items = 6, 9
    pairs = torch.unique(torch.randint(0, num_users * num_items, (30, ),
                                       generator=gen))
    ei = torch.stack([pairs // num_items, pairs % num_items])
    train, test = ei[:, ::2], ei[:, 1::2]
    metrics = popularity_baseline(train, test, num_users, num_items, ks=(3, ))
    degree = torch.bincount(train[1], minlength=num_items).tolist()
    order = sorted(range(num_items), key=lambda i: (-degree[i], i))
    recalls = []
    for u in range(num_users):
        targets = set(test[1, test[0] == u].tolist())
        if not targets:
            continue
        seen = set(train[1, train[0] == u].tolist())
        top = [i for i in order if i not in seen][:3]
        recalls.append(len(targets & set(top)) / len(targets))
    assert metrics['recall@3'] == pytest.approx(sum(recalls) / len(recalls))


def test_early_stopping_restores_best_model(split, monkeypatch):
    trainer = _trainer(split, epochs=20, patience=2)
    script = iter([0.1, 0.3, 0.2, 0.25, 0.9])
    snapshots = {}

    def fake_evaluate(split_name='test', users=None):
        if split_name == 'test':
            return {'recall@20': -1.0, 'ndcg@20': -1.0}
        snapshots[trainer.epoch] = {
            k: v.clone() for k, v in trainer.model.state_dict().items()
        }
        return {'recall@20': next(script), 'ndcg@20': 0.0}

    monkeypatch.setattr(trainer, 'evaluate', fake_evaluate)
    result = trainer.fit()
    # Evaluations 0.1, 0.3 (best), 0.2, 0.25 -> two without gain: stop.
    assert result['stopped_by'] == 'early_stopping'
    assert result['epochs_run'] == 4 and result['best_epoch'] == 2
    assert result['valid']['recall@20'] == 0.3
    for k, v in trainer.model.state_dict().items():
        assert torch.equal(v, snapshots[2][k])
    assert not torch.equal(snapshots[2]['user_embedding.weight'],
                           snapshots[4]['user_embedding.weight'])


def test_time_budget_stops_after_the_epoch(split):
    trainer = _trainer(split, epochs=50, time_budget=1e-6)
    result = trainer.fit()
    assert result['stopped_by'] == 'time_budget'
    assert result['epochs_run'] == 1
    # The epoch that exceeded the budget is evaluated and selectable.
    assert result['best_epoch'] == 1 and result['test'] is not None


def test_jsonl_log_contents(split, tmp_path):
    log = tmp_path / 'log.jsonl'
    trainer = _trainer(split, epochs=5, eval_every=2, log_path=log)
    result = trainer.fit()
    records = JSONLinesLogger.read(log)
    assert [r['epoch'] for r in records] == [1, 2, 3, 4, 5]
    evaluated = [r['epoch'] for r in records if 'metrics' in r]
    assert evaluated == [2, 4, 5]  # every 2 epochs and the last one
    for r in records:
        assert r['loss'] > 0 and r['seconds'] >= 0
        if 'metrics' in r:
            assert r['split'] == 'valid'
            assert set(r['metrics']) >= {'recall@20', 'ndcg@20', 'mrr@5'}
    best = max((r for r in records if 'metrics' in r),
               key=lambda r: r['metrics']['recall@20'])
    assert result['valid']['recall@20'] == pytest.approx(
        best['metrics']['recall@20'])

    # Without a validation split the log says 'test'.
    no_val = _trainer(split, epochs=1, log_path=log)
    no_val.val_data = None
    no_val.fit()
    assert JSONLinesLogger.read(log)[0]['split'] == 'test'


def _params(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _assert_same_run(a, b, model_a, model_b):
    for split_name in ('test', 'valid'):
        for key, value in a[split_name].items():
            assert b[split_name][key] == pytest.approx(value, abs=1e-6), key
    assert a['best_epoch'] == b['best_epoch']
    for k, v in model_a.items():
        assert torch.allclose(v, model_b[k], atol=1e-6), k


@pytest.mark.parametrize('loss', ['bpr', 'simce'])
def test_resume_equals_uninterrupted_run(split, tmp_path, loss):
    full = _trainer(split, loss_resolver(loss), epochs=4)
    expected = full.fit()

    first = _trainer(split, loss_resolver(loss), epochs=2,
                     checkpoint_dir=tmp_path, log_path=tmp_path / 'log.jsonl')
    first.fit()
    # A fresh process: another initialisation, then resume to 4 epochs.
    second = _trainer(split, loss_resolver(loss), epochs=4, seed=0,
                      checkpoint_dir=tmp_path, log_path=tmp_path / 'log.jsonl')
    with torch.no_grad():
        second.model.user_embedding.weight.add_(1.0)
    got = second.fit(resume=True)
    assert got['epochs_run'] == 4
    _assert_same_run(expected, got, _params(full.model),
                     _params(second.model))
    records = JSONLinesLogger.read(tmp_path / 'log.jsonl')
    assert [r['epoch'] for r in records] == [1, 2, 3, 4]


def test_interrupt_mid_epoch_checkpoints_and_resumes_exactly(
        split, tmp_path, monkeypatch):
    full = _trainer(split, epochs=3, batch_size=64)
    expected = full.fit()

    trainer = _trainer(split, epochs=3, batch_size=64,
                       checkpoint_dir=tmp_path,
                       log_path=tmp_path / 'log.jsonl')
    real = trainer.batch_loss
    calls = {'n': 0}
    steps = -(-trainer.train_pairs.size(1) // 64)

    def interrupting(users, items, generator=None):
        calls['n'] += 1
        if calls['n'] == steps + 2:  # during the 2nd step of epoch 2
            os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C would
        return real(users, items, generator)

    monkeypatch.setattr(trainer, 'batch_loss', interrupting)
    # Whatever handled SIGINT before training (Python's default, or 'ignore'
    # in a job that a shell started in the background) handles it again
    # afterwards.
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(TrainingInterrupted) as info:
        trainer.fit()
    assert info.value.checkpoint == tmp_path / 'last.pt'
    state = load_checkpoint(tmp_path / 'last.pt')
    assert (state['epoch'], state['step']) == (1, 2)
    assert signal.getsignal(signal.SIGINT) is before

    resumed = _trainer(split, epochs=3, batch_size=64,
                       checkpoint_dir=tmp_path,
                       log_path=tmp_path / 'log.jsonl')
    got = resumed.fit(resume=True)
    _assert_same_run(expected, got, _params(full.model),
                     _params(resumed.model))
    records = JSONLinesLogger.read(tmp_path / 'log.jsonl')
    assert [r['epoch'] for r in records] == [1, 2, 3]


def test_resume_with_incompatible_options_names_them(split, tmp_path):
    _trainer(split, epochs=1, checkpoint_dir=tmp_path).fit()
    other = _trainer(split, epochs=2, lr=0.05, batch_size=128,
                     checkpoint_dir=tmp_path)
    with pytest.raises(ConfigMismatchError) as info:
        other.fit(resume=True)
    names = {d[0] for d in info.value.differences}
    assert names == {'lr', 'batch_size'}
    assert 'lr' in str(info.value)


@pytest.mark.parametrize('folder', ['missing', 'empty'])
def test_resume_without_a_checkpoint_starts_a_fresh_run(split, tmp_path,
                                                         capsys, folder):
    ckpt = tmp_path / 'ckpt'
    if folder == 'empty':
        ckpt.mkdir()
    trainer = _trainer(split, epochs=2, checkpoint_dir=ckpt,
                       log_path=ckpt / 'log.jsonl')
    result = trainer.fit(resume=True)
    err = capsys.readouterr().err
    assert f"no checkpoint in '{ckpt}'; starting a fresh run" in err
    assert result['epochs_run'] == 2
    assert load_checkpoint(ckpt / 'last.pt')['epoch'] == 2
    assert [r['epoch'] for r in
            JSONLinesLogger.read(ckpt / 'log.jsonl')] == [1, 2]
    # The same run without resume=True gives the same model.
    plain = _trainer(split, epochs=2)
    plain.fit()
    got, want = _params(trainer.model), _params(plain.model)
    assert got.keys() == want.keys()
    assert all(torch.equal(got[k], want[k]) for k in got)


def test_resume_from_a_damaged_checkpoint_is_still_an_error(split, tmp_path):
    (tmp_path / 'last.pt').write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='last.pt'):
        _trainer(split, checkpoint_dir=tmp_path).fit(resume=True)


def test_checkpoint_loads_with_weights_only(split, tmp_path):
    trainer = _trainer(split, epochs=1, checkpoint_dir=tmp_path)
    trainer.fit()
    state = torch.load(tmp_path / 'last.pt', weights_only=True)
    assert state['epoch'] == 1 and state['best_model'] is not None
    assert isinstance(state['rng']['torch'], torch.Tensor)
    assert state['config']['loss'] == 'bpr'


def test_regulariser_is_lightgcn_l2_of_layer0_rows(split):
    trainer = _trainer(split, reg=0.0)
    users = torch.tensor([0, 1, 2, 3])
    items = _edges(split.train).edge_index[1, :4]
    users = _edges(split.train).edge_index[0, :4]
    plain = trainer.batch_loss(users, items, epoch_generator(0, 0))
    trainer.reg = 0.5
    with_reg = trainer.batch_loss(users, items, epoch_generator(0, 0))
    neg = trainer._sampler.sample(users, generator=epoch_generator(0, 0))
    w_u = trainer.model.user_embedding.weight
    w_i = trainer.model.item_embedding.weight
    expected = 0.5 * (w_u[users].pow(2).sum() + w_i[items].pow(2).sum() +
                      w_i[neg.view(-1)].pow(2).sum()) / (2 * 4)
    assert float(with_reg - plain) == pytest.approx(float(expected),
                                                    rel=1e-5)
    ref = l2_regularization(w_u[users], w_i[items], w_i[neg.view(-1)],
                            batch_size=4, weight=0.5)
    assert float(ref) == pytest.approx(float(expected), rel=1e-6)


def _naive_scores(trainer, users, items, neg):
    user_out, item_out = trainer.model.get_embedding(trainer.edge_index)
    u, i = user_out[users], item_out[items]
    if trainer.train_similarity == 'cosine':
        u = torch.nn.functional.normalize(u, dim=-1)
        i = torch.nn.functional.normalize(i, dim=-1)
    n = item_out[neg]
    if trainer.train_similarity == 'cosine':
        n = torch.nn.functional.normalize(n, dim=-1)
    return (u * i).sum(-1), (u.unsqueeze(1) * n).sum(-1)


@pytest.mark.parametrize('similarity', ['dot', 'cosine'])
def test_per_user_negatives_match_naive_gather(split, similarity):
    # 8 negatives take the distinct-candidate product path.
    trainer = _trainer(split, SimCELoss(margin=1.0), negative_sampling=(
        'uniform'), num_negatives=8, train_similarity=similarity)
    ei = _edges(split.train).edge_index
    users, items = ei[0, :50], ei[1, :50]
    loss = trainer.batch_loss(users, items, epoch_generator(0, 1))
    neg = trainer._sampler.sample(users, generator=epoch_generator(0, 1))
    # Sampled negatives are never training items of their user.
    assert not trainer.positive_index.contains(
        users.view(-1, 1).expand_as(neg), neg).any()
    pos, neg_scores = _naive_scores(trainer, users, items, neg)
    assert float(loss) == pytest.approx(float(SimCELoss(1.0)(pos,
                                                             neg_scores)),
                                        rel=1e-5)


def test_shared_pool_masks_exactly_the_training_items(split, monkeypatch):
    captured = {}

    class Recorder(BPRLoss):
        def forward(self, pos, neg, index=None):
            captured.update(pos=pos, neg=neg, index=index)
            return super().forward(pos, neg, index)

    trainer = _trainer(split, Recorder(), negative_sampling='shared',
                       num_negatives=40)
    ei = _edges(split.train).edge_index
    users, items = ei[0, :30], ei[1, :30]
    gen = epoch_generator(3, 0)
    trainer.batch_loss(users, items, gen)
    pool = trainer.strategy.sampler.sample_shared(40, epoch_generator(3, 0))
    user_out, item_out = trainer.model.get_embedding(trainer.edge_index)
    full = user_out[users] @ item_out[pool].t()
    member = trainer.positive_index.contains(
        users.view(-1, 1).expand(30, 40), pool.view(1, -1).expand(30, 40))
    assert member.any()  # the test exercises the masking
    row, col = (~member).nonzero(as_tuple=True)
    assert torch.equal(captured['index'], row)
    assert torch.allclose(captured['neg'], full[row, col], atol=1e-6)
    # The sampler's membership path agrees with the dense table.
    assert torch.equal(trainer._sampler.pool_mask(users, pool), ~member)


def test_every_negative_mode_gives_a_finite_loss_and_gradient(split):
    ei = _edges(split.train).edge_index
    users, items = ei[0, :64], ei[1, :64]
    for name in ('bpr', 'bce', 'ssm', 'simce', 'ccl', 'mml', 'softmax'):
        trainer = _trainer(split, loss_resolver(name), reg=1e-3)
        loss = trainer.batch_loss(users, items, epoch_generator(0, 0))
        loss.backward()
        grad = trainer.model.user_embedding.weight.grad
        assert torch.isfinite(loss) and grad is not None, name
        assert grad[users].abs().sum() > 0, name
    popular = _trainer(split, negative_sampling='popularity', beta=0.5,
                       num_negatives=3)
    assert torch.isfinite(popular.batch_loss(users, items,
                                             epoch_generator(0, 0)))


def test_in_batch_negatives_exclude_repeated_items(split):
    captured = {}

    class Recorder(SampledSoftmaxLoss):
        forward_logits = None  # take the dense -inf path, not the fused one

        def forward(self, pos, neg, index=None, **kwargs):
            captured.update(pos=pos, neg=neg, index=index)
            return super().forward(pos, neg, index, **kwargs)

    trainer = _trainer(split, Recorder(temperature=0.1))
    assert trainer.negative_sampling == 'in-batch'
    assert trainer.train_similarity == 'cosine'
    users = torch.tensor([0, 1, 2])
    items = torch.tensor([5, 7, 5])
    generic = trainer.batch_loss(users, items)
    neg = captured['neg']
    # Row r: scores against every batch item; the positive itself (the
    # diagonal) and the repeated item 5 (rows 0 and 2) are absent (-inf).
    expected_inf = torch.tensor([[1, 0, 1], [0, 1, 0], [1, 0, 1]]).bool()
    assert torch.equal(torch.isinf(neg), expected_inf)
    # The fused fast path of the plain loss gives the same value.
    fast = _trainer(split, SampledSoftmaxLoss(temperature=0.1))
    fast.model.load_state_dict(trainer.model.state_dict())
    assert float(fast.batch_loss(users, items)) == pytest.approx(
        float(generic), rel=1e-5)
    # Mean-type losses drop the same negatives through the ragged form.
    bpr = _trainer(split, BPRLoss(), negative_sampling='in-batch')
    bpr.model.load_state_dict(trainer.model.state_dict())
    user_out, item_out = bpr.model.get_embedding(bpr.edge_index)
    s = user_out[users] @ item_out[items].t()
    ref = BPRLoss()(s.diagonal(), s[[0, 1, 1, 2], [1, 0, 2, 1]],
                    torch.tensor([0, 1, 1, 2]))
    assert float(bpr.batch_loss(users, items)) == pytest.approx(float(ref),
                                                                rel=1e-5)


def test_per_loss_defaults_and_validation(split):
    t = _trainer(split, SimCELoss())
    assert (t.negative_sampling, t.num_negatives,
            t.train_similarity) == ('shared', 64, 'dot')
    t = _trainer(split, loss_resolver('ccl'))
    assert (t.train_similarity, t.num_negatives) == ('cosine', 256)
    assert _trainer(split, loss_resolver('softmax')).negative_sampling == \
        'full'
    with pytest.raises(ValueError, match="'batch_size' expected at least 2"):
        _trainer(split, SampledSoftmaxLoss(), batch_size=1)
    with pytest.raises(ValueError, match='negative_sampling'):
        _trainer(split, negative_sampling='nope')
    with pytest.raises(ValueError, match="'lr'"):
        _trainer(split, lr=-1.0)
    with pytest.raises(ValueError, match='softmax loss expected'):
        _trainer(split, loss_resolver('softmax'), negative_sampling='uniform')
    with pytest.raises(ValueError, match="'ks'"):
        _trainer(split, ks=(1000, ))


def test_mf_model_and_user_subset_evaluation(split):
    model = MF(split.num_users, split.num_items, embedding_dim=8)
    trainer = _trainer(split, model=model, epochs=1)
    trainer.fit()
    full = trainer.evaluate('test')
    users = torch.arange(split.num_users)
    halves = [users[:60], users[60:]]
    from pyg_simce.train import evaluate_sums
    user_out, item_out = trainer.embeddings()
    sums, counts = {}, 0
    for part in halves:
        s, n = evaluate_sums(user_out, item_out, trainer.positive_index,
                             _edges(split.test).edge_label_index,
                             exclude_edge_index=trainer._validation_index(),
                             ks=trainer.ks, users=part)
        counts += n
        for k, v in s.items():
            sums[k] = sums.get(k, 0.0) + v
    for k, v in full.items():
        assert sums[k] / counts == pytest.approx(v, abs=1e-9), k


def test_nan_loss_is_reported(split, monkeypatch):
    trainer = _trainer(split, epochs=1)
    monkeypatch.setattr(trainer, 'batch_loss',
                        lambda *a, **k: torch.tensor(float('nan')))
    with pytest.raises(FloatingPointError, match='lower --lr'):
        trainer.fit()

