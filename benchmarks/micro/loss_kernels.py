r"""Speed of the ranking losses: forward + backward of every loss of
:mod:`pyg_simce.nn.loss` at B = 2048 positives and N in {1, 64, 1024}
negatives each, in the dense form ``loss(pos [B], neg [B, N])`` and the
ragged form ``loss(pos, neg [B*N], index [B*N])`` (same elements,
``index = arange(B).repeat_interleave(N)``, validated on every call as in
training), against a plain dense PyTorch one-liner of the same formula.

Three ragged timings are taken, each validating its index on every call as
in training:

* ``ragged``: what a caller gets; a sorted index with equal group sizes is
  recognised as the dense layout and reshaped (the uniform fast path);
* ``ragged_general``: the same call with the fast path disabled, i.e. the
  kernels every uneven sorted ragged input goes through;
* ``ragged_unsorted``: the same negatives in a random order (``neg`` and
  ``index`` permuted alike), the layout of an arbitrary-order index.

Prints milliseconds of CPU time and the ratios to the baseline and to the
dense form; the target is ragged_general/dense <= 3 and
ragged_unsorted/dense <= 3.  The five variants of one (loss, N) are timed
round-robin, ``--repeat`` rounds, so that a change of load on a shared
machine hits them alike; each sample runs a variant enough times in a row
to last ``--min-sample-ms`` and records its mean time per call, and the
median sample is reported (process CPU time; wall-clock median and minimum
are recorded too).  Writes ``benchmarks/results/micro/loss_kernels.json``.
By default the kernels run single-threaded (``--threads 1``): on a shared
machine this gives far more stable ratios; ``--threads 0`` keeps PyTorch's
default.

Run: ``python -m benchmarks.micro.loss_kernels [--repeat 11] [--sizes 1 64 1024]``.
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

from benchmarks.common import environment_info, write_json
from pyg_simce.nn.loss import loss_resolver
from pyg_simce.nn.loss.ragged_groups import uniform_fast_path

RESULT = (Path(__file__).resolve().parents[1] / 'results' / 'micro' /
          'loss_kernels.json')
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


def time_interleaved(
    fns: Dict[str, Callable[[], None]],
    repeat: int,
    min_sample_s: float = 0.02,
) -> Dict[str, Dict[str, float]]:
    r"""Times the callables round-robin: :obj:`repeat` rounds, each taking
    one sample of every callable.  A sample runs a callable :obj:`number`
    times in a row (fixed per callable after a warm-up so that a sample
    lasts about :obj:`min_sample_s`) and records the mean process CPU time
    (:func:`time.process_time`) and wall time per call.  With one thread the
    CPU time is the work done, unaffected by waiting for a core on a loaded
    machine, so ratios use its median."""
    number: Dict[str, int] = {}
    for key, fn in fns.items():
        fn()  # warm-up
        start = time.perf_counter()
        fn()
        once = time.perf_counter() - start
        number[key] = max(1, math.ceil(min_sample_s / max(once, 1e-6)))
    cpu: Dict[str, List[float]] = {key: [] for key in fns}
    wall: Dict[str, List[float]] = {key: [] for key in fns}
    for _ in range(repeat):
        for key, fn in fns.items():
            n = number[key]
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(n):
                fn()
            cpu[key].append((time.process_time() - cpu_start) / n)
            wall[key].append((time.perf_counter() - wall_start) / n)
    return {
        key: {
            'cpu': statistics.median(cpu[key]),
            'median': statistics.median(wall[key]),
            'min': min(wall[key]),
            'number': number[key],
        }
        for key in fns
    }


VARIANTS = ('dense', 'ragged', 'ragged_general', 'ragged_unsorted')
RAGGED = ('ragged', 'ragged_general', 'ragged_unsorted')
TARGETED = ('ragged_general', 'ragged_unsorted')


def bench(names: Sequence[str], sizes: Sequence[int], B: int, repeat: int,
          seed: int, min_sample_s: float = 0.02) -> List[Dict[str, object]]:
    rows: List[Dict[str, object]] = []
    header = (f"{'loss':8s} {'N':>5s} {'base ms':>8s} {'dense ms':>9s} "
              f"{'dense/base':>10s} {'ragged/dense':>12s} "
              f"{'general/dense':>13s} {'unsorted/dense':>14s}")
    print(header)
    print('-' * len(header))
    for N in sizes:
        g = torch.Generator().manual_seed(seed + N)
        # Cosine-like scores in [-1, 1] so that every hinge is partly active.
        pos = (torch.rand(B, generator=g) * 2 - 1).requires_grad_()
        neg = (torch.rand(B, N, generator=g) * 2 - 1).requires_grad_()
        flat = neg.detach().reshape(-1).clone().requires_grad_()
        index = torch.arange(B).repeat_interleave(N)
        perm = torch.randperm(B * N, generator=g)
        shuffled = flat.detach()[perm].clone().requires_grad_()
        shuffled_index = index[perm]
        for name in names:
            loss = loss_resolver(name)

            def general(p: Tensor, n: Tensor) -> Tensor:
                with uniform_fast_path(False):
                    return loss(p, n, index)

            timings = time_interleaved({
                'baseline': _fwd_bwd(BASELINES[name], pos, neg),
                'dense': _fwd_bwd(loss, pos, neg),
                'ragged': _fwd_bwd(lambda p, n: loss(p, n, index), pos,
                                   flat),
                'ragged_general': _fwd_bwd(general, pos, flat),
                'ragged_unsorted': _fwd_bwd(
                    lambda p, n: loss(p, n, shuffled_index), pos, shuffled),
            }, repeat, min_sample_s)
            row: Dict[str, object] = {'loss': name, 'B': B, 'N': N}
            for key, t in timings.items():
                row[f'{key}_ms'] = 1e3 * t['cpu']
                row[f'{key}_wall_median_ms'] = 1e3 * t['median']
                row[f'{key}_wall_min_ms'] = 1e3 * t['min']
                row[f'{key}_calls_per_sample'] = t['number']
            base, dense = timings['baseline'], timings['dense']
            for key in VARIANTS:
                row[f'{key}_over_baseline'] = (timings[key]['cpu'] /
                                               base['cpu'])
            for key in RAGGED:
                row[f'{key}_over_dense'] = (timings[key]['cpu'] /
                                            dense['cpu'])
                row[f'{key}_over_dense_wall_median'] = (
                    timings[key]['median'] / dense['median'])
            row['meets_target'] = all(row[f'{key}_over_dense'] <=
                                      TARGET_RATIO for key in TARGETED)
            rows.append(row)
            print(f"{name:8s} {N:5d} {row['baseline_ms']:8.3f} "
                  f"{row['dense_ms']:9.3f} "
                  f"{row['dense_over_baseline']:10.2f} "
                  f"{row['ragged_over_dense']:12.2f} "
                  f"{row['ragged_general_over_dense']:13.2f} "
                  f"{row['ragged_unsorted_over_dense']:14.2f}"
                  f"{'' if row['meets_target'] else '  (> 3x)'}",
                  flush=True)
    return rows


def _geomean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--batch-size', type=int, default=2048)
    parser.add_argument('--sizes', type=int, nargs='+',
                        default=[1, 64, 1024])
    parser.add_argument('--losses', nargs='+', default=list(BASELINES))
    parser.add_argument('--repeat', type=int, default=11)
    parser.add_argument('--min-sample-ms', type=float, default=20.0)
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
                 args.seed, args.min_sample_ms / 1e3)
    worst = {
        key: max(rows, key=lambda r, k=key: r[f'{k}_over_dense'])
        for key in TARGETED
    }
    met = sorted({r['loss'] for r in rows if r['meets_target']} -
                 {r['loss'] for r in rows if not r['meets_target']})
    summary = {
        'target': ' and '.join(f'{key}/dense <= {TARGET_RATIO}'
                               for key in TARGETED),
        'losses_meeting_target_at_all_sizes': met,
        'worst_ragged_over_dense': {
            'loss': worst['ragged_general']['loss'],
            'N': worst['ragged_general']['N'],
            'ratio': worst['ragged_general']['ragged_general_over_dense'],
        },
        'worst_ragged_unsorted_over_dense': {
            'loss': worst['ragged_unsorted']['loss'],
            'N': worst['ragged_unsorted']['N'],
            'ratio': worst['ragged_unsorted']['ragged_unsorted_over_dense'],
        },
    }
    for key in RAGGED:
        summary[f'geomean_{key}_over_dense'] = _geomean(
            [r[f'{key}_over_dense'] for r in rows])
    print(f"\nragged paths within {TARGET_RATIO}x of dense at every N: "
          f"{', '.join(met) or 'none'}")
    for key in TARGETED:
        r = worst[key]
        print(f"worst {key}/dense: {r['loss']} at N={r['N']}: "
              f"{r[f'{key}_over_dense']:.2f}x")
    payload = {
        'benchmark': 'loss_kernels',
        'description': 'forward+backward time of each loss, dense vs '
                       'ragged vs a plain dense PyTorch one-liner',
        'environment': env,
        'config': {
            'batch_size': args.batch_size,
            'sizes': list(args.sizes),
            'repeat': args.repeat,
            'min_sample_ms': args.min_sample_ms,
            'dtype': 'float32',
            'statistic': 'median over round-robin samples of the process '
                         'CPU time per call (wall median/min also '
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
