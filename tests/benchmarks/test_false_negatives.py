r"""The false-negative analysis of the ``simce`` suite against naive
references: test membership against a set, the exact expected share against
a per-user loop and a large sampled probe, each loss's gradient on the
negatives against its closed form, and the oracle sampler that never draws a
test item."""
import dataclasses
import json
import math
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fn(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.suites import false_negatives
    return false_negatives


@pytest.fixture(scope='module')
def split():
    from pyg_simce.data import load_dataset
    return load_dataset('synthetic', num_users=60, num_items=40,
                        mean_degree=8.0, seed=3)


def _pairs(split, name):
    store = getattr(split, name)['user', 'rates', 'item']
    return store.edge_index if name == 'train' else store.edge_label_index


def test_test_membership_matches_a_set(fn, split):
    test = _pairs(split, 'test')
    truth = {(int(u), int(i)) for u, i in test.t()}
    users = torch.randint(0, split.num_users, (50, ))
    items = torch.randint(0, split.num_items, (50, 7))
    users[:5], items[:5, 0] = test[0, :5], test[1, :5]  # some hits for sure
    got = fn.is_test_pair(users, items, test, split.num_items)
    want = torch.tensor([[(int(u), int(i)) in truth for i in row]
                         for u, row in zip(users, items)])
    assert got.dtype == torch.bool and torch.equal(got, want)
    assert got[:5, 0].all()


def test_expected_draws_match_a_user_loop_and_a_large_probe(fn, split):
    train, test = _pairs(split, 'train'), _pairs(split, 'test')
    n = 16
    exact = fn.expected_test_draws(train, test, split.num_users,
                                   split.num_items, n)
    # Per-user loop over training positives.
    share = hit = 0.0
    for u in range(split.num_users):
        p = int((train[0] == u).sum())
        t = int((test[0] == u).sum())
        q = t / (split.num_items - p)
        share += p * q
        hit += p * (1 - (1 - q) ** n)
    assert exact['test_share_of_draws'] == pytest.approx(
        share / train.size(1), rel=1e-12)
    assert exact['draws_with_test'] == pytest.approx(hit / train.size(1),
                                                     rel=1e-12)
    # The trainer's own sampler agrees within sampling error.
    probe = fn.probe_draw(train, test, split.num_users, split.num_items, n,
                          positives=train.size(1), seed=1)
    drawn = probe['is_test'].float()
    se = math.sqrt(exact['test_share_of_draws'] / drawn.numel())
    assert abs(drawn.mean().item() - exact['test_share_of_draws']) < 5 * se
    # Never a training item of the user.
    train_hit = fn.is_test_pair(probe['pos_pairs'][0], probe['neg'], train,
                                split.num_items)
    assert not train_hit.any()


def _push_inputs(seed=0, p=40, n=6, d=5, users=7, items=30):
    g = torch.Generator().manual_seed(seed)
    user_emb = torch.randn(users, d, generator=g)
    item_emb = torch.randn(items, d, generator=g)
    pos_pairs = torch.stack([torch.randint(0, users, (p, ), generator=g),
                             torch.randint(0, items, (p, ), generator=g)])
    neg = torch.randint(0, items, (p, n), generator=g)
    # Membership is a property of the (user, item) pair, so an item drawn
    # twice for a positive is a test item both times.
    is_test = (pos_pairs[0, :, None] * 7 + neg * 3) % 10 < 3
    return user_emb, item_emb, pos_pairs, neg, is_test


def _naive_weights(name, user_emb, item_emb, pos_pairs, neg, **kw):
    # |dL/ds_uj| of each negative from the closed form, row by row.
    rows = []
    for k in range(neg.size(0)):
        u = user_emb[pos_pairs[0, k]]
        s_pos = float(u @ item_emb[pos_pairs[1, k]])
        s = [float(u @ item_emb[j]) for j in neg[k]]
        if name == 'simce':
            # An item drawn twice ties with itself: the max's gradient
            # is shared by the tied entries.
            tops = [j for j in range(len(s)) if s[j] == max(s)]
            active = kw['margin'] - s_pos + max(s) > 0
            rows.append([1.0 / len(tops) if (j in tops and active) else 0.0
                         for j in range(len(s))])
        elif name == 'ssm':
            z = [s_pos / kw['temperature']] + [x / kw['temperature']
                                               for x in s]
            m = max(z)
            e = [math.exp(x - m) for x in z]
            rows.append([x / sum(e) / kw['temperature'] for x in e[1:]])
        else:  # bpr: mean over the negatives of softplus(s_j - s_pos)
            rows.append([1 / (1 + math.exp(s_pos - x)) / len(s) for x in s])
    return torch.tensor(rows, dtype=torch.float64)


@pytest.mark.parametrize('name,kwargs', [('simce', {'margin': 2.0}),
                                         ('ssm', {'temperature': 0.5}),
                                         ('bpr', {})])
def test_negative_push_matches_each_loss_closed_form(fn, name, kwargs):
    from pyg_simce.nn.loss import loss_resolver

    user_emb, item_emb, pos_pairs, neg, is_test = _push_inputs()
    loss = loss_resolver(name, reduction='sum', **kwargs)
    degree = torch.arange(1, item_emb.size(0) + 1).double() ** 2
    got = fn.negative_push(user_emb, item_emb, pos_pairs, neg, is_test,
                           loss, chunk=7,  # several uneven chunks
                           item_degree=degree)
    w = _naive_weights(name, user_emb, item_emb, pos_pairs, neg, **kwargs)
    assert got['gradient_on_test'] == pytest.approx(
        float((w * is_test).sum() / w.sum()), rel=1e-5)
    assert got['pushed_degree'] == pytest.approx(
        float((w * degree[neg]).sum() / w.sum()), rel=1e-5)
    assert got['drawn_degree'] == pytest.approx(float(degree[neg].mean()))
    assert 'pushed_degree' not in fn.negative_push(
        user_emb, item_emb, pos_pairs, neg, is_test, loss)
    assert got['active'] == pytest.approx(
        float((w.sum(1) > 0).double().mean()))
    scores = torch.einsum('pd,pnd->pn', user_emb[pos_pairs[0]],
                          item_emb[neg])
    top = scores.argmax(1)
    assert got['hardest_is_test'] == pytest.approx(
        float(is_test[torch.arange(neg.size(0)), top].double().mean()))
    assert got['test_share_of_draws'] == pytest.approx(
        float(is_test.double().mean()))
    if name == 'simce':  # all of an active row's push on its hardest one
        assert got['gradient_on_test'] == pytest.approx(
            float((is_test[torch.arange(neg.size(0)), top]
                   & (w.sum(1) > 0)).double().sum() / (w.sum(1) > 0).sum()))


def test_oracle_sampler_never_draws_a_test_item(fn, split):
    from pyg_simce.nn.loss import SimCELoss
    from pyg_simce.nn.models import LightGCN
    from pyg_simce.train import Trainer

    train, test = _pairs(split, 'train'), _pairs(split, 'test')
    model = LightGCN(split.num_users, split.num_items, embedding_dim=8,
                     num_layers=1)
    users = train[0].repeat(20)

    def drawn_test(trainer):
        neg = trainer.strategy.sampler.sample(users).view(users.numel(), -1)
        return fn.is_test_pair(users, neg, test, split.num_items)

    plain = Trainer(model, SimCELoss(), split.train, epochs=1,
                    negative_sampling='uniform', num_negatives=8, seed=0,
                    quiet=True, progress=False, ks=(10, 20))
    assert drawn_test(plain).any()  # the failure the oracle removes
    oracle = Trainer(model, SimCELoss(), split.train, epochs=1,
                     negative_sampling='uniform', num_negatives=8, seed=0,
                     quiet=True, progress=False, ks=(10, 20))
    fn.exclude_test_from_negatives(oracle, split)
    neg = oracle.strategy.sampler.sample(users).view(users.numel(), -1)
    assert not fn.is_test_pair(users, neg, test, split.num_items).any()
    assert not fn.is_test_pair(users, neg, train, split.num_items).any()

    shared = Trainer(model, SimCELoss(), split.train, epochs=1,
                     negative_sampling='shared', num_negatives=8, seed=0,
                     quiet=True, progress=False, ks=(10, 20))
    with pytest.raises(ValueError, match="needs per-positive negatives"):
        fn.exclude_test_from_negatives(shared, split)


def test_negatives_exclude_is_checked_and_kept_out_of_clean(monkeypatch,
                                                            tmp_path):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.clean.clean_config import clean_settings, load_clean
    from benchmarks.clean.clean_suite import clean_spec
    from benchmarks.suites.config import ConfigError, load_suite
    from benchmarks.suites.training import run_spec

    (tmp_path / 'bad.json').write_text(json.dumps({
        'title': 't', 'reference': 'r', 'runs': [{
            'label': 'x', 'model': 'mf', 'loss': 'bpr',
            'negatives_exclude': 'valid'}]}))
    with pytest.raises(ConfigError, match=r"runs\[0\].negatives_exclude "
                       "expected 'test'"):
        load_suite('bad', configs=tmp_path)

    runs = {r.label: r for r in load_suite('simce')['runs']}
    oracle = runs['SimCE margin 5, test items never negatives (oracle)']
    plain = runs['SimCE margin 5']
    assert dataclasses.replace(oracle, label=plain.label,
                               negatives_exclude=None) == plain
    clean = clean_settings('synthetic', load_clean())
    spec = run_spec(oracle, clean.settings, 0, 'cpu')
    assert spec['negatives_exclude'] == 'test'
    # A run without the option keeps its spec, hence its cache key.
    assert 'negatives_exclude' not in run_spec(plain, clean.settings, 0,
                                               'cpu')
    with pytest.raises(ValueError, match='clean protocol forbids'):
        clean_spec(oracle, clean, {}, 0, 'cpu')


def test_recommended_popularity_matches_a_user_loop(fn, split):
    from pyg_simce.metrics import evaluate_ranking

    torch.manual_seed(0)
    train, test = _pairs(split, 'train'), _pairs(split, 'test')
    n_users, n_items = split.num_users, split.num_items
    user_emb, item_emb = torch.randn(n_users, 8), torch.randn(n_items, 8)
    degree = torch.bincount(train[1], minlength=n_items).double()
    val = split.val['user', 'rates', 'item'].edge_label_index
    for similarity, exclude in (('dot', None), ('cosine', None),
                                ('dot', val)):
        got = fn.recommended_popularity(user_emb, item_emb, train, test,
                                        n_items, similarity, k=5,
                                        exclude=exclude)
        u, i = user_emb, item_emb
        if similarity == 'cosine':
            u = u / u.norm(dim=1, keepdim=True)
            i = i / i.norm(dim=1, keepdim=True)
        degrees = []
        for user in sorted(set(test[0].tolist())):
            scores = (u[user] * i).sum(-1)
            scores[train[1][train[0] == user]] = -float('inf')
            if exclude is not None:
                scores[exclude[1][exclude[0] == user]] = -float('inf')
            degrees += degree[scores.argsort(descending=True)[:5]].tolist()
        assert got['top_mean_degree'] == pytest.approx(
            sum(degrees) / len(degrees))
        assert got['test_mean_degree'] == pytest.approx(
            float(degree[test[1]].mean()))
        ref = evaluate_ranking(user_emb, item_emb, train, test, ks=(5, ),
                               similarity=similarity,
                               exclude_edge_index=exclude)
        assert got['recall@5'] == pytest.approx(ref['recall@5'])


def test_simce_suite_reports_where_each_loss_pushes(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(ROOT))
    import benchmarks.run as runner
    from benchmarks.suites.config import load_suite
    from benchmarks.suites.training import SplitCache

    def short(suite):  # the real config, two epochs per run
        cfg = load_suite(suite)
        cfg['runs'] = [dataclasses.replace(
            r, settings=dict(r.settings, epochs=2, eval_every=1))
            for r in cfg['runs']]
        return cfg

    monkeypatch.setattr(runner, 'load_suite', short)
    labels = ['SimCE margin 5', 'SSM dot τ 1 (SimCE code form)',
              'SimCE margin 5, test items never negatives (oracle)']
    payload = runner.run_one('simce', 'synthetic', 'quick', [0], 'cpu',
                             SplitCache(), tmp_path / 'work',
                             tmp_path / 'out', fresh=False, verbose=False,
                             runs=labels)
    negatives = payload['summary']['false_negatives']
    assert set(negatives['runs']) == set(labels)
    for push in negatives['runs'].values():
        assert set(push) == {'best', 'final'}
        for p in push.values():
            assert 0 <= p['gradient_on_test'] <= 1
            assert p['draws_with_test'] > 0
    assert negatives['expected']['num_negatives'] == 64
    simce = negatives['runs']['SimCE margin 5']['final']
    assert simce['epoch'] == 2
    # The best model is the one the run's single test evaluation scored
    # (validation and training pairs masked alike).
    row = next(r for r in payload['rows'] if r['label'] == 'SimCE margin 5')
    best = negatives['runs']['SimCE margin 5']['best']
    assert best['recall@20'] == pytest.approx(
        row['per_seed'][0]['recall@20'], abs=1e-6)
    assert simce['top_mean_degree'] > 0
    md = (tmp_path / 'out' / 'quick' / 'simce' / 'synthetic.md').read_text()
    assert 'Test items among the negatives: 64 uniform draws' in md
    assert f"| SimCE margin 5 | final | 2 | {simce['hardest_is_test']:.4f}" \
        in md
    best = payload['summary']['verdicts'][0]
    assert best['claim'] == 'best SimCE margin on this dataset'
    assert best['evidence'].startswith('SimCE margin 5 (')  # not the oracle
    claims = {c['claim']: c for c in payload['claims']}
    key = ('diagnosis: SimCE gains when test items are never negatives '
           '(oracle)')
    assert key in claims
    # Another checkout: an empty run cache, the same results root.  The
    # runs and their push analyses come from the paper ledger, nothing is
    # trained, and the report is the same.
    again = runner.run_one('simce', 'synthetic', 'quick', [0], 'cpu',
                           SplitCache(), tmp_path / 'empty',
                           tmp_path / 'out', fresh=False, verbose=False,
                           runs=labels, report_only=True)
    assert again['runs_trained'] == 0 and again['runs_cached'] == 3
    assert again['runs_missing'] == [] and again['runs_unfinished'] == []
    assert again['summary']['false_negatives']['runs'] == negatives['runs']
    assert again['rows'] == payload['rows']
    assert again['claims'] == payload['claims']
    assert not (tmp_path / 'empty').exists()
