import pytest
import torch

from pyg_simce.metrics import topk_items
from pyg_simce.metrics.topk import exclusion_list


@pytest.mark.parametrize('num_items', [7, 600])  # plain and block selection
def test_return_scores_match_a_dense_argsort(num_items):
    gen = torch.Generator().manual_seed(0)
    user_emb = torch.randn(5, 4, generator=gen)
    item_emb = torch.randn(num_items, 4, generator=gen)
    exclude = torch.tensor([[0, 0, 2], [1, 3, 0]])
    # User 4 may only get item 2: k - 1 padded slots.
    only = torch.stack([torch.full((num_items - 1, ), 4),
                        torch.tensor([i for i in range(num_items)
                                      if i != 2])])
    k = 3
    ids, scores = topk_items(user_emb, item_emb, k,
                             exclude_edge_index=[exclude, only],
                             chunk_size=2, return_scores=True)
    dense = user_emb @ item_emb.t()
    dense[exclude[0], exclude[1]] = float('-inf')
    dense[only[0], only[1]] = float('-inf')
    ref_scores, ref_ids = dense.sort(dim=1, descending=True)
    ref_ids, ref_scores = ref_ids[:, :k], ref_scores[:, :k]
    ref_ids[ref_scores == float('-inf')] = -1
    assert torch.equal(ids, ref_ids)
    assert torch.allclose(scores, ref_scores)
    assert ids[4].tolist() == [2, -1, -1]
    assert torch.isneginf(scores[4, 1:]).all()
    assert torch.equal(topk_items(user_emb, item_emb, k,
                                  exclude_edge_index=(exclude, only),
                                  chunk_size=2), ids)


def test_exclusion_list_names_the_bad_tensor():
    good = torch.tensor([[0], [1]])
    assert exclusion_list(None, 2, 3) == []
    assert exclusion_list(good, 2, 3) == [good]
    assert exclusion_list((good, good), 2, 3) == [good, good]
    with pytest.raises(ValueError, match=r"'exclude_edge_index\[1\]'"):
        exclusion_list([good, torch.tensor([[0], [3]])], 2, 3)
    with pytest.raises(ValueError, match=r"'exclude_edge_index'"):
        exclusion_list(torch.tensor([[5], [0]]), 2, 3)
