import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch.utils.data import DistributedSampler

from pyg_simce import cli
from pyg_simce.train import shard_batches
from pyg_simce.train.distributed import (
    all_gather_with_grad,
    all_reduce_sums,
    distributed_env,
    distributed_session,
    get_world_size,
)

REPO = Path(__file__).resolve().parents[2]

DATA = [
    '--dataset', 'synthetic', '--synthetic-users', '90', '--synthetic-items',
    '70', '--model', 'lightgcn', '--layers', '2', '--dim', '16', '--lr',
    '0.01', '--reg', '1e-4', '--threads', '1', '--k', '10,20', '--seed', '3'
]


METRIC_TOL = 0.04  # a few of the 90 users


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _torchrun(args, nproc=2, script=None):
    # torchrun on the loopback interface only, with the command line of a
    # single-process run ('train' right after '-m pyg_simce', no '--').
    env = dict(os.environ, OMP_NUM_THREADS='1', MASTER_ADDR='127.0.0.1',
               PYTHONPATH=str(REPO))
    for key in ('WORLD_SIZE', 'RANK', 'LOCAL_RANK', 'MASTER_PORT'):
        env.pop(key, None)
    cmd = [
        sys.executable, '-m', 'torch.distributed.run',
        f'--nproc_per_node={nproc}', '--nnodes=1', '--master_addr=127.0.0.1',
        f'--master_port={_free_port()}'
    ]
    if script is None:
        cmd += ['-m', 'pyg_simce', 'train', *args]
    else:
        cmd += [str(script), *args]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _single(args, capsys):
    assert cli.main(['train', *args]) == 0
    capsys.readouterr()


def _read_log(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def _close(a, b, tol):
    assert set(a) == set(b)
    for key in a:
        assert a[key] == pytest.approx(b[key], abs=tol), key


@pytest.mark.parametrize('n,batch_size,world_size', [(100, 10, 2), (101, 8, 3),
                                                     (102, 12, 4), (9, 16, 2)])
def test_shards_are_disjoint_and_cover_all_interactions(
        n, batch_size, world_size):
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(n))
    shards = [
        shard_batches(perm, batch_size, rank=r, world_size=world_size)
        for r in range(world_size)
    ]
    assert len({len(s) for s in shards}) == 1  # same steps on every rank
    every = torch.cat([torch.cat(s) for s in shards])
    assert every.numel() == n  # disjoint ...
    assert torch.equal(every.sort().values, torch.arange(n))  # ... and all
    # Step t of all ranks together is batch t of one process.
    single = shard_batches(perm, batch_size)
    for t, batch in enumerate(single):
        union = torch.cat([s[t] for s in shards])
        assert torch.equal(union.sort().values, batch.sort().values)
        assert max(s[t].numel() for s in shards) - min(
            s[t].numel() for s in shards) <= 1


def test_shards_follow_distributed_sampler():
    # With world_size | batch_size | n, a rank's interactions are those of
    # DistributedSampler (no shuffle) over the epoch permutation.
    perm = torch.randperm(96, generator=torch.Generator().manual_seed(0))
    for rank in range(3):
        ours = torch.cat(shard_batches(perm, 12, rank=rank, world_size=3))
        sampler = DistributedSampler(range(96), num_replicas=3, rank=rank,
                                     shuffle=False)
        assert torch.equal(ours, perm[list(sampler)])


def test_tail_too_small_for_every_rank_is_dropped_everywhere():
    perm = torch.arange(21)  # tail chunk of 1 < world_size
    shards = [shard_batches(perm, 10, rank=r, world_size=2) for r in (0, 1)]
    assert [len(s) for s in shards] == [2, 2]
    assert torch.cat([torch.cat(s) for s in shards]).sort().values.tolist() \
        == list(range(20))
    # in-batch negatives: every shard needs 2 rows.
    assert len(shard_batches(torch.arange(23), 10, 1, 2, min_size=2)) == 2


def test_single_process_fallbacks(monkeypatch):
    for key in ('WORLD_SIZE', 'RANK', 'LOCAL_RANK'):
        monkeypatch.delenv(key, raising=False)
    assert tuple(distributed_env()) == (0, 0, 1)
    with distributed_session('cpu') as (env, device):
        assert env.world_size == 1 and device == torch.device('cpu')
        assert get_world_size() == 1
    x = torch.randn(3, 2, requires_grad=True)
    assert all_gather_with_grad(x) is x
    assert all_reduce_sums({'recall@20': 1.5}, 3) == ({'recall@20': 1.5}, 3)
    monkeypatch.setenv('WORLD_SIZE', '2')
    monkeypatch.setenv('RANK', '2')
    with pytest.raises(ValueError, match='RANK'):
        distributed_env()
    monkeypatch.setenv('RANK', 'x')
    with pytest.raises(ValueError, match='RANK'):
        distributed_env()


def test_global_in_batch_needs_in_batch_negatives(tmp_path):
    from pyg_simce.data import load_dataset
    from pyg_simce.nn import LightGCN, SampledSoftmaxLoss
    from pyg_simce.train import Trainer

    split = load_dataset('synthetic', num_users=20, num_items=15, seed=0)
    model = LightGCN(split.num_users, split.num_items, embedding_dim=4)
    with pytest.raises(ValueError, match='global_in_batch'):
        Trainer(model, SampledSoftmaxLoss(), split.train,
                test_data=split.test, negative_sampling='uniform',
                num_negatives=2, global_in_batch=True)


def test_two_processes_match_one_process(tmp_path, capsys):
    # BPR with uniform negatives: same seed, same global batch of 64.
    # 2 processes for 1 epoch, then resumed for a 2nd, against 1 process
    # for 2 epochs (and 1 epoch for the first loss).
    args = DATA + ['--loss', 'bpr', '--batch-size', '64', '--quiet']
    one = tmp_path / 'one'
    _single(args + ['--epochs', '2', '--log-file', str(one / 'log.jsonl'),
                    '--out', str(one / 'out.json')], capsys)
    two = tmp_path / 'two'
    # --log-file names the default log explicitly: torchrun must pass it on.
    proc = _torchrun(args + ['--epochs', '1', '--checkpoint-dir',
                             str(two / 'ckpt'), '--out',
                             str(two / 'out1.json'), '--log-file',
                             str(two / 'ckpt' / 'log.jsonl')])
    # Rank 0 alone prints the summary.
    assert proc.stdout.count('stopped by') == 1
    log_one, log_two = _read_log(one / 'log.jsonl'), _read_log(
        two / 'ckpt' / 'log.jsonl')
    assert len(log_two) == 1
    assert log_two[0]['loss'] == pytest.approx(log_one[0]['loss'], rel=1e-5)
    # Adam turns float rounding of near-zero gradients (summed in another
    # order) into small steps, which can swap near-tied items in a ranking:
    # metrics of trained models agree to a few swaps, not bit for bit
    # (the exact checks are in the one-step test below).
    _close(log_two[0]['metrics'], log_one[0]['metrics'], METRIC_TOL)

    _torchrun(args + ['--epochs', '2', '--checkpoint-dir', str(two / 'ckpt'),
                      '--resume', '--out', str(two / 'out.json')])
    log_two = _read_log(two / 'ckpt' / 'log.jsonl')
    assert [r['epoch'] for r in log_two] == [1, 2]  # one writer
    assert log_two[1]['loss'] == pytest.approx(log_one[1]['loss'], rel=5e-3)
    res_one = json.loads((one / 'out.json').read_text())
    res_two = json.loads((two / 'out.json').read_text())
    assert res_two['world_size'] == 2 and res_two['epochs_run'] == 2
    _close(res_two['test'], res_one['test'], METRIC_TOL)


STEP_SCRIPT = r"""
import copy
import json
import sys
import time

import torch
import torch.distributed as dist

import pyg_simce.train.trainer as trainer_module
from pyg_simce.data import load_dataset
from pyg_simce.nn import BPRLoss, LightGCN, SampledSoftmaxLoss
from pyg_simce.train import Trainer, epoch_generator
from pyg_simce.train.distributed import distributed_session

out = {}
with distributed_session('cpu') as (env, _):
    split = load_dataset('synthetic', num_users=90, num_items=70, seed=3)
    B = 50  # 25 rows per process
    kw = dict(val_data=split.val, test_data=split.test, ks=(10, 20),
              quiet=True, reg=1e-2, batch_size=B)
    for name in ('bpr', 'ssm-global'):
        torch.manual_seed(0)
        model = LightGCN(split.num_users, split.num_items, embedding_dim=8,
                         num_layers=2)
        reference = copy.deepcopy(model)
        if name == 'bpr':
            loss, extra = BPRLoss(), {}
        else:
            loss = SampledSoftmaxLoss(temperature=0.2)
            extra = dict(negative_sampling='in-batch')
        trainer = Trainer(model, loss, split.train, **kw, **extra,
                          global_in_batch=name != 'bpr')
        perm = torch.randperm(trainer.train_pairs.size(1),
                              generator=epoch_generator(0, 0))[:B]
        users, items = trainer.train_pairs[:, perm]
        rows = len(range(env.rank, B, env.world_size))
        value = trainer.batch_loss(users, items, epoch_generator(0, 0),
                                   shard=(env.rank, env.world_size))
        (value * env.world_size * rows / B).backward()
        total = torch.tensor([float(value.detach()) * rows / B])
        dist.all_reduce(total)
        sharded_metrics = trainer.evaluate('test')
        # The same step and evaluation in one process (no process group).
        trainer_module.get_world_size = lambda: 1
        trainer_module.get_rank = lambda: 0
        single = Trainer(reference, loss, split.train, **kw, **extra)
        trainer_module.get_world_size = dist.get_world_size
        trainer_module.get_rank = dist.get_rank
        expected = single.batch_loss(users, items, epoch_generator(0, 0))
        expected.backward()
        out[name] = {
            'loss': [float(total), float(expected)],
            'grad': [float((p.grad - q.grad).abs().max() /
                           q.grad.abs().max())
                     for p, q in zip(model.parameters(),
                                     reference.parameters())],
            'metrics': [sharded_metrics, single.evaluate('test')],
        }
    if env.rank == 0:
        with open(sys.argv[1], 'w') as f:
            json.dump(out, f)
"""


def test_one_step_and_evaluation_match_one_process(tmp_path):
    # The gradient of one global batch (BPR with per-user negatives, and
    # in-batch SSM over the gathered global batch) and the user-sharded
    # evaluation equal those of a single process.
    script = tmp_path / 'step.py'
    script.write_text(STEP_SCRIPT)
    _torchrun([str(tmp_path / 'out.json')], script=script)
    out = json.loads((tmp_path / 'out.json').read_text())
    for name in ('bpr', 'ssm-global'):
        two, one = out[name]['loss']
        assert two == pytest.approx(one, rel=1e-6)
        assert max(out[name]['grad']) < 1e-5
        _close(*out[name]['metrics'], 1e-9)


STALL_SCRIPT = r"""
import os
import signal
import sys
import time

from pyg_simce import cli
from pyg_simce.train.checkpointing import CheckpointingMixin

if os.environ['RANK'] == '1':  # freezes once epoch 1 is checkpointed
    real = CheckpointingMixin.save_checkpoint

    def stalling(self, path=None):
        out = real(self, path)
        os.kill(os.getpid(), signal.SIGSTOP)
        return out

    CheckpointingMixin.save_checkpoint = stalling
cli.console_main(sys.argv[1:])
"""


def _state(pid):
    with open(f'/proc/{pid}/stat') as f:
        return f.read().rsplit(')', 1)[1].split()[0]


@pytest.mark.skipif(not Path('/proc').is_dir(), reason='needs /proc')
def test_stalled_peer_ends_the_run_within_the_timeout(tmp_path):
    # Rank 1 is stopped with SIGSTOP after the checkpoint of epoch 1; rank 0
    # must end with a clear error within --dist-timeout, keeping last.pt.
    timeout = 6
    script = tmp_path / 'stall.py'
    script.write_text(STALL_SCRIPT)
    ck = tmp_path / 'ck'
    args = DATA + ['--loss', 'bpr', '--batch-size', '64', '--quiet',
                   '--epochs', '3', '--checkpoint-dir', str(ck),
                   '--dist-timeout', str(timeout)]
    port = _free_port()
    procs = []
    for rank in (0, 1):
        env = dict(os.environ, OMP_NUM_THREADS='1', MASTER_ADDR='127.0.0.1',
                   MASTER_PORT=str(port), WORLD_SIZE='2', RANK=str(rank),
                   LOCAL_RANK=str(rank), PYTHONPATH=str(REPO))
        procs.append(subprocess.Popen(
            [sys.executable, str(script), 'train', *args], cwd=REPO,
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True))
    try:
        deadline = time.monotonic() + 120
        while _state(procs[1].pid) != 'T':
            assert procs[0].poll() is None and procs[1].poll() is None, \
                procs[0].communicate()[1][-2000:]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        stopped = time.monotonic()
        _, err = procs[0].communicate(timeout=timeout + 60)
        elapsed = time.monotonic() - stopped
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
    assert procs[0].returncode == 2, err[-2000:]
    assert elapsed < timeout + 15, elapsed
    assert 'Traceback' not in err, err
    [line] = [x for x in err.splitlines() if x.startswith('pyg-simce:')]
    assert line.startswith('pyg-simce: error: rank 0: ')
    assert f'timeout of {timeout} s' in line and 'checkpoint is kept' in line
    from pyg_simce.train import load_checkpoint
    assert load_checkpoint(ck / 'last.pt')['epoch'] == 1


def test_session_timeout_is_checked():
    with pytest.raises(ValueError, match='timeout'):
        with distributed_session('cpu', timeout=0):
            pass
