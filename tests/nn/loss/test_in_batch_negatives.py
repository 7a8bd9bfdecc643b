import pytest
import torch
import torch.nn.functional as F

from pyg_simce.nn.loss import SampledSoftmaxLoss, in_batch_negatives


def _emb(B, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, d, generator=g, dtype=torch.float64),
            torch.randn(B, d, generator=g, dtype=torch.float64))


def _naive_scores(u, i, similarity):
    B = u.size(0)
    S = torch.empty(B, B, dtype=u.dtype)
    for r in range(B):
        for c in range(B):
            if similarity == 'dot':
                S[r, c] = (u[r] * i[c]).sum()
            else:
                S[r, c] = F.cosine_similarity(u[r], i[c], dim=0)
    return S


@pytest.mark.parametrize('similarity', ['cosine', 'dot'])
@pytest.mark.parametrize('B', [1, 2, 7])
def test_dense_matches_naive_construction(similarity, B):
    u, i = _emb(B)
    pos, neg = in_batch_negatives(u, i, similarity=similarity)
    S = _naive_scores(u, i, similarity)
    assert neg.shape == (B, B - 1)
    for r in range(B):
        torch.testing.assert_close(pos[r], S[r, r])
        others = [S[r, c] for c in range(B) if c != r]
        if others:
            torch.testing.assert_close(neg[r], torch.stack(others))


def test_gradients_flow_to_both_embeddings():
    u, i = _emb(5)
    u.requires_grad_()
    i.requires_grad_()
    loss = SampledSoftmaxLoss()(*in_batch_negatives(u, i))
    gu, gi = torch.autograd.grad(loss, (u, i))
    # Reference: the official formula on the naive score matrix.
    S = _naive_scores(u, i, 'cosine') / 0.1
    exp = (torch.logsumexp(S, 1) - S.diagonal()).mean()
    eu, ei = torch.autograd.grad(exp, (u, i))
    torch.testing.assert_close(loss, exp)
    torch.testing.assert_close(gu, eu)
    torch.testing.assert_close(gi, ei)


def test_sum_reduction_is_official_sum_and_mean_divides_by_batch():
    u, i = _emb(6, seed=1)
    S = _naive_scores(u, i, 'cosine') / 0.12
    official = (torch.logsumexp(S, 1) - S.diagonal()).sum()
    args = in_batch_negatives(u, i)
    total = SampledSoftmaxLoss(0.12, reduction='sum')(*args)
    mean = SampledSoftmaxLoss(0.12)(*args)
    torch.testing.assert_close(total, official)
    torch.testing.assert_close(mean * 6, official)


class _Positives:
    def __init__(self, pairs):
        self.pairs = set(pairs)
        self.calls = 0

    def contains(self, users, items):
        self.calls += 1
        return torch.tensor([(int(a), int(b)) in self.pairs
                             for a, b in zip(users, items)],
                            dtype=torch.bool)


def _naive_removed(u, i, users, items, train_pairs):
    S = _naive_scores(u, i, 'cosine')
    B = u.size(0)
    neg, index = [], []
    for r in range(B):
        for c in range(B):
            if c == r or int(items[c]) == int(items[r]):
                continue
            if int(users[c]) == int(users[r]):
                continue
            if (int(users[r]), int(items[c])) in train_pairs:
                continue
            neg.append(S[r, c])
            index.append(r)
    return (S.diagonal(), torch.stack(neg) if neg else S.new_zeros(0),
            torch.tensor(index, dtype=torch.long))


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_accidental_hit_removal_matches_naive_loop(seed):
    g = torch.Generator().manual_seed(seed)
    B, num_users, num_items = 12, 5, 7
    users = torch.randint(0, num_users, (B, ), generator=g)
    items = torch.randint(0, num_items, (B, ), generator=g)
    extra = torch.randint(0, num_items, (8, ), generator=g)
    train = {(int(a), int(b)) for a, b in zip(users, items)}
    train |= {(int(users[k]), int(extra[k])) for k in range(8)}
    u, i = _emb(B, seed=seed)
    index_obj = _Positives(train)
    pos, neg, index = in_batch_negatives(
        u, i, remove_accidental_hits=True, item_index=items,
        user_index=users, positive_index=index_obj)
    exp_pos, exp_neg, exp_index = _naive_removed(u, i, users, items, train)
    assert index_obj.calls == 1  # one vectorised membership query
    torch.testing.assert_close(pos, exp_pos)
    torch.testing.assert_close(neg, exp_neg)
    assert torch.equal(index, exp_index)
    # A plain callable works the same way.
    pos2, neg2, index2 = in_batch_negatives(
        u, i, remove_accidental_hits=True, item_index=items,
        user_index=users, positive_index=index_obj.contains)
    torch.testing.assert_close(neg2, exp_neg)
    # The loss on the ragged form equals the naive per-row loss.
    out = SampledSoftmaxLoss(0.2, reduction='none')(pos, neg, index)
    for r in range(B):
        row = exp_neg[exp_index == r] / 0.2
        p = exp_pos[r] / 0.2
        exp = torch.logsumexp(torch.cat([p[None], row]), 0) - p
        torch.testing.assert_close(out[r], exp)


def test_duplicate_items_only_and_exclude_mask():
    u, i = _emb(4, seed=3)
    items = torch.tensor([3, 1, 3, 2])
    pos, neg, index = in_batch_negatives(u, i, similarity='dot',
                                         remove_accidental_hits=True,
                                         item_index=items)
    S = u @ i.t()
    keep = [(r, c) for r in range(4) for c in range(4)
            if c != r and items[c] != items[r]]
    torch.testing.assert_close(neg, torch.stack([S[r, c] for r, c in keep]))
    assert index.tolist() == [r for r, _ in keep]
    exclude = torch.zeros(4, 4, dtype=torch.bool)
    exclude[0, 1] = exclude[3, 0] = exclude[2, 2] = True
    pos, neg, index = in_batch_negatives(u, i, similarity='dot',
                                         exclude=exclude)
    keep = [(r, c) for r in range(4) for c in range(4)
            if c != r and not exclude[r, c]]
    torch.testing.assert_close(neg, torch.stack([S[r, c] for r, c in keep]))
    assert index.tolist() == [r for r, _ in keep]


def test_positive_index_from_sampler_if_available():
    sampler = pytest.importorskip('pyg_simce.sampler')
    users = torch.tensor([0, 0, 1, 2, 2])
    items = torch.tensor([0, 1, 1, 3, 0])
    edge_index = torch.stack([torch.cat([users, torch.tensor([1])]),
                              torch.cat([items, torch.tensor([3])])])
    pindex = sampler.PositiveIndex(edge_index, 3, 4)
    u, i = _emb(5, seed=4)
    pos, neg, index = in_batch_negatives(
        u, i, remove_accidental_hits=True, item_index=items,
        user_index=users, positive_index=pindex)
    train = {(int(a), int(b)) for a, b in edge_index.t()}
    _, exp_neg, exp_index = _naive_removed(u, i, users, items, train)
    torch.testing.assert_close(neg, exp_neg)
    assert torch.equal(index, exp_index)


@pytest.mark.parametrize('ragged', [False, True])
def test_log_q_from_item_probabilities(ragged):
    u, i = _emb(5, seed=5)
    prob = torch.tensor([0.1, 0.3, 0.2, 0.25, 0.15], dtype=torch.float64)
    kwargs = dict(remove_accidental_hits=True,
                  item_index=torch.tensor([0, 1, 2, 0, 4])) if ragged else {}
    out = in_batch_negatives(u, i, item_prob=prob, **kwargs)
    assert len(out) == 5
    pos, neg, index, log_q, pos_log_q = out
    torch.testing.assert_close(pos_log_q, prob.log())
    B = 5
    if not ragged:
        assert index is None
        exp = torch.stack([
            torch.stack([prob[c].log() for c in range(B) if c != r])
            for r in range(B)
        ])
        torch.testing.assert_close(log_q, exp)
    else:
        items = kwargs['item_index']
        keep = [(r, c) for r in range(B) for c in range(B)
                if c != r and items[c] != items[r]]
        assert index.tolist() == [r for r, _ in keep]
        torch.testing.assert_close(
            log_q, torch.stack([prob[c].log() for _, c in keep]))
    loss = SampledSoftmaxLoss(reduction='none')(*out)
    assert bool(torch.isfinite(loss).all())


def test_validation():
    u, i = _emb(3)
    with pytest.raises(ValueError, match="'user_emb'"):
        in_batch_negatives(u, i[:2])
    with pytest.raises(ValueError, match="'user_emb'"):
        in_batch_negatives(u[0], i[0])
    with pytest.raises(ValueError, match='non-empty'):
        in_batch_negatives(u[:0], i[:0])
    with pytest.raises(ValueError, match="'similarity'|similarity"):
        in_batch_negatives(u, i, similarity='euclid')
    with pytest.raises(ValueError, match="'item_index'"):
        in_batch_negatives(u, i, remove_accidental_hits=True,
                           item_index=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="'remove_accidental_hits"):
        in_batch_negatives(u, i, remove_accidental_hits=True)
    with pytest.raises(ValueError, match="'positive_index'"):
        in_batch_negatives(u, i, positive_index=lambda a, b: a == b)
    with pytest.raises(ValueError, match="'positive_index'"):
        in_batch_negatives(u, i, remove_accidental_hits=True,
                           item_index=torch.arange(3),
                           positive_index=lambda a, b: a == b)
    with pytest.raises(ValueError, match="'positive_index'"):
        in_batch_negatives(u, i, remove_accidental_hits=True,
                           item_index=torch.arange(3),
                           user_index=torch.arange(3),
                           positive_index=lambda a, b: torch.ones(2))
    with pytest.raises(ValueError, match="'item_prob'"):
        in_batch_negatives(u, i, item_prob=torch.tensor([0.5, 0.0, 0.5]))
    with pytest.raises(ValueError, match="'exclude'"):
        in_batch_negatives(u, i, exclude=torch.zeros(3, 3))
