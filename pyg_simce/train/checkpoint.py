r"""Atomic, resumable checkpoints that load with
:obj:`torch.load(weights_only=True)`.

A checkpoint is a plain dictionary of tensors and Python primitives.  It is
written to a temporary file in the destination folder, flushed and
:func:`os.fsync`-ed, then moved over the destination with :func:`os.replace`,
so that a crash or a full disk never leaves a truncated checkpoint behind:
readers see either the previous file or the new one.
"""
import os
import pickle
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np
import torch

#: The file name of the most recent checkpoint in a checkpoint folder.
LAST_CHECKPOINT = 'last.pt'

PathLike = Union[str, os.PathLike]


def to_safe(obj: Any) -> Any:
    r"""Converts :obj:`obj` recursively into values that
    :obj:`torch.load(weights_only=True)` accepts: NumPy arrays become
    tensors, NumPy scalars become Python numbers, tuples stay tuples.

    Raises:
        TypeError: If a value of another type is found.
    """
    if obj is None:
        return obj
    # Subclasses (e.g. torch.__version__, a TorchVersion) become plain
    # built-ins, which weights_only loading accepts.
    for kind in (bool, int, float, str, bytes):
        if isinstance(obj, kind):
            return kind(obj)
    if isinstance(obj, torch.Tensor):
        return obj
    if isinstance(obj, (torch.Size, torch.dtype, torch.device)):
        return obj
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(obj)).clone()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, OrderedDict):
        return OrderedDict((k, to_safe(v)) for k, v in obj.items())
    if isinstance(obj, dict):
        return {k: to_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_safe(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(to_safe(v) for v in obj)
    raise TypeError(f"checkpoint values expected tensors or Python "
                    f"primitives (got {type(obj).__name__})")


def save_checkpoint(state: Dict[str, Any], path: PathLike) -> Path:
    r"""Writes :obj:`state` to :obj:`path` atomically.

    The state is first converted with :func:`to_safe`.  The bytes go to a
    temporary file in the same folder, which is flushed, synced to disk and
    renamed over :obj:`path`.  If anything fails midway, the temporary file
    is removed and :obj:`path` keeps its previous content.

    Args:
        state (dict): The checkpoint content.
        path (str or os.PathLike): The destination file.

    Returns:
        The destination as a :class:`pathlib.Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = to_safe(state)
    fd, tmp_name = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp',
                                    dir=path.parent)
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not supported on every platform.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: PathLike,
                    map_location: Optional[Union[str, torch.device]] = 'cpu'
                    ) -> Dict[str, Any]:
    r"""Loads a checkpoint written by :func:`save_checkpoint` with
    :obj:`torch.load(weights_only=True)`, so that no arbitrary code runs.

    Args:
        path (str or os.PathLike): The checkpoint file.
        map_location (str or torch.device, optional): Where to put the
            tensors. (default: :obj:`'cpu'`)

    Raises:
        FileNotFoundError: If :obj:`path` does not exist.
        ValueError: If the file is not a readable checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file '{path}' does not exist")
    try:
        state = torch.load(path, map_location=map_location,
                           weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError,
            AttributeError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ''
        raise ValueError(f"checkpoint file '{path}' expected a pyg_simce "
                         f"checkpoint readable with weights_only=True "
                         f"({type(e).__name__}: {first})") from None
    if not isinstance(state, dict) or 'format' not in state:
        raise ValueError(f"checkpoint file '{path}' expected a pyg_simce "
                         f"checkpoint (got a {type(state).__name__} without "
                         f"a 'format' entry)")
    return state


def latest_checkpoint(folder: PathLike) -> Optional[Path]:
    r"""Returns the most recent checkpoint in :obj:`folder`, or :obj:`None`
    if there is none."""
    path = Path(folder) / LAST_CHECKPOINT
    return path if path.is_file() else None
