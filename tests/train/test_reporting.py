import pytest

from pyg_simce.train.reporting import Reporter, format_duration


def _record(epoch, seconds=1.0, eval_seconds=None, best=None):
    record = {'epoch': epoch, 'loss': 0.5, 'seconds': seconds,
              'elapsed': 0.0}
    if eval_seconds is not None:
        record.update(split='valid', eval_seconds=eval_seconds, best=best,
                      metrics={'recall@20': 0.1, 'ndcg@20': 0.05})
    return record


def test_legend_precedes_the_first_epoch_line_only(capsys):
    reporter = Reporter('recall@20', epochs=5)
    reporter.epoch(_record(1, eval_seconds=0.5, best=True))
    reporter.epoch(_record(2))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ('(* marks a new best recall@20, the model kept; '
                        'ETA = remaining epochs x mean epoch time so far)')
    assert lines[1].startswith('epoch    1 |') and ' * | ' in lines[1]
    assert lines[2].startswith('epoch    2 |') and len(lines) == 3


def test_eta_is_remaining_epochs_times_mean_epoch_time(capsys):
    reporter = Reporter('recall@20', epochs=10)
    reporter.epoch(_record(1, seconds=20.0, eval_seconds=10.0))  # 30 s
    reporter.epoch(_record(2, seconds=10.0))  # mean (30 + 10) / 2 = 20 s
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].endswith('| ETA 4m 30s')  # 9 x 30 s
    assert lines[2].endswith('| ETA 2m 40s')  # 8 x 20 s
    reporter.epoch(_record(10))
    assert 'ETA' not in capsys.readouterr().out  # nothing left


def test_eta_with_early_stopping_is_an_upper_bound(capsys):
    reporter = Reporter('ndcg@10', epochs=3, early_stopping=True)
    reporter.epoch(_record(1, seconds=2.0))
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ('(* marks a new best ndcg@10, the model kept; ETA = '
                      'remaining epochs x mean epoch time so far, an upper '
                      'bound: early stopping may end the run sooner)')
    assert out[1].endswith('| ETA <= 4s')


def test_eta_is_capped_by_the_time_budget(capsys):
    reporter = Reporter('recall@20', epochs=100, time_budget=25.0)
    record = _record(1, seconds=10.0)
    record['elapsed'] = 10.0
    reporter.epoch(record)
    # 15 s of budget left: two more 10 s epochs, not 99.
    assert capsys.readouterr().out.splitlines()[1].endswith('| ETA 20s')


def test_quiet_prints_nothing(capsys):
    reporter = Reporter('recall@20', quiet=True, epochs=3)
    reporter.epoch(_record(1))
    assert capsys.readouterr().out == ''


@pytest.mark.parametrize('seconds,text', [(4.4, '4s'), (65, '1m 05s'),
                                          (3725, '1h 02m')])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_trainer_prints_the_legend_and_an_upper_bound_eta(capsys):
    from pyg_simce.data import load_dataset
    from pyg_simce.nn.loss import BPRLoss
    from pyg_simce.nn.models import MF
    from pyg_simce.train import Trainer

    split = load_dataset('synthetic', num_users=60, num_items=50, seed=0)
    model = MF(split.num_users, split.num_items, embedding_dim=8)
    trainer = Trainer(model, BPRLoss(), split.train, val_data=split.val,
                      test_data=split.test, epochs=3, patience=5,
                      ks=(5, 20), quiet=False, progress=False)
    trainer.fit()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith('(* marks a new best recall@20, the model '
                               'kept; ETA = ') and 'upper bound' in lines[0]
    epochs = [line for line in lines if line.startswith('epoch ')]
    assert len(epochs) == 3
    assert '| ETA <= ' in epochs[0] and '| ETA <= ' in epochs[1]
    assert 'ETA' not in epochs[2]
