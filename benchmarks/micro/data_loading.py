r"""Speed of loading the LightGCN benchmark splits into ``HeteroData``.

Times :func:`pyg_simce.data.load_dataset` on Gowalla and Yelp2018 (reading
``train.txt.gz`` and ``test.txt``, remapping ids, deduplicating and building
the train/test :class:`~torch_geometric.data.HeteroData` parts), the median
of a few runs after one warm-up, against:

* the target of the design card: < 3 s for Gowalla on this 2-core CPU;
* a naive pure-Python baseline measured in the same process: line-by-line
  ``str.split`` and ``int()`` into Python lists, a ``set`` for duplicates,
  then ``torch.tensor`` and the same two ``HeteroData`` parts (the approach
  of PyG's ``AmazonBook.process``).

Run: ``python -m benchmarks.micro.data_loading [--repeat 5] [--root DIR]``.
The result is also written to ``benchmarks/results/micro/data_loading.json``.
"""
import argparse
import gzip
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch_geometric.data import HeteroData

from benchmarks.common import environment_info, time_call, write_json
from pyg_simce.data import (
    RATED_BY,
    RATES,
    dataset_statistics,
    load_dataset,
    resolve_data_root,
)

OUT = Path(__file__).resolve().parents[1] / 'results' / 'micro' / \
    'data_loading.json'
TARGET_SECONDS = 3.0
DATASETS = ('gowalla', 'yelp2018')


def _naive_read(path: Path) -> Tuple[List[int], List[int]]:
    opener = gzip.open if path.suffix == '.gz' else open
    users: List[int] = []
    items: List[int] = []
    with opener(path, 'rt') as f:
        for line in f:
            tokens = line.split()
            if not tokens:
                continue
            u = int(tokens[0])
            for t in tokens[1:]:
                users.append(u)
                items.append(int(t))
    return users, items


def naive_load(directory: Path) -> Tuple[HeteroData, HeteroData]:
    r"""The pure-Python baseline: the same result as the given split of
    :func:`load_dataset` for files with contiguous ids."""
    train_path = directory / 'train.txt.gz'
    if not train_path.exists():
        train_path = directory / 'train.txt'
    tr_u, tr_i = _naive_read(train_path)
    te_u, te_i = _naive_read(directory / 'test.txt')
    parts = []
    for users, items in ((tr_u, tr_i), (te_u, te_i)):
        keep_u, keep_i = [], []
        seen = set()
        for u, i in zip(users, items):
            if (u, i) not in seen:
                seen.add((u, i))
                keep_u.append(u)
                keep_i.append(i)
        parts.append(torch.tensor([keep_u, keep_i]))
    num_users = max(max(tr_u), max(te_u)) + 1
    num_items = max(max(tr_i), max(te_i)) + 1
    out = []
    for target in parts:
        data = HeteroData()
        data['user'].num_nodes = num_users
        data['item'].num_nodes = num_items
        data[RATES].edge_index = parts[0]
        data[RATED_BY].edge_index = parts[0].flip([0])
        data[RATES].edge_label_index = target
        out.append(data)
    return out[0], out[1]


def run(root: Optional[str] = None, repeat: int = 5,
        datasets: Tuple[str, ...] = DATASETS) -> Dict[str, Any]:
    base = resolve_data_root(root)
    results: Dict[str, Any] = {}
    for name in datasets:
        split = load_dataset(name, root=base)
        naive_train, naive_test = naive_load(base / name)
        # Same graph as the baseline (ids are contiguous in these files).
        n = split.num_items
        for a, b in ((split.train[RATES].edge_index,
                      naive_train[RATES].edge_index),
                     (split.test[RATES].edge_label_index,
                      naive_test[RATES].edge_label_index)):
            assert torch.equal((a[0] * n + a[1]).sort()[0],
                               (b[0] * n + b[1]).sort()[0])
        ours = time_call(lambda: load_dataset(name, root=base),
                         repeat=repeat)
        naive = time_call(lambda: naive_load(base / name),
                          repeat=max(1, min(repeat, 3)))
        stats = dataset_statistics(split)
        results[name] = {
            'seconds_median': ours['median'],
            'seconds_min': ours['min'],
            'seconds_max': ours['max'],
            'repeat': ours['repeat'],
            'naive_seconds_median': naive['median'],
            'speedup_vs_naive': naive['median'] / ours['median'],
            'ratio_to_target': ours['median'] / TARGET_SECONDS,
            'users': stats['users'],
            'items': stats['items'],
            'train': stats['train'],
            'test': stats['test'],
        }
    return results


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--root', default=None,
                        help='data root (default: $PYG_SIMCE_DATA or '
                        '../shared/data)')
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--datasets', nargs='+', default=list(DATASETS))
    parser.add_argument('--out', default=str(OUT))
    args = parser.parse_args(argv)
    results = run(args.root, args.repeat, tuple(args.datasets))
    env = environment_info(seed=None)
    print(f"data loading into HeteroData (median of {args.repeat} runs, "
          f"{env['cpu_count']} CPUs, torch {env['versions']['torch']})")
    print(f"{'dataset':10s} {'seconds':>8s} {'target':>7s} {'ratio':>6s} "
          f"{'naive s':>8s} {'speedup':>8s}")
    for name, r in results.items():
        print(f"{name:10s} {r['seconds_median']:8.3f} {TARGET_SECONDS:7.1f} "
              f"{r['ratio_to_target']:6.2f} {r['naive_seconds_median']:8.3f} "
              f"{r['speedup_vs_naive']:7.1f}x")
    payload = {'environment': env, 'target_seconds': TARGET_SECONDS,
               'results': results}
    if args.out:
        write_json(Path(args.out), payload)
    return payload


if __name__ == '__main__':  # pragma: no cover
    main(sys.argv[1:])
