r"""One process at a time trains a cached run: a second one gets a clear
error naming the run folder and the holder, never a second training of the
same checkpoint; the lock dies with its process."""
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytest.importorskip('fcntl')


@pytest.fixture
def lock_api(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.suites import run_lock
    return run_lock


def test_a_held_run_is_refused_with_its_folder_and_holder(lock_api,
                                                          tmp_path):
    folder = tmp_path / 'work' / 'ml-1m' / 'abc'
    with lock_api.run_lock(folder):
        assert folder.is_dir()
        with pytest.raises(lock_api.RunInProgress) as info:
            with lock_api.run_lock(folder):
                pass  # pragma: no cover
        text = str(info.value)
        assert str(folder) in text and 'pid ' in text
        # The advice holds for both protocols (the clean one refuses
        # --report-only).
        assert 'run the command again' in text
        assert '--report-only' not in text
    with lock_api.run_lock(folder):  # released
        pass


def _holder(folder: Path) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from benchmarks.suites.run_lock import run_lock
        with run_lock({str(folder)!r}):
            print('held', flush=True)
            time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, '-c', code],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'held'
    return proc


def test_the_lock_dies_with_its_process(lock_api, tmp_path):
    folder = tmp_path / 'run'
    proc = _holder(folder)
    try:
        with pytest.raises(lock_api.RunInProgress, match=f'pid {proc.pid}'):
            with lock_api.run_lock(folder):
                pass  # pragma: no cover
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    with lock_api.run_lock(folder):  # no stale lock after a hard kill
        pass


def test_a_suite_does_not_train_a_run_another_process_trains(
        monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(ROOT))
    import benchmarks.run as runner
    from benchmarks.suites.config import load_settings, load_suite
    from benchmarks.suites.run_lock import RunInProgress, run_lock
    from benchmarks.suites.training import (
        SplitCache,
        execute,
        run_folder,
        run_spec,
    )

    cfg = load_suite('losses')
    run = next(r for r in cfg['runs'] if r.label == 'BPR')
    settings = load_settings('synthetic', 'quick')
    spec = run_spec(run, settings, 0, 'cpu')
    work = tmp_path / 'work'
    folder = run_folder(spec, work)
    with run_lock(folder):
        with pytest.raises(RunInProgress):
            execute(spec, SplitCache(), work)
        assert sorted(p.name for p in folder.iterdir()) == ['train.lock']
        # The suite trains the other runs and reports this one as missing
        # (it has no log to report from yet).
        payload = runner.run_one('losses', 'synthetic', 'quick', [0], 'cpu',
                                 SplitCache(), work, tmp_path / 'out',
                                 fresh=False, verbose=False,
                                 runs=['BPR', 'SSM'])
    assert payload['runs_missing'] == ['BPR']
    assert [r['label'] for r in payload['rows']] == ['SSM']
    assert payload['runs_trained'] == 1
    assert not (folder / 'record.json').exists()


def test_a_clean_run_another_process_trains_is_refused(monkeypatch,
                                                       tmp_path):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.clean.clean_run import train_clean
    from benchmarks.suites.run_lock import RunInProgress, run_lock
    from benchmarks.suites.training import run_folder

    spec = {'dataset': 'synthetic', 'seed': 0, 'protocol': 'clean'}
    folder = run_folder(spec, tmp_path)
    with run_lock(folder):
        # Refused before the data is touched (there is none here).
        with pytest.raises(RunInProgress, match=str(folder)):
            train_clean(spec, None, tmp_path)
