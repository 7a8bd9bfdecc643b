r"""Reading and checking ``benchmarks/configs/clean.json``: the per-dataset
settings of the clean protocol and its declared search space."""
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from benchmarks.clean.search import check_axes
from benchmarks.suites.config import (
    CONFIGS,
    LOSSES,
    TRAINER_OPTIONS,
    ConfigError,
    Settings,
    _read,
)

#: The classical baselines a search may declare (pyg_simce.baselines).
BASELINE_NAMES = ('mostpop', 'itemknn', 'ease', 'gfcf', 'ials')

#: Keys of a dataset entry, with their types.
KEYS = {
    'load': (dict, ), 'embedding_dim': (int, ), 'num_layers': (int, ),
    'batch_size': (int, ), 'epochs': (int, ), 'eval_every': (int, ),
    'patience': (int, type(None)), 'val_ratio': (float, ),
    'val_seed': (int, ), 'trials': (int, ), 'seeds': (int, ),
    'loss_settings': (dict, ),
}


@dataclass(frozen=True)
class CleanSettings:
    r"""The clean-protocol settings of one dataset."""
    settings: Settings
    val_ratio: float
    val_seed: int
    trials: int
    seeds: int

    def to_dict(self) -> Dict[str, Any]:
        out = self.settings.to_dict()
        for key in ('lr', 'reg', 'ssm_temperature'):
            out.pop(key)  # searched, never fixed
        out.update(val_ratio=self.val_ratio, val_seed=self.val_seed,
                   trials=self.trials, seeds=self.seeds)
        return out


def load_clean(path: Path = CONFIGS / 'clean.json') -> Dict[str, Any]:
    r"""The checked ``clean.json``: its search (``seed``, ``common``,
    ``loss``) and dataset entries."""
    raw = _read(path)
    if not isinstance(raw, dict) or not isinstance(raw.get('search'), dict) \
            or not isinstance(raw.get('datasets'), dict):
        raise ConfigError(f"{path}: expected an object with 'search' and "
                          f"'datasets'")
    search = raw['search']
    if not isinstance(search.get('seed'), int):
        raise ConfigError(f"{path}: 'search.seed' expected an integer")
    common = check_axes(search.get('common'), f'{path}: search.common')
    per_loss = search.get('loss')
    if not isinstance(per_loss, dict) or set(per_loss) != set(LOSSES):
        raise ConfigError(f"{path}: 'search.loss' expected one entry per "
                          f"loss {list(LOSSES)}")
    losses = {name: check_axes(axes, f'{path}: search.loss.{name}')
              for name, axes in per_loss.items()}
    baselines = search.get('baselines', {})
    if not isinstance(baselines, dict) or \
            not set(baselines) <= set(BASELINE_NAMES):
        raise ConfigError(f"{path}: 'search.baselines' expected an object "
                          f"keyed by some of {BASELINE_NAMES}")
    for name, axes in baselines.items():
        if not isinstance(axes, dict) or any(
                not isinstance(v, list) or not v for v in axes.values()):
            raise ConfigError(f"{path}: search.baselines.{name} expected an "
                              f"object of argument: [values]")
    return {'path': str(path), 'seed': search['seed'], 'common': common,
            'loss': losses, 'baselines': baselines,
            'datasets': raw['datasets']}


def clean_settings(dataset: str, config: Optional[Dict[str, Any]] = None
                   ) -> CleanSettings:
    r"""The checked clean-protocol settings of :obj:`dataset`."""
    config = config or load_clean()
    path = config['path']
    entry = config['datasets'].get(dataset)
    if not isinstance(entry, dict):
        names: List[str] = sorted(config['datasets'])
        raise ConfigError(f"{path}: no clean-protocol settings for dataset "
                          f"{dataset!r}; expected one of {names}")
    where = f"{path}: datasets.'{dataset}'"
    for key, types in KEYS.items():
        value = entry.get(key)
        if key not in entry or isinstance(value, bool) or \
                not isinstance(value, types):
            raise ConfigError(f"{where}.{key} expected "
                              f"{' or '.join(t.__name__ for t in types)} "
                              f"(got {value!r})")
    unknown = sorted(set(entry) - set(KEYS))
    if unknown:
        raise ConfigError(f'{where}: unknown key(s) {unknown}')
    for key in ('trials', 'seeds', 'epochs', 'eval_every', 'batch_size'):
        if entry[key] < 1:
            raise ConfigError(f'{where}.{key} expected >= 1 (got '
                              f'{entry[key]})')
    for loss, overrides in entry['loss_settings'].items():
        bad = sorted(set(overrides) - set(TRAINER_OPTIONS))
        if loss not in LOSSES or bad:
            raise ConfigError(f'{where}.loss_settings.{loss}: expected a '
                              f'loss of {LOSSES} with keys of '
                              f'{TRAINER_OPTIONS}')
    settings = Settings(
        dataset=dataset, mode='clean', load=dict(entry['load']),
        embedding_dim=entry['embedding_dim'],
        num_layers=entry['num_layers'], batch_size=entry['batch_size'],
        lr=0.0, reg=0.0, epochs=entry['epochs'],
        eval_every=entry['eval_every'], patience=entry['patience'],
        ssm_temperature=0.1, loss_settings=dict(entry['loss_settings']))
    return CleanSettings(settings=settings,
                         val_ratio=float(entry['val_ratio']),
                         val_seed=entry['val_seed'], trials=entry['trials'],
                         seeds=entry['seeds'])
