r"""Quick start: LightGCN trained with the SimCE loss.

Loads a data set (by default the built-in synthetic one, no download),
trains a 2-layer LightGCN with SimCE (margin 5, 64 negatives per positive
that exclude the user's training items), evaluates it with the all-ranking
protocol against the most-popular baseline, and recommends items for one
user.

    python examples/quickstart.py                      # synthetic, ~20 s
    python examples/quickstart.py --dataset ml-100k --data-root DIR
    python examples/quickstart.py --smoke              # 1 tiny epoch

SimCE: "SimCE: Simplifying Cross-Entropy Loss for Collaborative Filtering"
(https://arxiv.org/abs/2406.16170).
"""
import json
import sys
from pathlib import Path
from typing import List, Optional

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

from pyg_simce.nn import LightGCN, SimCELoss  # noqa: E402
from pyg_simce.train import Trainer, popularity_baseline  # noqa: E402

RATES = ('user', 'rates', 'item')


def main(argv: Optional[List[str]] = None) -> dict:
    parser = example_parser(__doc__, epochs=15)
    parser.add_argument('--layers', type=positive_int, default=2,
                        help='LightGCN layers (default: 2)')
    parser.add_argument('--margin', type=positive_float, default=5.0,
                        help='SimCE margin (default: 5.0)')
    parser.add_argument('--lr', type=positive_float, default=5e-3,
                        help='Adam learning rate (default: 5e-3; the papers '
                        'use 1e-3 with many more epochs)')
    parser.add_argument('--batch-size', type=positive_int, default=2048,
                        help='positives per step (default: 2048)')
    args = parse_args(parser, argv)
    clock = Stopwatch()

    # 1. Data: an InteractionSplit of HeteroData parts.  Each part's
    #    edge_index holds the training interactions, edge_label_index its
    #    targets.
    split = load_split(args)
    print(describe(split, args.dataset))

    # 2. Model and loss.
    model = LightGCN(split.num_users, split.num_items, embedding_dim=64,
                     num_layers=args.layers)
    loss = SimCELoss(margin=args.margin)
    print(f'model: {model}\nloss:  {loss}')

    # 3. Train.  The trainer picks SimCE's defaults (64 negatives excluding
    #    the user's training items, dot-product scores); it evaluates on the
    #    validation split every epoch and restores the best epoch.
    trainer = Trainer(model, loss, split.train, val_data=split.val,
                      test_data=split.test, lr=args.lr,
                      batch_size=args.batch_size, epochs=args.epochs,
                      reg=1e-4, seed=args.seed, progress=False)
    result = trainer.fit()

    # 4. Evaluate: all-ranking metrics of the best model on test, against
    #    the most-popular recommender.
    train_edges = split.train[RATES].edge_index
    test_edges = split.test[RATES].edge_label_index
    exclude = (None if split.val is None else
               split.val[RATES].edge_label_index)
    baseline = popularity_baseline(train_edges, test_edges, split.num_users,
                                   split.num_items,
                                   exclude_edge_index=exclude, ks=(20, ))
    test = result['test']
    print(f"\nbest epoch {result['best_epoch']} of {result['epochs_run']} "
          f"({result['train_seconds']:.1f} s of training and evaluation)")
    print(format_table(['recommender', 'Recall@20', 'NDCG@20'], [
        ['LightGCN + SimCE', test['recall@20'], test['ndcg@20']],
        ['most popular', baseline['recall@20'], baseline['ndcg@20']],
    ]))

    # 5. Recommend for one user (the one with the most test items): top-10
    #    items, never one the user has already interacted with.
    user = int(torch.bincount(test_edges[0]).argmax())
    seen = train_edges if exclude is None else torch.cat([train_edges,
                                                          exclude], 1)
    model.eval()
    top = model.recommend(train_edges, src_index=torch.tensor([user]), k=10,
                          exclude_edge_index=seen)[0]
    targets = set(test_edges[1, test_edges[0] == user].tolist())
    hits = [i for i in top.tolist() if i in targets]
    print(f'\ntop-10 items for user {user}: {top.tolist()}')
    print(f'  {len(hits)} of them are among the user\'s '
          f'{len(targets)} held-out test items: {hits}')

    folder = out_dir(args, 'quickstart')
    summary = {
        'dataset': args.dataset,
        'test': test,
        'most_popular': baseline,
        'best_epoch': result['best_epoch'],
        'epochs_run': result['epochs_run'],
        'recommendation': {'user': user, 'items': top.tolist()},
    }
    (folder / 'results.json').write_text(json.dumps(summary, indent=2))
    torch.save(model.state_dict(), folder / 'model.pt')
    print(f'\nresults and model written to {folder}/ '
          f'(total {clock():.1f} s)')
    return summary


if __name__ == '__main__':
    main()
