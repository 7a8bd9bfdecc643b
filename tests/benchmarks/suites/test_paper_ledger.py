r"""The paper ledger: a finished run is reported again by a fresh checkout
(an empty run cache) without training, an unfinished one is never kept, and
the report-time analyses survive the checkpoint they were computed from."""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def ledger_api(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.suites import paper_ledger, training
    return paper_ledger, training


def _spec(seed=0):
    return {'dataset': 'irbench/toy', 'seed': seed, 'loss': 'bpr',
            'trainer_kwargs': {}, 'epochs': 3}


class FakeTrainer:
    r"""Stands in for :func:`benchmarks.suites.training.execute`: writes the
    record a finished run leaves in its cache folder and counts calls."""
    def __init__(self, training):
        self.training = training
        self.calls = 0

    def __call__(self, spec, splits, work, fresh=False, quiet=True):
        self.calls += 1
        folder = self.training.run_folder(spec, work)
        folder.mkdir(parents=True, exist_ok=True)
        record = {'key': self.training.spec_key(spec), 'spec': spec,
                  'test': {'recall@20': 0.1 * (spec['seed'] + 1)},
                  'per_user': {'users': [0, 1], 'recall@20': [0.1, 0.2],
                               'ndcg@20': [0.3, 0.4]},
                  'best_epoch': 3, 'epochs_run': 3, 'train_seconds': 1.5}
        (folder / 'record.json').write_text(json.dumps(record))
        return dict(record, cached=False)


def test_a_fresh_checkout_reports_a_finished_run_from_the_ledger(
        ledger_api, tmp_path):
    paper_ledger, training = ledger_api
    ledger = paper_ledger.paper_ledger(tmp_path / 'results')
    train = FakeTrainer(training)
    first = paper_ledger.paper_record(_spec(), None, tmp_path / 'work',
                                      ledger, train=train)
    assert train.calls == 1 and first['cached'] is False
    path = ledger.path(_spec())
    assert path == (tmp_path / 'results' / 'paper_ledger' / 'irbench-toy' /
                    f"{training.spec_key(_spec())}.json.gz")
    # Another checkout: empty cache, same ledger; nothing is trained and
    # the record is the one trained, per-user metrics included.
    for report_only in (False, True):
        again = paper_ledger.paper_record(_spec(), None, tmp_path / 'w2',
                                          ledger, train=train,
                                          report_only=report_only)
        assert train.calls == 1 and again['source'] == 'ledger'
        assert again['per_user'] == first['per_user']
        assert again['test'] == first['test']
    # Another seed is another run: trained.
    paper_ledger.paper_record(_spec(1), None, tmp_path / 'w2', ledger,
                              train=train)
    assert train.calls == 2
    # --fresh reads neither cache nor ledger.
    paper_ledger.paper_record(_spec(), None, tmp_path / 'w2', ledger,
                              train=train, fresh=True)
    assert train.calls == 3
    # Without a ledger (and without a cache) report-only has nothing.
    assert paper_ledger.paper_record(_spec(), None, tmp_path / 'w3', None,
                                     train=train, report_only=True) is None


def test_a_run_cached_before_the_ledger_existed_is_added(ledger_api,
                                                          tmp_path):
    paper_ledger, training = ledger_api
    train = FakeTrainer(training)
    work = tmp_path / 'work'
    train(_spec(), None, work)  # trained without a ledger
    ledger = paper_ledger.paper_ledger(tmp_path / 'results')
    assert ledger.get(_spec()) is None
    rec = paper_ledger.paper_record(_spec(), None, work, ledger,
                                    train=train, report_only=True)
    assert rec['cached'] is True and train.calls == 1
    assert ledger.get(_spec())['record']['test'] == rec['test']


def test_an_unfinished_run_is_reported_but_never_kept(ledger_api, tmp_path,
                                                      monkeypatch):
    paper_ledger, training = ledger_api
    ledger = paper_ledger.paper_ledger(tmp_path / 'results')
    partial = {'spec': _spec(), 'test': {'recall@20': 0.05},
               'unfinished': True, 'cached': True}

    def cached(spec, work, unfinished=True):
        return dict(partial) if unfinished else None

    monkeypatch.setattr(paper_ledger, 'cached_record', cached)
    rec = paper_ledger.paper_record(_spec(), None, tmp_path / 'work', ledger,
                                    report_only=True)
    assert rec['unfinished'] is True and ledger.get(_spec()) is None
    assert paper_ledger.paper_record(_spec(), None, tmp_path / 'work',
                                     ledger, report_only=True,
                                     partial_ok=False) is None


def test_report_time_analyses_outlive_the_checkpoint(ledger_api, tmp_path):
    paper_ledger, training = ledger_api
    ledger = paper_ledger.paper_ledger(tmp_path / 'results')
    train = FakeTrainer(training)
    rec = paper_ledger.paper_record(_spec(), None, tmp_path / 'work',
                                    ledger, train=train)
    analysis = {'num_negatives': 64, 'probe_positives': 10,
                'push': {'best': {'epoch': 3, 'recall@20': 0.1}}}
    rec['push_analysis'] = analysis
    paper_ledger.keep_analyses(ledger, {'BPR': [rec]})
    assert ledger.get(_spec())['record']['push_analysis'] == analysis
    # The cached record (which has no analysis) is kept again by a later
    # report: the ledger's analysis stays.
    again = paper_ledger.paper_record(_spec(), None, tmp_path / 'work',
                                      ledger, train=train)
    assert 'push_analysis' not in again
    assert ledger.get(_spec())['record']['push_analysis'] == analysis
    fresh = paper_ledger.paper_record(_spec(), None, tmp_path / 'w2',
                                      ledger, train=train)
    assert fresh['push_analysis'] == analysis and train.calls == 1
    # --fresh retrains: the old run's analysis is not carried over (the
    # report computes it again from the new checkpoint).
    paper_ledger.paper_record(_spec(), None, tmp_path / 'work', ledger,
                              train=train, fresh=True)
    assert train.calls == 2
    assert 'push_analysis' not in ledger.get(_spec())['record']
