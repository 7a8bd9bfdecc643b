r"""Training loop, early stopping, resumable checkpoints and logging.

The public names are imported lazily (PEP 562), so that the command line can
validate its options with :mod:`pyg_simce.train.defaults` before paying for
the import of :mod:`torch`.
"""
import importlib
from typing import Any

_EXPORTS = {
    'Trainer': 'trainer',
    'TrainerOptions': 'options',
    'TrainingInterrupted': 'exceptions',
    'ConfigMismatchError': 'exceptions',
    'CollectiveTimeoutError': 'exceptions',
    'StopPolicy': 'stop_policy',
    'EarlyStopping': 'early_stopping',
    'JSONLinesLogger': 'json_lines_logger',
    'save_checkpoint': 'checkpoint',
    'load_checkpoint': 'checkpoint',
    'latest_checkpoint': 'checkpoint',
    'evaluate_model': 'evaluation',
    'evaluate_sums': 'evaluation',
    'popularity_baseline': 'evaluation',
    'resolve_threads': 'threads',
    'loss_defaults': 'defaults',
    'resolve_options': 'defaults',
    'LOSS_NAMES': 'defaults',
    'NEGATIVE_SAMPLING': 'defaults',
    'epoch_generator': 'batching',
    'epoch_seed': 'batching',
    'shard_batches': 'batching',
    'DistributedEnv': 'distributed',
    'distributed_env': 'distributed',
    'distributed_session': 'distributed',
    'all_gather_with_grad': 'distributed',
    'all_reduce_sums': 'distributed',
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f'{__name__}.{_EXPORTS[name]}')
        return getattr(module, name)
    raise AttributeError(f"module '{__name__}' has no attribute '{name}'")


def __dir__():
    return sorted(list(globals()) + __all__)
