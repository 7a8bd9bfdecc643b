r"""Compare ranking losses on one backbone: BPR, sampled softmax (SSM),
SimCE and the multi-margin loss (MML).

Every loss trains the same backbone from the same initial embeddings, with
the negatives and similarity it was designed for (the per-loss defaults of
pyg_simce.train.defaults):

* BPR: 1 uniform negative excluding the user's training items, dot product;
* SSM: in-batch negatives, cosine with temperature 0.1 for training, dot
  product for ranking;
* SimCE: margin 5, 64 negatives excluding training items, dot product;
* MML: margins (0.6, 0.7, 0.8, 0.9), 256 negatives excluding training
  items, cosine.

It prints a table of test metrics and training time and writes a
convergence plot (validation Recall@20 per epoch and per second of
training) to OUT_DIR/convergence.png when matplotlib is installed (the
examples extra: pip install -e ".[examples]"; else a note), plus the
per-epoch logs and a results.json.

    python examples/compare_losses.py                  # synthetic, < 1 min
    python examples/compare_losses.py --dataset ml-100k --data-root DIR
    python examples/compare_losses.py --losses bpr,simce --model mf
"""
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    Stopwatch,
    describe,
    example_parser,
    format_table,
    load_split,
    no_plot,
    out_dir,
    parse_args,
    positive_float,
    positive_int,
)

from pyg_simce.nn import MF, SVDPP, LightGCN, loss_resolver  # noqa: E402
from pyg_simce.train import Trainer, popularity_baseline  # noqa: E402
from pyg_simce.typing import WITH_MATPLOTLIB  # noqa: E402

LABELS = {
    'bpr': 'BPR',
    'bce': 'BCE',
    'ssm': 'SSM',
    'simce': 'SimCE',
    'mml': 'MML',
    'ccl': 'CCL',
}
RATES = ('user', 'rates', 'item')


def build_model(name: str, num_users: int, num_items: int,
                layers: int) -> torch.nn.Module:
    if name == 'lightgcn':
        return LightGCN(num_users, num_items, num_layers=layers)
    if name == 'svdpp':
        return SVDPP(num_users, num_items)
    return MF(num_users, num_items)


def read_log(path: Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()
            if line.strip()]


def plot(curves: Dict[str, List[Dict[str, Any]]], metric: str,
         path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name, records in curves.items():
        evaluated = [r for r in records if 'metrics' in r]
        epochs = [r['epoch'] for r in evaluated]
        seconds = [r['elapsed'] for r in evaluated]
        values = [r['metrics'][metric] for r in evaluated]
        left.plot(epochs, values, marker='o', ms=3, label=LABELS[name])
        right.plot(seconds, values, marker='o', ms=3, label=LABELS[name])
    left.set_xlabel('epoch')
    right.set_xlabel('training + evaluation time (s)')
    for ax in (left, right):
        ax.set_ylabel(f'validation {metric}')
        ax.grid(alpha=0.3)
    left.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    parser = example_parser(__doc__, epochs=8, synthetic_users=1000,
                            synthetic_items=800)
    parser.add_argument('--losses', default='bpr,ssm,simce,mml',
                        help='comma-separated loss names among '
                        f"{', '.join(LABELS)} (default: bpr,ssm,simce,mml)")
    parser.add_argument('--model', choices=('lightgcn', 'mf', 'svdpp'),
                        default='lightgcn',
                        help='backbone (default: lightgcn)')
    parser.add_argument('--layers', type=positive_int, default=2,
                        help='LightGCN layers (default: 2)')
    parser.add_argument('--lr', type=positive_float, default=5e-3,
                        help='Adam learning rate (default: 5e-3)')
    parser.add_argument('--batch-size', type=positive_int, default=1024,
                        help='positives per step (default: 1024)')
    args = parse_args(parser, argv)
    losses = [n.strip().lower() for n in args.losses.split(',') if n.strip()]
    unknown = [n for n in losses if n not in LABELS]
    if unknown or not losses:
        parser.error(f"--losses expected names among {', '.join(LABELS)} "
                     f'(got {args.losses!r})')
    clock = Stopwatch()
    folder = out_dir(args, 'compare_losses')

    split = load_split(args)
    print(describe(split, args.dataset))
    metric = 'recall@20'
    test_edges = split.test[RATES].edge_label_index
    exclude = (None if split.val is None else
               split.val[RATES].edge_label_index)
    baseline = popularity_baseline(split.train[RATES].edge_index,
                                   test_edges, split.num_users,
                                   split.num_items,
                                   exclude_edge_index=exclude, ks=(20, ))

    # One initialisation shared by every loss.
    torch.manual_seed(args.seed)
    template = build_model(args.model, split.num_users, split.num_items,
                           args.layers)
    init = {k: v.clone() for k, v in template.state_dict().items()}

    rows, curves, results = [], {}, {}
    for name in losses:
        model = build_model(args.model, split.num_users, split.num_items,
                            args.layers)
        model.load_state_dict(init)
        loss = loss_resolver(name)
        log = folder / f'{name}.jsonl'
        trainer = Trainer(model, loss, split.train, val_data=split.val,
                          test_data=split.test, lr=args.lr,
                          batch_size=args.batch_size, epochs=args.epochs,
                          reg=1e-4, seed=args.seed, log_path=log,
                          quiet=True, progress=False)
        result = trainer.fit()
        records = read_log(log)
        curves[name] = records
        epoch_seconds = sorted(r['seconds'] for r in records)
        median = epoch_seconds[len(epoch_seconds) // 2]
        test = result['test']
        negatives = trainer.negative_sampling + (
            f' x{trainer.num_negatives}' if trainer.num_negatives else '')
        rows.append([
            LABELS[name], negatives,
            f'{trainer.train_similarity}/{trainer.test_similarity}',
            test['recall@20'], test['ndcg@20'], result['best_epoch'],
            f'{median:.2f}'
        ])
        results[name] = {
            'loss': repr(loss),
            'negative_sampling': trainer.negative_sampling,
            'num_negatives': trainer.num_negatives,
            'test': test,
            'best_epoch': result['best_epoch'],
            'epoch_seconds_median': median,
            'curve': [(r['epoch'], r['metrics'][metric]) for r in records
                      if 'metrics' in r],
        }
        print(f"{LABELS[name]:>6}: test Recall@20 {test['recall@20']:.4f} "
              f"NDCG@20 {test['ndcg@20']:.4f} (best epoch "
              f"{result['best_epoch']}, {median:.2f} s/epoch)", flush=True)

    print(f'\n{type(template).__name__}, {args.epochs} epoch(s), lr '
          f'{args.lr}, batch {args.batch_size}; test metrics of the best '
          f'validation epoch')
    rows.append(['most popular', '-', '-', baseline['recall@20'],
                 baseline['ndcg@20'], '-', '-'])
    print(format_table([
        'loss', 'negatives', 'sim train/test', 'Recall@20', 'NDCG@20',
        'best epoch', 's/epoch'
    ], rows))

    if WITH_MATPLOTLIB:
        png = folder / 'convergence.png'
        plot(curves, metric, png,
             f'{type(template).__name__} on {args.dataset}')
        print(f'\nconvergence plot: {png}')
    else:
        print(f"\n{no_plot('convergence plot')} (the per-epoch curves "
              f'are in {folder}/<loss>.jsonl)')
    summary = {'dataset': args.dataset, 'model': repr(template),
               'epochs': args.epochs, 'most_popular': baseline,
               'results': results}
    (folder / 'results.json').write_text(json.dumps(summary, indent=2))
    print(f'results written to {folder}/ (total {clock():.1f} s)')
    return summary


if __name__ == '__main__':
    main()
