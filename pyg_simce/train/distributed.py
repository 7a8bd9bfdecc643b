r"""Multi-process training on :mod:`torch.distributed`.

A run started by ``torchrun --nproc_per_node=N -m pyg_simce train ...`` sees
the environment variables :obj:`WORLD_SIZE`, :obj:`RANK` and
:obj:`LOCAL_RANK`; :func:`distributed_session` joins the process group
(``gloo`` on CPU, ``nccl`` on CUDA) and leaves it at the end, also on error.
Without these variables (or with :obj:`WORLD_SIZE=1`) everything here is a
no-op and a run is a plain single-process run.

The collectives used by the trainer:

* :func:`all_gather_with_grad` concatenates a tensor of every process along
  its first dimension (sizes may differ by process) and sums the gradients
  of every process back into each part, so that in-batch negatives can be
  drawn from the global batch.
* :func:`all_reduce_sums` adds metric sums and user counts of disjoint user
  shards, so that evaluation can be split across processes.
"""
import contextlib
import datetime
import os
from typing import Dict, Iterator, List, NamedTuple, Optional, Tuple, Union

import torch
import torch.distributed as dist
from torch import Tensor

from pyg_simce.train.exceptions import CollectiveTimeoutError

__all__ = [
    'DEFAULT_TIMEOUT',
    'DistributedEnv',
    'distributed_env',
    'distributed_session',
    'is_distributed',
    'get_rank',
    'get_world_size',
    'all_gather_with_grad',
    'all_reduce_sums',
]


#: Seconds a collective waits for the other processes before the run ends
#: with an error (:func:`distributed_session`).
DEFAULT_TIMEOUT = 600.0


class DistributedEnv(NamedTuple):
    r"""The process' place in a multi-process run, as set by ``torchrun``:
    :obj:`rank` (global), :obj:`local_rank` (on this host) and
    :obj:`world_size` (number of processes)."""
    rank: int
    local_rank: int
    world_size: int


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == '':
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable '{name}' expected an "
                         f"integer (got '{value}')") from None


def distributed_env() -> DistributedEnv:
    r"""Reads :obj:`RANK`, :obj:`LOCAL_RANK` and :obj:`WORLD_SIZE` from the
    environment (:obj:`0, 0, 1` when absent).

    Raises:
        ValueError: If the values are not integers or :obj:`RANK` is not in
            :obj:`[0, WORLD_SIZE)`.
    """
    world_size = _env_int('WORLD_SIZE', 1)
    rank = _env_int('RANK', 0)
    local_rank = _env_int('LOCAL_RANK', rank)
    if world_size < 1:
        raise ValueError(f"environment variable 'WORLD_SIZE' expected a "
                         f"positive integer (got {world_size})")
    if not 0 <= rank < world_size:
        raise ValueError(f"environment variable 'RANK' expected a value in "
                         f"[0, {world_size}) (got {rank})")
    return DistributedEnv(rank, local_rank, world_size)


def is_distributed() -> bool:
    r"""Whether a process group with more than one process is active."""
    return (dist.is_available() and dist.is_initialized()
            and dist.get_world_size() > 1)


def get_rank() -> int:
    r"""This process' rank, :obj:`0` outside a process group."""
    return dist.get_rank() if is_distributed() else 0


def get_world_size() -> int:
    r"""The number of processes, :obj:`1` outside a process group."""
    return dist.get_world_size() if is_distributed() else 1


@contextlib.contextmanager
def distributed_session(
    device: Union[str, torch.device] = 'cpu',
    backend: Optional[str] = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Iterator[Tuple[DistributedEnv, torch.device]]:
    r"""Joins the process group described by the environment for the
    duration of the :obj:`with` block and destroys it afterwards, also when
    the block raises.

    Yields :obj:`(env, device)`: on CUDA each process is given the device
    :obj:`cuda:LOCAL_RANK`, so that ``--device cuda`` means one GPU per
    process.  With :obj:`WORLD_SIZE` absent or :obj:`1`, or when a process
    group already exists (it is then left alone), nothing is initialised.

    Args:
        device (str or torch.device, optional): The device asked for.
            (default: :obj:`'cpu'`)
        backend (str, optional): The process-group backend.
            (default: :obj:`'nccl'` on CUDA, else :obj:`'gloo'`)
        timeout (float, optional): Seconds a collective (and joining the
            group) waits for the other processes.  A process stalled longer
            (frozen, swapping, on a dead host) ends the run with a
            :class:`~pyg_simce.train.CollectiveTimeoutError` (a
            :class:`TimeoutError`) on the processes that wait for it; the
            last checkpoint written is kept.  It must exceed the longest
            phase a process runs alone, *e.g.* a first dataset download.
            (default: :obj:`600.0`)

    Raises:
        CollectiveTimeoutError: If a collective waited longer than
            :obj:`timeout`.  End the process with :func:`os._exit` after
            reporting it (see the class).
    """
    if not (isinstance(timeout, (int, float)) and timeout > 0
            and timeout != float('inf')):
        raise ValueError(f"'timeout' expected a positive finite number of "
                         f"seconds (got {timeout!r})")
    env = distributed_env()
    device = torch.device(device)
    if env.world_size == 1 or (dist.is_available() and dist.is_initialized()):
        yield env, device
        return
    if not dist.is_available():  # pragma: no cover - builds without it
        raise ValueError(f"WORLD_SIZE={env.world_size} expected a torch "
                         f"build with torch.distributed (got none)")
    if device.type == 'cuda':
        device = torch.device('cuda', env.local_rank)
        torch.cuda.set_device(device)
    if backend is None:
        backend = 'nccl' if device.type == 'cuda' else 'gloo'
    dist.init_process_group(backend=backend, rank=env.rank,
                            world_size=env.world_size,
                            timeout=datetime.timedelta(seconds=timeout))
    try:
        yield env, device
    except RuntimeError as e:
        if not _is_timeout(e):
            raise
        raise CollectiveTimeoutError(
            f"rank {env.rank}: a collective expected every process to answer "
            f"within the timeout of {timeout:g} s (got {type(e).__name__}: "
            f"{_first_line(e)}); a peer process is stalled or gone, the last "
            f"checkpoint is kept") from e
    finally:
        dist.destroy_process_group()


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else ''


def _is_timeout(e: BaseException) -> bool:
    # gloo reports "Timed out waiting ...ms for recv operation", NCCL's
    # watchdog "Watchdog caught collective operation timeout".
    text = str(e).lower()
    return 'timed out' in text or 'timeout' in text


class _GatherWithGrad(torch.autograd.Function):
    # Forward: all_gather of row blocks padded to the largest block.
    # Backward: the gradient of the concatenation summed over processes
    # (one all_reduce), then this process' block.
    @staticmethod
    def forward(ctx, x: Tensor, sizes: List[int], rank: int) -> Tensor:
        width = max(sizes)
        padded = x.new_zeros((width, ) + tuple(x.shape[1:]))
        padded[:x.size(0)] = x
        parts = [torch.empty_like(padded) for _ in sizes]
        dist.all_gather(parts, padded.contiguous())
        ctx.sizes, ctx.rank = sizes, rank
        return torch.cat([p[:n] for p, n in zip(parts, sizes)], dim=0)

    @staticmethod
    def backward(ctx, grad: Tensor):
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        start = sum(ctx.sizes[:ctx.rank])
        return grad[start:start + ctx.sizes[ctx.rank]], None, None


def all_gather_with_grad(x: Tensor,
                         sizes: Optional[List[int]] = None) -> Tensor:
    r"""Concatenates :obj:`x` of every process along dimension 0, in rank
    order, differentiably: the gradient reaching process :math:`r`'s part is
    the sum over all processes of the gradients of their losses with
    respect to it.

    Outside a process group it returns :obj:`x`.

    Args:
        x (torch.Tensor): This process' rows :obj:`[n_r, ...]`.
        sizes (List[int], optional): :math:`n_r` of every process, when
            known (saves one collective). (default: :obj:`None`)

    Shapes:
        - **input:** :obj:`[n_r, *]`
        - **output:** :obj:`[sum_r n_r, *]`
    """
    if not is_distributed():
        return x
    world_size, rank = dist.get_world_size(), dist.get_rank()
    if sizes is None:
        n = torch.tensor([x.size(0)], device=x.device)
        ns = [torch.zeros_like(n) for _ in range(world_size)]
        dist.all_gather(ns, n)
        sizes = [int(v) for v in ns]
    if len(sizes) != world_size or sizes[rank] != x.size(0):
        raise ValueError(f"'sizes' expected {world_size} block sizes with "
                         f"{x.size(0)} at rank {rank} (got {sizes})")
    return _GatherWithGrad.apply(x, list(sizes), rank)


def all_reduce_sums(sums: Dict[str, float], count: int,
                    device: Union[str, torch.device] = 'cpu'
                    ) -> Tuple[Dict[str, float], int]:
    r"""Adds the metric :obj:`sums` and the user :obj:`count` of every
    process (float64).  A process whose shard had no users may pass an
    empty dictionary; the keys are taken from the processes that have them.
    Outside a process group the input is returned.

    Args:
        sums (Dict[str, float]): Per-user metric sums of this process.
        count (int): Users these sums are over.
        device (str or torch.device, optional): Where the reduction runs
            (the process' device for ``nccl``). (default: :obj:`'cpu'`)
    """
    if not is_distributed():
        return dict(sums), int(count)
    keys_list: List[Optional[List[str]]] = [None] * dist.get_world_size()
    dist.all_gather_object(keys_list, sorted(sums))
    keys = sorted({k for ks in keys_list if ks for k in ks})
    values = torch.tensor([float(sums.get(k, 0.0)) for k in keys] +
                          [float(count)], dtype=torch.float64,
                          device=device)
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    values = values.cpu().tolist()
    return dict(zip(keys, values[:-1])), int(round(values[-1]))
