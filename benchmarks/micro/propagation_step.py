r"""Speed of one LightGCN training step on Gowalla: pyg_simce against PyG.

A step is: propagate K = 1, 2, 3 layers over the whole training graph, score
a batch of 2048 (user, positive, negative) triples (dim 64), BPR loss with L2
on the batch's layer-0 embeddings, backward, and an Adam step.  Both sides run
in the same process on the same batches:

* ``pyg``: :class:`torch_geometric.nn.models.LightGCN` as its documentation
  and example use it: the homogeneous graph (both edge directions),
  ``model(edge_index, edge_label_index)`` on positives and negatives
  concatenated, ``model.recommendation_loss(..., node_id=...)``.
* ``pyg_simce``: :class:`pyg_simce.nn.models.LightGCN`, the same call
  pattern: its K layers run as one fused autograd node on the cached CSR
  adjacency and only the scored rows are computed in the last layer;
  :class:`~pyg_simce.nn.loss.BPRLoss` and
  :func:`~pyg_simce.nn.loss.l2_regularization`.

Other variants (``--variants``) show where the time goes:
``get_embedding`` (the fused node over all rows, then indexing),
``fused_int64`` (the same with 64-bit CSR indices), ``csr_per_layer`` (one
CSR product per layer whose backward reuses the cached transposed CSR, the
classic hand-written approach), ``bipartite_conv``
(:class:`~pyg_simce.nn.conv.BipartiteConv` with ``cached=True`` per layer,
through :class:`MessagePassing`) and ``torch_sparse_generic`` (a CSR product
per layer with autograd's generic sparse backward).

All variants run interleaved, one step each in turn, so that they share the
same background load.  Wall time is the median over steps; CPU time
(``time.process_time``, all threads) is recorded too.  With ``--threads 1``
the CPU time is the work per step, insensitive to other processes.

Targets (design card, 2-core CPU): >= 10x faster than PyG, <= 0.2 s per
step at K = 3.  Run: ``python -m benchmarks.micro.propagation_step``.
"""
import argparse
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import torch
from torch import Tensor

from benchmarks.common import environment_info, write_json
from pyg_simce.nn.conv import BipartiteConv, SparseAdjacency
from pyg_simce.nn.conv.sparse_adjacency import _csr, csr_matmul
from pyg_simce.nn.loss import BPRLoss, l2_regularization
from pyg_simce.nn.models import LightGCN

OUT = Path(__file__).resolve().parents[1] / 'results' / 'micro' / \
    'propagation_step.json'
VARIANTS = ('pyg_simce', 'get_embedding', 'fused_int64', 'csr_per_layer',
            'bipartite_conv', 'torch_sparse_generic', 'pyg')
LAMBDA_REG = 1e-4


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_graph(dataset: str) -> Tuple[Tensor, int, int]:
    from pyg_simce.data import load_dataset

    split = load_dataset(dataset)
    data = split.train
    edge_index = data['user', 'rates', 'item'].edge_index
    return (edge_index, int(data['user'].num_nodes),
            int(data['item'].num_nodes))


def make_batches(edge_index: Tensor, num_items: int, batch_size: int,
                 count: int, seed: int) -> List[Tuple[Tensor, Tensor, Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(count):
        perm = torch.randint(0, edge_index.size(1), (batch_size, ),
                             generator=gen)
        neg = torch.randint(0, num_items, (batch_size, ), generator=gen)
        out.append((edge_index[0, perm], edge_index[1, perm], neg))
    return out


def ours_step(model: LightGCN, edge_index: Tensor, optimizer,
              variant: str, num_users: int) -> Callable:
    bpr = BPRLoss()
    if variant not in ('pyg_simce', 'get_embedding'):
        # Manual propagations over the same tables, for comparison.
        homo = torch.cat([
            torch.stack([edge_index[0], edge_index[1] + num_users]),
            torch.stack([edge_index[1] + num_users, edge_index[0]])
        ], dim=1)
        adj = SparseAdjacency.from_user_item(edge_index, model.num_users,
                                             model.num_items)
        if variant == 'fused_int64':
            a = adj.adj
            adj = SparseAdjacency(
                _csr(a.crow_indices().long(), a.col_indices().long(),
                     a.values(), tuple(a.shape)), symmetric=True)
        convs = [BipartiteConv(cached=True) for _ in range(model.num_layers)]
    weights = model.layer_weights.tolist()

    def propagate(x: Tensor) -> Tensor:
        if variant == 'fused_int64':
            return adj.propagate(x, weights)
        out, h = x * weights[0], x
        for k in range(1, len(weights)):
            if variant == 'csr_per_layer':
                h = csr_matmul(h, adj.adj, adj.adj_t)
            elif variant == 'torch_sparse_generic':
                h = torch.sparse.mm(adj.adj, h)
            elif variant == 'bipartite_conv':
                h = convs[k - 1](h, homo)
            out = out + weights[k] * h
        return out

    def step(batch):
        user, pos, neg = batch
        label = torch.stack([torch.cat([user, user]), torch.cat([pos, neg])])
        if variant == 'pyg_simce':
            scores = model(edge_index, label)
        elif variant == 'get_embedding':
            user_out, item_out = model.get_embedding(edge_index)
            scores = (user_out[label[0]] * item_out[label[1]]).sum(-1)
        else:
            x = torch.cat(
                [model.user_embedding.weight, model.item_embedding.weight])
            out = propagate(x)
            scores = (out[label[0]] * out[label[1] + num_users]).sum(-1)
        pos_score, neg_score = scores.chunk(2)
        loss = bpr(pos_score, neg_score.view(-1, 1)) + l2_regularization(
            model.user_embedding.weight[user],
            model.item_embedding.weight[label[1]], batch_size=user.numel(),
            weight=LAMBDA_REG)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.detach().item()

    return step


def make_adam(model: torch.nn.Module, fused: bool):
    return torch.optim.Adam(model.parameters(), lr=1e-3,
                            fused=True if fused else None)


def pyg_step(num_users: int, num_items: int, edge_index: Tensor, dim: int,
             num_layers: int, fused_adam: bool) -> Callable:
    from torch_geometric.nn.models import LightGCN as PyGLightGCN

    model = PyGLightGCN(num_users + num_items, dim,
                        num_layers).to(edge_index.device)
    optimizer = make_adam(model, fused_adam)
    homo = torch.cat([
        torch.stack([edge_index[0], edge_index[1] + num_users]),
        torch.stack([edge_index[1] + num_users, edge_index[0]])
    ], dim=1)

    def step(batch):
        user, pos, neg = batch
        label = torch.stack([
            torch.cat([user, user]),
            torch.cat([pos, neg]) + num_users,
        ])
        pos_rank, neg_rank = model(homo, label).chunk(2)
        loss = model.recommendation_loss(pos_rank, neg_rank,
                                         node_id=label.unique(),
                                         lambda_reg=LAMBDA_REG)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.detach().item()

    return step


def run(args) -> Dict:
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    edge_index, U, I = load_graph(args.dataset)
    load_s = time.perf_counter() - t0
    print(f'{args.dataset}: {U} users, {I} items, {edge_index.size(1)} '
          f'training edges (loaded in {load_s:.2f} s); batch '
          f'{args.batch_size}, dim {args.dim}, torch threads '
          f'{torch.get_num_threads()}', flush=True)
    batches = make_batches(edge_index, I, args.batch_size,
                           args.repeat + args.warmup + 1, args.seed)
    results: Dict[str, Dict] = {}
    rss = {}

    # Phase 1: pyg_simce alone (adjacency build time, peak memory).
    first_step = {}
    for K in args.layers:
        torch.manual_seed(args.seed)
        model = LightGCN(U, I, args.dim, num_layers=K)
        step = ours_step(model, edge_index, make_adam(model, args.fused_adam),
                         'pyg_simce', U)
        t = time.perf_counter()
        step(batches[0])  # builds and caches the adjacency
        first_step[K] = time.perf_counter() - t
        for batch in batches[1:4]:
            step(batch)
        del model, step
    rss['pyg_simce_only_mb'] = peak_rss_mb()

    # Phase 2: all variants interleaved step by step, so that every variant
    # sees the same background load.
    for K in args.layers:
        steps = {}
        for variant in args.variants:
            torch.manual_seed(args.seed)
            if variant == 'pyg':
                steps[variant] = pyg_step(U, I, edge_index, args.dim, K,
                                          args.fused_adam)
            else:
                model = LightGCN(U, I, args.dim, num_layers=K)
                steps[variant] = ours_step(model, edge_index,
                                           make_adam(model, args.fused_adam),
                                           variant, U)
        for variant, step in steps.items():
            for i in range(1 if variant == 'pyg' else args.warmup):
                step(batches[i])
        wall: Dict[str, List[float]] = {v: [] for v in steps}
        cpu: Dict[str, List[float]] = {v: [] for v in steps}
        for r in range(args.repeat):
            batch = batches[1 + args.warmup + r]
            for variant, step in steps.items():
                if variant == 'pyg' and r >= args.pyg_repeat:
                    continue
                t, c = time.perf_counter(), time.process_time()
                step(batch)
                wall[variant].append(time.perf_counter() - t)
                cpu[variant].append(time.process_time() - c)
        results[str(K)] = {}
        for variant in steps:
            timing = {
                'median': statistics.median(wall[variant]),
                'min': min(wall[variant]),
                'max': max(wall[variant]),
                'cpu_median': statistics.median(cpu[variant]),
                'repeat': len(wall[variant]),
            }
            if variant == 'pyg_simce':
                timing['first_step_s'] = first_step[K]
            results[str(K)][variant] = timing
            print(f'K={K} {variant:22s} {timing["median"]:.3f} s/step '
                  f'(min {timing["min"]:.3f}, max {timing["max"]:.3f}, '
                  f'cpu {timing["cpu_median"]:.3f})', flush=True)
        del steps
    rss['final_mb'] = peak_rss_mb()

    summary = {}
    print('\nK   pyg_simce (s)   PyG (s)   speed-up   <= 0.2 s')
    for K in args.layers:
        r = results[str(K)]
        ours = r.get('pyg_simce', {}).get('median')
        pyg = r.get('pyg', {}).get('median')
        ratio = pyg / ours if ours and pyg else None
        summary[str(K)] = {'pyg_simce_s': ours, 'pyg_s': pyg,
                           'speedup': ratio}
        for v in args.variants:
            if v != 'pyg' and v in r:
                summary[str(K)][f'{v}_s'] = r[v]['median']
                if pyg:
                    summary[str(K)][f'speedup_{v}'] = pyg / r[v]['median']
        if 'pyg_simce' in r and 'pyg' in r:
            summary[str(K)]['cpu_speedup'] = (r['pyg']['cpu_median'] /
                                              r['pyg_simce']['cpu_median'])
        print(f'{K}   {ours if ours else float("nan"):.3f}'
              f'           {pyg if pyg else float("nan"):.3f}'
              f'     {ratio if ratio else float("nan"):.1f}x'
              f'      {bool(ours and ours <= 0.2)}')
    k3 = summary.get('3', {})
    targets = {
        'speedup_ge_10x_at_k3': (k3.get('speedup') or 0) >= 10,
        'step_le_0.2s_at_k3': bool(k3.get('pyg_simce_s')
                                   and k3['pyg_simce_s'] <= 0.2),
    }
    print(f'peak RSS: {rss["pyg_simce_only_mb"]:.0f} MB with pyg_simce '
          f'alone (data included), {rss["final_mb"]:.0f} MB at the end with '
          f'every variant')
    print(f'targets: {targets}')
    return {
        'benchmark': 'propagation_step',
        'dataset': args.dataset,
        'num_users': U,
        'num_items': I,
        'num_train_edges': int(edge_index.size(1)),
        'batch_size': args.batch_size,
        'fused_adam': args.fused_adam,
        'embedding_dim': args.dim,
        'lambda_reg': LAMBDA_REG,
        'repeat': args.repeat,
        'pyg_repeat': args.pyg_repeat,
        'load_seconds': load_s,
        'results': results,
        'summary': summary,
        'targets': targets,
        'peak_rss_mb': rss,
        'environment': environment_info(seed=args.seed, device='cpu'),
        'note': 'median wall time per step; the CPU may be shared with other '
                'processes, compare ratios taken in the same run',
    }


def main(argv=None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dataset', default='gowalla')
    parser.add_argument('--layers', type=int, nargs='+', default=[1, 2, 3])
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS),
                        choices=VARIANTS)
    parser.add_argument('--batch-size', type=int, default=2048)
    parser.add_argument('--dim', type=int, default=64)
    parser.add_argument('--repeat', type=int, default=7)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--pyg-repeat', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch.set_num_threads (default: torch default)')
    parser.add_argument('--fused-adam', action='store_true',
                        help='use the fused Adam kernel on both sides')
    parser.add_argument('--out', type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    payload = run(args)
    payload['argv'] = sys.argv[1:] if argv is None else list(argv)
    write_json(args.out, payload)
    print(f'wrote {args.out}')
    return payload


if __name__ == '__main__':
    main()
