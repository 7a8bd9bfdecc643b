r"""Speed of the ranking losses: forward + backward of every loss of
:mod:`pyg_simce.nn.loss` at B = 2048 positives and N in {1, 64, 1024}
negatives each, in the dense form ``loss(pos [B], neg [B, N])`` and the
ragged form ``loss(pos, neg [B*N], index [B*N])`` (same elements,
``index = arange(B).repeat_interleave(N)``, validated on every call as in
training), against a plain dense PyTorch one-liner of the same formula.

Two ragged timings are taken on that index, both validating it on every
call as in training:

* ``ragged``: what a caller gets; a sorted index with equal group sizes is
  recognised as the dense layout and reshaped (the uniform fast path);
* ``ragged_general``: the same call with the fast path disabled, i.e. the
  segment/scatter kernels every uneven ragged input goes through.

Prints milliseconds of CPU time (median of ``--repeat`` runs; wall-clock
median and minimum are recorded too) and the ratios to the baseline and to
the dense form; the target is ragged_general/dense <= 3.  Writes
``benchmarks/results/speed/losses.json``.
By default the kernels run single-threaded (``--threads 1``): on a shared
machine this gives far more stable ratios; ``--threads 0`` keeps PyTorch's
default.

Run: ``python -m benchmarks.losses [--repeat 7] [--sizes 1 64 1024]``.
"""
import argparse
import math
import statistics
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from benchmarks.common import environment_info, time_call, write_json
from pyg_simce.nn.loss import loss_resolver
from pyg_simce.nn.loss.base import uniform_fast_path

RESULT = Path(__file__).resolve().parent / 'results' / 'speed' / 'losses.json'
TARGET_RATIO = 3.0

# Plain dense PyTorch one-liners of the same formulas, default
# hyper-parameters (DESIGN §5), mean over the batch.
MML_M = (0.6, 0.7, 0.8, 0.9)
MML_W = (0.05, 0.15, 0.2, 0.6)
BASELINES: Dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    'bpr': lambda p, n: F.softplus(n - p[:, None]).mean(),
    'bce': lambda p, n: (F.softplus(-p) + F.softplus(n).sum(1)).mean(),
    'softmax': lambda p, n:
    (torch.logsumexp(torch.cat([p[:, None], n], 1), 1) - p).mean(),
    'ssm': lambda p, n:
    (torch.logsumexp(torch.cat([p[:, None], n], 1) / 0.1, 1) - p / 0.1
     ).mean(),
    'simce': lambda p, n: (5.0 - p + n.amax(1)).clamp(min=0).mean(),
    'ccl': lambda p, n:
    ((1 - p).relu() + 150.0 * (n - 0.9).relu().mean(1)).mean(),
    'mml': lambda p, n: ((1 - p).relu() + 350.0 * sum(
        w * (n - m).relu() for m, w in zip(MML_M, MML_W)).mean(1)).mean(),
}


def _fwd_bwd(fn: Callable[..., Tensor], *args: Tensor) -> Callable[[], None]:
    leaves = [a for a in args if a.requires_grad]

    def run() -> None:
        out = fn(*args)
        torch.autograd.grad(out, leaves)

    return run


def time_fwd_bwd(fn: Callable[[], None], repeat: int) -> Dict[str, float]:
    r"""Median/min wall time (:func:`benchmarks.common.time_call`) plus the
    median CPU time of this process (:func:`time.process_time`).  With one
    thread the CPU time is the work done, unaffected by waiting for a core
    on a loaded machine, so ratios use it."""
    wall = time_call(fn, repeat=repeat)
    cpu: List[float] = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        cpu.append(time.process_time() - start)
    return {'median': wall['median'], 'min': wall['min'],
            'cpu': statistics.median(cpu)}


def bench(names: Sequence[str], sizes: Sequence[int], B: int, repeat: int,
          seed: int) -> List[Dict[str, object]]:
    rows: List[Dict[str, object]] = []
    header = (f"{'loss':8s} {'N':>5s} {'base ms':>8s} {'dense ms':>9s} "
              f"{'ragged ms':>10s} {'general ms':>10s} {'dense/base':>10s} "
              f"{'ragged/dense':>12s} {'general/dense':>13s}")
    print(header)
    print('-' * len(header))
    for N in sizes:
        g = torch.Generator().manual_seed(seed + N)
        # Cosine-like scores in [-1, 1] so that every hinge is partly active.
        pos = (torch.rand(B, generator=g) * 2 - 1).requires_grad_()
        neg = (torch.rand(B, N, generator=g) * 2 - 1).requires_grad_()
        flat = neg.detach().reshape(-1).clone().requires_grad_()
        index = torch.arange(B).repeat_interleave(N)
        for name in names:
            loss = loss_resolver(name)

            def general(p: Tensor, n: Tensor) -> Tensor:
                with uniform_fast_path(False):
                    return loss(p, n, index)

            timings = {
                'baseline': time_fwd_bwd(
                    _fwd_bwd(BASELINES[name], pos, neg), repeat),
                'dense': time_fwd_bwd(_fwd_bwd(loss, pos, neg), repeat),
                'ragged': time_fwd_bwd(
                    _fwd_bwd(lambda p, n: loss(p, n, index), pos, flat),
                    repeat),
                'ragged_general': time_fwd_bwd(_fwd_bwd(general, pos, flat),
                                               repeat),
            }
            row: Dict[str, object] = {'loss': name, 'B': B, 'N': N}
            for key, t in timings.items():
                row[f'{key}_ms'] = 1e3 * t['cpu']
                row[f'{key}_wall_median_ms'] = 1e3 * t['median']
                row[f'{key}_wall_min_ms'] = 1e3 * t['min']
            base, dense = timings['baseline'], timings['dense']
            for key in ('dense', 'ragged', 'ragged_general'):
                row[f'{key}_over_baseline'] = (timings[key]['cpu'] /
                                               base['cpu'])
            for key in ('ragged', 'ragged_general'):
                row[f'{key}_over_dense'] = (timings[key]['cpu'] /
                                            dense['cpu'])
                row[f'{key}_over_dense_wall_median'] = (
                    timings[key]['median'] / dense['median'])
            row['meets_target'] = row['ragged_general_over_dense'] <= \
                TARGET_RATIO
            rows.append(row)
            print(f"{name:8s} {N:5d} {row['baseline_ms']:8.2f} "
                  f"{row['dense_ms']:9.2f} {row['ragged_ms']:10.2f} "
                  f"{row['ragged_general_ms']:10.2f} "
                  f"{row['dense_over_baseline']:10.2f} "
                  f"{row['ragged_over_dense']:12.2f} "
                  f"{row['ragged_general_over_dense']:13.2f}"
                  f"{'' if row['meets_target'] else '  (> 3x)'}")
    return rows


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--batch-size', type=int, default=2048)
    parser.add_argument('--sizes', type=int, nargs='+',
                        default=[1, 64, 1024])
    parser.add_argument('--losses', nargs='+', default=list(BASELINES))
    parser.add_argument('--repeat', type=int, default=7)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', type=Path, default=RESULT)
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    unknown = sorted(set(args.losses) - set(BASELINES))
    if unknown:
        parser.error(f'unknown losses {unknown}; choose from '
                     f'{sorted(BASELINES)}')

    env = environment_info(seed=args.seed, device='cpu')
    rows = bench(args.losses, args.sizes, args.batch_size, args.repeat,
                 args.seed)
    worst = max(rows, key=lambda r: r['ragged_general_over_dense'])
    met = sorted({r['loss'] for r in rows if r['meets_target']} -
                 {r['loss'] for r in rows if not r['meets_target']})
    summary = {
        'target': f'ragged_general/dense <= {TARGET_RATIO}',
        'losses_meeting_target_at_all_sizes': met,
        'worst_ragged_over_dense': {
            'loss': worst['loss'],
            'N': worst['N'],
            'ratio': worst['ragged_general_over_dense'],
        },
        'geomean_ragged_general_over_dense': math.exp(
            sum(math.log(r['ragged_general_over_dense'])
                for r in rows) / len(rows)),
        'geomean_ragged_over_dense': math.exp(
            sum(math.log(r['ragged_over_dense'])
                for r in rows) / len(rows)),
    }
    print(f"\ngeneral ragged path within {TARGET_RATIO}x of dense at every "
          f"N: {', '.join(met) or 'none'}; worst {worst['loss']} at "
          f"N={worst['N']}: {worst['ragged_general_over_dense']:.2f}x")
    payload = {
        'benchmark': 'losses',
        'description': 'forward+backward time of each loss, dense vs '
                       'ragged vs a plain dense PyTorch one-liner',
        'environment': env,
        'config': {
            'batch_size': args.batch_size,
            'sizes': list(args.sizes),
            'repeat': args.repeat,
            'dtype': 'float32',
            'statistic': 'median process CPU time (wall median/min also '
                         'recorded)',
            'threads': torch.get_num_threads(),
        },
        'results': rows,
        'summary': summary,
    }
    write_json(args.out, payload)
    print(f'wrote {args.out}')
    return payload


if __name__ == '__main__':
    main()
