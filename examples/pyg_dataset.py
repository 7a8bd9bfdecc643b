r"""Train on a PyTorch Geometric data set object: MovieLens100K or AmazonBook.

PyG's own recommendation data sets use their own node types ('movie',
'book'); pyg_simce.data.from_movielens_100k / from_amazon_book turn them into
the 'user'/'item' InteractionSplit of this library (PyG's edge_index = the
training interactions, edge_label_index = the test interactions), and every
model, loss and the Trainer take it from there.

This example never downloads anything.  Give the raw files with --root DIR:

* MovieLens100K: u.item, u.user, u1.base, u1.test (the files of the
  GroupLens ml-100k.zip), either in DIR/raw/ (PyG's layout) or directly in
  DIR (the extracted folder; they are then copied to OUT_DIR/MovieLens100K/
  raw/);
* AmazonBook: user_list.txt, item_list.txt, train.txt, test.txt (the
  LightGCN files), likewise.

Without --root, the example writes a tiny raw layout of the chosen data set
itself, from the built-in synthetic generator, under OUT_DIR, so it runs
offline.  PyG processes the raw files with pandas: install the examples
extra first (`pip install -e ".[examples]"` or `make examples`).

    python examples/pyg_dataset.py                      # synthetic raw files
    python examples/pyg_dataset.py --root ~/data/ml-100k --epochs 30
    python examples/pyg_dataset.py --dataset AmazonBook --root ~/amazon-book
"""
import importlib.util
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    INSTALL_EXTRA,
    Stopwatch,
    example_parser,
    out_dir,
    parse_args,
    positive_float,
)

from pyg_simce.data import (  # noqa: E402
    dataset_statistics,
    format_statistics,
    from_amazon_book,
    from_movielens_100k,
    load_dataset,
)
from pyg_simce.nn import LightGCN, SimCELoss  # noqa: E402
from pyg_simce.train import Trainer, popularity_baseline  # noqa: E402

RATES = ('user', 'rates', 'item')
RAW_FILES = {
    'MovieLens100K': ['u.item', 'u.user', 'u1.base', 'u1.test'],
    'AmazonBook': ['user_list.txt', 'item_list.txt', 'train.txt',
                   'test.txt'],
}
GENRES = 19


def _synthetic_edges(args: Any):
    split = load_dataset('synthetic', num_users=args.synthetic_users,
                         num_items=args.synthetic_items, seed=args.seed,
                         ratios=(0.8, 0.2))
    train = split.train[RATES].edge_index.numpy()
    test = split.test[RATES].edge_label_index.numpy()
    return split.num_users, split.num_items, train, test


def write_movielens_raw(args: Any, raw: Path) -> None:
    r"""The four raw files of MovieLens100K, from synthetic interactions
    (1-based ids, ratings 1-5, '|'-separated user and movie tables)."""
    num_users, num_items, train, test = _synthetic_edges(args)
    rng = np.random.default_rng(args.seed)
    raw.mkdir(parents=True, exist_ok=True)
    jobs = ['student', 'engineer', 'artist']
    (raw / 'u.user').write_text(''.join(
        f"{u + 1}|{rng.integers(18, 70)}|{'MF'[u % 2]}|{jobs[u % 3]}|"
        f"{10000 + u}\n" for u in range(num_users)))
    genres = rng.integers(0, 2, size=(num_items, GENRES))
    (raw / 'u.item').write_text(''.join(
        f"{i + 1}|Movie {i + 1} (1995)|01-Jan-1995||http://example.org/"
        f"{i + 1}|{'|'.join(map(str, genres[i]))}\n"
        for i in range(num_items)))
    for name, edges in (('u1.base', train), ('u1.test', test)):
        rating = rng.integers(1, 6, size=edges.shape[1])
        stamp = 880000000 + rng.integers(0, 10**7, size=edges.shape[1])
        (raw / name).write_text(''.join(
            f'{u + 1}\t{i + 1}\t{r}\t{t}\n'
            for u, i, r, t in zip(edges[0], edges[1], rating, stamp)))


def write_amazon_book_raw(args: Any, raw: Path) -> None:
    r"""The four raw files of AmazonBook (the LightGCN adjacency format:
    ``user item item ...`` per line, 0-based ids)."""
    num_users, num_items, train, test = _synthetic_edges(args)
    raw.mkdir(parents=True, exist_ok=True)
    for name, n in (('user_list.txt', num_users),
                    ('item_list.txt', num_items)):
        (raw / name).write_text('org_id remap_id\n' + ''.join(
            f'{100000 + k} {k}\n' for k in range(n)))
    for name, edges in (('train.txt', train), ('test.txt', test)):
        lines = []
        for u in range(num_users):
            items = edges[1, edges[0] == u]
            if items.size:
                lines.append(' '.join(map(str, [u, *items.tolist()])))
        (raw / name).write_text('\n'.join(lines) + '\n')


def prepare_root(args: Any, folder: Path) -> Path:
    r"""The PyG root whose ``raw/`` holds the files (never downloads)."""
    names = RAW_FILES[args.dataset]
    if args.root is None:
        root = folder / f'{args.dataset}-synthetic'
        if root.exists():
            shutil.rmtree(root)  # fresh raw files and processing each run
        writer = (write_movielens_raw if args.dataset == 'MovieLens100K' else
                  write_amazon_book_raw)
        writer(args, root / 'raw')
        print(f'no --root given: wrote a synthetic raw layout of '
              f'{args.dataset} to {root}/raw/')
        return root
    given = Path(args.root).expanduser()
    if all((given / 'raw' / n).is_file() for n in names):
        return given
    if all((given / n).is_file() for n in names):
        root = folder / args.dataset
        (root / 'raw').mkdir(parents=True, exist_ok=True)
        for n in names:
            shutil.copyfile(given / n, root / 'raw' / n)
        print(f'copied the raw files of {given} to {root}/raw/')
        return root
    missing = [n for n in names if not (given / 'raw' / n).is_file()
               and not (given / n).is_file()]
    raise SystemExit(f'error: --root expected the raw files of '
                     f"{args.dataset} ({', '.join(names)}) in '{given}/raw' "
                     f"or '{given}' (missing: {', '.join(missing)}); this "
                     f'example does not download')


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    parser = example_parser(__doc__, epochs=15, synthetic_users=1000,
                            synthetic_items=800, dataset=False)
    parser.add_argument('--dataset', default='MovieLens100K',
                        choices=sorted(RAW_FILES),
                        help='the PyG data set class (default: '
                        'MovieLens100K)')
    parser.add_argument('--root', '--data-root', dest='root', metavar='DIR',
                        default=None,
                        help='folder with the raw files (see above); '
                        'default: write a synthetic raw layout offline')
    parser.add_argument('--rating-threshold', type=float, default=None,
                        help='MovieLens100K: keep ratings >= this as '
                        'interactions (default: keep all)')
    parser.add_argument('--lr', type=positive_float, default=5e-3,
                        help='Adam learning rate (default: 5e-3)')
    args = parse_args(parser, argv)
    clock = Stopwatch()
    if importlib.util.find_spec('pandas') is None:
        raise SystemExit(f'error: PyG processes the raw files of '
                         f'{args.dataset} with pandas, which is not '
                         f'installed: {INSTALL_EXTRA}')
    folder = out_dir(args, 'pyg_dataset')
    root = prepare_root(args, folder)

    # The PyG data set object, exactly as PyG builds it.
    from torch_geometric.datasets import AmazonBook, MovieLens100K
    with warnings.catch_warnings():
        # Raised inside PyG's processing code; harmless.
        warnings.filterwarnings('ignore', message='.*NumPy array is not '
                                'writable.*')
        if args.dataset == 'MovieLens100K':
            dataset = MovieLens100K(str(root))
        else:
            dataset = AmazonBook(str(root))
    if args.dataset == 'MovieLens100K':
        split = from_movielens_100k(dataset,
                                    rating_threshold=args.rating_threshold)
    else:
        split = from_amazon_book(dataset)
    print(f'\nPyG {type(dataset).__name__}: node types '
          f'{dataset[0].node_types}, edge types {dataset[0].edge_types}')
    print(f'as an InteractionSplit (train, val=None, test) with node types '
          f"{split.train.node_types}:")
    print(format_statistics(dataset_statistics(split)))

    model = LightGCN(split.num_users, split.num_items, num_layers=2)
    trainer = Trainer(model, SimCELoss(margin=5.0), split.train,
                      test_data=split.test, lr=args.lr, batch_size=2048,
                      epochs=args.epochs, reg=1e-4, seed=args.seed,
                      progress=False)
    result = trainer.fit()
    test = result['test']
    baseline = popularity_baseline(split.train[RATES].edge_index,
                                   split.test[RATES].edge_label_index,
                                   split.num_users, split.num_items,
                                   ks=(20, ))
    print(f"\nLightGCN + SimCE: test Recall@20 {test['recall@20']:.4f} "
          f"NDCG@20 {test['ndcg@20']:.4f} (best of {result['epochs_run']} "
          f"epoch(s), evaluated on test: PyG's split has no validation "
          f"part); most popular: Recall@20 {baseline['recall@20']:.4f}")
    print(f'total {clock():.1f} s')
    return {'test': test, 'most_popular': baseline}


if __name__ == '__main__':
    main()
