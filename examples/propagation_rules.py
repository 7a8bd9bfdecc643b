r"""Propagation rules: user-side vs item-side SVD++ over the normalisation
exponents (alpha0, alpha1), plus LightGCN.

One propagation step sends item embeddings to a user (and symmetrically user
embeddings to an item) with

    m_u = sum_{i in P_u} e_i / (|P_u|^alpha0 * |P_i|^alpha1),

alpha0 on the receiving side.  User-side SVD++ adds m_u to the user
embedding, item-side SVD++ adds m_i to the item embedding, LightGCN
propagates both ways (alpha0 = alpha1 = 0.5) over several layers.  This
reproduces the grid of Table 5 of "On the Effectiveness of Sampled Softmax
Loss for Item Recommendation" (https://arxiv.org/abs/2201.02327):
[alpha0, alpha1] in [0.5, 0], [0.5, 0.5], [1.0, 0], trained with sampled
softmax (in-batch negatives, cosine, temperature 0.1).  The paper finds
user-side [1.0, 0] and item-side [0.5, 0.5] best on its data sets.

It also measures, for every trained model, the log-log slope of the item
embedding's squared norm against the item degree (Sec. 4.2 of the paper:
message passing sets magnitudes as a power of the degree, which a cosine
loss cannot learn by itself).

    python examples/propagation_rules.py               # synthetic, < 1 min
    python examples/propagation_rules.py --loss simce --epochs 10
    python examples/propagation_rules.py --dataset ml-100k --data-root DIR
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
    out_dir,
    parse_args,
    positive_float,
    positive_int,
)

from pyg_simce.nn import SVDPP, LightGCN, loss_resolver  # noqa: E402
from pyg_simce.nn.magnitude import embedding_norm_vs_degree  # noqa: E402
from pyg_simce.train import Trainer  # noqa: E402

RATES = ('user', 'rates', 'item')
#: The [alpha0, alpha1] grid of Table 5.
GRID = ((0.5, 0.0), (0.5, 0.5), (1.0, 0.0))


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    parser = example_parser(__doc__, epochs=4, synthetic_users=1000,
                            synthetic_items=800)
    parser.add_argument('--loss', default='ssm',
                        choices=('ssm', 'simce', 'bpr', 'mml'),
                        help='training loss (default: ssm, as in Table 5)')
    parser.add_argument('--layers', type=positive_int, default=2,
                        help='LightGCN layers (default: 2)')
    parser.add_argument('--lr', type=positive_float, default=5e-3,
                        help='Adam learning rate (default: 5e-3)')
    parser.add_argument('--batch-size', type=positive_int, default=1024,
                        help='positives per step (default: 1024)')
    args = parse_args(parser, argv)
    clock = Stopwatch()

    split = load_split(args)
    print(describe(split, args.dataset))
    train_edges = split.train[RATES].edge_index
    item_degree = torch.bincount(train_edges[1], minlength=split.num_items)

    configs = [(f'SVD++ {side}-side', dict(side=side, alpha0=a0, alpha1=a1))
               for side in ('user', 'item') for a0, a1 in GRID]
    configs.append(('LightGCN', dict(alpha0=0.5, alpha1=0.5)))

    rows, results = [], []
    for label, kwargs in configs:
        torch.manual_seed(args.seed)
        if label == 'LightGCN':
            model = LightGCN(split.num_users, split.num_items,
                             num_layers=args.layers, **kwargs)
        else:
            model = SVDPP(split.num_users, split.num_items, **kwargs)
        trainer = Trainer(model, loss_resolver(args.loss), split.train,
                          val_data=split.val, test_data=split.test,
                          lr=args.lr, batch_size=args.batch_size,
                          epochs=args.epochs, reg=1e-4, seed=args.seed,
                          quiet=True, progress=False)
        result = trainer.fit()
        _, item_emb = trainer.embeddings()
        fit = embedding_norm_vs_degree(item_emb, item_degree)
        test = result['test']
        alphas = f"[{kwargs['alpha0']}, {kwargs['alpha1']}]"
        rows.append([label, alphas, test['recall@20'], test['ndcg@20'],
                     f"{fit['slope']:+.2f}"])
        results.append({'model': label, 'alpha0': kwargs['alpha0'],
                        'alpha1': kwargs['alpha1'], 'test': test,
                        'best_epoch': result['best_epoch'],
                        'item_norm_degree_slope': fit['slope']})
        print(f"{label:<17} {alphas:<10} Recall@20 {test['recall@20']:.4f} "
              f"NDCG@20 {test['ndcg@20']:.4f}", flush=True)

    print(f'\nloss {args.loss}, {args.epochs} epoch(s); test metrics of the '
          f'best validation epoch; slope = d log||q_i||^2 / d log deg(i)')
    print(format_table(['model', '[a0, a1]', 'Recall@20', 'NDCG@20',
                        'item slope'], rows))
    for side in ('user', 'item'):
        runs = [r for r in results if r['model'] == f'SVD++ {side}-side']
        best = max(runs, key=lambda r: r['test']['recall@20'])
        print(f"best {side}-side exponents here: [{best['alpha0']}, "
              f"{best['alpha1']}]")

    folder = out_dir(args, 'propagation_rules')
    (folder / 'results.json').write_text(json.dumps(
        {'dataset': args.dataset, 'loss': args.loss, 'epochs': args.epochs,
         'results': results}, indent=2))
    print(f'results written to {folder}/ (total {clock():.1f} s)')
    return {'results': results}


if __name__ == '__main__':
    main()
