r"""Reading and checking the suite configurations of ``benchmarks/configs``.

``datasets.json`` holds the per-dataset training settings of each mode
(``quick`` / ``full``); ``<suite>.json`` lists the runs of a suite (label,
model, loss and overrides) and the published figures it is compared with.
Every mistake is reported with the file and the key at fault.
"""
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from pyg_simce.train.options import TrainerOptions

CONFIGS = Path(__file__).resolve().parent.parent / 'configs'

MODES = ('quick', 'full')
MODELS = ('mf', 'svdpp', 'lightgcn')
LOSSES = ('bpr', 'bce', 'softmax', 'ssm', 'simce', 'ccl', 'mml')

#: Settings every dataset mode must give, with their types.
SETTING_TYPES: Dict[str, Tuple[type, ...]] = {
    'embedding_dim': (int, ),
    'num_layers': (int, ),
    'batch_size': (int, ),
    'lr': (float, int),
    'reg': (float, int),
    'epochs': (int, ),
    'eval_every': (int, ),
    'patience': (int, type(None)),
    'ssm_temperature': (float, int),
    'loss_settings': (dict, ),
}

#: Trainer options a run or a dataset's ``loss_settings`` may override.
TRAINER_OPTIONS = ('negative_sampling', 'num_negatives', 'beta',
                   'train_similarity', 'test_similarity')
MODEL_OPTIONS = ('side', 'alpha0', 'alpha1', 'num_layers')
#: Dataset settings a run may override (a paper's own budget for one run).
RUN_SETTINGS = ('batch_size', 'lr', 'reg', 'epochs', 'eval_every',
                'patience')


class ConfigError(ValueError):
    r"""A benchmark configuration file is invalid; the message names the
    file and the key."""


def _read(path: Path) -> Any:
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(f'{path}: cannot be read ({e.strerror})') from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f'{path}:{e.lineno}: invalid JSON ({e.msg})') \
            from None


@dataclass(frozen=True)
class Settings:
    r"""The training settings of one dataset in one mode."""
    dataset: str
    mode: str
    load: Dict[str, Any]
    embedding_dim: int
    num_layers: int
    batch_size: int
    lr: float
    reg: float
    epochs: int
    eval_every: int
    patience: Optional[int]
    ssm_temperature: float
    loss_settings: Dict[str, Dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        return {
            'load': self.load,
            'embedding_dim': self.embedding_dim,
            'num_layers': self.num_layers,
            'batch_size': self.batch_size,
            'lr': self.lr,
            'reg': self.reg,
            'epochs': self.epochs,
            'eval_every': self.eval_every,
            'patience': self.patience,
            'ssm_temperature': self.ssm_temperature,
            'loss_settings': self.loss_settings,
        }


@dataclass(frozen=True)
class RunConfig:
    r"""One training run of a suite, before the dataset settings are
    applied."""
    label: str
    model: str
    loss: str
    model_kwargs: Dict[str, Any] = field(default_factory=dict)
    loss_kwargs: Dict[str, Any] = field(default_factory=dict)
    trainer_kwargs: Dict[str, Any] = field(default_factory=dict)
    settings: Dict[str, Any] = field(default_factory=dict)
    #: ``'test'``: the negatives also exclude each user's test items, an
    #: oracle for diagnosing false negatives (paper protocol only).
    negatives_exclude: Optional[str] = None


def load_datasets(path: Path = CONFIGS / 'datasets.json'
                  ) -> Dict[str, Dict[str, Any]]:
    r"""The raw ``datasets.json``, checked to be a dict of datasets."""
    raw = _read(path)
    if not isinstance(raw, dict):
        raise ConfigError(f'{path}: expected a JSON object of datasets')
    return raw


def mode_datasets(mode: str, path: Path = CONFIGS / 'datasets.json'
                  ) -> List[str]:
    r"""The default datasets of :obj:`mode` (key ``_modes``)."""
    raw = load_datasets(path)
    modes = raw.get('_modes')
    if not isinstance(modes, dict) or not isinstance(modes.get(mode), list):
        raise ConfigError(f"{path}: key '_modes.{mode}' expected a list of "
                          f"dataset names")
    return list(modes[mode])


def load_settings(dataset: str, mode: str,
                  path: Path = CONFIGS / 'datasets.json') -> Settings:
    r"""The checked settings of :obj:`dataset` in :obj:`mode`."""
    if mode not in MODES:
        raise ConfigError(f"mode expected one of {MODES} (got {mode!r})")
    raw = load_datasets(path)
    names = sorted(k for k in raw if not k.startswith('_'))
    if dataset not in raw or dataset.startswith('_'):
        raise ConfigError(f"{path}: no settings for dataset {dataset!r}; "
                          f"expected one of {names}")
    entry = raw[dataset]
    where = f"{path}: '{dataset}'"
    if not isinstance(entry, dict) or not isinstance(entry.get(mode), dict):
        raise ConfigError(f"{where} expected an object with key '{mode}'")
    load = entry.get('load', {})
    if not isinstance(load, dict):
        raise ConfigError(f"{where}.load expected an object (got {load!r})")
    values = entry[mode]
    unknown = sorted(set(values) - set(SETTING_TYPES))
    if unknown:
        raise ConfigError(f"{where}.{mode}: unknown key(s) {unknown}; "
                          f"expected {sorted(SETTING_TYPES)}")
    for key, types in SETTING_TYPES.items():
        if key not in values:
            raise ConfigError(f"{where}.{mode}: missing key '{key}'")
        value = values[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise ConfigError(f"{where}.{mode}.{key} expected "
                              f"{' or '.join(t.__name__ for t in types)} "
                              f"(got {value!r})")
    for key in ('embedding_dim', 'batch_size', 'epochs', 'eval_every'):
        if values[key] < 1:
            raise ConfigError(f"{where}.{mode}.{key} expected >= 1 "
                              f"(got {values[key]})")
    if values['num_layers'] < 0:
        raise ConfigError(f"{where}.{mode}.num_layers expected >= 0 "
                          f"(got {values['num_layers']})")
    if values['lr'] <= 0 or values['ssm_temperature'] <= 0:
        raise ConfigError(f"{where}.{mode}: lr and ssm_temperature expected "
                          f"> 0")
    for loss, overrides in values['loss_settings'].items():
        if loss not in LOSSES:
            raise ConfigError(f"{where}.{mode}.loss_settings: unknown loss "
                              f"{loss!r}; expected one of {LOSSES}")
        bad = sorted(set(overrides) - set(TRAINER_OPTIONS))
        if bad:
            raise ConfigError(f"{where}.{mode}.loss_settings.{loss}: unknown "
                              f"key(s) {bad}; expected {TRAINER_OPTIONS}")
    return Settings(dataset=dataset, mode=mode, load=dict(load),
                    embedding_dim=values['embedding_dim'],
                    num_layers=values['num_layers'],
                    batch_size=values['batch_size'], lr=float(values['lr']),
                    reg=float(values['reg']), epochs=values['epochs'],
                    eval_every=values['eval_every'],
                    patience=values['patience'],
                    ssm_temperature=float(values['ssm_temperature']),
                    loss_settings=dict(values['loss_settings']))


def load_suite(suite: str, configs: Path = CONFIGS) -> Dict[str, Any]:
    r"""The checked configuration of :obj:`suite`: its title, reference,
    runs (as :class:`RunConfig`, resolved from ``runs_from`` when the suite
    re-uses another suite's runs) and published figures."""
    path = configs / f'{suite}.json'
    if not path.is_file():
        raise ConfigError(f'{path}: no configuration for suite {suite!r}')
    raw = _read(path)
    if not isinstance(raw, dict):
        raise ConfigError(f'{path}: expected a JSON object')
    out = dict(raw)
    out['path'] = str(path)
    if 'runs_from' in raw:
        source = load_suite(raw['runs_from'], configs)
        runs = source['runs']
        labels = raw.get('labels')
        if labels is not None:
            known = {r.label for r in runs}
            missing = [x for x in labels if x not in known]
            if missing:
                raise ConfigError(f"{path}: 'labels' {missing} are not runs "
                                  f"of suite {raw['runs_from']!r} "
                                  f"(expected some of {sorted(known)})")
            runs = [r for r in runs if r.label in labels]
        out['runs'] = runs
        return out
    if 'runs' not in raw:
        out['runs'] = []
        return out
    if not isinstance(raw['runs'], list):
        raise ConfigError(f"{path}: 'runs' expected a list")
    runs: List[RunConfig] = []
    seen = set()
    for n, r in enumerate(raw['runs']):
        where = f'{path}: runs[{n}]'
        if not isinstance(r, dict):
            raise ConfigError(f'{where} expected an object')
        unknown = sorted(set(r) - {'label', 'model', 'loss', 'model_kwargs',
                                   'loss_kwargs', 'trainer_kwargs',
                                   'settings', 'negatives_exclude'})
        if unknown:
            raise ConfigError(f'{where}: unknown key(s) {unknown}')
        label = r.get('label')
        if not isinstance(label, str) or not label:
            raise ConfigError(f"{where}.label expected a non-empty string")
        if label in seen:
            raise ConfigError(f"{where}.label {label!r} is not unique")
        seen.add(label)
        if r.get('model') not in MODELS:
            raise ConfigError(f"{where}.model expected one of {MODELS} "
                              f"(got {r.get('model')!r})")
        if r.get('loss') not in LOSSES:
            raise ConfigError(f"{where}.loss expected one of {LOSSES} "
                              f"(got {r.get('loss')!r})")
        mk = r.get('model_kwargs', {})
        bad = sorted(set(mk) - set(MODEL_OPTIONS))
        if bad:
            raise ConfigError(f'{where}.model_kwargs: unknown key(s) {bad}; '
                              f'expected {MODEL_OPTIONS}')
        tk = r.get('trainer_kwargs', {})
        bad = sorted(set(tk) - set(TRAINER_OPTIONS))
        if bad:
            raise ConfigError(f'{where}.trainer_kwargs: unknown key(s) '
                              f'{bad}; expected {TRAINER_OPTIONS}')
        rs = r.get('settings', {})
        bad = sorted(set(rs) - set(RUN_SETTINGS)) if isinstance(rs, dict) \
            else [rs]
        if bad:
            raise ConfigError(f'{where}.settings: unknown key(s) {bad}; '
                              f'expected an object with keys of '
                              f'{RUN_SETTINGS}')
        try:  # the Trainer's own defaults and checks, before any training
            TrainerOptions(**tk).resolve(r['loss'])
        except ValueError as e:
            raise ConfigError(f'{where}.trainer_kwargs: {e}') from None
        exclude = r.get('negatives_exclude')
        if exclude is not None and exclude != 'test':
            raise ConfigError(f"{where}.negatives_exclude expected 'test' "
                              f"(got {exclude!r})")
        runs.append(RunConfig(label=label, model=r['model'], loss=r['loss'],
                              model_kwargs=dict(mk),
                              loss_kwargs=dict(r.get('loss_kwargs', {})),
                              trainer_kwargs=dict(tk), settings=dict(rs),
                              negatives_exclude=exclude))
    out['runs'] = runs
    return out


def parse_run_seeds(values: Optional[List[str]],
                    labels: List[str]) -> Dict[str, int]:
    r"""Reads ``--run-seeds LABEL=K ...``: at least :obj:`K` seeds for the
    run :obj:`LABEL` (one of :obj:`labels`), e.g. three seeds for the SSM
    cells and the best cell of each other loss while the others keep
    ``--seeds``.  Raises :class:`ConfigError` naming the bad entry."""
    out: Dict[str, int] = {}
    for value in values or []:
        label, sep, count = value.rpartition('=')
        if not sep or not label:
            raise ConfigError(f"--run-seeds expected LABEL=K (got "
                              f"{value!r})")
        if label not in labels:
            raise ConfigError(f"--run-seeds: {label!r} is not a run of the "
                              f"selected suites")
        try:
            k = int(count)
        except ValueError:
            k = 0
        if k < 1:
            raise ConfigError(f"--run-seeds {value!r}: K expected a positive "
                              f"integer (got {count!r})")
        out[label] = k
    return out


def select_runs(cfg: Dict[str, Any], labels: Optional[List[str]],
                suite: str) -> List[str]:
    r"""Keeps only the runs of :obj:`cfg` named in :obj:`labels` (all when
    :obj:`None`) and returns the labels left out."""
    if labels is None:
        return []
    known = [r.label for r in cfg['runs']]
    unknown = [x for x in labels if x not in known]
    if unknown:
        raise ConfigError(f"--runs: {unknown} are not runs of suite "
                          f"{suite!r} ({cfg['path']}); expected some of "
                          f"{known}")
    skipped = [x for x in known if x not in labels]
    # A report may depend on the suite as a whole (the simce suite's push
    # probe draws as many negatives as its largest run), so the full list
    # stays under 'all_runs'.
    cfg.setdefault('all_runs', list(cfg['runs']))
    cfg['runs'] = [r for r in cfg['runs'] if r.label in labels]
    return skipped


def runs_argument(labels: Sequence[str]) -> str:
    r"""The ``--runs`` argument that selects :obj:`labels`, quoted for a
    shell, *e.g.* ``' --runs BPR "SimCE margin 5"'``.

    A label that needs quoting is written in double quotes, as the
    committed reports show it, unless it holds a character that a shell
    still expands there (``"``, ``$``, backquote, backslash, ``!``); such
    a label is quoted by :func:`shlex.quote`."""
    return ' --runs ' + ' '.join(_shell_word(x) for x in labels)


def _shell_word(label: str) -> str:
    quoted = shlex.quote(label)
    if quoted == label or any(c in label for c in '"$`\\!'):
        return quoted
    return f'"{label}"'
