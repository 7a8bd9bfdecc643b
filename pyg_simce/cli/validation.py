r"""The accepted option values and the checks of the command line, run
before any data set is read or model is built."""
import argparse
import math
import os
from pathlib import Path
from typing import Any, Dict, Optional

from pyg_simce.train import defaults as train_defaults

MODELS = ('mf', 'svdpp', 'lightgcn')
LOSSES = train_defaults.LOSS_NAMES
FORMATS = ('lightgcn', 'movielens', 'tsv', 'csv')
SAMPLERS = train_defaults.NEGATIVE_SAMPLING
SIMILARITIES = train_defaults.SIMILARITIES
SPLITS = ('random', 'leave-one-out', 'temporal')

# Options that only some losses / models accept: flag -> accepted values.
_LOSS_OPTIONS = {
    'temperature': ('ssm', 'softmax'),
    'margin': ('simce', 'ccl'),
    'margins': ('mml', ),
    'weights': ('mml', ),
    'negative_weight': ('ccl', 'mml'),
}


class CLIError(ValueError):
    r"""A user error detected by the command line itself."""


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
    if args.dataset is not None:
        _check_dataset(args.dataset, getattr(args, 'data_root', None))
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


def _check_dataset(name: str, root: Optional[str]) -> None:
    # The name and the data root, with the standard library alone (the data
    # package imports torch).
    from pyg_simce._dataset_names import find_data_root, is_dataset_name, \
        unknown_name_message
    if not is_dataset_name(name):
        raise CLIError(unknown_name_message(name))
    if name.strip().lower() != 'synthetic':
        find_data_root(root, flag='--data-root')


# Output options: flag -> attribute (a file written by the command).
_OUTPUT_FILES = (('--out', 'out'), ('--log-file', 'log'),
                 ('--save-model', 'save_model'))


def _nearest_existing(path: Path) -> Path:
    # The path itself or its closest existing ancestor.
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_writable_folder(flag: str, path: Path, folder: Path) -> None:
    # Missing folders are created by the writers: the nearest existing one
    # must be a writable directory.
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise CLIError(f"{flag} {path} expected a path inside a folder (got "
                       f"'{existing}', which is a file)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CLIError(f"{flag} {path} expected a writable folder (got "
                       f"'{existing}', which is not writable)")


def validate_output_args(args: argparse.Namespace) -> None:
    r"""Checks the paths the command will write (:obj:`--out`,
    :obj:`--log-file`, :obj:`--save-model`, :obj:`--checkpoint-dir`)
    before any data is read: a file must not be an existing directory and
    a folder not an existing file, and the nearest existing folder of each
    must be writable (missing folders are created when writing)."""
    for flag, name in _OUTPUT_FILES:
        value = getattr(args, name, None)
        if value is None:
            continue
        path = Path(value).expanduser()
        if path.is_dir():
            raise CLIError(f"{flag} {value} expected a file path (got an "
                           f"existing directory)")
        _check_writable_folder(flag, Path(value), path.parent)
    value = getattr(args, 'checkpoint_dir', None)
    if value is not None:
        path = Path(value).expanduser()
        if path.exists() and not path.is_dir():
            raise CLIError(f"--checkpoint-dir {value} expected a folder (got "
                           f"an existing file)")
        _check_writable_folder('--checkpoint-dir', Path(value), path)


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


def _check_checkpoint_dir(args: argparse.Namespace) -> None:
    # A new run refuses a folder holding a checkpoint (the names of
    # pyg_simce.train.checkpoint, which would import torch here).
    fresh = getattr(args, 'fresh', False)
    if fresh and args.resume:
        raise CLIError('--fresh expected no --resume (got both)')
    if fresh and args.checkpoint_dir is None:
        raise CLIError('--fresh expected --checkpoint-dir DIR')
    if args.resume or fresh or args.checkpoint_dir is None:
        return
    for name in ('last.pt', 'prev.pt'):
        found = Path(args.checkpoint_dir) / name
        if found.is_file():
            raise CLIError(f"--checkpoint-dir {args.checkpoint_dir} "
                           f"expected no checkpoint for a new run (got "
                           f"{found}); continue it with --resume, or start "
                           f"over with --fresh, which moves the old files "
                           f"into a timestamped subfolder")


def validate_train_args(args: argparse.Namespace) -> Dict[str, Any]:
    r"""Checks every training option before anything is loaded and returns
    the per-loss defaults resolved into concrete values."""
    from pyg_simce.train.defaults import loss_defaults, resolve_options

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
    defaults = loss_defaults(args.loss)
    if args.loss == 'mml':
        margins = args.margins or defaults['margins']
        weights = args.weights or defaults['weights']
        if len(margins) != len(weights):
            raise CLIError(f'--margins and --weights expected the same '
                           f'length (got {len(margins)} margins and '
                           f'{len(weights)} weights)')

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
    if str(args.threads).lower() != 'auto':
        args.threads = _resolve_threads(args.threads)
    if args.resume and args.checkpoint_dir is None:
        raise CLIError('--resume expected --checkpoint-dir DIR')
    _check_checkpoint_dir(args)
    dist_timeout = getattr(args, 'dist_timeout', 600.0)
    if not (math.isfinite(dist_timeout) and dist_timeout > 0):
        raise CLIError(f'--dist-timeout expected a positive number of '
                       f'seconds (got {dist_timeout:g})')
    args.device = _resolve_device(args.device)
    # The Trainer's own resolution rule; a sampler that draws negatives
    # without a count of its own default (softmax's None) draws one.
    resolved = resolve_options(
        args.loss, negative_sampling=sampler,
        num_negatives=args.num_negatives,
        train_similarity=args.train_similarity,
        test_similarity=args.test_similarity)
    if sampler in ('in-batch', 'full'):
        resolved['num_negatives'] = None
    elif resolved['num_negatives'] is None:
        resolved['num_negatives'] = 1
    return resolved
