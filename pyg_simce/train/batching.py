r"""How an epoch's training interactions are shuffled and cut into batches.

Everything random in an epoch is drawn from one :class:`torch.Generator`
seeded from :obj:`(seed, epoch)` alone, so that a run resumed at any epoch or
step draws exactly the batches and negatives of an uninterrupted run.
"""
import hashlib
from typing import List

import torch
from torch import Tensor


def epoch_seed(seed: int, epoch: int) -> int:
    r"""A 63-bit seed derived from :obj:`(seed, epoch)` by a cryptographic
    hash, so that neighbouring seeds and epochs give unrelated streams."""
    digest = hashlib.blake2b(f'pyg_simce:{int(seed)}:{int(epoch)}'.encode(),
                             digest_size=8).digest()
    return int.from_bytes(digest, 'little') & ((1 << 63) - 1)


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    r"""A CPU :class:`torch.Generator` seeded with
    :func:`epoch_seed(seed, epoch) <epoch_seed>`."""
    generator = torch.Generator()
    generator.manual_seed(epoch_seed(seed, epoch))
    return generator


def shard_batches(perm: Tensor, batch_size: int, rank: int = 0,
                  world_size: int = 1, min_size: int = 1) -> List[Tensor]:
    r"""Cuts a permutation of the training interactions into the batches a
    process trains on.

    With :obj:`world_size > 1` every global batch of
    :obj:`batch_size * world_size` interactions is split into
    :obj:`world_size` disjoint shards and process :obj:`rank` receives shard
    :obj:`rank` (the semantics of
    :class:`torch.utils.data.DistributedSampler` applied per batch), so that
    all processes together cover each interaction exactly once per epoch.

    Args:
        perm (torch.Tensor): A permutation of the interaction ids.
        batch_size (int): Interactions per batch and process.
        rank (int, optional): This process' rank. (default: :obj:`0`)
        world_size (int, optional): The number of processes.
            (default: :obj:`1`)
        min_size (int, optional): Batches smaller than this are dropped
            (*e.g.* :obj:`2` for in-batch negatives, which need at least two
            rows). (default: :obj:`1`)
    """
    if batch_size < 1:
        raise ValueError(f"'batch_size' expected a positive integer "
                         f"(got {batch_size})")
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"'rank' expected a value in [0, {world_size}) "
                         f"(got {rank})")
    global_size = batch_size * world_size
    batches = []
    for start in range(0, perm.numel(), global_size):
        chunk = perm[start:start + global_size]
        # Contiguous equal shards of the global batch.
        bounds = torch.linspace(0, chunk.numel(), world_size + 1).round()
        lo, hi = int(bounds[rank]), int(bounds[rank + 1])
        shard = chunk[lo:hi]
        if shard.numel() >= min_size:
            batches.append(shard)
    return batches
