r"""Speed of training epochs on ml-100k in the quality setting: LightGCN with
2 layers, dim 64, batch 2048, Adam lr 1e-3, L2 1e-4, on the seeded 80/20
per-user split.

Each loss trains :obj:`--epochs` epochs with its prescribed negatives (BPR:
one uniform negative excluding the user's training items; SimCE: margin 5,
a shared pool of 64 negatives excluding training items; SSM: in-batch,
cosine, temperature 0.2) and no evaluation; the median epoch time is
reported, with SimCE's and SSM's ratio to BPR, measured in this process.

Targets (design card, 2-core CPU): a BPR epoch <= 0.5 s, a SimCE epoch
<= 2x a BPR epoch.  The training *quality* of the same settings under a
120 s budget is measured by :mod:`benchmarks.quality`.

Run: ``python -m benchmarks.micro.training_speed``; the result goes to
``benchmarks/results/micro/training_speed.json``.
"""
import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch

from benchmarks.common import environment_info, write_json

OUT = (Path(__file__).resolve().parents[1] / 'results' / 'micro' /
       'training_speed.json')

#: loss name -> (loss kwargs, trainer kwargs): the prescribed settings.
SETTINGS = {
    'bpr': ({}, {'negative_sampling': 'uniform', 'num_negatives': 1}),
    'simce': ({'margin': 5.0}, {
        'negative_sampling': 'shared',
        'num_negatives': 64
    }),
    'ssm': ({'temperature': 0.2}, {
        'negative_sampling': 'in-batch',
        'train_similarity': 'cosine'
    }),
}


def epoch_times(split: Any, loss_name: str, epochs: int,
                seed: int) -> List[float]:
    r"""Trains :obj:`epochs` epochs without evaluation and returns the
    seconds of each."""
    from pyg_simce.nn.loss import loss_resolver
    from pyg_simce.nn.models import LightGCN
    from pyg_simce.train import Trainer

    loss_kwargs, trainer_kwargs = SETTINGS[loss_name]
    torch.manual_seed(seed)
    model = LightGCN(split.num_users, split.num_items, embedding_dim=64,
                     num_layers=2)
    trainer = Trainer(model, loss_resolver(loss_name, **loss_kwargs),
                      split.train, test_data=split.test, lr=1e-3, reg=1e-4,
                      batch_size=2048, epochs=epochs, eval_every=epochs + 1,
                      seed=seed, quiet=True, **trainer_kwargs)
    trainer.fit()
    return [r['seconds'] for r in trainer._logger.records]


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--epochs', type=int, default=12)
    parser.add_argument('--losses', default='bpr,simce,ssm')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch default)')
    parser.add_argument('--data-root', default=None)
    parser.add_argument('--out', type=Path, default=OUT)
    args = parser.parse_args(argv)

    from pyg_simce.data import load_dataset

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    split = load_dataset('ml-100k', root=args.data_root, seed=args.seed)
    print(f'ml-100k: {split.num_users} users, {split.num_items} items; '
          f'LightGCN 2 layers, dim 64, batch 2048; torch threads '
          f'{torch.get_num_threads()}; load average {load_before[0]:.2f}')
    results: Dict[str, Any] = {}
    start = time.perf_counter()
    for name in args.losses.split(','):
        times = epoch_times(split, name, args.epochs, args.seed)
        # The first epoch builds caches (adjacency, membership table).
        steady = times[1:] if len(times) > 1 else times
        results[name] = {
            'epoch_seconds_median': statistics.median(steady),
            'epoch_seconds_min': min(steady),
            'epoch_seconds_first': times[0],
            'epochs': len(times),
        }
        print(f"{name:6s} epoch median {statistics.median(steady):.3f} s "
              f"(min {min(steady):.3f} s, first {times[0]:.3f} s)",
              flush=True)
    speed: Dict[str, Any] = {}
    if 'bpr' in results:
        bpr = results['bpr']['epoch_seconds_median']
        speed['bpr_epoch_le_0.5s'] = bpr <= 0.5
        for name in ('simce', 'ssm'):
            if name in results:
                ratio = results[name]['epoch_seconds_median'] / bpr
                results[name]['ratio_to_bpr'] = ratio
                print(f'{name} / bpr epoch time: {ratio:.2f}x')
        if 'simce' in results:
            speed['simce_le_2x_bpr'] = results['simce']['ratio_to_bpr'] <= 2
        print(f'targets: {speed}')
    payload = {
        'benchmark': 'training_speed',
        'dataset': 'ml-100k',
        'setting': 'LightGCN(layers=2, dim=64), batch 2048, lr 1e-3, reg '
        '1e-4, no evaluation; medians exclude the first epoch',
        'results': results,
        'targets': speed,
        'load_average_before': list(load_before),
        'load_average_after': list(os.getloadavg()),
        'wall_seconds': time.perf_counter() - start,
        'environment': environment_info(args.seed),
    }
    write_json(args.out, payload)
    print(f'wrote {args.out}')
    return payload


if __name__ == '__main__':
    main()
