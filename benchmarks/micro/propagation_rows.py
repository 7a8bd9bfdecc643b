r"""Speed of propagating only the rows a loss needs
(:meth:`~pyg_simce.nn.models.RecommenderBase.get_embedding_rows`) on
Gowalla, against the stacked propagation it replaces, in the same process.

Each case is a forward and backward pass whose loss reads some rows of the
final embeddings (``sum(u * i)`` over random training pairs, plus the
negatives' rows where there are some); every variant reads the same rows of
the same tables:

* ``lightgcn1_rows``: LightGCN, 1 layer, 2048 (user, item) pairs.
  ``new``: ``model.get_embedding_rows``; ``stacked_rows``: the previous
  path, ``SparseAdjacency.from_user_item(...).propagate(cat([P, Q]),
  weights, rows)`` (what ``LightGCN._propagate_stacked`` did);
  ``stacked_full``: the previous ``get_embedding`` (all rows) then indexing.
  The previous paths run the code of ``--reference-rev`` (the commit before
  the models were made of layers), read from git, so they stay the same
  when the library changes.
* ``lightgcn1_rows_negatives``: the same with 64 x 1024 sampled negative
  item rows on top of the 2048 positives.
* ``lightgcn3_full``: LightGCN, 3 layers, ``get_embedding`` (all rows) then
  indexing; ``new`` against ``stacked_full`` (the previous fused path).
* ``svdpp_user_rows``: SVD++ user side, :math:`(\alpha_0, \alpha_1) =
  (1, 0)`; ``new`` against the previous full propagation then indexing.
* ``mf_rows``: MF; ``new`` against indexing ``get_embedding``.

Variants run interleaved, one call each in turn, so that they share the
background load; the table shows the median and minimum wall time in ms and
the median of the per-round ratios ``variant / new``.  Nothing is written.
Run: ``python -m benchmarks.micro.propagation_rows [--threads 2 --repeat 30]``.
"""
import argparse
import os
import statistics
import subprocess
import time
import types
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import torch
from torch import Tensor

from pyg_simce.nn.models import MF, SVDPP, LightGCN

REFERENCE_REV = '9326a57'  # the models called SparseAdjacency directly
REFERENCE_FILE = 'pyg_simce/nn/conv/sparse_adjacency.py'

Step = Callable[[], Tensor]


def load_graph(root: str) -> Tuple[Tensor, int, int]:
    from pyg_simce.data import load_dataset

    split = load_dataset('gowalla', root=root)
    edge_index = split.train['user', 'rates', 'item'].edge_index
    return edge_index, split.num_users, split.num_items


def reference_module(rev: str) -> types.ModuleType:
    r"""The sparse-adjacency module as it was at git revision :obj:`rev`."""
    root = Path(__file__).resolve().parents[2]
    source = subprocess.run(['git', 'show', f'{rev}:{REFERENCE_FILE}'],
                            cwd=root, check=True, capture_output=True,
                            text=True).stdout
    module = types.ModuleType(f'reference_{rev}')
    exec(compile(source, f'{rev}:{REFERENCE_FILE}', 'exec'), module.__dict__)
    return module


def stacked_reference(ref: types.ModuleType, model: torch.nn.Module,
                      edge_index: Tensor, alpha0: float, alpha1: float):
    # The propagation the models used before they were made of layers: the
    # [U + I, U + I] CSR matrix and one fused node over cat([P, Q]).
    U = model.num_users
    adj = ref.SparseAdjacency.from_user_item(edge_index, U, model.num_items,
                                             alpha0, alpha1)
    weights = model.layer_weights.tolist()
    P, Q = model.user_embedding.weight, model.item_embedding.weight

    def rows(user: Tensor, item: Tensor) -> Tuple[Tensor, Tensor]:
        index = torch.cat([user, item + U])
        out = adj.propagate(torch.cat([P, Q]), weights, index)
        return out[:user.numel()], out[user.numel():]

    def full(user: Tensor, item: Tensor) -> Tuple[Tensor, Tensor]:
        out = adj.propagate(torch.cat([P, Q]), weights)
        return out[user], out[item + U]

    return rows, full


def svdpp_reference(ref: types.ModuleType, model: SVDPP,
                    edge_index: Tensor):
    # The previous SVD++: the whole user side propagated, then indexed.
    U, I = model.num_users, model.num_items
    adj = ref.SparseAdjacency.from_edge_index(edge_index.flip(0), (I, U),
                                              model.alpha0, model.alpha1)
    P, Q = model.user_embedding.weight, model.item_embedding.weight

    def full(user: Tensor, item: Tensor) -> Tuple[Tensor, Tensor]:
        return (P + adj.matmul(Q))[user], Q[item]

    return full


def make_step(fn: Callable[[Tensor, Tensor], Tuple[Tensor, Tensor]],
              params: List[Tensor], user: Tensor, item: Tensor,
              num_pos: int, weight: Tensor) -> Step:
    def step() -> Tensor:
        u, i = fn(user, item)
        loss = (u * i[:num_pos]).sum() + (i[num_pos:] @ weight).sum()
        for p in params:
            p.grad = None
        loss.backward()
        return loss.detach()

    return step


def run_case(name: str, variants: Dict[str, Step], repeat: int) -> None:
    times: Dict[str, List[float]] = {k: [] for k in variants}
    for fn in variants.values():  # warm-up (builds the caches)
        fn()
        fn()
    for _ in range(repeat):
        for key, fn in variants.items():
            t = time.perf_counter()
            fn()
            times[key].append((time.perf_counter() - t) * 1e3)
    for key, ts in times.items():
        ratios = [a / b for a, b in zip(ts, times['new'])]
        print(f'{name:26s} {key:14s} median {statistics.median(ts):8.2f} ms'
              f'  min {min(ts):8.2f} ms  ratio/new '
              f'{statistics.median(ratios):6.2f}', flush=True)


def main(args) -> None:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    ref = reference_module(args.reference_rev)
    edge_index, U, I = load_graph(args.root)
    print(f'gowalla: {U} users, {I} items, {edge_index.size(1)} edges; dim '
          f'{args.dim}, batch {args.batch_size}, torch threads '
          f'{torch.get_num_threads()}, load average '
          f'{os.getloadavg()[0]:.2f}', flush=True)
    gen = torch.Generator().manual_seed(args.seed)
    pairs = torch.randint(0, edge_index.size(1), (args.batch_size, ),
                          generator=gen)
    user, item = edge_index[0, pairs], edge_index[1, pairs]
    negatives = torch.randint(0, I, (args.num_negatives, ), generator=gen)
    weight = torch.randn(args.dim, generator=gen)
    B = args.batch_size

    def lightgcn(K: int, items: Tensor, full_only: bool) -> Dict[str, Step]:
        model = LightGCN(U, I, args.dim, num_layers=K)
        params = list(model.parameters())
        ref_rows, ref_full = stacked_reference(ref, model, edge_index, 0.5,
                                               0.5)
        if full_only:
            def new(u, i):
                user_out, item_out = model.get_embedding(edge_index)
                return user_out[u], item_out[i]
        else:
            def new(u, i):
                return model.get_embedding_rows(edge_index, u, i)
        out = {'new': make_step(new, params, user, items, B, weight)}
        if not full_only:
            out['stacked_rows'] = make_step(ref_rows, params, user, items, B,
                                            weight)
        out['stacked_full'] = make_step(ref_full, params, user, items, B,
                                        weight)
        return out

    cases = {
        'lightgcn1_rows': lambda: lightgcn(1, item, False),
        'lightgcn1_rows_negatives': lambda: lightgcn(
            1, torch.cat([item, negatives]), False),
        'lightgcn3_full': lambda: lightgcn(3, item, True),
    }

    def svdpp() -> Dict[str, Step]:
        model = SVDPP(U, I, args.dim, side='user', alpha0=1.0, alpha1=0.0)
        params = list(model.parameters())
        return {
            'new': make_step(
                lambda u, i: model.get_embedding_rows(edge_index, u, i),
                params, user, item, B, weight),
            'previous_full': make_step(svdpp_reference(ref, model, edge_index),
                                       params, user, item, B, weight),
        }

    def mf() -> Dict[str, Step]:
        model = MF(U, I, args.dim)
        params = list(model.parameters())

        def full(u, i):
            user_out, item_out = model.get_embedding(edge_index)
            return user_out[u], item_out[i]

        return {
            'new': make_step(
                lambda u, i: model.get_embedding_rows(edge_index, u, i),
                params, user, item, B, weight),
            'get_embedding': make_step(full, params, user, item, B, weight),
        }

    cases['svdpp_user_rows'] = svdpp
    cases['mf_rows'] = mf
    for name in args.cases or list(cases):
        run_case(name, cases[name](), args.repeat)
    print(f'load average at the end {os.getloadavg()[0]:.2f}')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--root', default=os.environ.get(
        'PYG_SIMCE_DATA', '/work/shared/data'))
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=30)
    parser.add_argument('--dim', type=int, default=64)
    parser.add_argument('--batch-size', type=int, default=2048)
    parser.add_argument('--num-negatives', type=int, default=64 * 1024)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cases', nargs='*', default=None)
    parser.add_argument('--reference-rev', default=REFERENCE_REV)
    return parser.parse_args(argv)


if __name__ == '__main__':
    main(parse_args())
