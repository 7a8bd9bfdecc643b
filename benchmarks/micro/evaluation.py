r"""Speed of full-ranking evaluation: every Gowalla test user against all
40,981 items at K = 20, training items masked to -inf.

Embeddings are random (seeded, dim 64): the cost of ranking does not depend
on how the embeddings were trained.  Variants, all in this process:

* ``gemm``: the matrix product alone (users x d x items), written chunk by
  chunk into one reused buffer -- the lower bound of any exact evaluator.
* ``plain_loop``: a straightforward loop over 2048-user chunks: matmul into a
  fresh tensor, index-put -inf on the training items, :func:`torch.topk`.
* ``topk_items``: :func:`pyg_simce.metrics.topk_items` (the top-20 lists).
* ``evaluate_ranking``: :func:`pyg_simce.metrics.evaluate_ranking` with
  ``ks=(20,)`` (top-20 lists plus Recall/NDCG/Precision/HitRate/MRR).

It also prints where the time goes (matmul / mask / selection / metrics), a
sweep over chunk sizes, and the peak resident memory each evaluator adds.

Target (design card, 2-core CPU): <= 4 s, against ~1.9 s for the GEMM alone
and ~5.5 s for the plain loop.  Run: ``python -m benchmarks.micro.evaluation``.
"""
import argparse
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import torch
from torch import Tensor

from benchmarks.common import (
    environment_info,
    recorded_command,
    time_call,
    write_json,
)
from pyg_simce.metrics import default_chunk_size, evaluate_ranking, topk_items
from pyg_simce.metrics.ranking import ranking_metrics
from pyg_simce.metrics.topk import iter_topk, selection_block_size
from pyg_simce.sampler import PositiveIndex

OUT = Path(__file__).resolve().parents[1] / 'results' / 'micro' / \
    'evaluation.json'


def _status_kb(field: str) -> Optional[int]:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:  # pragma: no cover - not Linux
        return None
    return None


def peak_memory_mb(fn: Callable[[], Any]) -> Optional[float]:
    r"""The peak resident memory :obj:`fn` adds on top of the current one, in
    MB (Linux: resets the high-water mark via ``/proc/self/clear_refs``)."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:  # pragma: no cover - not Linux / not permitted
        return None
    before = _status_kb('VmRSS')
    fn()
    peak = _status_kb('VmHWM')
    if before is None or peak is None:
        return None
    return (peak - before) / 1024.0


def load(dataset: str):
    try:
        from pyg_simce.data import load_dataset
    except ImportError:  # pragma: no cover - the data layer is missing
        raise SystemExit('pyg_simce.data.load_dataset is required')
    split = load_dataset(dataset)
    train = split.train['user', 'rates', 'item'].edge_index
    test = split.test['user', 'rates', 'item'].edge_label_index
    return (train, test, int(split.train['user'].num_nodes),
            int(split.train['item'].num_nodes))


def gemm(user_emb: Tensor, item_emb: Tensor, users: Tensor,
         chunk: int) -> None:
    buf = torch.empty(chunk * item_emb.size(0))
    item_t = item_emb.t()
    for start in range(0, users.numel(), chunk):
        u = users[start:start + chunk]
        torch.mm(user_emb[u], item_t,
                 out=buf[:u.numel() * item_emb.size(0)].view(u.numel(), -1))


def plain_loop(user_emb: Tensor, item_emb: Tensor, train: PositiveIndex,
               users: Tensor, k: int, chunk: int = 2048) -> Tensor:
    out = []
    for start in range(0, users.numel(), chunk):
        u = users[start:start + chunk]
        scores = user_emb[u] @ item_emb.t()
        row, col = train.neighbors(u)
        scores[row, col] = float('-inf')
        out.append(scores.topk(k, dim=1).indices)
    return torch.cat(out)


def breakdown(user_emb: Tensor, item_emb: Tensor, train: PositiveIndex,
              target: PositiveIndex, users: Tensor, k: int,
              chunk: int) -> Dict[str, float]:
    r"""The stages of :func:`evaluate_ranking`, timed: the chunk loop of
    :func:`~pyg_simce.metrics.topk.iter_topk` (matmul / mask / selection)
    and the hit test plus metrics, done once for all users."""
    times: Dict[str, float] = {}
    num_items = item_emb.size(0)
    start_all = time.perf_counter()
    topk = torch.empty(users.numel(), k, dtype=torch.long)
    for start, _, index in iter_topk(user_emb, item_emb, k, users, [train],
                                     chunk, timings=times):
        topk[start:start + index.size(0)] = index
    t0 = time.perf_counter()
    hits = target._contains_keys(users.view(-1, 1) * num_items +
                                 topk.clamp(min=0)) & (topk >= 0)
    ranking_metrics(hits, target.degree[users], [k])
    times['metrics'] = time.perf_counter() - t0
    total = time.perf_counter() - start_all
    times['other'] = total - sum(times.values())
    times['total'] = total
    return times


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dataset', default='gowalla')
    parser.add_argument('--dim', type=int, default=64)
    parser.add_argument('--k', type=int, default=20)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--chunks', type=int, nargs='*',
                        default=[128, 256, 409, 819, 1638])
    parser.add_argument('--out', type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    t = time.perf_counter()
    train_ei, test_ei, num_users, num_items = load(args.dataset)
    load_s = time.perf_counter() - t
    gen = torch.Generator().manual_seed(args.seed)
    user_emb = torch.randn(num_users, args.dim, generator=gen)
    item_emb = torch.randn(num_items, args.dim, generator=gen)
    train = PositiveIndex(train_ei, num_users, num_items)
    target = PositiveIndex(test_ei, num_users, num_items)
    users = (target.degree > 0).nonzero().view(-1)
    k = args.k
    chunk = default_chunk_size(num_items)
    flop = 2.0 * users.numel() * args.dim * num_items
    print(f'{args.dataset}: {users.numel()} test users x {num_items} items, '
          f'dim {args.dim}, K={k}, {torch.get_num_threads()} threads, '
          f'default chunk {chunk} users '
          f'(block length {selection_block_size(num_items, k)}); '
          f'load {load_s:.2f}s', flush=True)

    rep = args.repeat
    timings = {}
    timings['gemm'] = time_call(
        lambda: gemm(user_emb, item_emb, users, chunk), repeat=rep)
    timings['plain_loop'] = time_call(
        lambda: plain_loop(user_emb, item_emb, train, users, k), repeat=rep)
    timings['topk_items'] = time_call(
        lambda: topk_items(user_emb, item_emb, k, src_index=users,
                           exclude_edge_index=train), repeat=rep)
    timings['evaluate_ranking'] = time_call(
        lambda: evaluate_ranking(user_emb, item_emb, train, target,
                                 ks=(k, )), repeat=rep)
    for name, t in timings.items():
        print(f'{name:>18}: median {t["median"]:.3f}s '
              f'(min {t["min"]:.3f}, max {t["max"]:.3f})', flush=True)
    gflops = flop / timings['gemm']['median'] / 1e9

    # exactness against the plain loop
    ours = topk_items(user_emb, item_emb, k, src_index=users,
                      exclude_edge_index=train)
    ref = plain_loop(user_emb, item_emb, train, users, k)
    differ = (ours != ref).any(dim=1).nonzero().view(-1)
    # rows may differ only where two float32 scores tie: compare the score
    # lists (float64 recomputation) of those rows
    worst_gap = 0.0
    for r in differ.tolist():
        s = user_emb[users[r]].double() @ item_emb.double().t()
        worst_gap = max(worst_gap,
                        float((s[ours[r]] - s[ref[r]]).abs().max()))
    agree = {
        'rows': int(users.numel()),
        'rows_identical': int(users.numel() - differ.numel()),
        'max_score_gap_in_differing_rows': worst_gap,
        'float32_ulp_at_score_30': float(torch.finfo(torch.float32).eps *
                                         32),
    }

    stages = [breakdown(user_emb, item_emb, train, target, users, k, chunk)
              for _ in range(max(1, rep // 2 + 1))]
    stage = {key: sorted(s[key] for s in stages)[len(stages) // 2]
             for key in stages[0]}

    sweep = {}
    for c in args.chunks:
        sweep[c] = time_call(
            lambda: evaluate_ranking(user_emb, item_emb, train, target,
                                     ks=(k, ), chunk_size=c), repeat=max(
                                         1, rep // 2), warmup=0)['median']

    memory = {
        'evaluate_ranking_peak_mb': peak_memory_mb(
            lambda: evaluate_ranking(user_emb, item_emb, train, target,
                                     ks=(k, ))),
        'plain_loop_peak_mb': peak_memory_mb(
            lambda: plain_loop(user_emb, item_emb, train, users, k)),
        'score_buffer_mb': chunk * num_items * 4 / 2**20,
        'full_score_matrix_mb': users.numel() * num_items * 4 / 2**20,
    }
    metrics = evaluate_ranking(user_emb, item_emb, train, target, ks=(k, ))

    # The same call with one thread: on a shared (oversubscribed) machine the
    # many short parallel regions of two OpenMP threads can cost more than
    # the second core gives to the matrix product.
    threads = torch.get_num_threads()
    by_threads = {threads: timings['evaluate_ranking']['median']}
    if threads > 1:
        torch.set_num_threads(1)
        try:
            by_threads[1] = time_call(
                lambda: evaluate_ranking(user_emb, item_emb, train, target,
                                         ks=(k, )),
                repeat=max(1, rep // 2 + 1))['median']
        finally:
            torch.set_num_threads(threads)

    ours_s = timings['evaluate_ranking']['median']
    ratios = {
        'evaluate_ranking_over_gemm': ours_s / timings['gemm']['median'],
        'plain_loop_over_evaluate_ranking':
        timings['plain_loop']['median'] / ours_s,
        'topk_items_over_gemm':
        timings['topk_items']['median'] / timings['gemm']['median'],
    }
    print(f'GEMM {flop / 1e9:.0f} GFLOP at {gflops:.1f} GFLOP/s; '
          f'evaluate_ranking / GEMM = '
          f'{ratios["evaluate_ranking_over_gemm"]:.2f}x; plain loop / '
          f'evaluate_ranking = '
          f'{ratios["plain_loop_over_evaluate_ranking"]:.2f}x; '
          f'top-k lists identical to the plain loop in '
          f'{agree["rows_identical"]}/{agree["rows"]} rows (others differ '
          f'by float32 ties, score gap <= '
          f'{agree["max_score_gap_in_differing_rows"]:.1e})')
    print('breakdown (s): ' + ', '.join(f'{key} {val:.3f}'
                                        for key, val in stage.items()))
    print('chunk sweep (s): ' + ', '.join(f'{c}: {s:.2f}'
                                          for c, s in sweep.items()))
    print('peak memory added (MB): ' + ', '.join(
        f'{key} {val:.0f}' for key, val in memory.items()
        if val is not None))
    print('evaluate_ranking by torch threads (s): ' + ', '.join(
        f'{t}: {sec:.2f}' for t, sec in by_threads.items()))
    # The machine's GEMM runs at ~84 GFLOP/s when idle (1.9 s for this size);
    # scaling our time by the GEMM slow-down seen in this run estimates the
    # idle-machine time. It is an estimate, printed as such.
    idle_gemm_s = flop / 84e9
    estimate = ratios['evaluate_ranking_over_gemm'] * idle_gemm_s
    print(f'target <= 4 s: {"met" if ours_s <= 4.0 else "NOT met"} as '
          f'measured ({ours_s:.2f} s, GEMM at {gflops:.0f} GFLOP/s here); '
          f'at the idle GEMM rate of 84 GFLOP/s: ~{estimate:.2f} s')

    result = {
        'benchmark': 'evaluation',
        'dataset': args.dataset,
        'num_users_evaluated': int(users.numel()),
        'num_items': num_items,
        'dim': args.dim,
        'k': k,
        'default_chunk_size': chunk,
        'block_length': selection_block_size(num_items, k),
        'gemm_gflop': flop / 1e9,
        'gemm_gflops_per_s': gflops,
        'seconds': timings,
        'ratios': ratios,
        'breakdown_seconds': stage,
        'chunk_sweep_seconds': {str(c): s for c, s in sweep.items()},
        'memory': memory,
        'agreement_with_plain_loop': agree,
        'metrics_random_embeddings': {
            key: val
            for key, val in metrics.items()
        },
        'evaluate_ranking_seconds_by_threads': {
            str(t): sec
            for t, sec in by_threads.items()
        },
        'target_seconds': 4.0,
        'target_met_as_measured': ours_s <= 4.0,
        'estimate_at_idle_gemm_rate_seconds': estimate,
        'estimate_note': 'evaluate_ranking/GEMM ratio of this run times '
        'the idle-machine GEMM time for this size (157 GFLOP at 84 '
        'GFLOP/s = 1.9 s); an estimate, not a measurement',
        'note': 'timings are medians; the 2-core machine was shared with '
        'other jobs while measuring, so spreads are wide',
        'environment': environment_info(seed=args.seed, device='cpu'),
        'command': recorded_command('benchmarks.micro.evaluation', argv),
    }
    write_json(args.out, result)
    print(f'wrote {args.out}')
    return result


if __name__ == '__main__':
    main()
