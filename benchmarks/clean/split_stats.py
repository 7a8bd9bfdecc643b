r"""Size and item popularity of the three parts of a clean-protocol split,
to tell whether its validation part resembles its test part.

For the training, validation and test parts it gives the number of
interactions, of users with at least one, their mean per such user, and
the mean training popularity of their items (the number of training
interactions of the item, averaged over the part's interactions).  The
test part is opened only to count its interactions; no model is scored.

``python -m benchmarks.clean.split_stats --dataset yelp2018`` carves the
split as ``benchmarks/configs/clean.json`` gives it (``val_ratio``,
``val_seed``), prints the table and writes
``benchmarks/results/clean/splits/<dataset>.json``.
"""
import argparse
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch
from torch import Tensor

from benchmarks.clean.clean_config import (
    clean_settings,
    dataset_search,
    load_clean,
)
from benchmarks.clean.validation_split import (
    CleanData,
    carve_validation,
    final_evaluation,
)
from benchmarks.common import environment_info, write_json
from benchmarks.suites.config import ConfigError

RATES = ('user', 'rates', 'item')
RESULTS = Path(__file__).resolve().parent.parent / 'results' / 'clean'


def part_stats(edge_index: Tensor,
               item_popularity: Tensor) -> Dict[str, float]:
    r"""The statistics of one part, given as its ``[2, E]`` user-item
    pairs, with :obj:`item_popularity` the training count of each item."""
    users = int(edge_index[0].unique().numel())
    size = int(edge_index.size(1))
    return {
        'interactions': size, 'users': users,
        'per_user': size / users if users else 0.0,
        'mean_train_popularity':
            float(item_popularity[edge_index[1]].double().mean())
            if size else 0.0,
    }


def split_stats(data: CleanData) -> Dict[str, Dict[str, float]]:
    r"""The statistics of the training, validation and test parts of
    :obj:`data`."""
    train = data.train[RATES].edge_index
    popularity = torch.bincount(train[1], minlength=data.num_items)
    with final_evaluation():
        test = data.test.open()
    return {name: part_stats(part, popularity) for name, part in (
        ('train', train), ('valid', data.val[RATES].edge_label_index),
        ('test', test[RATES].edge_label_index))}


def render(dataset: str, stats: Dict[str, Dict[str, float]]) -> str:
    r"""The statistics as a Markdown table."""
    lines = [f'Split of {dataset} (clean protocol)', '',
             '| part | interactions | users | per user | '
             'mean training popularity of its items |',
             '|---|---|---|---|---|']
    for name, s in stats.items():
        lines.append(f"| {name} | {s['interactions']} | {s['users']} | "
                     f"{s['per_user']:.2f} | "
                     f"{s['mean_train_popularity']:.1f} |")
    return '\n'.join(lines) + '\n'


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    from pyg_simce.data import load_dataset

    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--dataset', required=True,
                        help='a dataset of benchmarks/configs/clean.json')
    parser.add_argument('--data-root', default=None)
    parser.add_argument('--out', type=Path, default=RESULTS / 'splits',
                        help='folder of the JSON file (default: '
                        'benchmarks/results/clean/splits)')
    args = parser.parse_args(argv)
    try:
        clean = clean_settings(args.dataset,
                               dataset_search(load_clean(), args.dataset))
    except ConfigError as e:
        parser.error(str(e))
    split = load_dataset(args.dataset, root=args.data_root,
                         **clean.settings.load)
    data = carve_validation(split, clean.val_ratio, clean.val_seed)
    stats = split_stats(data)
    print(render(args.dataset, stats), end='')
    payload = {'dataset': args.dataset, 'val_ratio': data.val_ratio,
               'val_seed': data.val_seed, 'parts': stats,
               'environment': environment_info(seed=clean.val_seed)}
    write_json(args.out / f"{args.dataset.replace('/', '-')}.json", payload)
    return payload


if __name__ == '__main__':
    main()
