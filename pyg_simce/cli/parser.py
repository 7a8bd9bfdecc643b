r"""The :mod:`argparse` parser of the command line and its argument types."""
import argparse
import math
import textwrap
from typing import Any, Dict, List, Optional, Sequence

from pyg_simce.cli.commands import cmd_data_stats, cmd_eval, cmd_train
from pyg_simce.cli.baseline_command import (
    BASELINE_MODELS,
    add_baseline_arguments,
)
from pyg_simce.cli.output import PROG, _fail
from pyg_simce.cli.recommend_command import add_recommend_parser
from pyg_simce.cli.validation import (
    FORMATS,
    LOSSES,
    MODELS,
    SAMPLERS,
    SIMILARITIES,
    SPLITS,
    _LOSS_OPTIONS,
)


class _Parser(argparse.ArgumentParser):
    r"""An :class:`argparse.ArgumentParser` whose errors are one line
    ``pyg-simce: error: ...`` and exit status 2."""
    def error(self, message: str) -> None:  # type: ignore[override]
        _fail(message)


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


# Per-loss defaults ###########################################################

# How the table of per-loss defaults names a negative-sampling scheme, where
# '{n}' is the number of negatives.
_NEGATIVES_HELP = {
    'uniform': '{n} uniform negative{s} excluding training items',
    'popularity': '{n} popularity-sampled negative{s} excluding training '
    'items',
    'shared': '{n} negative{s} excluding training items (shared per-batch '
    'pool)',
    'in-batch': 'in-batch negatives',
    'full': 'full catalogue',
}

# The defaults that are not hyper-parameters of the loss itself.
_SAMPLING_KEYS = ('negative_sampling', 'num_negatives', 'train_similarity',
                  'test_similarity')


def _show_default(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ','.join(_show_default(v) for v in value)
    if isinstance(value, float) and float(f'{value:g}') == value:
        return f'{value:g}'
    return str(value)


def _per_loss_defaults(key: str,
                       losses: Optional[Sequence[str]] = None) -> str:
    r"""Names the default :obj:`key` of every loss that has one, losses with
    the same value together, *e.g.* :obj:`'bpr/bce dot, ssm cosine'`."""
    from pyg_simce.train.defaults import LOSS_NAMES, loss_defaults

    groups: Dict[str, List[str]] = {}
    for loss in losses or LOSS_NAMES:
        value = loss_defaults(loss).get(key)
        if value is not None:
            groups.setdefault(_show_default(value), []).append(loss)
    return ', '.join(f"{'/'.join(names)} {value}"
                     for value, names in groups.items())


def _loss_option_help(key: str, what: str) -> str:
    losses = _LOSS_OPTIONS[key]
    return (f"{what} of {' / '.join(losses)} (default: "
            f"{_per_loss_defaults(key, losses)})")


def _defaults_epilog(width: int = 79) -> str:
    r"""The table of per-loss defaults at the end of ``train --help``."""
    from pyg_simce.train.defaults import LOSS_NAMES, loss_defaults

    lines = ['per-loss defaults (used unless overridden):']
    for loss in LOSS_NAMES:
        defaults = loss_defaults(loss)
        num = defaults['num_negatives']
        parts = [_NEGATIVES_HELP[defaults['negative_sampling']].format(
            n=num, s='' if num == 1 else 's')]
        train, test = defaults['train_similarity'], defaults['test_similarity']
        parts.append(train if train == test else
                     f'{train} (train) / {test} (test)')
        parts += [
            f"{key.replace('_', ' ')} {_show_default(value)}"
            for key, value in defaults.items() if key not in _SAMPLING_KEYS
        ]
        # '\0' keeps each similarity and hyper-parameter on one line.
        text = ', '.join(parts[:1] + [p.replace(' ', '\0') for p in parts[1:]])
        lines.append(
            textwrap.fill(text, width, initial_indent=f'  {loss:<8} ',
                          subsequent_indent=' ' * 11, break_long_words=False,
                          break_on_hyphens=False).replace('\0', ' '))
    return '\n'.join(lines) + '\n'


# Parser ######################################################################


_DROP_OVERLAP_HELP = (
    'drop (and count) the test/validation pairs of a given split that are '
    'also training pairs, which can never be hit since training items are '
    'masked at evaluation; without it such a split is refused')


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
    g.add_argument('--drop-overlap', action='store_true',
                   help=_DROP_OVERLAP_HELP)


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
        epilog=_defaults_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_data_arguments(t, dataset_default=None)

    g = t.add_argument_group('model')
    g.add_argument('--model', type=_choice(MODELS + BASELINE_MODELS),
                   default='lightgcn',
                   help=f"{', '.join(MODELS)}, or a classical baseline "
                   f"fitted without a training loop: "
                   f"{', '.join(BASELINE_MODELS)} (default: lightgcn)")
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

    add_baseline_arguments(t, _finite_float)

    g = t.add_argument_group('loss and negatives')
    g.add_argument('--loss', type=_choice(LOSSES), default='simce',
                   help=f"{', '.join(LOSSES)} (default: simce)")
    g.add_argument('--temperature', type=_finite_float, default=None,
                   help=_loss_option_help('temperature', 'temperature'))
    g.add_argument('--margin', type=_finite_float, default=None,
                   help=_loss_option_help('margin', 'margin'))
    g.add_argument('--margins', type=_float_list, default=None,
                   help=_loss_option_help('margins', 'comma-separated '
                                          'margins'))
    g.add_argument('--weights', type=_float_list, default=None,
                   help=_loss_option_help('weights', 'comma-separated '
                                          'margin weights'))
    g.add_argument('--negative-weight', type=_finite_float, default=None,
                   help=_loss_option_help('negative_weight',
                                          'negative weight'))
    g.add_argument('--num-negatives', type=int, default=None,
                   help='negatives per positive, the pool size for '
                   '--sampler shared (default: '
                   f"{_per_loss_defaults('num_negatives')})")
    g.add_argument('--sampler', type=_choice(SAMPLERS), default=None,
                   help=f"negatives: {', '.join(SAMPLERS)} (default: "
                   f"{_per_loss_defaults('negative_sampling')})")
    g.add_argument('--global-in-batch', action='store_true', default=None,
                   help='under torchrun: in-batch negatives from the global '
                   'batch of all processes (differentiable all_gather) '
                   'instead of the process\' shard')
    g.add_argument('--beta', type=_finite_float, default=None,
                   help='popularity exponent of --sampler popularity '
                   '(default: 1.0)')
    g.add_argument('--train-similarity', type=_choice(SIMILARITIES),
                   default=None, help=f"{' or '.join(SIMILARITIES)} "
                   f"(default: {_per_loss_defaults('train_similarity')})")
    g.add_argument('--test-similarity', type=_choice(SIMILARITIES),
                   default=None, help=f"{' or '.join(SIMILARITIES)} "
                   f"(default: {_per_loss_defaults('test_similarity')})")

    g = t.add_argument_group('optimisation')
    g.add_argument('--batch-size', type=int, default=2048,
                   help='positives per step (default: 2048)')
    g.add_argument('--lr', type=_finite_float, default=1e-3,
                   help='Adam learning rate (default: 0.001)')
    g.add_argument('--weight-decay', type=_finite_float, default=0.0,
                   help='Adam weight decay (default: 0)')
    g.add_argument('--no-fused-optimizer', dest='fused_optimizer',
                   action='store_false', default=None,
                   help="use Adam's default kernel instead of its fused one "
                   '(default: fused wherever the device has it; the two '
                   'agree to float tolerance)')
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
    g.add_argument('--save-model', metavar='MODEL.pt',
                   help="write the trained model here, for 'pyg-simce "
                   "recommend' and pyg_simce.load")
    g.add_argument('--checkpoint-dir', metavar='DIR',
                   help='write a resumable checkpoint here every epoch')
    g.add_argument('--resume', action='store_true',
                   help='continue from the checkpoint in --checkpoint-dir '
                   '(a fresh run, said so, when it holds none)')
    g.add_argument('--fresh', action='store_true',
                   help='start over in a --checkpoint-dir that holds a '
                   'checkpoint, after moving its checkpoints and log into '
                   'a subfolder replaced-YYYYmmdd-HHMMSS (nothing is '
                   'deleted); without --resume or --fresh such a folder is '
                   'refused')
    g.add_argument('--dist-timeout', type=float, default=600.0,
                   metavar='SECONDS',
                   help='under torchrun, end the run with an error when '
                   'another process does not answer within this time; the '
                   'last checkpoint is kept (default: 600)')
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
    add_recommend_parser(sub)

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
    s.add_argument('--drop-overlap', action='store_true',
                   help=_DROP_OVERLAP_HELP)
    s.add_argument('--json', action='store_true',
                   help='print the statistics as JSON')
    s.set_defaults(handler=cmd_data_stats)
    d.set_defaults(handler=lambda args: _fail(
        "'data' expected a subcommand: stats"))
    return parser
