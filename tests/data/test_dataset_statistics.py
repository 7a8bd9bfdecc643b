import numpy as np
import pytest

from pyg_simce.data import (
    build_hetero_data,
    dataset_statistics,
    format_statistics,
    random_split,
)


def test_statistics_of_data_and_split():
    user = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 0])
    item = np.array([0, 1, 2, 0, 3, 0, 1, 2, 3, 1])
    data = build_hetero_data(user, item)
    stats = dataset_statistics(data)
    assert stats['users'] == 3 and stats['items'] == 4
    assert stats['interactions'] == 9
    assert stats['duplicates_removed'] == 1
    assert stats['density'] == pytest.approx(9 / 12)
    # user degrees 3, 2, 4; item degrees 3, 2, 2, 2
    assert stats['user_degree'] == {
        'min': 2.0, '25%': 2.5, '50%': 3.0, '75%': 3.5, 'max': 4.0
    }
    assert stats['item_degree']['max'] == 3.0
    assert stats['item_degree']['50%'] == 2.0
    split = random_split(data, (0.5, 0.25, 0.25), seed=0)
    s2 = dataset_statistics(split)
    assert s2['train'] + s2['val'] + s2['test'] == s2['interactions'] == 9
    assert s2['user_degree'] == stats['user_degree']
    assert s2['duplicates_removed'] == 1
    text = format_statistics(s2, title='toy')
    lines = text.splitlines()
    assert lines[0] == 'toy'
    assert any(line.startswith('users') and line.endswith(' 3')
               for line in lines)
    assert 'min 2  25% 2.50  50% 3  75% 3.50  max 4' in text
    assert 'duplicates_removed' in text


def test_bad_input():
    with pytest.raises(ValueError, match='HeteroData or an InteractionSplit'):
        dataset_statistics([1, 2])
