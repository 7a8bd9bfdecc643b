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


@pytest.mark.parametrize('k,chunk_size', [(1, None), (5, 3), (12, 64)])
def test_two_stage_selection_matches_full_sort(k, chunk_size):
    from pyg_simce.metrics.topk import selection_block_size
    num_users, num_items = 40, 3001  # not a multiple of the block length
    assert selection_block_size(num_items, k) > 0
    gen = torch.Generator().manual_seed(k)
    user_emb = torch.randn(num_users, 8, generator=gen)
    item_emb = torch.randn(num_items, 8, generator=gen)
    row = torch.randint(num_users, (4000, ), generator=gen)
    col = torch.randint(num_items, (4000, ), generator=gen)
    # user 3 rated all items but 2 (incl. padding region), user 5 all items
    row = torch.cat([row, torch.full((num_items - 2, ), 3),
                     torch.full((num_items, ), 5)])
    col = torch.cat([col, torch.arange(2, num_items), torch.arange(num_items)])
    edge_index = torch.stack([row, col])
    scores = user_emb @ item_emb.t()
    mask = torch.zeros(num_users, num_items, dtype=torch.bool)
    mask[row, col] = True
    scores[mask] = float('-inf')
    ref_val, ref_idx = scores.topk(k, dim=1)
    ref_idx[ref_val == float('-inf')] = -1
    got = topk_items(user_emb, item_emb, k, exclude_edge_index=edge_index,
                     chunk_size=chunk_size)
    assert torch.equal(got, ref_idx)
    assert got[5].tolist() == [-1] * k
    kept = got[3][got[3] >= 0].tolist()
    admissible = set((~mask[3]).nonzero().view(-1).tolist())
    assert admissible <= {0, 1}
    assert set(kept) <= admissible and len(kept) == min(k, len(admissible))
