r"""``pyg-simce train --model gfcf|ease|ials|itemknn|mostpop``: fits a
classical baseline of :mod:`pyg_simce.baselines` (no training loop) and
writes the results file of ``pyg-simce train``."""
import argparse
from typing import Any, Dict

from pyg_simce.cli.validation import CLIError

#: The classical baselines the ``--model`` option accepts.
BASELINE_MODELS = ('gfcf', 'ease', 'ials', 'itemknn', 'mostpop')

#: Baseline flags -> (models they apply to, constructor keyword).
BASELINE_OPTIONS = {
    'ease_lambda': (('ease', ), 'lambda_'),
    'gfcf_alpha': (('gfcf', ), 'alpha'),
    'gfcf_rank': (('gfcf', ), 'rank'),
    'alpha0': (('gfcf', ), 'alpha0'),
    'alpha1': (('gfcf', ), 'alpha1'),
    'factors': (('ials', ), 'factors'),
    'iterations': (('ials', ), 'iterations'),
    'ials_reg': (('ials', ), 'regularization'),
    'ials_alpha': (('ials', ), 'alpha'),
    'knn_k': (('itemknn', ), 'k'),
}

def add_baseline_arguments(p: argparse.ArgumentParser,
                           real: Any) -> None:
    r"""Adds the option group of the baseline flags (:data:`BASELINE_OPTIONS`)
    to the ``train`` parser; :obj:`real` parses a finite float."""
    g = p.add_argument_group('classical baselines (--model gfcf, ease, ials, '
                             'itemknn, mostpop)')
    g.add_argument('--ease-lambda', type=real, default=None,
                   help='EASE L2 weight lambda > 0 (default: 500)')
    g.add_argument('--gfcf-alpha', type=real, default=None,
                   help='GF-CF weight of the ideal low-pass (default: 0.3; '
                   '--alpha0/--alpha1 set its normalisation)')
    g.add_argument('--gfcf-rank', type=int, default=None,
                   help='GF-CF singular vectors of the ideal low-pass '
                   '(default: 256)')
    g.add_argument('--factors', type=int, default=None,
                   help='iALS factor size (default: 64)')
    g.add_argument('--iterations', type=int, default=None,
                   help='iALS sweeps (default: 15)')
    g.add_argument('--ials-reg', type=real, default=None,
                   help='iALS L2 weight (default: 0.01)')
    g.add_argument('--ials-alpha', type=real, default=None,
                   help='iALS confidence of an observed pair (default: 1)')
    g.add_argument('--knn-k', type=int, default=None,
                   help='ItemKNN neighbours per item (default: 100)')



# Options of the training loop a baseline has no use for.
_TRAINING_OPTIONS = (
    'layers', 'side', 'dim', 'loss', 'temperature', 'margin', 'margins',
    'weights', 'negative_weight', 'num_negatives', 'sampler',
    'global_in_batch', 'beta', 'train_similarity', 'test_similarity',
    'batch_size', 'lr', 'weight_decay', 'fused_optimizer', 'reg', 'epochs',
    'eval_every', 'patience', 'metric', 'time_budget', 'log',
    'checkpoint_dir', 'resume', 'fresh')


def _flag(name: str) -> str:
    return '--' + {'log': 'log-file'}.get(name, name).replace('_', '-')


def check_baseline_flags(args: argparse.Namespace) -> None:
    r"""Raises a :class:`CLIError` for a baseline flag given with a model it
    does not apply to, or a training-loop flag given with a baseline."""
    for name, (models, _) in BASELINE_OPTIONS.items():
        if name in ('alpha0', 'alpha1') and args.model not in BASELINE_MODELS:
            continue  # also LightGCN / SVD++ options
        if getattr(args, name, None) is not None and args.model not in models:
            raise CLIError(f"{_flag(name)} applies to --model "
                           f"{' / '.join(models)} (got --model {args.model})")
    if args.model not in BASELINE_MODELS:
        return
    from pyg_simce.cli.parser import build_parser
    defaults = vars(build_parser().parse_args(['train']))
    for name in _TRAINING_OPTIONS:
        if name not in defaults or not hasattr(args, name):
            continue
        if getattr(args, name) != defaults[name]:
            raise CLIError(f"{_flag(name)} does not apply to --model "
                           f"{args.model} (a classical baseline, fitted "
                           f"without a training loop)")


def build_baseline(args: argparse.Namespace) -> Any:
    r"""The baseline named by :obj:`--model` with its options; a bad value
    is a :class:`CLIError` naming the flag."""
    from pyg_simce.baselines import BASELINES
    kwargs: Dict[str, Any] = {}
    flags: Dict[str, str] = {}
    for name, (models, key) in BASELINE_OPTIONS.items():
        value = getattr(args, name, None)
        if value is not None and args.model in models:
            kwargs[key] = value
            flags[key] = _flag(name)
    if args.model in ('ials', 'gfcf'):
        kwargs['seed'] = args.seed
    try:
        return BASELINES[args.model](**kwargs)
    except ValueError as e:
        message = str(e)
        for key, flag in flags.items():
            message = message.replace(f"'{key}'", flag)
        raise CLIError(message) from None
    except ImportError as e:
        raise CLIError(str(e)) from None


def train_baseline(args: argparse.Namespace) -> int:
    r"""Fits the baseline on the training split, evaluates it on test (and
    validation) and writes the results file."""
    import torch

    from pyg_simce.baselines import evaluate_baseline
    from pyg_simce.cli.commands import _cli_config, load_split
    from pyg_simce.cli.output import _clean_floats, _device_name, \
        _print_results, _say, _write_json
    from pyg_simce.cli.validation import _resolve_threads, validate_data_args
    from pyg_simce.train.checkpointing import versions as _versions

    validate_data_args(args)
    check_baseline_flags(args)
    if any(k < 1 for k in args.k) or not args.k:
        raise CLIError(f"--k expected positive cut-offs (got "
                       f"{','.join(map(str, args.k))})")
    if args.device not in ('cpu', 'auto'):
        raise CLIError(f"--device {args.device}: the classical baselines "
                       f"run on the CPU (use --device cpu)")
    if str(args.threads).lower() != 'auto':
        torch.set_num_threads(_resolve_threads(args.threads))
    model = build_baseline(args)
    split = load_split(args)
    if max(args.k) > split.num_items:
        raise CLIError(f'--k expected cut-offs of at most the number of '
                       f'items {split.num_items} (got {max(args.k)})')
    try:
        model.check_sizes(split.num_users, split.num_items)
    except ValueError as e:
        message = str(e)
        for name, (models, key) in BASELINE_OPTIONS.items():
            if args.model in models:
                message = message.replace(f"'{key}'", _flag(name))
        raise CLIError(f'--model {args.model}: {message}') from None
    _say(args, f'--model {args.model}: {model!r}, {split.num_users} users, '
         f'{split.num_items} items')
    model.fit(split.train)
    train = split.train['user', 'rates', 'item'].edge_index
    test = split.test['user', 'rates', 'item'].edge_label_index
    val = (None if split.val is None else
           split.val['user', 'rates', 'item'].edge_label_index)
    ks = tuple(args.k)
    results = {'test': evaluate_baseline(model, train, test, ks=ks,
                                         exclude_edge_index=val),
               'valid': (None if val is None else
                         evaluate_baseline(model, train, val, ks=ks))}
    for part in results.values():
        if part is not None:
            part.pop('num_users', None)
    versions = dict(_versions())
    for name in ('scipy', 'implicit'):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            pass
    config = _cli_config(args, {})
    config['baseline'] = repr(model)
    payload = _clean_floats({
        'test': results['test'], 'valid': results['valid'],
        'best_epoch': 0, 'epochs_run': 0,
        'train_seconds': model.fit_seconds, 'stopped_by': 'closed form'
        if args.model != 'ials' else 'iterations',
        'eval_split': 'test', 'config': config, 'seed': args.seed,
        'versions': versions, 'device': _device_name('cpu'),
        'data': {'num_users': split.num_users,
                 'num_items': split.num_items,
                 'num_train': int(train.size(1)),
                 'num_test': int(test.size(1)),
                 'num_valid': None if val is None else int(val.size(1))},
    })
    if args.out:
        _write_json(args.out, payload)
    from pyg_simce.cli.recommend_command import save_trained_model
    save_trained_model(args, model, split.train, config)
    print(f'{args.model} fitted in {model.fit_seconds:.2f} s (no training '
          f'loop)')
    _print_results(results, args.out)
    return 0
