r"""The benchmark-suite runner end to end on a tiny synthetic dataset: the
JSON and markdown outputs exist, parse and record what reproduces them;
shared runs come from the cache; an interrupted run resumes to the same
result; bad configurations are reported with the file and key."""
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, '-m', 'benchmarks.run', *args],
                          cwd=cwd, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope='module')
def quick_results(tmp_path_factory):
    base = tmp_path_factory.mktemp('suite')
    work, out = base / 'work', base / 'results'
    first = run_cli('losses', '--quick', '--datasets', 'synthetic', '--work',
                    str(work), '--out', str(out))
    assert first.returncode == 0, first.stderr
    second = run_cli('longtail', '--quick', '--datasets', 'synthetic',
                     '--work', str(work), '--out', str(out))
    assert second.returncode == 0, second.stderr
    return work, out, first.stdout + second.stdout


def test_suite_outputs_exist_and_parse(quick_results):
    work, out, stdout = quick_results
    path = out / 'quick' / 'losses' / 'synthetic.json'
    payload = json.loads(path.read_text())
    assert payload['suite'] == 'losses'
    assert payload['mode'] == 'quick'
    assert payload['seeds'] == [0]
    assert payload['device'] == 'cpu'
    assert payload['wall_seconds'] > 0
    env = payload['environment']
    assert env['seed'] == 0 and env['device'] == 'cpu'
    assert set(env['versions']) >= {'pyg_simce', 'torch', 'torch_geometric'}
    labels = [r['label'] for r in payload['rows']]
    assert labels == ['BCE', 'BPR', 'SM', 'CCL', 'SSM', 'SimCE', 'MML']
    for row in payload['rows']:
        assert 0.0 <= row['recall@20']['mean'] <= 1.0
        assert row['per_seed'][0]['epochs_run'] == 2
        # Each run records the thread count its timings were taken with.
        assert row['per_seed'][0]['torch_threads'] == env['torch_threads']
        assert row['per_seed'][0]['trained_on'] == env['device_name']
        # The learning curve: one point per evaluation (every epoch here).
        curve = row['per_seed'][0]['curve']
        assert [c['epoch'] for c in curve] == [1, 2]
        assert all(0.0 <= c['recall@20'] <= 1.0 for c in curve)
    assert payload['runs_trained'] == 7 and payload['runs_cached'] == 0

    md = (out / 'quick' / 'losses' / 'synthetic.md').read_text()
    # One markdown table row per run, with the value of the JSON.
    for row in payload['rows']:
        line = next(x for x in md.splitlines()
                    if x.startswith(f"| {row['label']} |"))
        assert f"{row['recall@20']['mean']:.4f}" in line
    assert ('Reproduce: `python -m benchmarks.run losses --quick --datasets '
            'synthetic`') in md
    index = (out / 'quick' / 'losses' / 'README.md').read_text()
    assert md in index


def test_shared_runs_come_from_the_cache(quick_results):
    work, out, _ = quick_results
    losses = json.loads((out / 'quick' / 'losses' /
                         'synthetic.json').read_text())
    tail = json.loads((out / 'quick' / 'longtail' /
                       'synthetic.json').read_text())
    assert tail['runs_trained'] == 0 and tail['runs_cached'] == 7
    by_label = {r['label']: r for r in losses['rows']}
    for line in tail['summary']['groups']:
        # The per-group contributions add up to the run's Recall@20
        # (eq. 22), computed independently by the all-ranking evaluator.
        assert sum(line['recall_per_group']) == pytest.approx(
            by_label[line['label']]['recall@20']['mean'], abs=1e-4)


def _import_runner(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.suites import training
    from benchmarks.suites.config import RunConfig, load_settings
    return training, RunConfig, load_settings


def test_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch):
    training, RunConfig, load_settings = _import_runner(monkeypatch)
    from pyg_simce.train import Trainer
    from pyg_simce.train.trainer import TrainingInterrupted

    settings = load_settings('synthetic', 'quick')
    run = RunConfig(label='BPR', model='lightgcn', loss='bpr')
    spec = training.run_spec(run, settings, seed=0, device='cpu')
    splits = training.SplitCache()
    full = training.execute(spec, splits, tmp_path / 'a')
    assert full['resumed'] is False and full['epochs_run'] == 2

    # Interrupt (as Ctrl-C does) during the second epoch: the trainer
    # checkpoints mid-epoch and no record is written.
    original = Trainer._evaluate_epoch

    def stop_after_first(self, record):
        original(self, record)
        if self.epoch == 1:
            self.request_stop()

    monkeypatch.setattr(Trainer, '_evaluate_epoch', stop_after_first)
    with pytest.raises(TrainingInterrupted):
        training.execute(spec, splits, tmp_path / 'b')
    folder = tmp_path / 'b' / 'synthetic' / training.spec_key(spec)
    assert not (folder / 'record.json').exists()
    assert any((folder / 'checkpoint').iterdir())
    monkeypatch.setattr(Trainer, '_evaluate_epoch', original)

    resumed = training.execute(spec, splits, tmp_path / 'b')
    assert resumed['resumed'] is True
    assert resumed['epochs_run'] == 2
    assert resumed['test'] == pytest.approx(full['test'])
    assert [c['epoch'] for c in resumed['curve']] == [1, 2]
    again = training.execute(spec, splits, tmp_path / 'b')
    assert again['cached'] is True and again['test'] == resumed['test']


@pytest.mark.parametrize('content,expected', [
    ('{"title": "t", "reference": "r", "runs": [{"label": "x", '
     '"model": "gcn", "loss": "bpr"}]}', "runs[0].model expected one of"),
    ('{"title": "t", "reference": "r", "runs": [{"label": "x", '
     '"model": "mf", "loss": "bpr", "trainer_kwargs": {"lr": 1}}]}',
     'runs[0].trainer_kwargs: unknown key'),
    ('{"title": "t",\n "runs": [}', ':2: invalid JSON'),
    ('{"title": "t", "reference": "r", "runs": [{"label": "x", '
     '"model": "mf", "loss": "bpr", "settings": {"epoch": 5}}]}',
     "runs[0].settings: unknown key(s) ['epoch']"),
])
def test_bad_suite_config_names_file_and_key(tmp_path, monkeypatch, content,
                                             expected):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.suites.config import ConfigError, load_suite

    (tmp_path / 'broken.json').write_text(content)
    with pytest.raises(ConfigError) as info:
        load_suite('broken', configs=tmp_path)
    assert 'broken.json' in str(info.value)
    assert expected in str(info.value)


def test_cli_rejects_unknown_dataset_and_bad_seeds(tmp_path):
    res = run_cli('losses', '--quick', '--datasets', 'nope', '--work',
                  str(tmp_path), '--out', str(tmp_path))
    assert res.returncode == 2
    assert "datasets.json: no settings for dataset 'nope'" in res.stderr
    res = run_cli('losses', '--quick', '--seeds', '0')
    assert res.returncode == 2 and '--seeds expected' in res.stderr
    assert not (tmp_path / 'quick').exists()


def test_runs_selects_a_subset_and_lists_the_rest(quick_results, tmp_path):
    work, _, _ = quick_results
    res = run_cli('losses', '--quick', '--datasets', 'synthetic', '--work',
                  str(work), '--out', str(tmp_path), '--runs', 'BPR', 'SSM')
    assert res.returncode == 0, res.stderr
    payload = json.loads((tmp_path / 'quick' / 'losses' /
                          'synthetic.json').read_text())
    assert [r['label'] for r in payload['rows']] == ['BPR', 'SSM']
    assert payload['runs_skipped'] == ['BCE', 'SM', 'CCL', 'SimCE', 'MML']
    assert payload['runs_cached'] == 2 and payload['runs_trained'] == 0
    md = (tmp_path / 'quick' / 'losses' / 'synthetic.md').read_text()
    assert 'Not run here (selected with `--runs`): BCE, SM, CCL' in md
    assert ('Reproduce: `python -m benchmarks.run losses --quick --datasets '
            'synthetic --runs BPR SSM`') in md

    res = run_cli('losses', '--quick', '--datasets', 'synthetic', '--work',
                  str(work), '--out', str(tmp_path), '--runs', 'XYZ')
    assert res.returncode == 2
    assert "--runs: ['XYZ'] are not runs of suite 'losses'" in res.stderr
    assert 'losses.json' in res.stderr


def test_run_seeds_gives_one_run_more_seeds(quick_results, tmp_path):
    # SSM gets seeds 0-2 while BPR keeps --seeds' one; seed 0 of both
    # comes from the cache, seeds 1 and 2 of SSM are trained.
    work, out, _ = quick_results
    res = run_cli('losses', '--quick', '--datasets', 'synthetic', '--work',
                  str(work), '--out', str(tmp_path), '--runs', 'BPR', 'SSM',
                  '--run-seeds', 'SSM=3')
    assert res.returncode == 0, res.stderr
    payload = json.loads((tmp_path / 'quick' / 'losses' /
                          'synthetic.json').read_text())
    rows = {r['label']: r for r in payload['rows']}
    assert [s['seed'] for s in rows['SSM']['per_seed']] == [0, 1, 2]
    assert [s['seed'] for s in rows['BPR']['per_seed']] == [0]
    assert payload['seeds'] == [0] and payload['seeds_per_run'] == {'SSM': 3}
    assert payload['runs_cached'] == 2 and payload['runs_trained'] == 2
    cached = json.loads((out / 'quick' / 'losses' /
                         'synthetic.json').read_text())
    ssm0 = {r['label']: r for r in cached['rows']}['SSM']['per_seed'][0]
    assert rows['SSM']['per_seed'][0]['recall@20'] == ssm0['recall@20']
    recalls = [s['recall@20'] for s in rows['SSM']['per_seed']]
    assert rows['SSM']['recall@20']['mean'] == pytest.approx(
        sum(recalls) / 3)
    md = (tmp_path / 'quick' / 'losses' / 'synthetic.md').read_text()
    assert '--runs BPR SSM --run-seeds SSM=3`' in md
    assert 'seeds [0], SSM seeds 0-2;' in md

    for bad, message in ((['XYZ=2'], "'XYZ' is not a run"),
                         (['SSM=0'], 'K expected a positive integer'),
                         (['SSM'], 'expected LABEL=K')):
        res = run_cli('losses', '--quick', '--datasets', 'synthetic',
                      '--work', str(work), '--out', str(tmp_path),
                      '--run-seeds', *bad)
        assert res.returncode == 2 and message in res.stderr, res.stderr
    res = run_cli('losses', '--protocol', 'clean', '--run-seeds', 'SSM=3')
    assert res.returncode == 2
    assert '--run-seeds applies to --protocol paper only' in res.stderr


def _no_validation_settings(load_settings):
    # The synthetic set split 80/20 without a validation part: runs are
    # evaluated (and selected) on the test split, as on Gowalla.
    import dataclasses
    settings = load_settings('synthetic', 'quick')
    return dataclasses.replace(settings, epochs=3,
                               load={**settings.load, 'ratios': [0.8, 0.2]})


def _interrupt_after_epoch(monkeypatch, epoch):
    from pyg_simce.train import Trainer
    original = Trainer._evaluate_epoch

    def stop(self, record):
        original(self, record)
        if self.epoch == epoch:
            self.request_stop()

    monkeypatch.setattr(Trainer, '_evaluate_epoch', stop)
    return lambda: monkeypatch.setattr(Trainer, '_evaluate_epoch', original)


def test_unfinished_run_is_reported_from_its_log(tmp_path, monkeypatch):
    training, RunConfig, load_settings = _import_runner(monkeypatch)
    from pyg_simce.train.trainer import TrainingInterrupted

    settings = _no_validation_settings(load_settings)
    run = RunConfig(label='BPR', model='lightgcn', loss='bpr')
    spec = training.run_spec(run, settings, seed=0, device='cpu')
    splits = training.SplitCache()
    assert training.cached_record(spec, tmp_path) is None  # nothing yet

    restore = _interrupt_after_epoch(monkeypatch, 2)
    with pytest.raises(TrainingInterrupted):
        training.execute(spec, splits, tmp_path)
    restore()
    folder = training.run_folder(spec, tmp_path)
    log = [json.loads(x) for x in
           (folder / 'log.jsonl').read_text().splitlines()]
    assert [x['epoch'] for x in log] == [1, 2]
    # A half-written line (the trainer of another process mid-write) is
    # ignored.
    with open(folder / 'log.jsonl', 'a') as f:
        f.write('{"epoch": 3, "loss": 0.5, "secon')

    partial = training.cached_record(spec, tmp_path)
    assert partial['unfinished'] is True and partial['stopped_by'] == \
        'unfinished'
    assert partial['epochs_run'] == 2
    best = max(log, key=lambda x: x['metrics']['recall@20'])
    assert partial['test'] == best['metrics']
    assert partial['best_epoch'] == best['epoch']
    assert partial['negative_sampling'] == 'uniform'
    assert [c['epoch'] for c in partial['curve']] == [1, 2]
    # The machine that trained it, as the report of another machine sees it.
    assert partial['environment']['device'] == 'cpu'
    assert partial['environment']['seed'] == 0
    assert training.cached_record(spec, tmp_path, unfinished=False) is None

    # Resuming finishes the run; it then reports its final record, whose
    # figure for a run stopped at epoch 2 would have been the provisional
    # one.
    (folder / 'log.jsonl').write_text(''.join(
        json.dumps(x) + '\n' for x in log))
    final = training.execute(spec, splits, tmp_path)
    assert final['epochs_run'] == 3 and final['resumed'] is True
    again = training.cached_record(spec, tmp_path)
    assert 'unfinished' not in again and again['test'] == final['test']
    log3 = [json.loads(x)['metrics']['recall@20'] for x in
            (folder / 'log.jsonl').read_text().splitlines()]
    assert final['test']['recall@20'] == pytest.approx(max(log3))


def test_unfinished_run_with_validation_split_has_nothing_to_report(
        tmp_path, monkeypatch):
    training, RunConfig, load_settings = _import_runner(monkeypatch)
    from pyg_simce.train.trainer import TrainingInterrupted

    settings = load_settings('synthetic', 'quick')  # 70/10/20
    spec = training.run_spec(RunConfig(label='BPR', model='mf', loss='bpr'),
                             settings, seed=0, device='cpu')
    restore = _interrupt_after_epoch(monkeypatch, 1)
    with pytest.raises(TrainingInterrupted):
        training.execute(spec, training.SplitCache(), tmp_path)
    restore()
    assert (training.run_folder(spec, tmp_path) / 'log.jsonl').is_file()
    # Its evaluations are on the validation split: no test figure yet.
    assert training.cached_record(spec, tmp_path) is None


def test_report_only_marks_unfinished_runs(tmp_path, monkeypatch):
    training, RunConfig, load_settings = _import_runner(monkeypatch)
    from benchmarks import run as runner
    from pyg_simce.train.trainer import TrainingInterrupted

    settings = _no_validation_settings(load_settings)
    monkeypatch.setattr(runner, 'load_settings', lambda d, m: settings)
    work, out = tmp_path / 'work', tmp_path / 'out'
    cfg = runner.load_suite('backbones')
    by_label = {r.label: r for r in cfg['runs']}
    splits = training.SplitCache()
    # One finished run, one stopped after its first epoch, the rest never
    # started.
    training.execute(training.run_spec(by_label['MF / BPR'], settings, 0,
                                       'cpu'), splits, work)
    restore = _interrupt_after_epoch(monkeypatch, 1)
    with pytest.raises(TrainingInterrupted):
        training.execute(training.run_spec(by_label['MF / SSM'], settings, 0,
                                           'cpu'), splits, work)
    restore()
    before = sorted(p.name for p in (work / 'synthetic').iterdir())

    payload = runner.run_one('backbones', 'synthetic', 'quick', [0], 'cpu',
                             splits, work, out, fresh=False, verbose=False,
                             report_only=True)
    assert sorted(p.name for p in (work / 'synthetic').iterdir()) == before
    assert payload['runs_trained'] == 0
    assert [r['label'] for r in payload['rows']] == ['MF / BPR', 'MF / SSM']
    assert payload['runs_unfinished'] == ['MF / SSM']
    assert payload['runs_missing'] == [label for label in by_label
                                       if label not in ('MF / BPR',
                                                        'MF / SSM')]
    ssm = payload['rows'][1]['per_seed'][0]
    assert ssm['stopped_by'] == 'unfinished' and ssm['epochs_run'] == 1
    md = (out / 'quick' / 'backbones' / 'synthetic.md').read_text()
    assert '**Unfinished**' in md and 'MF / SSM' in md
    assert 'Not in the run cache yet' in md
    assert '1/1 unfinished' in md
    assert ('--runs "MF / BPR" "MF / SSM"`') in md


def test_report_only_cli(quick_results, tmp_path):
    work, _, _ = quick_results
    res = run_cli('losses', '--quick', '--datasets', 'synthetic', '--work',
                  str(work), '--out', str(tmp_path), '--report-only')
    assert res.returncode == 0, res.stderr
    payload = json.loads((tmp_path / 'quick' / 'losses' /
                          'synthetic.json').read_text())
    assert payload['runs_cached'] == 7 and payload['runs_trained'] == 0
    assert payload['runs_unfinished'] == [] and payload['runs_missing'] == []
    res = run_cli('speed', '--quick', '--datasets', 'synthetic', '--work',
                  str(tmp_path / 'empty'), '--out', str(tmp_path),
                  '--report-only')
    assert res.returncode == 0 and 'skipped with --report-only' in res.stdout
    res = run_cli('losses', '--quick', '--report-only', '--fresh')
    assert res.returncode == 2 and 'exclude each other' in res.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks a machine '
                    'without CUDA')
def test_runs_of_a_gpu_are_reported_without_one(quick_results, tmp_path):
    # Training on CUDA needs CUDA; reporting the runs a GPU left in the
    # cache does not. The CPU runs of the cache are other runs (the device
    # is part of a run's settings), so none is reported for cuda.
    work, _, _ = quick_results
    res = run_cli('losses', '--quick', '--datasets', 'synthetic',
                  '--device', 'cuda', '--work', str(tmp_path / 'w'),
                  '--out', str(tmp_path))
    assert res.returncode == 2 and 'CUDA is not available' in res.stderr
    res = run_cli('losses', '--quick', '--datasets', 'synthetic', '--device',
                  'cuda', '--work', str(work), '--out', str(tmp_path),
                  '--report-only')
    assert res.returncode == 0, res.stderr
    payload = json.loads((tmp_path / 'quick' / 'losses' /
                          'synthetic.json').read_text())
    assert payload['device'] == 'cuda' and payload['runs_cached'] == 0
    assert len(payload['runs_missing']) == 7


def test_backbones_shows_the_published_gain_in_a_partial_report(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.suites.suites import backbones
    row = {'label': 'LightGCN / SSM', 'recall@20': {'mean': 0.18,
                                                    'std': None},
           'ndcg@20': {'mean': 0.15, 'std': None},
           'published': [0.1869, 0.1571], 'negative_sampling': 'in-batch',
           'num_negatives': None, 'train_similarity': 'cosine',
           'test_similarity': 'dot',
           'per_seed': [{'best_epoch': 3, 'epochs_run': 4,
                         'stopped_by': 'unfinished',
                         'epoch_seconds_median': 1.0}]}
    published = {'LightGCN / BPR': [0.1824, 0.1554],
                 'LightGCN / SSM': [0.1869, 0.1571]}
    out = backbones({}, [row], {}, published=published)
    line = next(r for r in out['table']['rows'] if r[0] == 'LightGCN')
    # Our BPR run is missing; the paper's gain is (0.1869 - 0.1824) / 0.1824.
    assert line[1] == '-' and line[2] == '0.1800'
    assert line[5] == f'{(0.1869 - 0.1824) / 0.1824:+.1%}' == '+2.5%'
    assert out['verdicts'] == []  # no claim without both of our runs


def _baselines_file(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    run = {'setting': 'lambda=500', 'kwargs': {'lambda_': '500.0'},
           'status': 'ok', 'fit_seconds': 1.25,
           'test': {'recall@20': 0.4321, 'ndcg@20': 0.3210}}
    path.write_text(json.dumps({'dataset': 'synthetic', 'models': {
        'ease': {'best': 'lambda=500', 'runs': [
            run, dict(run, setting='lambda=50',
                      test={'recall@20': 0.9, 'ndcg@20': 0.9})]},
        'gfcf': {'best': None, 'runs': [{'setting': 'x',
                                          'status': 'not run'}]}}}))


def test_baseline_rows_come_from_the_results_tree(quick_results, tmp_path):
    work, _, _ = quick_results
    folder = tmp_path / 'quick' / 'losses'

    def report(*extra):
        r = run_cli('losses', '--quick', '--datasets', 'synthetic', '--work',
                    str(work), '--out', str(tmp_path), *extra)
        assert r.returncode == 0, r.stderr
        return (json.loads((folder / 'synthetic.json').read_text()),
                (folder / 'synthetic.md').read_text())

    payload, md = report('--report-only')
    assert 'classical baseline' not in md and 'baselines' not in payload
    rows = payload['summary']['table']['rows']
    assert not any('classical baseline' in r[0] for r in rows)

    _baselines_file(tmp_path / 'baselines' / 'synthetic.json')
    payload, md = report('--report-only')
    header = payload['summary']['table']['header']
    rows = [r for r in payload['summary']['table']['rows']
            if 'classical baseline' in r[0]]
    # The recorded best setting only; a model without a result has no row.
    assert len(rows) == 1 and len(rows[0]) == len(header)
    row = dict(zip(header, rows[0]))
    assert row['run'].startswith('EASE (classical baseline, fit 1.2 s, '
                                 'setting selected on test')
    assert row['Recall@20'] == '0.4321' and row['NDCG@20'] == '0.3210'
    assert row['s/epoch'] == 'fit 1.2 s'
    assert row['best / run epochs'] == '-'
    assert '| ' + ' | '.join(rows[0]) + ' |' in md
    assert 'no row: GF-CF (not run)' in md
    # The seed models' rows are unchanged.
    assert len(payload['summary']['table']['rows']) == 8

    # --rerender rewrites the committed report from its JSON alone.
    (tmp_path / 'baselines' / 'synthetic.json').unlink()
    r = run_cli('losses', '--quick', '--datasets', 'synthetic', '--out',
                str(tmp_path), '--work', str(tmp_path / 'none'),
                '--rerender')
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / 'none').exists()
    payload = json.loads((folder / 'synthetic.json').read_text())
    assert len(payload['summary']['table']['rows']) == 7
    assert 'classical baseline' not in (folder / 'synthetic.md').read_text()


def test_longtail_report_draws_the_baselines_beside_the_models(
        quick_results, tmp_path):
    work, _, _ = quick_results
    folder = tmp_path / 'quick' / 'longtail'
    path = tmp_path / 'baselines' / 'synthetic.json'
    _baselines_file(path)
    data = json.loads(path.read_text())
    tail = {'recall_per_group': [0.01 * g for g in range(10)],
            'share_per_group': [0.1] * 10,
            'target_share_per_group': [0.1] * 10}
    data['models']['ease']['runs'][0]['longtail'] = tail
    path.write_text(json.dumps(data))
    r = run_cli('longtail', '--quick', '--datasets', 'synthetic', '--work',
                str(work), '--out', str(tmp_path), '--report-only')
    assert r.returncode == 0, r.stderr
    payload = json.loads((folder / 'synthetic.json').read_text())
    groups = payload['summary']['groups']
    base = [g for g in groups if g.get('baseline')]
    # The recorded best setting's split, after the seven trained losses.
    assert [g['label'] for g in base] == ['EASE (baseline)']
    assert base[0]['recall_per_group'] == tail['recall_per_group']
    assert [g['label'] for g in groups[:7]] == ['BCE', 'BPR', 'SM', 'CCL',
                                                'SSM', 'SimCE', 'MML']
    row = payload['summary']['table']['rows'][-1]
    assert row[0].startswith('EASE (classical baseline')
    assert row[1] == '0.4321' and row[-1] == '50.0%'
    # The verdicts still compare the trained losses only.
    assert 'EASE' not in json.dumps(payload['summary']['verdicts'])
    # Without the file, a re-render drops the bars and the row.
    path.unlink()
    r = run_cli('longtail', '--quick', '--datasets', 'synthetic', '--out',
                str(tmp_path), '--rerender')
    assert r.returncode == 0, r.stderr
    payload = json.loads((folder / 'synthetic.json').read_text())
    assert not any(g.get('baseline') for g in payload['summary']['groups'])
    assert len(payload['summary']['table']['rows']) == 7


def test_paper_reports_name_their_protocol_and_claim_intervals(
        quick_results):
    work, out, _ = quick_results
    payload = json.loads((out / 'quick' / 'losses' / 'synthetic.json')
                         .read_text())
    assert payload['protocol'] == 'paper'
    claims = {c['claim']: c for c in payload['claims']}
    assert set(claims) == {'SSM > BPR on LightGCN (SSM Table 2)',
                           'SimCE > SSM (SimCE paper)',
                           'SimCE > BPR (SimCE paper)',
                           'MML > CCL (MML paper)'}
    # The interval's centre is the difference of the per-user means the
    # runs recorded, which average to each run's own test figure.
    records = {}
    for path in (work / 'synthetic').glob('*/record.json'):
        rec = json.loads(path.read_text())
        records[(rec['spec']['loss'], rec['spec']['seed'])] = rec
    ssm, bpr = records[('ssm', 0)], records[('bpr', 0)]
    for rec in (ssm, bpr):
        per_user = rec['per_user']
        assert sum(per_user['recall@20']) / len(per_user['users']) == \
            pytest.approx(rec['test']['recall@20'], abs=1e-5)
    c = claims['SSM > BPR on LightGCN (SSM Table 2)']
    want = ssm['test']['recall@20'] - bpr['test']['recall@20']
    assert c['recall@20']['mean'] == pytest.approx(want, abs=1e-5)
    assert c['recall@20']['low'] <= c['recall@20']['mean'] <= \
        c['recall@20']['high']
    md = (out / 'quick' / 'losses' / 'synthetic.md').read_text()
    assert 'paper protocol' in md and 'Claims with intervals' in md


def test_a_run_budget_overrides_the_dataset_settings(tmp_path):
    from benchmarks.suites.config import load_settings, load_suite
    from benchmarks.suites.training import run_spec

    cfg = load_suite('simce')
    settings = load_settings('ml-100k', 'full')
    specs = {r.label: run_spec(r, settings, 0, 'cpu') for r in cfg['runs']}
    assert specs['BPR (200 epochs)']['epochs'] == 200
    assert specs['SimCE margin 5']['epochs'] == 50
    assert specs['SimCE margin 5']['loss_kwargs'] == {'margin': 5.0}
    for spec in specs.values():
        assert (spec['batch_size'], spec['lr'], spec['reg']) == \
            (1024, 0.001, 0.0001)
        assert spec['model_kwargs']['num_layers'] == 2
        assert spec['trainer_kwargs']['negative_sampling'] == 'uniform'
    # A run without its own budget keeps the dataset's (and its cache key).
    plain = load_suite('losses')['runs'][0]
    assert run_spec(plain, settings, 0, 'cpu')['epochs'] == settings.epochs


def test_recorded_command_reproduces_quoted_arguments(tmp_path):
    # A run label with spaces ("MF / BPR") and an output folder with a
    # space must come back as the same arguments from the recorded command,
    # or the "Reproduce" line would run something else.
    out = tmp_path / 'out dir'
    args = ['backbones', '--quick', '--datasets', 'synthetic', '--work',
            str(tmp_path / 'empty'), '--out', str(out), '--report-only',
            '--runs', 'MF / BPR', 'MF / SSM']
    res = run_cli(*args)
    assert res.returncode == 0, res.stderr
    payload = json.loads((out / 'quick' / 'backbones' /
                          'synthetic.json').read_text())
    words = shlex.split(payload['command'])
    assert words[:3] == ['python', '-m', 'benchmarks.run']
    assert words[3:] == args
