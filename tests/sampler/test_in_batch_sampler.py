import pytest
import torch

from pyg_simce.sampler import InBatchSampler


def test_in_batch_mask_against_loop():
    edge_index = torch.tensor([[0, 0, 1, 2, 2], [1, 3, 2, 0, 3]])
    sets = {0: {1, 3}, 1: {2}, 2: {0, 3}}
    users = torch.tensor([0, 1, 2, 0, 2])
    pos = torch.tensor([1, 2, 3, 3, 0])
    sampler = InBatchSampler(edge_index, 3, 4)
    items, mask = sampler.sample(users, pos)
    assert items.shape == mask.shape == (5, 5)
    for b in range(5):
        for c in range(5):
            assert items[b, c] == pos[c]
            ok = pos[c] != pos[b] and pos[c].item() not in sets[
                users[b].item()]
            assert mask[b, c].item() == bool(ok)
    plain = InBatchSampler(remove_accidental_hits=False).mask(users, pos)
    assert torch.equal(plain, pos.view(1, -1) != pos.view(-1, 1))


def test_in_batch_errors():
    with pytest.raises(ValueError, match='same length'):
        InBatchSampler().mask(torch.tensor([0, 1]), torch.tensor([0]))
    with pytest.raises(ValueError, match='pos_item_index'):
        InBatchSampler().mask(torch.tensor([0]), torch.tensor([0.5]))
