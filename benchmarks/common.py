r"""Helpers shared by the benchmark scripts: the environment record every
result carries, a robust timer, and JSON output."""
import json
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch
import torch_geometric

import pyg_simce
from pyg_simce.typing import (
    WITH_MATPLOTLIB,
    WITH_TORCH_SCATTER,
    WITH_TORCH_SPARSE,
)


def environment_info(seed: Optional[int] = None,
                     device: Optional[str] = None) -> Dict[str, Any]:
    r"""Returns what a benchmark result must record to be reproducible: the
    seed, package versions, device and machine."""
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    dev = torch.device(device)
    if dev.type == 'cuda' and torch.cuda.is_available():
        device_name = torch.cuda.get_device_name(dev)
    elif dev.type == 'cuda':
        # A report of GPU runs written on a machine without one (the runs
        # record the machine that trained them).
        device_name = 'no CUDA device on the reporting machine'
    else:
        device_name = platform.processor() or platform.machine()
    return {
        'seed': seed,
        'device': str(dev),
        'device_name': device_name,
        'cpu_count': os.cpu_count(),
        'torch_threads': torch.get_num_threads(),
        'python': sys.version.split()[0],
        'platform': platform.platform(),
        'versions': {
            'pyg_simce': pyg_simce.__version__,
            'torch': torch.__version__,
            'torch_geometric': torch_geometric.__version__,
            'numpy': np.__version__,
        },
        'optional': {
            'torch_scatter': WITH_TORCH_SCATTER,
            'torch_sparse': WITH_TORCH_SPARSE,
            'matplotlib': WITH_MATPLOTLIB,
        },
        'timestamp': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
    }


def time_call(fn: Callable[[], Any], repeat: int = 5,
              warmup: int = 1) -> Dict[str, float]:
    r"""Runs :obj:`fn` :obj:`warmup` times untimed, then :obj:`repeat` times,
    and returns the median, min and max wall time in seconds."""
    for _ in range(warmup):
        fn()
    times: List[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {
        'median': statistics.median(times),
        'min': min(times),
        'max': max(times),
        'repeat': repeat,
    }


def recorded_command(module: str,
                     argv: Optional[List[str]] = None) -> str:
    r"""The command line that reproduces a benchmark, for its results file:
    ``python -m`` :obj:`module` followed by :obj:`argv` (default: this
    process's arguments), each quoted for a POSIX shell, so that a label
    such as ``"MF / SSM"`` or a path with a space is pasted back as the
    same argument."""
    args = sys.argv[1:] if argv is None else list(argv)
    return shlex.join(['python', '-m', module, *args])


def write_json(path: Path, payload: Dict[str, Any]) -> None:
    r"""Writes :obj:`payload` as indented JSON, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + '.tmp')
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + '\n')
    os.replace(tmp, path)
