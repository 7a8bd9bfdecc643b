r"""EASE's :math:`\lambda` for a catalogue too large to sweep at full size.

One EASE fit on Gowalla's 40,981 items takes about 20 minutes on 2 cores, so
:math:`\lambda` is chosen on a proxy: validation carved from the training
interactions as in the clean protocol (10% per user, seed 0,
:func:`benchmarks.clean.validation_split.carve_validation`; the test split is
never read), the catalogue cut to the :obj:`--items` items with the most
training interactions (training and validation edges of other items
dropped), and every :math:`\lambda` of the grid fitted and scored by
validation Recall@20 there. The chosen value is then fitted once on the full
catalogue by ``python -m benchmarks.baselines``.

Run ``python -m benchmarks.ease_lambda --dataset gowalla`` (a few minutes).
Writes ``benchmarks/results/baselines/<dataset>-ease-lambda.json``.
"""
import argparse
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch

from benchmarks.common import environment_info, write_json

RESULTS = Path(__file__).resolve().parent / 'results' / 'baselines'
GRID = (50.0, 100.0, 200.0, 500.0, 1000.0)


def restrict(data: Any, key: str, keep: torch.Tensor, new_id: torch.Tensor,
             num_items: int) -> Any:
    from torch_geometric.data import HeteroData
    edge = data['user', 'rates', 'item'][key]
    mask = keep[edge[1]]
    edge = torch.stack([edge[0][mask], new_id[edge[1][mask]]])
    out = HeteroData()
    out['user'].num_nodes = data['user'].num_nodes
    out['item'].num_nodes = num_items
    out['user', 'rates', 'item'][key] = edge
    return out


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dataset', default='gowalla')
    parser.add_argument('--items', type=int, default=12000)
    parser.add_argument('--data-root', default=None)
    args = parser.parse_args(argv)

    from benchmarks.clean.validation_split import carve_validation
    from pyg_simce.baselines import EASE, evaluate_baseline
    from pyg_simce.data import load_dataset
    split = load_dataset(args.dataset, root=args.data_root)
    clean = carve_validation(split, 0.1, 0)
    train_edges = clean.train['user', 'rates', 'item'].edge_index
    degree = torch.bincount(train_edges[1], minlength=clean.num_items)
    top = torch.argsort(degree, descending=True, stable=True)[:args.items]
    keep = torch.zeros(clean.num_items, dtype=torch.bool)
    keep[top] = True
    new_id = torch.full((clean.num_items, ), -1, dtype=torch.long)
    new_id[top] = torch.arange(top.numel())
    train = restrict(clean.train, 'edge_index', keep, new_id, top.numel())
    val = restrict(clean.val, 'edge_label_index', keep, new_id, top.numel())
    sub_edges = train['user', 'rates', 'item'].edge_index
    val_edges = val['user', 'rates', 'item'].edge_label_index
    runs = []
    for lam in GRID:
        model = EASE(lambda_=lam, dtype=torch.float32,
                     max_memory=8 * 2**30).fit(train)
        start = time.perf_counter()
        metrics = evaluate_baseline(model, sub_edges, val_edges, ks=(20, ))
        runs.append({'lambda': lam, 'fit_seconds': model.fit_seconds,
                     'eval_seconds': time.perf_counter() - start,
                     'valid': {'recall@20': metrics['recall@20'],
                               'ndcg@20': metrics['ndcg@20']}})
        print(f"{args.dataset} EASE lambda={lam:g}: validation Recall@20 "
              f"{metrics['recall@20']:.4f} (fit {model.fit_seconds:.1f} s)",
              flush=True)
    best = max(runs, key=lambda r: r['valid']['recall@20'])
    payload = {
        'dataset': args.dataset,
        'protocol': ('validation carved from training (10% per user, seed '
                     '0), catalogue cut to the items with the most training '
                     'interactions; the test split is not read'),
        'items_kept': int(top.numel()), 'num_items': clean.num_items,
        'train_edges_kept': int(sub_edges.size(1)),
        'train_edges': int(train_edges.size(1)),
        'val_edges_kept': int(val_edges.size(1)),
        'grid': list(GRID), 'runs': runs, 'chosen_lambda': best['lambda'],
        'command': 'python -m benchmarks.ease_lambda --dataset '
                   f'{args.dataset} --items {args.items}',
        'environment': environment_info(seed=0, device='cpu'),
    }
    stem = args.dataset.replace('/', '-')
    write_json(RESULTS / f'{stem}-ease-lambda.json', payload)
    print(f"chosen lambda: {best['lambda']:g}")
    return payload


if __name__ == '__main__':
    main()
