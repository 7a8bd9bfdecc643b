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

    :obj:`batch_size` is the **global** batch: the permutation is cut into
    consecutive chunks of :obj:`batch_size` interactions (the batches of a
    single-process run), and with :obj:`world_size > 1` process :obj:`rank`
    receives the strided shard :obj:`chunk[rank::world_size]` of each chunk,
    which is what :class:`torch.utils.data.DistributedSampler` followed by
    per-process batches of :obj:`batch_size / world_size` yields.  Every
    process computes the same permutation from :obj:`(seed, epoch)`, so the
    shards are disjoint and together are the single-process batches; when
    :obj:`world_size` does not divide :obj:`batch_size` (or the last chunk)
    the shards differ by one row.

    A chunk whose smallest shard has fewer than :obj:`min_size` rows (only
    the last chunk can be so small) is dropped on every process, so that all
    processes run the same number of steps; it holds fewer than
    :obj:`min_size * world_size` interactions, and the permutation changes
    every epoch.

    Args:
        perm (torch.Tensor): A permutation of the interaction ids.
        batch_size (int): Interactions per global batch.
        rank (int, optional): This process' rank. (default: :obj:`0`)
        world_size (int, optional): The number of processes.
            (default: :obj:`1`)
        min_size (int, optional): Smallest admissible shard (*e.g.*
            :obj:`2` for in-batch negatives, which need at least two rows).
            (default: :obj:`1`)
    """
    if batch_size < 1:
        raise ValueError(f"'batch_size' expected a positive integer "
                         f"(got {batch_size})")
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"'rank' expected a value in [0, {world_size}) "
                         f"(got {rank})")
    batches = []
    for start in range(0, perm.numel(), batch_size):
        chunk = perm[start:start + batch_size]
        if chunk.numel() // world_size < min_size:
            continue
        batches.append(chunk[rank::world_size])
    return batches
