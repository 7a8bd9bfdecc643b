r"""Training loop, early stopping, resumable checkpoints and logging."""
from .batching import epoch_generator, epoch_seed, shard_batches
from .checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from .defaults import LOSS_NAMES, NEGATIVE_SAMPLING, loss_defaults
from .early_stopping import EarlyStopping
from .evaluation import evaluate_model, evaluate_sums, popularity_baseline
from .json_lines_logger import JSONLinesLogger
from .trainer import ConfigMismatchError, Trainer, TrainingInterrupted

__all__ = [
    'Trainer',
    'TrainingInterrupted',
    'ConfigMismatchError',
    'EarlyStopping',
    'JSONLinesLogger',
    'save_checkpoint',
    'load_checkpoint',
    'latest_checkpoint',
    'evaluate_model',
    'evaluate_sums',
    'popularity_baseline',
    'loss_defaults',
    'LOSS_NAMES',
    'NEGATIVE_SAMPLING',
    'epoch_generator',
    'epoch_seed',
    'shard_batches',
]
