import pytest
import torch

from pyg_simce.train import EarlyStopping, load_checkpoint, save_checkpoint


def test_tracks_best_and_stops_after_patience():
    es = EarlyStopping(metric='recall@20', patience=2)
    values = [0.1, 0.3, 0.2, 0.3, 0.25, 0.4]
    improved = [es.step({'recall@20': v}, epoch=e + 1)
                for e, v in enumerate(values[:5])]
    # Equal to the best is not an improvement.
    assert improved == [True, True, False, False, False]
    assert es.best_value == 0.3 and es.best_epoch == 2
    assert es.num_bad_evaluations == 3
    assert es.should_stop


def test_patience_counts_evaluations_and_resets_on_improvement():
    es = EarlyStopping(patience=3)
    for e, v in enumerate([0.1, 0.05, 0.05, 0.2, 0.1, 0.1], start=1):
        es.step({'recall@20': v}, e)
    assert es.best_epoch == 4 and es.num_bad_evaluations == 2
    assert not es.should_stop


def test_min_mode_and_min_delta():
    es = EarlyStopping(metric='loss', patience=1, mode='min', min_delta=0.1)
    assert es.step({'loss': 1.0}, 1)
    assert not es.step({'loss': 0.95}, 2)  # within min_delta
    assert es.should_stop
    assert es.best_value == 1.0


def test_no_patience_never_stops_and_nan_is_never_best():
    es = EarlyStopping(patience=None)
    es.step({'recall@20': 0.2}, 1)
    for e in range(2, 50):
        es.step({'recall@20': float('nan')}, e)
    assert not es.should_stop and es.best_epoch == 1


def test_missing_metric_and_bad_arguments():
    with pytest.raises(ValueError, match="got 'recall@20'"):
        EarlyStopping().step({'ndcg@20': 0.1}, 1)
    with pytest.raises(ValueError, match='patience'):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match='mode'):
        EarlyStopping(mode='up')


def test_state_round_trip_through_weights_only_checkpoint(tmp_path):
    es = EarlyStopping(patience=5)
    for e, v in enumerate([0.1, 0.3, 0.2], start=1):
        es.step({'recall@20': v}, e)
    save_checkpoint({'format': 'x', 'es': es.state_dict()}, tmp_path / 'c.pt')
    state = load_checkpoint(tmp_path / 'c.pt')['es']
    other = EarlyStopping(patience=7)
    other.load_state_dict(state)
    assert (other.best_value, other.best_epoch,
            other.num_bad_evaluations) == (0.3, 2, 1)
    assert other.patience == 7  # a resumed run may extend the patience
    with pytest.raises(ValueError, match='monitors'):
        EarlyStopping(metric='ndcg@20').load_state_dict(state)
    assert isinstance(torch.tensor(0), torch.Tensor)
