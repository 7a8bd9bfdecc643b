import pytest
import torch

from pyg_simce.metrics import topk_items
from pyg_simce.sampler import PositiveIndex


def naive_topk(user_emb, item_emb, k, users, excluded):
    out = []
    for u in users:
        scores = (user_emb[u] @ item_emb.t()).tolist()
        order = sorted((i for i in range(len(scores))
                        if i not in excluded[u]), key=lambda i: -scores[i])
        row = order[:k]
        out.append(row + [-1] * (k - len(row)))
    return torch.tensor(out)


@pytest.mark.parametrize('chunk_size', [None, 1, 3, 7])
def test_topk_items_against_naive(chunk_size):
    gen = torch.Generator().manual_seed(0)
    user_emb = torch.randn(11, 5, generator=gen)
    item_emb = torch.randn(23, 5, generator=gen)
    row = torch.randint(11, (60, ), generator=gen)
    col = torch.randint(23, (60, ), generator=gen)
    edge_index = torch.stack([row, col])
    excluded = [set() for _ in range(11)]
    for u, i in edge_index.t().tolist():
        excluded[u].add(i)
    src = torch.tensor([4, 0, 10, 4, 7])
    got = topk_items(user_emb, item_emb, 6, src_index=src,
                     exclude_edge_index=edge_index, chunk_size=chunk_size)
    assert torch.equal(got, naive_topk(user_emb, item_emb, 6, src.tolist(),
                                       excluded))
    # all users, no exclusion: plain top-k
    got = topk_items(user_emb, item_emb, 4, chunk_size=chunk_size)
    ref = (user_emb @ item_emb.t()).topk(4, dim=1).indices
    assert torch.equal(got, ref)


def test_topk_items_pads_with_minus_one_and_never_returns_excluded():
    user_emb = torch.tensor([[1.0], [2.0]])
    item_emb = torch.tensor([[3.0], [2.0], [1.0]])
    # user 0 rated every item but one, user 1 rated every item
    ex = torch.tensor([[0, 0, 1, 1, 1], [0, 1, 0, 1, 2]])
    got = topk_items(user_emb, item_emb, 2, exclude_edge_index=ex)
    assert got.tolist() == [[2, -1], [-1, -1]]
    # a list of exclusions and a prebuilt index give the same
    a, b = ex[:, :2], ex[:, 2:]
    got2 = topk_items(user_emb, item_emb, 2,
                      exclude_edge_index=[PositiveIndex(a, 2, 3), b])
    assert torch.equal(got, got2)


def test_topk_items_errors():
    u, v = torch.randn(3, 4), torch.randn(5, 4)
    with pytest.raises(ValueError, match="'k'"):
        topk_items(u, v, 0)
    with pytest.raises(ValueError, match="'k'"):
        topk_items(u, v, 6)
    with pytest.raises(ValueError, match='embedding size'):
        topk_items(u, torch.randn(5, 3), 2)
    with pytest.raises(ValueError, match='src_index'):
        topk_items(u, v, 2, src_index=torch.tensor([3]))
    with pytest.raises(ValueError, match='exclude_edge_index'):
        topk_items(u, v, 2, exclude_edge_index=torch.tensor([[0], [5]]))
    with pytest.raises(ValueError, match='chunk_size'):
        topk_items(u, v, 2, chunk_size=0)
