import pytest
import torch

from pyg_simce.train import epoch_generator, epoch_seed, shard_batches


def test_epoch_generator_depends_only_on_seed_and_epoch():
    a = torch.randperm(100, generator=epoch_generator(0, 3))
    b = torch.randperm(100, generator=epoch_generator(0, 3))
    c = torch.randperm(100, generator=epoch_generator(0, 4))
    d = torch.randperm(100, generator=epoch_generator(1, 3))
    assert torch.equal(a, b)
    assert not torch.equal(a, c) and not torch.equal(a, d)
    assert 0 <= epoch_seed(2**40, 10**6) < 2**63


def test_batches_cover_every_interaction_once():
    perm = torch.randperm(103, generator=torch.Generator().manual_seed(0))
    batches = shard_batches(perm, 10)
    assert [b.numel() for b in batches] == [10] * 10 + [3]
    assert torch.equal(torch.cat(batches), perm)


def test_shards_are_disjoint_and_cover_all():
    perm = torch.randperm(101, generator=torch.Generator().manual_seed(1))
    shards = [shard_batches(perm, 8, rank=r, world_size=3) for r in range(3)]
    assert len({len(s) for s in shards}) == 1  # same number of steps
    every = torch.cat([torch.cat(s) for s in shards])
    assert torch.equal(every.sort().values, torch.arange(101))


def test_min_size_drops_tiny_batches_and_bad_arguments():
    perm = torch.arange(21)
    assert [b.numel() for b in shard_batches(perm, 10, min_size=2)] == [10, 10]
    with pytest.raises(ValueError, match='batch_size'):
        shard_batches(perm, 0)
    with pytest.raises(ValueError, match='rank'):
        shard_batches(perm, 4, rank=2, world_size=2)
