r"""What the command line writes: error lines, progress and metric lines and
JSON result files."""
import argparse
import contextlib
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, TextIO, Union

PROG = 'pyg-simce'


def _fail(message: str, status: int = 2) -> None:
    message = ' '.join(str(message).split())
    sys.stderr.write(f'{PROG}: error: {message}\n')
    sys.stderr.flush()
    raise SystemExit(status)


def _device_name(device: str) -> str:
    import platform

    import torch
    if device.startswith('cuda'):
        return f'{device} ({torch.cuda.get_device_name(torch.device(device))})'
    return f'cpu ({platform.processor() or platform.machine()}, ' \
           f'{torch.get_num_threads()} threads)'


@contextlib.contextmanager
def atomic_text_file(path: Union[str, Path]) -> Iterator[TextIO]:
    r"""Yields a text file that replaces :obj:`path` atomically when the
    block ends (a temporary file in the same folder, fsync,
    :func:`os.replace`, permissions from the umask); an error removes the
    temporary file and leaves :obj:`path` as it was."""
    import tempfile

    from pyg_simce.train.checkpoint import honour_umask
    path_ = Path(path)
    path_.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path_.name}.', suffix='.tmp',
                               dir=path_.parent)
    try:
        honour_umask(fd)  # mkstemp makes 0600
        with os.fdopen(fd, 'w', encoding='utf-8', newline='') as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path_)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _write_json(path: str, payload: Dict[str, Any]) -> None:
    with atomic_text_file(path) as f:
        json.dump(payload, f, indent=2, allow_nan=False,
                  default=_json_default)
        f.write('\n')


def _json_default(obj: Any) -> Any:
    if hasattr(obj, 'item'):
        return obj.item()
    if hasattr(obj, 'tolist'):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f'not JSON serialisable: {type(obj).__name__}')


def _clean_floats(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean_floats(v) for v in obj]
    return obj


def _say(args: argparse.Namespace, message: str) -> None:
    if not getattr(args, 'quiet', False):
        print(message, flush=True)


def _metric_line(label: str, metrics: Optional[Dict[str, float]]) -> str:
    if not metrics:
        return f'{label}: n/a'
    return (f"{label}: Recall@20 {metrics.get('recall@20', float('nan')):.4f}"
            f"  NDCG@20 {metrics.get('ndcg@20', float('nan')):.4f}")


def _print_results(results: Dict[str, Any], out: Optional[str]) -> None:
    # The closing lines of a training or fitting run.
    if results['valid'] is not None:
        print(_metric_line('valid', results['valid']))
    print(_metric_line('test', results['test']))
    if out:
        print(f'results written to {out}')


def _metric_sort_key(key: str) -> Any:
    name, _, k = key.partition('@')
    order = ['recall', 'ndcg', 'precision', 'hit', 'mrr']
    return (order.index(name) if name in order else len(order),
            int(k) if k.isdigit() else 0, key)


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ','.join(str(v) for v in value)
    return str(value)
