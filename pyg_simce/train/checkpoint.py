r"""Atomic, resumable checkpoints that load with
:obj:`torch.load(weights_only=True)`.

A checkpoint is a plain dictionary of tensors and Python primitives.  It is
written to a temporary file in the destination folder, flushed and
:func:`os.fsync`-ed, then moved over the destination with :func:`os.replace`,
so that a crash or a full disk never leaves a truncated checkpoint behind:
readers see either the previous file or the new one.

Every load checks the CRC-32 of each entry of the archive (which
:func:`torch.load` does not), so that a damaged file is refused instead of
resuming with altered weights.  The checkpoint a new :obj:`last.pt`
replaces is kept as :obj:`prev.pt` for a resume to fall back on.
"""
import os
import pickle
import tempfile
import time
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch

#: The file name of the most recent checkpoint in a checkpoint folder.
LAST_CHECKPOINT = 'last.pt'

#: The file name of the checkpoint :obj:`last.pt` replaced, kept for a
#: resume to fall back on when :obj:`last.pt` is damaged.
PREVIOUS_CHECKPOINT = 'prev.pt'

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


def save_checkpoint(state: Dict[str, Any], path: PathLike,
                    previous: Optional[PathLike] = None) -> Path:
    r"""Writes :obj:`state` to :obj:`path` atomically.

    The state is first converted with :func:`to_safe`.  The bytes go to a
    temporary file in the same folder, which is flushed, synced to disk and
    renamed over :obj:`path`.  If anything fails midway, the temporary file
    is removed and :obj:`path` keeps its previous content.  Temporary files
    of this naming left by an earlier crash are removed first.  The file is
    created with the permissions the umask allows (like :func:`open`).

    Args:
        state (dict): The checkpoint content.
        path (str or os.PathLike): The destination file.
        previous (str or os.PathLike, optional): If given, an existing
            :obj:`path` is first kept here, to keep one previous checkpoint
            (a hard link renamed into place: :obj:`path` exists at every
            moment). (default: :obj:`None`)

    Returns:
        The destination as a :class:`pathlib.Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = to_safe(state)
    remove_stale_temporaries(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp',
                                    dir=path.parent)
    try:
        honour_umask(fd)
        with os.fdopen(fd, 'wb') as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        if previous is not None and path.is_file():
            _keep_copy(path, Path(previous))
        os.replace(tmp_name, path)
    except BaseException:
        _unlink_if_present(tmp_name)
        raise
    _fsync_dir(path.parent)
    return path


def honour_umask(fd: int) -> None:
    r"""Gives the file :obj:`fd` the permissions :func:`open` would
    (:obj:`0o666` less the umask) instead of the :obj:`0o600` of
    :func:`tempfile.mkstemp`."""
    mask = os.umask(0o022)  # reading the umask means setting it
    os.umask(mask)
    os.fchmod(fd, 0o666 & ~mask)


def _keep_copy(src: Path, dst: Path) -> None:
    # dst becomes a hard link to src (no copy of the bytes), replaced
    # atomically; a file system without hard links gets a copy instead.
    tmp = dst.with_name(f'.{dst.name}.{os.getpid()}.{time.time_ns()}.tmp')
    try:
        try:
            os.link(src, tmp)
        except OSError:
            import shutil
            shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        _unlink_if_present(tmp)
        raise


def _unlink_if_present(path: PathLike) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def remove_stale_temporaries(folder: PathLike) -> List[Path]:
    r"""Removes the temporary files :func:`save_checkpoint` names
    (:obj:`.NAME.pt.*.tmp`) that a crash left in :obj:`folder`, and returns
    them.  Only one process should write checkpoints into a folder."""
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for p in folder.glob('.*.pt.*.tmp'):
        try:
            if p.is_file() and not p.is_symlink():
                p.unlink()
                removed.append(p)
        except FileNotFoundError:  # pragma: no cover - removed meanwhile
            pass
    return removed


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


def verify_checkpoint(path: PathLike) -> None:
    r"""Checks that :obj:`path` is an intact :func:`torch.save` archive: a
    readable zip file whose every entry matches its stored CRC-32 (a
    single flipped byte is found).  It reads the whole file once, about as
    long as loading it.

    Raises:
        ValueError: If the file is not a zip archive or an entry is damaged.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError,
            ValueError, NotImplementedError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ''
        raise ValueError(f"checkpoint file '{path}' expected an intact "
                         f"archive written by torch.save (got "
                         f"{type(e).__name__}: {first})") from None
    if bad is not None:
        raise ValueError(f"checkpoint file '{path}' expected an intact "
                         f"archive written by torch.save (got a damaged "
                         f"entry '{bad}': its CRC-32 does not match)")


def load_checkpoint(path: PathLike,
                    map_location: Optional[Union[str, torch.device]] = 'cpu'
                    ) -> Dict[str, Any]:
    r"""Loads a checkpoint written by :func:`save_checkpoint` with
    :obj:`torch.load(weights_only=True)`, so that no arbitrary code runs,
    after checking the CRC-32 of every entry with
    :func:`verify_checkpoint`.

    Args:
        path (str or os.PathLike): The checkpoint file.
        map_location (str or torch.device, optional): Where to put the
            tensors. (default: :obj:`'cpu'`)

    Raises:
        FileNotFoundError: If :obj:`path` does not exist.
        ValueError: If the file is damaged or not a readable checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file '{path}' does not exist")
    verify_checkpoint(path)
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
    r"""Returns the most recent checkpoint in :obj:`folder`
    (:obj:`last.pt`, else a kept :obj:`prev.pt`), or :obj:`None` if there is
    none."""
    for name in (LAST_CHECKPOINT, PREVIOUS_CHECKPOINT):
        path = Path(folder) / name
        if path.is_file():
            return path
    return None


def move_aside(folder: PathLike, extra: Sequence[PathLike] = ()
               ) -> Optional[Path]:
    r"""Moves the checkpoints of :obj:`folder` (:obj:`last.pt`,
    :obj:`prev.pt`) and the existing files of :obj:`extra` (*e.g.* the
    log) into a new subfolder :obj:`folder/replaced-YYYYmmdd-HHMMSS`, so
    that a fresh run can start there; nothing is deleted.

    Returns:
        The subfolder, or :obj:`None` if there was nothing to move.
    """
    folder = Path(folder)
    files = [folder / LAST_CHECKPOINT, folder / PREVIOUS_CHECKPOINT]
    files += [Path(p) for p in extra]
    files = [p for p in dict.fromkeys(files) if p.is_file()]
    if not files:
        return None
    stamp = time.strftime('%Y%m%d-%H%M%S', time.gmtime())
    target = folder / f'replaced-{stamp}'
    n = 1
    while True:
        try:
            target.mkdir()
            break
        except FileExistsError:
            n += 1
            target = folder / f'replaced-{stamp}-{n}'
    for p in files:
        os.replace(p, target / p.name)
    _fsync_dir(folder)
    return target
