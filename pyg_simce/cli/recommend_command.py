r"""``pyg-simce recommend``: top-:obj:`k` items for users of a model file
written by ``pyg-simce train --save-model`` (or by a model's :meth:`save`),
and the ``--save-model`` option of ``pyg-simce train``.

.. code-block:: text

    pyg-simce recommend --model-file model.pt --users users.txt --k 10 \
        --exclude-seen --out recs.csv

The users file holds one raw user id per line (the ids of the data files the
model was trained on); blank lines are skipped, a repeated id is an error.
``--users all`` recommends to every user of the model.  The output has one
row per (user, rank): ``user,rank,item,score`` (raw user id, rank from 1,
raw item id, score) as CSV with a header (``.csv``) or as JSON lines
(``.jsonl``, one object per row); ``--format`` overrides the extension.  A
user with fewer than :obj:`k` admissible items gets fewer rows (no padding
row).  Users unknown to the model are skipped with a notice on standard
error (``--unknown-users skip``), get the most popular training items
(``popular``, score = training interactions), or stop the command
(``error``).
"""
import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from pyg_simce.cli.validation import CLIError

#: Output formats of ``pyg-simce recommend`` by file extension.
OUTPUT_FORMATS = {'.csv': 'csv', '.jsonl': 'jsonl'}
#: What ``--unknown-users`` accepts.
UNKNOWN_USERS = ('skip', 'popular', 'error')
#: Unknown user ids named in a message.
_SHOWN = 5


def add_recommend_parser(sub: Any) -> argparse.ArgumentParser:
    r"""Adds the ``recommend`` subcommand to the subparsers :obj:`sub`."""
    r = sub.add_parser(
        'recommend', help='write top-k recommendations from a model file',
        description='Write the top-k items of users of a model file written '
        "by 'pyg-simce train --save-model' as rows user,rank,item,score "
        '(raw ids; rank from 1). A user with fewer than k admissible items '
        'gets fewer rows.')
    r.add_argument('--model-file', required=True, metavar='PATH',
                   help='a model file written by --save-model or save()')
    r.add_argument('--users', required=True, metavar='FILE|all',
                   help='a text file with one raw user id per line (blank '
                   'lines skipped), or "all" for every user of the model')
    r.add_argument('--k', type=int, default=20, metavar='N',
                   help='items per user (default: 20)')
    r.add_argument('--exclude-seen', action='store_true',
                   help="never recommend a user's training items")
    r.add_argument('--out', required=True, metavar='FILE',
                   help='output file: .csv (with a header) or .jsonl (one '
                   'JSON object per row)')
    r.add_argument('--format', choices=('csv', 'jsonl'), default=None,
                   help='output format (default: from the --out extension)')
    r.add_argument('--unknown-users', choices=UNKNOWN_USERS, default='skip',
                   help='users unknown to the model: skip them with a '
                   'notice, give them the most popular training items, or '
                   'stop with an error (default: skip)')
    r.add_argument('--quiet', action='store_true',
                   help='no summary line')
    r.set_defaults(handler=cmd_recommend)
    return r


def check_output_file(flag: str, path: str) -> Path:
    r"""Raises a :class:`CLIError` naming :obj:`flag` unless :obj:`path`
    can be written: not a directory, in an existing folder."""
    out = Path(path)
    if out.is_dir():
        raise CLIError(f"{flag} '{out}' expected a file path (got a "
                       f"directory)")
    parent = out.parent
    if not parent.is_dir():
        raise CLIError(f"{flag} '{out}' expected an existing folder "
                       f"'{parent}' (got none)")
    return out


def save_trained_model(args: argparse.Namespace, model: Any, train: Any,
                       config: Dict[str, Any]) -> None:
    r"""Writes ``--save-model`` after training or fitting: the model, the
    training graph and raw ids of :obj:`train` and the run's options."""
    path = getattr(args, 'save_model', None)
    if path is None:
        return
    # validate_output_args checked the path before training; missing
    # folders are created, as for --out.
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if hasattr(model, 'fit_seconds'):  # a baseline knows its fitted graph
        model.save(path, metadata={'cli': config})
    else:
        model.save(path, train, metadata={'cli': config})
    print(f'model saved to {path}')


def _resolve_format(args: argparse.Namespace) -> str:
    if args.format is not None:
        return args.format
    suffix = Path(args.out).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise CLIError(f"--out '{args.out}' expected a .csv or .jsonl "
                       f"extension, or --format csv|jsonl (got "
                       f"'{suffix or 'no extension'}')")
    return OUTPUT_FORMATS[suffix]


def read_user_file(path: str) -> List[Tuple[int, str]]:
    r"""Returns :obj:`(line number, raw id)` of every non-blank line of a
    users file; errors name :obj:`FILE:LINE`."""
    try:
        text = Path(path).read_text(encoding='utf-8')
    except UnicodeDecodeError:
        raise CLIError(f"--users '{path}' expected a UTF-8 text file with one "
                       f"raw user id per line (got undecodable bytes)"
                       ) from None
    out: List[Tuple[int, str]] = []
    seen: Dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.strip()
        if not value:
            continue
        if len(value.split()) > 1 or ',' in value:
            raise CLIError(f"{path}:{number}: expected one raw user id per "
                           f"line (got {value!r})")
        if value in seen:
            raise CLIError(f"{path}:{number}: user id {value!r} repeats "
                           f"line {seen[value]}")
        seen[value] = number
        out.append((number, value))
    if not out:
        raise CLIError(f"--users '{path}' expected at least one raw user id "
                       f"(got none)")
    return out


def _user_index(model: Any, users_arg: str, lines: List[Tuple[int, str]]
                ) -> Tuple[List[int], List[Tuple[int, Any]]]:
    # Maps the file's raw ids to node ids; returns (known ids, unknown).
    vocab = model.user_raw_id
    if vocab is None:
        vocab = list(range(model.num_users))
    elif not isinstance(vocab, list):
        vocab = vocab.tolist()
    integer = bool(vocab) and isinstance(vocab[0], int)
    lookup = {raw: i for i, raw in enumerate(vocab)}
    known, unknown = [], []
    for number, value in lines:
        raw: Any = value
        if integer:
            try:
                raw = int(value)
            except ValueError:
                raise CLIError(f"{users_arg}:{number}: expected an integer "
                               f"user id, as the model's raw user ids are "
                               f"integers (got {value!r})") from None
        if raw in lookup:
            known.append(lookup[raw])
        else:
            unknown.append((number, raw))
    return known, unknown


def _load(args: argparse.Namespace) -> Any:
    from pyg_simce.model_file import load_model
    try:
        return load_model(args.model_file)
    except ImportError as e:
        raise CLIError(f"--model-file '{args.model_file}': {e}") from None


def _popular(model: Any, k: int) -> Tuple[List[int], List[float]]:
    import torch
    edge_index = model.train_edge_index
    degree = torch.bincount(edge_index[1].cpu(), minlength=model.num_items)
    # Stable sort: ties go to the lower item id.
    order = torch.sort(-degree, stable=True)[1][:k]
    return order.tolist(), degree[order].double().tolist()


def _rows(model: Any, users: List[int], ids: Any, scores: Any,
          popular: Optional[Tuple[List[int], List[float]]],
          unknown: List[str]) -> Iterator[Tuple[Any, int, Any, float]]:
    from pyg_simce.data.raw_ids import to_raw_ids
    raw_users = to_raw_ids(model.user_raw_id, users,
                           num_nodes=model.num_users, name='user ids')
    valid = ids >= 0
    raw_items = iter(to_raw_ids(model.item_raw_id, ids[valid],
                                num_nodes=model.num_items, name='item ids'))
    for row, user in enumerate(raw_users):
        ranks = int(valid[row].sum())
        for rank in range(ranks):
            yield user, rank + 1, next(raw_items), float(scores[row, rank])
    if popular is not None and unknown:
        items = to_raw_ids(model.item_raw_id, popular[0],
                           num_nodes=model.num_items, name='item ids')
        for user in unknown:
            for rank, (item, score) in enumerate(zip(items, popular[1])):
                yield user, rank + 1, item, score


def _write_rows(path: Path, fmt: str, rows: Iterator[Any]) -> int:
    from pyg_simce.cli.output import atomic_text_file
    count = 0
    with atomic_text_file(path) as f:
        if fmt == 'csv':
            writer = csv.writer(f, lineterminator='\n')
            writer.writerow(['user', 'rank', 'item', 'score'])
            for row in rows:
                writer.writerow([row[0], row[1], row[2], repr(row[3])])
                count += 1
        else:
            for user, rank, item, score in rows:
                f.write(json.dumps({'user': user, 'rank': rank,
                                    'item': item, 'score': score}) + '\n')
                count += 1
    return count


def _shown(values: List[str]) -> str:
    head = ', '.join(repr(v) for v in values[:_SHOWN])
    return head + (', ...' if len(values) > _SHOWN else '')


def cmd_recommend(args: argparse.Namespace) -> int:
    r"""``pyg-simce recommend``: writes the top-:obj:`k` rows of the users
    of :obj:`--users` (see the module documentation)."""
    # Arguments first, before anything heavy is imported or loaded.
    if args.k < 1:
        raise CLIError(f'--k expected a positive integer (got {args.k})')
    model_file = Path(args.model_file)
    if not model_file.is_file():
        raise CLIError(f"--model-file '{model_file}' does not exist" +
                       (' (got a directory)' if model_file.is_dir() else ''))
    out = check_output_file('--out', args.out)
    fmt = _resolve_format(args)
    lines = None
    if args.users != 'all':
        if not Path(args.users).is_file():
            raise CLIError(f"--users '{args.users}' expected a file of raw "
                           f"user ids or 'all' (got no such file)")
        lines = read_user_file(args.users)

    import torch

    model = _load(args)
    if args.k > model.num_items:
        raise CLIError(f"--k expected at most the number of items of the "
                       f"model, {model.num_items} (got {args.k})")
    graph = model.train_edge_index is not None
    if args.exclude_seen and not graph:
        raise CLIError(f"--exclude-seen expected a model file with its "
                       f"training graph ('{model_file}' has none)")
    if lines is None:
        users, unknown = list(range(model.num_users)), []
    else:
        users, unknown = _user_index(model, args.users, lines)
    popular = None
    if unknown:
        first = [value for _, value in unknown]
        if args.unknown_users == 'error':
            raise CLIError(f"{args.users}:{unknown[0][0]}: {len(unknown)} "
                           f"user id(s) unknown to the model (first: "
                           f"{_shown(first)}); --unknown-users skip or "
                           f"popular handles them")
        if args.unknown_users == 'popular':
            if not graph:
                raise CLIError(f"--unknown-users popular expected a model "
                               f"file with its training graph "
                               f"('{model_file}' has none)")
            popular = _popular(model, args.k)
        sys.stderr.write(
            f"pyg-simce: {len(unknown)} of {len(lines)} user ids unknown to "
            f"the model ({_shown(first)}): "
            + ('recommended the most popular items\n' if popular else
               'skipped\n'))
    src = torch.tensor(users, dtype=torch.long)
    if src.numel() > 0:
        ids, scores = model.recommend(src_index=src, k=args.k,
                                      exclude_seen=args.exclude_seen,
                                      return_scores=True)
        ids, scores = ids.cpu(), scores.cpu().double()
    else:
        ids = torch.empty(0, args.k, dtype=torch.long)
        scores = torch.empty(0, args.k, dtype=torch.double)
    unknown_raw = [value for _, value in unknown]
    count = _write_rows(out, fmt, _rows(model, users, ids, scores, popular,
                                        unknown_raw))
    if not args.quiet:
        served = len(users) + (len(unknown) if popular else 0)
        print(f'wrote {count} recommendations for {served} users to {out}')
    return 0


__all__ = [
    'add_recommend_parser',
    'save_trained_model',
    'cmd_recommend',
    'read_user_file',
]
