r"""Long-tail analysis: Recall@20 per item-popularity group, and how much of
each model's top-20 lists goes to popular items.

Items are sorted by training popularity and cut into 10 groups of equal
total interactions (group 0: the long tail, most of the catalogue; group 9:
a few blockbusters).  Recall@K then decomposes exactly over the groups
(eq. 22 of "On the Effectiveness of Sampled Softmax Loss for Item
Recommendation", https://arxiv.org/abs/2201.02327):

    Recall@K = sum_g Recall^(g).

The example trains LightGCN with BPR, sampled softmax (SSM) and SimCE from
the same initial embeddings and prints, per group, the share of the test
interactions, the share of the top-K slots each model fills with the
group's items, and Recall^(g).  A model with popularity bias fills its
lists with group 9 far beyond that group's share of the test interactions.
The SSM paper reports that sampled softmax recommends long-tail items more
than BPR.  With matplotlib installed (the examples extra: pip install -e
".[examples]"), the picture goes to OUT_DIR/longtail.png.

    python examples/longtail_analysis.py               # synthetic, < 1 min
    python examples/longtail_analysis.py --dataset ml-100k --data-root DIR \
        --epochs 30
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

from pyg_simce.metrics import longtail_decomposition  # noqa: E402
from pyg_simce.nn import LightGCN, loss_resolver  # noqa: E402
from pyg_simce.train import Trainer  # noqa: E402
from pyg_simce.typing import WITH_MATPLOTLIB  # noqa: E402

RATES = ('user', 'rates', 'item')
LABELS = {'bpr': 'BPR', 'ssm': 'SSM', 'simce': 'SimCE', 'mml': 'MML',
          'bce': 'BCE', 'ccl': 'CCL'}


def plot(decomp: Dict[str, Dict[str, Any]], path: Path, k: int,
         title: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    names = list(decomp)
    first = decomp[names[0]]
    groups = list(range(first['num_groups']))
    width = 0.8 / len(names)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for n, name in enumerate(names):
        xs = [g - 0.4 + width * (n + 0.5) for g in groups]
        left.bar(xs, decomp[name]['recall_per_group'], width,
                 label=LABELS[name])
        right.bar(xs, decomp[name]['share_per_group'], width,
                  label=LABELS[name])
    right.plot(groups, first['target_share_per_group'], 'k--', marker='x',
               label='test interactions')
    left.set_ylabel(f'Recall@{k} contribution')
    right.set_ylabel(f'share of top-{k} slots')
    for ax in (left, right):
        ax.set_xlabel('popularity group (0 = long tail)')
        ax.set_xticks(groups)
        ax.grid(alpha=0.3, axis='y')
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    parser = example_parser(__doc__, epochs=6, synthetic_users=1000,
                            synthetic_items=800)
    parser.add_argument('--losses', default='bpr,ssm,simce',
                        help='comma-separated losses among '
                        f"{', '.join(LABELS)} (default: bpr,ssm,simce)")
    parser.add_argument('--groups', type=positive_int, default=10,
                        help='popularity groups (default: 10)')
    parser.add_argument('--k', type=positive_int, default=20,
                        help='cut-off K (default: 20)')
    parser.add_argument('--lr', type=positive_float, default=5e-3,
                        help='Adam learning rate (default: 5e-3)')
    args = parse_args(parser, argv)
    losses = [n.strip().lower() for n in args.losses.split(',') if n.strip()]
    if not losses or any(n not in LABELS for n in losses):
        parser.error(f"--losses expected names among {', '.join(LABELS)} "
                     f'(got {args.losses!r})')
    clock = Stopwatch()

    split = load_split(args)
    print(describe(split, args.dataset))
    train_edges = split.train[RATES].edge_index
    test_edges = split.test[RATES].edge_label_index
    exclude = (None if split.val is None else
               split.val[RATES].edge_label_index)
    k = min(args.k, split.num_items)

    torch.manual_seed(args.seed)
    init = LightGCN(split.num_users, split.num_items,
                    num_layers=2).state_dict()
    decomp: Dict[str, Dict[str, Any]] = {}
    for name in losses:
        model = LightGCN(split.num_users, split.num_items, num_layers=2)
        model.load_state_dict(init)
        trainer = Trainer(model, loss_resolver(name), split.train,
                          val_data=split.val, test_data=split.test,
                          lr=args.lr, batch_size=1024, epochs=args.epochs,
                          reg=1e-4, seed=args.seed, ks=(k, ), quiet=True,
                          progress=False, metric=f'recall@{k}')
        trainer.fit()
        user_emb, item_emb = trainer.embeddings()
        decomp[name] = longtail_decomposition(
            user_emb, item_emb, train_edges, test_edges,
            exclude_edge_index=exclude, num_groups=args.groups, k=k,
            similarity=trainer.test_similarity)
        print(f"{LABELS[name]:>6}: test Recall@{k} "
              f"{decomp[name]['recall']:.4f}", flush=True)

    first = decomp[losses[0]]
    header = ['group', 'items', 'degree', 'test share']
    header += [f'{LABELS[n]} top-{k} share' for n in losses]
    header += [f'{LABELS[n]} Recall' for n in losses]
    rows = []
    for g in range(first['num_groups']):
        span = first['degree_range_per_group'][g]
        rows.append([
            g, first['item_count_per_group'][g],
            '-' if span is None else f'{span[0]:g}-{span[1]:g}',
            first['target_share_per_group'][g],
            *[decomp[n]['share_per_group'][g] for n in losses],
            *[decomp[n]['recall_per_group'][g] for n in losses],
        ])
    rows.append(['sum', sum(first['item_count_per_group']), '', 1.0,
                 *[1.0 for _ in losses],
                 *[decomp[n]['recall'] for n in losses]])
    print(f'\nLightGCN, {args.epochs} epoch(s); test users '
          f"{first['num_users']}; groups of equal training interactions, "
          f'0 = least popular')
    print(format_table(header, rows))
    head, tail = first['num_groups'] - 1, 0
    for n in losses:
        d = decomp[n]
        print(f"{LABELS[n]:>6}: {d['share_per_group'][head]:.0%} of the "
              f'top-{k} slots go to the most popular group (it holds '
              f"{first['target_share_per_group'][head]:.0%} of the test "
              f"interactions), {d['share_per_group'][tail]:.0%} to the long "
              f'tail group')

    folder = out_dir(args, 'longtail_analysis')
    keep = ('recall', 'recall_per_group', 'share_per_group',
            'target_share_per_group', 'item_count_per_group',
            'degree_range_per_group', 'k', 'num_groups', 'num_users')
    (folder / 'results.json').write_text(json.dumps(
        {n: {key: d[key] for key in keep} for n, d in decomp.items()},
        indent=2))
    if WITH_MATPLOTLIB:
        png = folder / 'longtail.png'
        plot(decomp, png, k, f'LightGCN on {args.dataset}')
        print(f'\npicture: {png}')
    else:
        print(f"\n{no_plot('picture')}")
    print(f'results written to {folder}/ (total {clock():.1f} s)')
    return decomp


if __name__ == '__main__':
    main()
