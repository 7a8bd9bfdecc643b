r"""The tuning budget of the clean protocol: a declared search space per
method and a seeded random search with the same number of trials for every
method.

A point of a search space is a dict of dotted names: ``lr`` and ``reg`` (the
optimiser), ``loss.<arg>`` (an argument of the loss, *e.g.*
``loss.temperature``, ``loss.margin``), ``trainer.<option>`` (a trainer
option, *e.g.* ``trainer.num_negatives``), ``model.<arg>`` (a model
argument).  A method's space is the product of the ``common`` axes and the
axes of its loss, minus the axes its run fixes (a run of the propagation
suite fixes ``model.alpha0``: that is the variable under comparison, not a
tuned one).  Trials are drawn without replacement from that grid, by a
generator seeded with the search seed and the method's label, so that the
trials of a method do not depend on the other methods of the suite.
"""
import hashlib
import itertools
import random
from typing import Any, Dict, List, Sequence

from benchmarks.suites.config import ConfigError

PREFIXES = ('loss.', 'trainer.', 'model.')


def check_axes(axes: Any, where: str) -> Dict[str, List[Any]]:
    r"""Checks one mapping of axis name to its list of values."""
    if not isinstance(axes, dict):
        raise ConfigError(f'{where} expected an object of axis: [values]')
    out = {}
    for name, values in axes.items():
        if name not in ('lr', 'reg') and not name.startswith(PREFIXES):
            raise ConfigError(f"{where}.{name}: expected 'lr', 'reg' or a "
                              f"name starting with {PREFIXES}")
        if not isinstance(values, list) or not values:
            raise ConfigError(f'{where}.{name} expected a non-empty list')
        out[name] = list(values)
    return out


def method_space(common: Dict[str, List[Any]],
                 per_loss: Dict[str, List[Any]],
                 fixed: Sequence[str] = ()) -> Dict[str, List[Any]]:
    r"""The axes of one method: :obj:`common` then :obj:`per_loss`, without
    the axes named in :obj:`fixed`."""
    space = dict(common)
    space.update(per_loss)
    return {k: v for k, v in space.items() if k not in set(fixed)}


def grid(space: Dict[str, List[Any]]) -> List[Dict[str, Any]]:
    r"""Every point of :obj:`space`, in a fixed order."""
    names = sorted(space)
    return [dict(zip(names, values))
            for values in itertools.product(*(space[n] for n in names))]


def draw_trials(space: Dict[str, List[Any]], trials: int, seed: int,
                label: str) -> List[Dict[str, Any]]:
    r"""Returns :obj:`trials` distinct points of :obj:`space` (all of them
    when the grid is smaller): the first :obj:`trials` of the grid shuffled
    by a generator seeded with :obj:`seed` and :obj:`label`, so that a
    larger budget extends a smaller one."""
    if trials < 1:
        raise ValueError(f"'trials' expected a positive integer (got "
                         f"{trials})")
    points = grid(space)
    digest = hashlib.sha1(f'{seed}:{label}'.encode()).hexdigest()
    rng = random.Random(int(digest[:16], 16))
    order = list(range(len(points)))
    rng.shuffle(order)
    return [points[i] for i in order[:trials]]


def apply_point(spec: Dict[str, Any], point: Dict[str, Any]) -> Dict[str, Any]:
    r"""A copy of the run :obj:`spec` with the trial :obj:`point` applied."""
    out = {k: (dict(v) if isinstance(v, dict) else v)
           for k, v in spec.items()}
    for name, value in point.items():
        if name in ('lr', 'reg'):
            out[name] = float(value)
        else:
            prefix, arg = name.split('.', 1)
            out[f'{prefix}_kwargs'][arg] = value
    return out


def describe(point: Dict[str, Any]) -> str:
    r"""A short text of a trial point, *e.g.* ``lr=0.005 reg=1e-05``."""
    return ' '.join(f'{k}={v:g}' if isinstance(v, float) else f'{k}={v}'
                    for k, v in sorted(point.items()))
