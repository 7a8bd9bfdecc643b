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
#: Optional keys of a dataset entry: ``search`` narrows the declared space
#: (:func:`dataset_search`); ``default: false`` leaves the dataset out of a
#: run that names no ``--datasets`` (a paper-scale one, hours per run).
OPTIONAL = ('search', 'default')


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
    _check_baselines(baselines, f'{path}: search.baselines')
    if not isinstance(raw['datasets'], dict):
        raise ConfigError(f"{path}: 'datasets' expected an object")
    for dataset, entry in raw['datasets'].items():
        if isinstance(entry, dict) and 'search' in entry:
            _check_override(entry['search'],
                            f"{path}: datasets.'{dataset}'.search")
    return {'path': str(path), 'seed': search['seed'], 'common': common,
            'loss': losses, 'baselines': baselines,
            'datasets': raw['datasets']}


def _check_baselines(baselines: Any, where: str) -> None:
    if not isinstance(baselines, dict) or \
            not set(baselines) <= set(BASELINE_NAMES):
        raise ConfigError(f"{where} expected an object keyed by some of "
                          f"{BASELINE_NAMES}")
    for name, axes in baselines.items():
        if not isinstance(axes, dict) or any(
                not isinstance(v, list) or not v for v in axes.values()):
            raise ConfigError(f"{where}.{name} expected an object of "
                              f"argument: [values]")


def _check_override(override: Any, where: str) -> None:
    if not isinstance(override, dict) or \
            not set(override) <= {'common', 'loss', 'baselines', '_doc'}:
        raise ConfigError(f"{where} expected an object with some of "
                          f"'common', 'loss', 'baselines' (and '_doc')")
    if 'common' in override:
        check_axes(override['common'], f'{where}.common')
    per_loss = override.get('loss', {})
    if not isinstance(per_loss, dict) or not set(per_loss) <= set(LOSSES):
        raise ConfigError(f"{where}.loss expected an object keyed by some "
                          f"of {list(LOSSES)}")
    for name, axes in per_loss.items():
        check_axes(axes, f'{where}.loss.{name}')
    if 'baselines' in override:
        _check_baselines(override['baselines'], f'{where}.baselines')


def dataset_search(config: Dict[str, Any], dataset: str) -> Dict[str, Any]:
    r"""The search of :obj:`dataset`: the declared search of
    :obj:`config` (:func:`load_clean`) with the dataset's own ``search``
    entry applied.  That entry narrows the space where one trial costs too
    much for the whole of it: its ``common`` replaces the common axes, each
    loss it names gets the axes it gives, and its ``baselines`` replaces
    the list of baselines and their spaces (a baseline left out is not
    run).  The result names the entry in ``narrowed_by`` (:obj:`None`
    when the dataset has none)."""
    entry = config['datasets'].get(dataset)
    override = entry.get('search') if isinstance(entry, dict) else None
    out = dict(config, narrowed_by=None)
    if override is None:
        return out
    out['common'] = dict(override.get('common', config['common']))
    out['loss'] = dict(config['loss'], **override.get('loss', {}))
    out['baselines'] = dict(override.get('baselines', config['baselines']))
    out['narrowed_by'] = f"datasets.'{dataset}'.search"
    return out


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
    if not isinstance(entry.get('default', True), bool):
        raise ConfigError(f"{where}.default expected true or false (got "
                          f"{entry['default']!r})")
    unknown = sorted(set(entry) - set(KEYS) - set(OPTIONAL))
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
