r"""The ``pyg-simce`` command line (also ``python -m pyg_simce``).

.. code-block:: text

    pyg-simce train --dataset synthetic --model lightgcn --layers 2 \
        --loss simce --epochs 30 --out runs/result.json
    pyg-simce eval --checkpoint runs/ckpt/last.pt
    pyg-simce data stats ml-100k
    pyg-simce data stats --data DIR --format lightgcn

User errors (unknown names, incompatible options, unreadable data) print one
line ``pyg-simce: error: ...`` on standard error and exit with status 2,
without a traceback.
"""
import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

MODELS = ('mf', 'svdpp', 'lightgcn')
LOSSES = ('bpr', 'bce', 'softmax', 'ssm', 'simce', 'ccl', 'mml')
FORMATS = ('lightgcn', 'movielens', 'tsv', 'csv')
SAMPLERS = ('uniform', 'popularity', 'shared', 'in-batch', 'full')
SIMILARITIES = ('dot', 'cosine')
SPLITS = ('random', 'leave-one-out', 'temporal')

PROG = 'pyg-simce'

# Options that only some losses / models accept: flag -> accepted values.
_LOSS_OPTIONS = {
    'temperature': ('ssm', 'softmax'),
    'margin': ('simce', 'ccl'),
    'margins': ('mml', ),
    'weights': ('mml', ),
    'negative_weight': ('ccl', 'mml'),
}

_DEFAULTS_HELP = """\
per-loss defaults (used unless overridden):
  bpr      1 uniform negative excluding training items, dot
  bce      4 uniform negatives excluding training items, dot
  ssm      in-batch negatives, cosine (train) / dot (test), temperature 0.1
  simce    64 negatives excluding training items (shared per-batch pool),
           margin 5, dot
  ccl      256 negatives (shared pool), cosine, margin 0.9, negative weight 150
  mml      256 negatives (shared pool), cosine, margins 0.6,0.7,0.8,0.9,
           weights 0.05,0.15,0.2,0.6, negative weight 350
  softmax  full catalogue, dot, temperature 1
"""


class CLIError(ValueError):
    r"""A user error detected by the command line itself."""


class _Parser(argparse.ArgumentParser):
    r"""An :class:`argparse.ArgumentParser` whose errors are one line
    ``pyg-simce: error: ...`` and exit status 2."""
    def error(self, message: str) -> None:  # type: ignore[override]
        _fail(message)


def _fail(message: str, status: int = 2) -> None:
    message = ' '.join(str(message).split())
    sys.stderr.write(f'{PROG}: error: {message}\n')
    sys.stderr.flush()
    raise SystemExit(status)


# Argument types ##############################################################


def _int_list(text: str) -> List[int]:
    try:
        return [int(x) for x in text.replace(',', ' ').split()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers (got '{text}')") from None


def _float_list(text: str) -> List[float]:
    try:
        values = [float(x) for x in text.replace(',', ' ').split()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers (got '{text}')") from None
    if not values:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers (got '{text}')")
    return values


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number (got '{text}')") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(
            f"expected a finite number (got '{text}')")
    return value


def _choice(choices: Sequence[str]):
    def parse(text: str) -> str:
        key = text.lower()
        if key not in choices:
            raise argparse.ArgumentTypeError(
                f"invalid choice '{text}' (choose from "
                f"{', '.join(choices)})")
        return key
    parse.__name__ = 'choice'
    return parse


# Parser ######################################################################


def _add_data_arguments(p: argparse.ArgumentParser,
                        dataset_default: Optional[str]) -> None:
    g = p.add_argument_group('data')
    g.add_argument('--dataset', metavar='NAME', default=dataset_default,
                   help="a registered data set, e.g. 'synthetic' (embedded, "
                   "no files), 'ml-100k', 'gowalla', 'yelp2018' "
                   "(default: synthetic)")
    g.add_argument('--data', metavar='DIR',
                   help='a folder of interaction files (needs --format)')
    g.add_argument('--format', type=_choice(FORMATS),
                   help=f"format of --data: {', '.join(FORMATS)}")
    g.add_argument('--data-root', metavar='DIR',
                   help='where registered data sets live (default: '
                   '$PYG_SIMCE_DATA, else ../shared/data when present)')
    g.add_argument('--split', type=_choice(SPLITS), default=None,
                   help='how to split data that comes unsplit (default: '
                   'random per-user)')
    g.add_argument('--ratios', type=_float_list, default=None,
                   metavar='TRAIN,VALID,TEST',
                   help='split ratios for unsplit data (default: 0.8,0,0.2)')
    g.add_argument('--synthetic-users', type=int, default=None, metavar='N',
                   help='number of users of the synthetic data set')
    g.add_argument('--synthetic-items', type=int, default=None, metavar='N',
                   help='number of items of the synthetic data set')


def build_parser() -> argparse.ArgumentParser:
    r"""Returns the :mod:`argparse` parser of the ``pyg-simce`` command."""
    parser = _Parser(
        prog=PROG,
        description='Collaborative filtering with ranking losses (SimCE, '
        'sampled softmax, BPR, ...) on PyTorch Geometric.')
    from pyg_simce import __version__
    parser.add_argument('--version', action='version',
                        version=f'{PROG} {__version__}')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND',
                                parser_class=_Parser)

    # train ###################################################################
    t = sub.add_parser(
        'train', help='train a model and report all-ranking metrics',
        description='Train a recommender and report all-ranking metrics '
        '(Recall, NDCG, Precision, HitRate, MRR) on the test split, with the '
        "user's training (and validation) items masked.",
        epilog=_DEFAULTS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_data_arguments(t, dataset_default=None)

    g = t.add_argument_group('model')
    g.add_argument('--model', type=_choice(MODELS), default='lightgcn',
                   help=f"{', '.join(MODELS)} (default: lightgcn)")
    g.add_argument('--layers', type=int, default=None,
                   help='LightGCN propagation layers (default: 3)')
    g.add_argument('--side', type=_choice(('user', 'item')), default=None,
                   help="SVD++ side: 'user' or 'item' (default: user)")
    g.add_argument('--alpha0', type=_finite_float, default=None,
                   help='normalisation exponent of the receiving node '
                   '(default: 0.5 for LightGCN, 1.0 for SVD++)')
    g.add_argument('--alpha1', type=_finite_float, default=None,
                   help='normalisation exponent of the sending node '
                   '(default: 0.5 for LightGCN, 0.0 for SVD++)')
    g.add_argument('--dim', type=int, default=64,
                   help='embedding dimension (default: 64)')

    g = t.add_argument_group('loss and negatives')
    g.add_argument('--loss', type=_choice(LOSSES), default='simce',
                   help=f"{', '.join(LOSSES)} (default: simce)")
    g.add_argument('--temperature', type=_finite_float, default=None,
                   help='temperature of ssm / softmax')
    g.add_argument('--margin', type=_finite_float, default=None,
                   help='margin of simce / ccl')
    g.add_argument('--margins', type=_float_list, default=None,
                   help='comma-separated margins of mml')
    g.add_argument('--weights', type=_float_list, default=None,
                   help='comma-separated margin weights of mml')
    g.add_argument('--negative-weight', type=_finite_float, default=None,
                   help='negative weight of ccl / mml')
    g.add_argument('--num-negatives', type=int, default=None,
                   help='negatives per positive (pool size for --sampler '
                   'shared)')
    g.add_argument('--sampler', type=_choice(SAMPLERS), default=None,
                   help=f"negatives: {', '.join(SAMPLERS)} (default: per "
                   "loss)")
    g.add_argument('--global-in-batch', action='store_true', default=None,
                   help='under torchrun: in-batch negatives from the global '
                   'batch of all processes (differentiable all_gather) '
                   'instead of the process\' shard')
    g.add_argument('--beta', type=_finite_float, default=None,
                   help='popularity exponent of --sampler popularity '
                   '(default: 1.0)')
    g.add_argument('--train-similarity', type=_choice(SIMILARITIES),
                   default=None, help='dot or cosine (default: per loss)')
    g.add_argument('--test-similarity', type=_choice(SIMILARITIES),
                   default=None, help='dot or cosine (default: per loss)')

    g = t.add_argument_group('optimisation')
    g.add_argument('--batch-size', type=int, default=2048,
                   help='positives per step (default: 2048)')
    g.add_argument('--lr', type=_finite_float, default=1e-3,
                   help='Adam learning rate (default: 0.001)')
    g.add_argument('--weight-decay', type=_finite_float, default=0.0,
                   help='Adam weight decay (default: 0)')
    g.add_argument('--reg', type=_finite_float, default=1e-4,
                   help='L2 on the batch layer-0 embeddings, LightGCN '
                   'convention (default: 0.0001)')
    g.add_argument('--epochs', type=int, default=50,
                   help='maximum epochs (default: 50)')
    g.add_argument('--eval-every', type=int, default=1,
                   help='evaluate every N epochs (default: 1)')
    g.add_argument('--patience', type=int, default=None,
                   help='stop after N evaluations without improvement of '
                   '--metric (default: no early stopping)')
    g.add_argument('--metric', default='recall@20',
                   help='metric for early stopping and model selection '
                   '(default: recall@20)')
    g.add_argument('--time-budget', type=_finite_float, default=None,
                   metavar='SECONDS',
                   help='stop after the epoch that exceeds this training time')
    g.add_argument('--k', type=_int_list, default=[10, 20, 50],
                   metavar='K[,K...]',
                   help='metric cut-offs (default: 10,20,50)')
    g.add_argument('--seed', type=int, default=0,
                   help='seed of the split, the initialisation and every '
                   'sample (default: 0)')
    g.add_argument('--device', default='cpu',
                   help="cpu, cuda, cuda:N or auto (default: cpu)")
    g.add_argument('--threads', default='auto', metavar='N|auto',
                   help='CPU threads of torch; auto keeps torch\'s default '
                   'unless the machine is already busy (load average near '
                   'the core count), then uses 1, because parallel kernels '
                   'stall on contended cores (default: auto)')

    g = t.add_argument_group('output')
    g.add_argument('--out', metavar='results.json',
                   help='write the results (JSON) here')
    # Not '--log': torchrun would take it for an abbreviation of its own
    # '--log-dir' in `torchrun ... -m pyg_simce train ...`.
    g.add_argument('--log-file', dest='log', metavar='LOG.jsonl',
                   help='JSON-lines log, one line per epoch (default: '
                   'CHECKPOINT_DIR/log.jsonl with --checkpoint-dir)')
    g.add_argument('--checkpoint-dir', metavar='DIR',
                   help='write a resumable checkpoint here every epoch')
    g.add_argument('--resume', action='store_true',
                   help='continue from the checkpoint in --checkpoint-dir')
    g.add_argument('--quiet', action='store_true',
                   help='no progress bars and no per-epoch lines')
    t.set_defaults(handler=cmd_train)

    # eval ####################################################################
    e = sub.add_parser(
        'eval', help='re-evaluate a saved model',
        description='Re-evaluate the best model of a checkpoint written by '
        "'pyg-simce train --checkpoint-dir'.")
    e.add_argument('--checkpoint', required=True, metavar='PATH',
                   help='a checkpoint file (or a checkpoint folder)')
    e.add_argument('--data-root', metavar='DIR',
                   help='where registered data sets live')
    e.add_argument('--k', type=_int_list, default=None, metavar='K[,K...]',
                   help='metric cut-offs (default: those of the run)')
    e.add_argument('--split', type=_choice(('test', 'valid')),
                   default='test', help='split to score (default: test)')
    e.add_argument('--device', default='cpu', help='(default: cpu)')
    e.add_argument('--out', metavar='metrics.json',
                   help='write the metrics (JSON) here')
    e.add_argument('--quiet', action='store_true')
    e.set_defaults(handler=cmd_eval)

    # data ####################################################################
    d = sub.add_parser('data', help='inspect data sets')
    dsub = d.add_subparsers(dest='data_command', metavar='SUBCOMMAND',
                            parser_class=_Parser)
    s = dsub.add_parser(
        'stats', help='print data set statistics',
        description='Print users, items, interactions, density and degree '
        'quantiles of a registered data set or a data folder.')
    s.add_argument('name', nargs='?', metavar='NAME',
                   help='a registered data set name')
    s.add_argument('--data', metavar='DIR',
                   help='a folder of interaction files (needs --format)')
    s.add_argument('--format', type=_choice(FORMATS),
                   help=f"format of --data: {', '.join(FORMATS)}")
    s.add_argument('--data-root', metavar='DIR')
    s.add_argument('--split', type=_choice(SPLITS), default=None)
    s.add_argument('--ratios', type=_float_list, default=None,
                   metavar='TRAIN,VALID,TEST')
    s.add_argument('--seed', type=int, default=0)
    s.add_argument('--synthetic-users', type=int, default=None, metavar='N')
    s.add_argument('--synthetic-items', type=int, default=None, metavar='N')
    s.add_argument('--json', action='store_true',
                   help='print the statistics as JSON')
    s.set_defaults(handler=cmd_data_stats)
    d.set_defaults(handler=lambda args: _fail(
        "'data' expected a subcommand: stats"))
    return parser


# Validation ##################################################################


def _given(args: argparse.Namespace, name: str) -> bool:
    return getattr(args, name, None) is not None


def _flag(name: str) -> str:
    return '--' + name.replace('_', '-')


def validate_data_args(args: argparse.Namespace) -> None:
    r"""Checks the data-source options (no file is read)."""
    if getattr(args, 'name', None) is not None:  # data stats NAME
        if args.dataset is not None and args.dataset != args.name:
            raise CLIError('give the data set either as NAME or --dataset')
        args.dataset = args.name
    if args.data is not None and args.dataset is not None:
        raise CLIError('--dataset and --data are mutually exclusive')
    if args.data is not None and args.format is None:
        raise CLIError(f"--data expected --format "
                       f"({'|'.join(FORMATS)}) (got --data {args.data} "
                       f"without --format)")
    if args.format is not None and args.data is None:
        raise CLIError('--format expected --data DIR')
    if args.data is not None and not Path(args.data).exists():
        raise FileNotFoundError(f"--data: no such file or directory "
                                f"'{args.data}'")
    if args.data is None and args.dataset is None:
        args.dataset = 'synthetic'
    if args.ratios is not None:
        if len(args.ratios) not in (2, 3):
            raise CLIError(f"--ratios expected 2 or 3 values TRAIN,VALID,TEST "
                           f"(got {len(args.ratios)})")
        if len(args.ratios) == 2:
            args.ratios = [args.ratios[0], 0.0, args.ratios[1]]
        if any(r < 0 for r in args.ratios) or not math.isclose(
                sum(args.ratios), 1.0, abs_tol=1e-6) or args.ratios[0] <= 0:
            raise CLIError(f"--ratios expected non-negative shares summing "
                           f"to 1 with a positive training share (got "
                           f"{','.join(str(r) for r in args.ratios)})")
    synthetic = (args.dataset or '').lower() == 'synthetic'
    for name in ('synthetic_users', 'synthetic_items'):
        value = getattr(args, name, None)
        if value is None:
            continue
        if not synthetic:
            raise CLIError(f"{_flag(name)} expected --dataset synthetic")
        if value < 1:
            raise CLIError(f"{_flag(name)} expected a positive integer "
                           f"(got {value})")


def _resolve_device(text: str) -> str:
    text = str(text).lower()
    if text == 'cpu':
        return text
    import torch
    if text == 'auto':
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    try:
        dev = torch.device(text)
    except (RuntimeError, ValueError):
        raise CLIError(f"--device expected cpu, cuda, cuda:N or auto "
                       f"(got '{text}')") from None
    if dev.type == 'cuda':
        if not torch.cuda.is_available():
            raise CLIError(f"--device {text} requested but CUDA is not "
                           f"available on this machine; use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise CLIError(f"--device {text} expected an index below "
                           f"{torch.cuda.device_count()}")
    elif dev.type != 'cpu':
        raise CLIError(f"--device expected cpu, cuda, cuda:N or auto "
                       f"(got '{text}')")
    return str(dev)


def _resolve_threads(text: Any) -> int:
    r"""Number of torch CPU threads for :obj:`--threads` (see its help)."""
    from pyg_simce.train.threads import resolve_threads
    try:
        return resolve_threads(text)
    except ValueError as e:
        raise CLIError(str(e)) from None


def validate_train_args(args: argparse.Namespace) -> Dict[str, Any]:
    r"""Checks every training option before anything is loaded and returns
    the per-loss defaults resolved into concrete values."""
    from pyg_simce.train.defaults import loss_defaults

    validate_data_args(args)
    for name, low in (('dim', 1), ('batch_size', 1), ('epochs', 0),
                      ('eval_every', 1), ('layers', 0), ('patience', 1),
                      ('num_negatives', 1)):
        value = getattr(args, name)
        if value is not None and value < low:
            raise CLIError(f"{_flag(name)} expected an integer >= {low} "
                           f"(got {value})")
    if args.lr <= 0:
        raise CLIError(f'--lr expected a positive number (got {args.lr})')
    for name in ('reg', 'weight_decay'):
        if getattr(args, name) < 0:
            raise CLIError(f"{_flag(name)} expected a non-negative number "
                           f"(got {getattr(args, name)})")
    if args.time_budget is not None and args.time_budget <= 0:
        raise CLIError(f'--time-budget expected a positive number of '
                       f'seconds (got {args.time_budget})')
    if any(k < 1 for k in args.k) or not args.k:
        raise CLIError(f"--k expected positive cut-offs (got "
                       f"{','.join(map(str, args.k))})")
    if args.temperature is not None and args.temperature <= 0:
        raise CLIError(f'--temperature expected a positive number (got '
                       f'{args.temperature})')
    metric = args.metric.lower()
    name, _, k = metric.partition('@')
    if name not in ('recall', 'ndcg', 'precision', 'hit', 'mrr') or \
            not k.isdigit() or int(k) < 1:
        raise CLIError(f"--metric expected recall@K, ndcg@K, precision@K, "
                       f"hit@K or mrr@K (got '{args.metric}')")
    args.metric = metric

    # Model options.
    if args.side is not None and args.model != 'svdpp':
        raise CLIError(f'--side applies to --model svdpp only (got --model '
                       f'{args.model})')
    if args.layers is not None and args.model != 'lightgcn':
        raise CLIError(f'--layers applies to --model lightgcn only (got '
                       f'--model {args.model}; mf is lightgcn with '
                       f'--layers 0)')
    for name in ('alpha0', 'alpha1'):
        if _given(args, name) and args.model == 'mf':
            raise CLIError(f'{_flag(name)} applies to --model lightgcn or '
                           f'svdpp (got --model mf)')

    # Loss options.
    for name, losses in _LOSS_OPTIONS.items():
        if _given(args, name) and args.loss not in losses:
            raise CLIError(f"{_flag(name)} applies to --loss "
                           f"{' / '.join(losses)} (got --loss {args.loss})")
    if args.loss == 'mml':
        margins = args.margins or [0.6, 0.7, 0.8, 0.9]
        weights = args.weights or [0.05, 0.15, 0.2, 0.6]
        if len(margins) != len(weights):
            raise CLIError(f'--margins and --weights expected the same '
                           f'length (got {len(margins)} margins and '
                           f'{len(weights)} weights)')

    defaults = loss_defaults(args.loss)
    sampler = args.sampler or defaults['negative_sampling']
    if args.loss == 'softmax' and sampler != 'full':
        raise CLIError(f"--loss softmax uses the full catalogue (got "
                       f"--sampler {sampler}); use --loss ssm for sampled "
                       f"negatives")
    if sampler == 'full' and args.loss != 'softmax':
        raise CLIError(f'--sampler full expected --loss softmax (got '
                       f'--loss {args.loss})')
    if sampler in ('in-batch', 'full') and args.num_negatives is not None:
        what = 'the batch' if sampler == 'in-batch' else 'all items'
        raise CLIError(f'--num-negatives does not apply to --sampler '
                       f'{sampler} (its negatives are {what})')
    if sampler == 'in-batch' and args.batch_size < 2:
        raise CLIError(f'--sampler in-batch expected --batch-size >= 2 '
                       f'(got {args.batch_size}); a batch of one has no '
                       f'in-batch negatives')
    if args.beta is not None and sampler != 'popularity':
        raise CLIError(f'--beta applies to --sampler popularity (got '
                       f'--sampler {sampler})')
    num_negatives = args.num_negatives
    sampled = sampler in ('uniform', 'popularity', 'shared')
    if sampled and num_negatives is None:
        num_negatives = defaults['num_negatives'] or 1

    if str(args.threads).lower() != 'auto':
        args.threads = _resolve_threads(args.threads)
    if args.resume and args.checkpoint_dir is None:
        raise CLIError('--resume expected --checkpoint-dir DIR')
    args.device = _resolve_device(args.device)
    return {
        'negative_sampling': sampler,
        'num_negatives': num_negatives if sampler in (
            'uniform', 'popularity', 'shared') else None,
        'train_similarity': args.train_similarity or
        defaults['train_similarity'],
        'test_similarity': args.test_similarity or defaults['test_similarity'],
    }


# Builders ####################################################################


def load_split(args: argparse.Namespace) -> Any:
    r"""Loads the :class:`~pyg_simce.data.InteractionSplit` named by the data
    options."""
    from pyg_simce import data as data_pkg

    kwargs: Dict[str, Any] = {}
    if args.split is not None:
        kwargs['split'] = args.split
    if args.ratios is not None:
        kwargs['ratios'] = tuple(args.ratios)
    if args.data is not None:
        kwargs['seed'] = args.seed
        return data_pkg.load_data_dir(args.data, args.format, **kwargs)
    name = args.dataset
    if name.lower() == 'synthetic':
        if args.synthetic_users is not None:
            kwargs['num_users'] = args.synthetic_users
        if args.synthetic_items is not None:
            kwargs['num_items'] = args.synthetic_items
    kwargs['seed'] = args.seed
    return data_pkg.load_dataset(name, root=args.data_root, **kwargs)


def build_model(args: argparse.Namespace, num_users: int,
                num_items: int) -> Any:
    r"""Builds the model named by :obj:`--model` and its options."""
    from pyg_simce.nn.models import MF, SVDPP, LightGCN

    if args.model == 'mf':
        return MF(num_users, num_items, embedding_dim=args.dim)
    kwargs: Dict[str, Any] = {}
    if args.alpha0 is not None:
        kwargs['alpha0'] = args.alpha0
    if args.alpha1 is not None:
        kwargs['alpha1'] = args.alpha1
    if args.model == 'svdpp':
        return SVDPP(num_users, num_items, embedding_dim=args.dim,
                     side=args.side or 'user', **kwargs)
    return LightGCN(num_users, num_items, embedding_dim=args.dim,
                    num_layers=3 if args.layers is None else args.layers,
                    **kwargs)


def build_loss(args: argparse.Namespace) -> Any:
    r"""Builds the loss named by :obj:`--loss` with its options."""
    from pyg_simce.nn.loss import loss_resolver
    from pyg_simce.train.defaults import loss_defaults

    defaults = loss_defaults(args.loss)
    kwargs: Dict[str, Any] = {}
    if args.loss in ('ssm', 'softmax'):
        kwargs['temperature'] = (args.temperature if args.temperature
                                 is not None else defaults['temperature'])
    elif args.loss == 'simce':
        kwargs['margin'] = (args.margin if args.margin is not None else
                            defaults['margin'])
    elif args.loss == 'ccl':
        kwargs['margin'] = (args.margin if args.margin is not None else
                            defaults['margin'])
        kwargs['negative_weight'] = (args.negative_weight
                                     if args.negative_weight is not None else
                                     defaults['negative_weight'])
    elif args.loss == 'mml':
        kwargs['margins'] = tuple(args.margins or defaults['margins'])
        kwargs['weights'] = tuple(args.weights or defaults['weights'])
        kwargs['negative_weight'] = (args.negative_weight
                                     if args.negative_weight is not None else
                                     defaults['negative_weight'])
    return loss_resolver(args.loss, **kwargs)


def _cli_config(args: argparse.Namespace,
                resolved: Dict[str, Any]) -> Dict[str, Any]:
    skip = {'handler', 'command', 'name', 'data_command'}
    cfg = {k: v for k, v in vars(args).items() if k not in skip}
    cfg.update(resolved)
    if cfg.get('k') is not None:
        cfg['k'] = list(cfg['k'])
    return cfg


def _device_name(device: str) -> str:
    import platform

    import torch
    if device.startswith('cuda'):
        return f'{device} ({torch.cuda.get_device_name(torch.device(device))})'
    return f'cpu ({platform.processor() or platform.machine()}, ' \
           f'{torch.get_num_threads()} threads)'


def _write_json(path: str, payload: Dict[str, Any]) -> None:
    import tempfile
    path_ = Path(path)
    path_.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path_.name}.', suffix='.tmp',
                               dir=path_.parent)
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(payload, f, indent=2, allow_nan=False,
                      default=_json_default)
            f.write('\n')
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path_)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _json_default(obj: Any) -> Any:
    if hasattr(obj, 'item'):
        return obj.item()
    if hasattr(obj, 'tolist'):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f'not JSON serialisable: {type(obj).__name__}')


def _clean_floats(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean_floats(v) for v in obj]
    return obj


def _say(args: argparse.Namespace, message: str) -> None:
    if not getattr(args, 'quiet', False):
        print(message, flush=True)


def _metric_line(label: str, metrics: Optional[Dict[str, float]]) -> str:
    if not metrics:
        return f'{label}: n/a'
    return (f"{label}: Recall@20 {metrics.get('recall@20', float('nan')):.4f}"
            f"  NDCG@20 {metrics.get('ndcg@20', float('nan')):.4f}")


# Commands ####################################################################


def _prepare_training(args: argparse.Namespace,
                      resolved: Dict[str, Any]) -> Any:
    import torch

    from pyg_simce.train import Trainer

    threads = getattr(args, 'threads', None)
    if threads is not None and not isinstance(threads, int):
        threads = args.threads = _resolve_threads(threads)
    if isinstance(threads, int) and threads != torch.get_num_threads():
        torch.set_num_threads(threads)
    split = load_split(args)
    num_users, num_items = split.num_users, split.num_items
    torch.manual_seed(args.seed)
    model = build_model(args, num_users, num_items)
    loss = build_loss(args)
    if max(args.k) > num_items:
        raise CLIError(f'--k expected cut-offs of at most the number of '
                       f'items {num_items} (got {max(args.k)})')
    log = args.log
    if log is None and args.checkpoint_dir is not None:
        log = str(Path(args.checkpoint_dir) / 'log.jsonl')
    if args.epochs == 0 and args.resume is False:
        pass
    trainer = Trainer(
        model, loss, split.train, val_data=split.val, test_data=split.test,
        lr=args.lr, weight_decay=args.weight_decay,
        batch_size=args.batch_size, epochs=args.epochs, reg=args.reg,
        negative_sampling=resolved['negative_sampling'],
        num_negatives=resolved['num_negatives'],
        beta=1.0 if args.beta is None else args.beta,
        train_similarity=resolved['train_similarity'],
        test_similarity=resolved['test_similarity'],
        eval_every=args.eval_every, metric=args.metric,
        patience=args.patience, time_budget=args.time_budget,
        ks=tuple(args.k), seed=args.seed, device=args.device,
        quiet=args.quiet, log_path=log, checkpoint_dir=args.checkpoint_dir,
        metadata={'cli': _cli_config(args, resolved)},
        global_in_batch=bool(getattr(args, 'global_in_batch', None)))
    return split, trainer


def cmd_train(args: argparse.Namespace) -> int:
    r"""``pyg-simce train``: trains, evaluates and writes the results.

    Under ``torchrun`` (:obj:`WORLD_SIZE > 1`) every process runs this with
    the same options inside a process group; rank 0 alone prints and writes
    the results, log and checkpoints."""
    resolved = validate_train_args(args)
    from pyg_simce.train.distributed import distributed_session

    with distributed_session(args.device) as (env, device):
        args.device = str(device)
        if env.rank != 0:
            args.quiet = True
        return _train(args, resolved, env.rank == 0, env.world_size)


def _train(args: argparse.Namespace, resolved: Dict[str, Any],
           main_process: bool, world_size: int) -> int:
    from pyg_simce.train import popularity_baseline

    split, trainer = _prepare_training(args, resolved)
    source = (f'--data {args.data} ({args.format})'
              if args.data else f'--dataset {args.dataset}')
    _say(args, f'{source}: {split.num_users} users, {split.num_items} items, '
         f'{trainer.train_pairs.size(1)} training interactions; '
         f'evaluating on {trainer.eval_split} every {args.eval_every} '
         f'epoch(s)')
    _say(args, f'model {args.model} | loss {args.loss} '
         f'({trainer.loss!r}) | negatives {trainer.negative_sampling}'
         + (f' x{trainer.num_negatives}' if trainer.num_negatives else '') +
         f' | similarity train {trainer.train_similarity} / test '
         f'{trainer.test_similarity} | device {args.device}')
    results = trainer.fit(resume=args.resume)

    test_target = split.test['user', 'rates', 'item'].edge_label_index
    exclude = (None if split.val is None else
               split.val['user', 'rates', 'item'].edge_label_index)
    baseline = popularity_baseline(trainer.train_pairs, test_target,
                                   split.num_users, split.num_items,
                                   exclude_edge_index=exclude,
                                   ks=trainer.ks)
    from pyg_simce.train.trainer import _versions
    payload = {
        'test': results['test'],
        'valid': results['valid'],
        'best_epoch': results['best_epoch'],
        'epochs_run': results['epochs_run'],
        'train_seconds': results['train_seconds'],
        'stopped_by': results['stopped_by'],
        'eval_split': results['eval_split'],
        'config': trainer.config['cli'],
        'seed': args.seed,
        'versions': _versions(),
        'device': _device_name(args.device),
        'baseline': {'most_popular': {'test': baseline}},
        'data': {'num_users': split.num_users, 'num_items': split.num_items,
                 'num_train': int(trainer.train_pairs.size(1)),
                 'num_test': int(test_target.size(1)),
                 'num_valid': (None if exclude is None else
                               int(exclude.size(1)))},
        'history': results['history'],
    }
    if world_size > 1:
        payload['world_size'] = world_size
    payload = _clean_floats(payload)
    if not main_process:
        return 0
    if args.out:
        _write_json(args.out, payload)

    sel = ('selected on valid' if results['eval_split'] == 'valid' else
           'no validation split: selected on test')
    print(f"stopped by {results['stopped_by']} after "
          f"{results['epochs_run']} epochs "
          f"({results['train_seconds']:.1f} s); best epoch "
          f"{results['best_epoch']} ({sel})")
    print(_metric_line('most-popular baseline (test)', baseline))
    if results['valid'] is not None:
        print(_metric_line('valid', results['valid']))
    print(_metric_line('test', results['test']))
    if args.out:
        print(f'results written to {args.out}')
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    r"""``pyg-simce eval``: re-evaluates the best model of a checkpoint."""
    path = Path(args.checkpoint)
    if path.is_dir():
        path = path / 'last.pt'
    if not path.is_file():
        raise FileNotFoundError(f"--checkpoint: no checkpoint file '{path}'")
    from pyg_simce.train.checkpoint import load_checkpoint
    state = load_checkpoint(path)
    cli = (state.get('config') or {}).get('cli')
    if not isinstance(cli, dict):
        raise CLIError(f"checkpoint '{path}' expected a configuration "
                       f"written by 'pyg-simce train' (got none); evaluate "
                       f"it with Trainer.evaluate in Python")
    run = argparse.Namespace(**cli)
    run.command = 'train'
    if args.data_root is not None:
        run.data_root = args.data_root
    if args.k is not None:
        if any(k < 1 for k in args.k):
            raise CLIError(f"--k expected positive cut-offs (got "
                           f"{','.join(map(str, args.k))})")
        run.k = list(args.k)
    run.device = _resolve_device(args.device)
    run.quiet = True
    run.resume = False
    run.log = None
    run.checkpoint_dir = None
    resolved = {k: cli[k] for k in ('negative_sampling', 'num_negatives',
                                    'train_similarity', 'test_similarity')}
    split, trainer = _prepare_training(run, resolved)
    # Compare with the checkpoint, ignoring what eval may change.
    trainer.check_config(state['config'], path)
    weights = state.get('best_model') or state['model']
    trainer.model.load_state_dict(weights)
    if args.split == 'valid' and split.val is None:
        raise CLIError(f"--split valid expected a validation split (the "
                       f"data of '{path}' has none)")
    t0 = time.perf_counter()
    metrics = trainer.evaluate(args.split)
    seconds = time.perf_counter() - t0
    from pyg_simce.train.trainer import _versions
    payload = _clean_floats({
        args.split: metrics,
        'split': args.split,
        'checkpoint': str(path),
        'epoch': state.get('epoch'),
        'best_epoch': (state.get('early_stopping') or {}).get('best_epoch'),
        'eval_seconds': seconds,
        'config': cli,
        'seed': cli.get('seed'),
        'versions': _versions(),
        'device': _device_name(run.device),
    })
    if args.out:
        _write_json(args.out, payload)
    if not args.quiet:
        for key in sorted(metrics, key=_metric_sort_key):
            print(f'{key:>14s} {metrics[key]:.4f}')
    print(_metric_line(args.split, metrics))
    return 0


def _metric_sort_key(key: str) -> Any:
    name, _, k = key.partition('@')
    order = ['recall', 'ndcg', 'precision', 'hit', 'mrr']
    return (order.index(name) if name in order else len(order),
            int(k) if k.isdigit() else 0, key)


def cmd_data_stats(args: argparse.Namespace) -> int:
    r"""``pyg-simce data stats``: prints data set statistics."""
    from pyg_simce import data as data_pkg

    args.dataset = None
    validate_data_args(args)
    split = load_split(args)
    stats = data_pkg.dataset_statistics(split)
    if args.json:
        print(json.dumps(_clean_floats(stats), indent=2,
                         default=_json_default))
        return 0
    fmt = getattr(data_pkg, 'format_statistics', None)
    title = (f'{args.data} ({args.format})' if args.data is not None else
             args.dataset)
    if fmt is not None:
        print(fmt(stats, title=title))
    else:  # pragma: no cover - depends on the data layer
        for key, value in stats.items():
            print(f'{key}: {value}')
    return 0


# Entry point #################################################################


def main(argv: Optional[Sequence[str]] = None) -> int:
    r"""Runs the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, 'handler', None) is None:
        _fail("expected a command: train, eval or data (see 'pyg-simce "
              "--help')")
    try:
        return int(args.handler(args) or 0)
    except _config_mismatch_error() as e:
        diffs = ', '.join(f'{_flag(k)} (checkpoint: {_show(a)}, now: '
                          f'{_show(b)})' for k, a, b in _cli_diffs(e))
        _fail(f"checkpoint '{e.path}' was written with different options: "
              f"{diffs}")
    except _training_interrupted() as e:
        sys.stderr.write(f'{PROG}: {e}; continue with --resume\n'
                         if e.checkpoint is not None else
                         f'{PROG}: {e}\n')
        return 130
    except KeyboardInterrupt:
        sys.stderr.write(f'{PROG}: interrupted\n')
        return 130
    except (ValueError, FileNotFoundError, IsADirectoryError,
            NotADirectoryError, PermissionError, FloatingPointError) as e:
        _fail(str(e) or type(e).__name__)
    return 0  # pragma: no cover


def _config_mismatch_error() -> Any:
    # Only defined once the trainer has been imported (none before).
    module = sys.modules.get('pyg_simce.train.trainer')
    return module.ConfigMismatchError if module else _Never


def _training_interrupted() -> Any:
    module = sys.modules.get('pyg_simce.train.trainer')
    return module.TrainingInterrupted if module else _Never


class _Never(Exception):
    r"""Matches no exception."""


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ','.join(str(v) for v in value)
    return str(value)


def _cli_diffs(e: Any) -> List[Any]:
    # Prefer the command-line names of the differing options.
    cli = [(k[len('cli.'):], a, b) for k, a, b in e.differences
           if k.startswith('cli.')]
    return cli or [(k, a, b) for k, a, b in e.differences
                   if k not in ('model_repr', 'loss_repr')] or e.differences


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
