r"""Your own interaction log: CSV -> HeteroData -> split -> train.

Step by step, with the functions a custom pipeline would use:

1. read any delimited file with named columns (pyg_simce.data.read_csv):
   string or integer ids, optional rating and timestamp columns, plain or
   gzipped; malformed rows raise a ValueError naming the file and line;
2. build the bipartite HeteroData (build_hetero_data): raw ids remapped to
   contiguous ids (the mapping is kept as data['user'].raw_id), repeated
   pairs removed and counted;
3. optionally keep the k-core and split per user (random, temporal or
   leave-one-out), seeded;
4. train LightGCN + SimCE and recommend, mapping ids back to the file's ids.

Without --csv, the example first writes a small CSV (string ids, ratings,
timestamps and a few repeated rows) from the data set named by --dataset
(the built-in synthetic one by default) into --out-dir, so it runs offline.

    python examples/custom_dataset.py                  # demo CSV, ~15 s
    python examples/custom_dataset.py --csv my_log.csv --user-col user_id \
        --item-col item_id --timestamp-col ts --split temporal
    python examples/custom_dataset.py --csv ratings.tsv --rating-col rating \
        --rating-threshold 4

The same files load in one call with pyg_simce.data.load_data_dir(path,
'csv', ...) or on the command line with
`pyg-simce train --data my_log.csv --format csv`.
"""
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    Stopwatch,
    example_parser,
    load_split,
    out_dir,
    parse_args,
    positive_float,
    positive_int,
)

from pyg_simce.data import (  # noqa: E402
    build_hetero_data,
    dataset_statistics,
    format_statistics,
    k_core,
    read_csv,
    split_data,
    to_raw_ids,
)
from pyg_simce.nn import LightGCN, SimCELoss  # noqa: E402
from pyg_simce.train import Trainer  # noqa: E402

RATES = ('user', 'rates', 'item')


def write_demo_csv(args: Any, path: Path) -> int:
    r"""Writes the interactions of ``--dataset`` as a CSV with string ids,
    ratings 1-5, timestamps and 1% repeated rows; returns the row count."""
    split = load_split(args)
    parts = [split.train[RATES].edge_index, split.test[RATES].edge_label_index]
    if split.val is not None:
        parts.append(split.val[RATES].edge_label_index)
    edges = torch.cat(parts, 1).numpy()
    rng = np.random.default_rng(args.seed)
    repeat = rng.choice(edges.shape[1], size=edges.shape[1] // 100,
                        replace=False)
    edges = np.concatenate([edges, edges[:, repeat]], 1)
    edges = edges[:, rng.permutation(edges.shape[1])]
    rating = rng.choice([1, 2, 3, 4, 5], size=edges.shape[1],
                        p=[0.05, 0.1, 0.25, 0.35, 0.25])
    timestamp = 1_600_000_000 + rng.integers(0, 365 * 86400,
                                             size=edges.shape[1])
    lines = ['user_id,item_id,rating,timestamp']
    lines += [f'user_{u:05d},item_{i:05d},{r},{t}'
              for u, i, r, t in zip(edges[0], edges[1], rating, timestamp)]
    path.write_text('\n'.join(lines) + '\n')
    return edges.shape[1]


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    parser = example_parser(__doc__, epochs=10, synthetic_users=1000,
                            synthetic_items=800)
    g = parser.add_argument_group('your file')
    g.add_argument('--csv', metavar='PATH', default=None,
                   help='your delimited file (default: write a demo CSV '
                   'from --dataset)')
    g.add_argument('--user-col', default='user_id',
                   help='user column name, or 0-based index with '
                   '--no-header (default: user_id)')
    g.add_argument('--item-col', default='item_id',
                   help='item column (default: item_id)')
    g.add_argument('--rating-col', default=None,
                   help='rating column (default: none; "rating" for the '
                   'demo CSV)')
    g.add_argument('--timestamp-col', default=None,
                   help='timestamp column (default: none; "timestamp" for '
                   'the demo CSV)')
    g.add_argument('--delimiter', default=None,
                   help="field delimiter (default: tab for .tsv files, "
                   "else ',')")
    g.add_argument('--no-header', action='store_true',
                   help='the file has no header line (give columns as '
                   'indices)')
    g.add_argument('--rating-threshold', type=float, default=None,
                   help='keep only rows with rating >= this (implicit '
                   'feedback from explicit ratings; default: keep all)')
    g.add_argument('--k-core', type=positive_int, default=None,
                   help='keep the k-core: every user and item with at '
                   'least k interactions (default: none)')
    g.add_argument('--split', default='random',
                   choices=('random', 'temporal', 'leave-one-out'),
                   help='per-user split (default: random 80/10/10)')
    parser.add_argument('--lr', type=positive_float, default=5e-3,
                        help='Adam learning rate (default: 5e-3)')
    args = parse_args(parser, argv)
    clock = Stopwatch()
    folder = out_dir(args, 'custom_dataset')

    # 0. The file.
    if args.csv is None:
        path = folder / 'interactions.csv'
        rows = write_demo_csv(args, path)
        args.rating_col = args.rating_col or 'rating'
        args.timestamp_col = args.timestamp_col or 'timestamp'
        print(f'wrote a demo CSV with {rows} rows to {path}:')
        with path.open() as f:
            for _ in range(3):
                print('   ', f.readline().rstrip())
    else:
        path = Path(args.csv)
        if not path.is_file():
            raise SystemExit(f"error: --csv expected an existing file "
                             f"(got '{path}')")

    def column(value: Optional[str]) -> Any:
        if value is not None and args.no_header:
            try:
                return int(value)
            except ValueError:
                raise SystemExit(f'error: with --no-header, columns are '
                                 f'0-based indices (got {value!r})') from None
        return value

    delimiter = args.delimiter or ('\t' if '.tsv' in path.name else ',')

    # 1. Read.  Raises a ValueError naming the file and line of a bad row.
    try:
        inter = read_csv(path, user_col=column(args.user_col),
                         item_col=column(args.item_col),
                         rating_col=column(args.rating_col),
                         timestamp_col=column(args.timestamp_col),
                         delimiter=delimiter, header=not args.no_header,
                         rating_threshold=args.rating_threshold)
    except ValueError as e:
        raise SystemExit(f'error: {e}') from None
    print(f'\n1. read_csv: {inter.num_interactions} rows')

    # 2. HeteroData with contiguous ids and the raw-id mapping.
    data = build_hetero_data(*inter)
    print(f"2. build_hetero_data: {data['user'].num_nodes} users, "
          f"{data['item'].num_nodes} items, {data[RATES].num_edges} "
          f'interactions ({data.num_duplicates} repeated rows removed); '
          f"node 0 is user '{data['user'].raw_id[0]}'")

    # 3. k-core and split.
    if args.k_core is not None:
        data = k_core(data, k=args.k_core)
        print(f"3. k_core(k={args.k_core}): {data['user'].num_nodes} users, "
              f"{data['item'].num_nodes} items, {data[RATES].num_edges} "
              f'interactions')
    ratios = (0.8, 0.1, 0.1)
    try:
        split = split_data(data, args.split, ratios, seed=args.seed)
    except ValueError as e:
        raise SystemExit(f'error: {e}') from None
    print(f'3. split_data({args.split!r}, ratios={ratios}, '
          f'seed={args.seed}):')
    print(format_statistics(dataset_statistics(split)))

    # 4. Train and recommend.
    model = LightGCN(split.num_users, split.num_items, num_layers=2)
    trainer = Trainer(model, SimCELoss(margin=5.0), split.train,
                      val_data=split.val, test_data=split.test, lr=args.lr,
                      batch_size=2048, epochs=args.epochs, reg=1e-4,
                      seed=args.seed, quiet=True, progress=False)
    result = trainer.fit()
    test = result['test']
    print(f"\n4. LightGCN + SimCE, {result['epochs_run']} epoch(s): test "
          f"Recall@20 {test['recall@20']:.4f} NDCG@20 {test['ndcg@20']:.4f} "
          f"(best epoch {result['best_epoch']})")

    train_edges = split.train[RATES].edge_index
    user = 0
    model.eval()
    top, scores = model.recommend(train_edges, src_index=torch.tensor([user]),
                                  k=5, exclude_seen=True, return_scores=True)
    # A user with fewer than 5 unseen items gets id -1 (score -inf) in the
    # empty slots; to_raw_ids refuses those, so keep the real ones.
    top = top[0][scores[0] > float('-inf')]
    raw_items = to_raw_ids(split.train['item'].raw_id, top)
    raw_user = to_raw_ids(split.train['user'].raw_id, [user])[0]
    print(f"   top-5 for user '{raw_user}': {raw_items}")
    print(f'files in {folder}/ (total {clock():.1f} s)')
    return {'test': test, 'user': str(raw_user)}


if __name__ == '__main__':
    main()
