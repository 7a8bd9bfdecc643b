r"""Speed of negative sampling on Gowalla: one batch of 2048 training pairs,
64 negatives per pair that exclude the user's training items.

Variants, all in this process on the same batches:

* ``randint``: :func:`torch.randint` without exclusion -- the lower bound.
* ``uniform``: :class:`pyg_simce.sampler.UniformNegativeSampler`
  (vectorised rejection against the CSR positive index).
* ``popularity``: :class:`pyg_simce.sampler.PopularityNegativeSampler` with
  :math:`\beta = 1`.
* ``shared_pool``: one pool of 4096 items for the batch plus its
  :obj:`[2048, 4096]` positive mask (:meth:`pool_mask`).
* ``python_loop``: rejection with a Python set per pair, the approach the
  design rules out (timed on 128 rows and scaled to the batch).

Run: ``python -m benchmarks.micro.sampling``.
"""
import argparse
import random
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch

from benchmarks.common import (
    environment_info,
    recorded_command,
    time_call,
    write_json,
)
from pyg_simce.sampler import (
    PopularityNegativeSampler,
    UniformNegativeSampler,
)

OUT = Path(__file__).resolve().parents[1] / 'results' / 'micro' / \
    'sampling.json'


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dataset', default='gowalla')
    parser.add_argument('--batch-size', type=int, default=2048)
    parser.add_argument('--num-negatives', type=int, default=64)
    parser.add_argument('--pool', type=int, default=4096)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--repeat', type=int, default=7)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--out', type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    from pyg_simce.data import load_dataset
    split = load_dataset(args.dataset)
    edge_index = split.train['user', 'rates', 'item'].edge_index
    num_users = int(split.train['user'].num_nodes)
    num_items = int(split.train['item'].num_nodes)
    gen = torch.Generator().manual_seed(args.seed)
    batch = torch.randint(edge_index.size(1), (args.batch_size, ),
                          generator=gen)
    users = edge_index[0, batch]
    n = args.num_negatives

    uniform = UniformNegativeSampler(edge_index, num_users, num_items, n,
                                     seed=args.seed)
    popular = PopularityNegativeSampler(edge_index, num_users, num_items, n,
                                        beta=1.0, seed=args.seed)
    sets = {}
    for u, i in edge_index.t().tolist():
        sets.setdefault(u, set()).add(i)
    rng = random.Random(args.seed)
    loop_rows = 128

    def python_loop():
        out = []
        for u in users[:loop_rows].tolist():
            row = []
            while len(row) < n:
                j = rng.randrange(num_items)
                if j not in sets[u]:
                    row.append(j)
            out.append(row)
        return out

    rep = args.repeat
    times = {
        'randint': time_call(
            lambda: torch.randint(num_items, (args.batch_size, n),
                                  generator=gen), repeat=rep),
        'uniform': time_call(lambda: uniform.sample(users), repeat=rep),
        'popularity': time_call(lambda: popular.sample(users), repeat=rep),
        'shared_pool': time_call(
            lambda: uniform.pool_mask(users, uniform.sample_shared(
                args.pool)), repeat=rep),
        'python_loop': time_call(python_loop, repeat=max(1, rep // 3)),
    }
    # one OpenMP thread: the short parallel regions of searchsorted suffer
    # badly when the 2-core machine is shared
    threads = torch.get_num_threads()
    one_thread = {}
    if threads > 1:
        torch.set_num_threads(1)
        try:
            one_thread = {
                'uniform': time_call(lambda: uniform.sample(users),
                                     repeat=rep)['median'],
                'popularity': time_call(lambda: popular.sample(users),
                                        repeat=rep)['median'],
            }
        finally:
            torch.set_num_threads(threads)
    scale = args.batch_size / loop_rows
    for key in ('median', 'min', 'max'):
        times['python_loop'][key] *= scale
    first = torch.randint(num_items, (args.batch_size, n), generator=gen)
    rejected = float(uniform.index.contains(users.view(-1, 1), first).double()
                     .mean())
    batches = -(-edge_index.size(1) // args.batch_size)
    for name, t in times.items():
        print(f'{name:>12}: {t["median"] * 1e3:8.2f} ms per batch '
              f'({t["median"] * batches:6.2f} s per epoch of {batches} '
              f'batches)')
    for name, sec in one_thread.items():
        print(f'{name:>12}: {sec * 1e3:8.2f} ms per batch with 1 thread')
    ratio = times['python_loop']['median'] / times['uniform']['median']
    print(f'first-round rejection rate {rejected:.4f}; '
          f'uniform / randint = '
          f'{times["uniform"]["median"] / times["randint"]["median"]:.1f}x; '
          f'python loop / uniform = {ratio:.0f}x')
    result = {
        'benchmark': 'sampling',
        'dataset': args.dataset,
        'batch_size': args.batch_size,
        'num_negatives': n,
        'pool': args.pool,
        'seconds_per_batch': times,
        'torch_threads': threads,
        'seconds_per_batch_one_thread': one_thread,
        'batches_per_epoch': batches,
        'first_round_rejection_rate': rejected,
        'python_loop_note': f'timed on {loop_rows} rows, scaled by {scale}',
        'note': 'medians; the 2-core machine was shared with other jobs',
        'environment': environment_info(seed=args.seed, device='cpu'),
        'command': recorded_command('benchmarks.micro.sampling', argv),
    }
    write_json(args.out, result)
    print(f'wrote {args.out}')
    return result


if __name__ == '__main__':
    main()
