r"""The declared search: trials are distinct grid points, reproducible,
independent of the other methods, and a larger budget extends a smaller
one; axes a run fixes are never searched."""
import itertools

import pytest

from benchmarks.clean.search import (
    apply_point,
    check_axes,
    draw_trials,
    grid,
    method_space,
)
from benchmarks.suites.config import ConfigError

SPACE = {'lr': [0.001, 0.01], 'reg': [0.0, 1e-4, 1e-3],
         'loss.margin': [1.0, 5.0]}


def test_grid_is_the_product():
    points = grid(SPACE)
    want = [dict(zip(('loss.margin', 'lr', 'reg'), v)) for v in
            itertools.product(SPACE['loss.margin'], SPACE['lr'],
                              SPACE['reg'])]
    assert points == want


def test_trials_are_distinct_reproducible_and_prefix_stable():
    four = draw_trials(SPACE, 4, seed=0, label='SimCE')
    assert len(four) == 4
    assert len({tuple(sorted(p.items())) for p in four}) == 4
    assert all(p in grid(SPACE) for p in four)
    assert draw_trials(SPACE, 4, seed=0, label='SimCE') == four
    assert draw_trials(SPACE, 6, seed=0, label='SimCE')[:4] == four
    assert draw_trials(SPACE, 4, seed=1, label='SimCE') != four
    # A budget larger than the grid gives the whole grid once.
    assert sorted(map(str, draw_trials(SPACE, 100, 0, 'x'))) == \
        sorted(map(str, grid(SPACE)))


def test_fixed_axes_are_not_searched_and_points_apply():
    space = method_space({'lr': [1, 2]}, {'model.alpha0': [0.5, 1.0],
                                          'loss.margin': [1.0]},
                         fixed=['model.alpha0'])
    assert space == {'lr': [1, 2], 'loss.margin': [1.0]}
    spec = {'lr': 0.1, 'reg': 0.0, 'loss_kwargs': {'margin': 5.0},
            'trainer_kwargs': {}, 'model_kwargs': {'alpha0': 0.5}}
    out = apply_point(spec, {'lr': 2, 'loss.margin': 1.0,
                             'trainer.num_negatives': 16})
    assert out['lr'] == 2.0 and out['loss_kwargs'] == {'margin': 1.0}
    assert out['trainer_kwargs'] == {'num_negatives': 16}
    assert spec['loss_kwargs'] == {'margin': 5.0}  # input untouched


@pytest.mark.parametrize('axes,match', [
    ({'learning_rate': [1]}, "expected 'lr', 'reg'"),
    ({'lr': []}, 'non-empty list'),
    ([1], 'object of axis'),
])
def test_bad_axes_name_the_key(axes, match):
    with pytest.raises(ConfigError, match=match):
        check_axes(axes, 'clean.json: search.common')
