import json
import math
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Union


def _clean(obj: Any) -> Any:
    # Strict JSON: non-finite floats become null.
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, 'item') and callable(obj.item):  # tensor / numpy scalar
        return _clean(obj.item())
    return obj


class JSONLinesLogger:
    r"""Appends one JSON object per line to a file (the
    `JSON Lines <https://jsonlines.org>`_ format), flushing after each record
    so that the log is readable while training runs.

    The logger knows its byte position, which a checkpoint stores.  When a
    run resumes, :meth:`truncate` cuts the file back to that position, so that
    records written after the checkpoint (and lost with the interrupted run)
    are not duplicated.

    Non-finite floats are written as :obj:`null` so that every line is strict
    JSON.

    Args:
        path (str or os.PathLike, optional): The log file.  :obj:`None`
            keeps the records in memory only. (default: :obj:`None`)
        append (bool, optional): If :obj:`False`, an existing file is
            overwritten. (default: :obj:`False`)
    """
    def __init__(self, path: Optional[Union[str, os.PathLike]] = None,
                 append: bool = False) -> None:
        self.path = None if path is None else Path(path)
        self.records: List[Dict[str, Any]] = []
        self._position = 0
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if append and self.path.exists():
                self._position = self.path.stat().st_size
            else:
                self.path.write_bytes(b'')

    @property
    def position(self) -> int:
        r"""The number of bytes written so far (the file size)."""
        return self._position

    def log(self, record: Dict[str, Any]) -> None:
        r"""Writes :obj:`record` as one line."""
        record = _clean(record)
        self.records.append(record)
        if self.path is None:
            return
        line = (json.dumps(record, allow_nan=False, sort_keys=False) +
                '\n').encode()
        with open(self.path, 'ab') as f:
            f.write(line)
            f.flush()
        self._position += len(line)

    def truncate(self, position: int) -> None:
        r"""Cuts the file back to :obj:`position` bytes (a value taken from
        :attr:`position` earlier) and continues appending from there."""
        if self.path is None:
            self._position = int(position)
            return
        if not self.path.exists():
            self.path.write_bytes(b'')
        size = self.path.stat().st_size
        position = int(position)
        if position > size:
            raise ValueError(f"log file '{self.path}' expected at least "
                             f"{position} bytes to resume from (got {size})")
        with open(self.path, 'r+b') as f:
            f.truncate(position)
        self._position = position

    @staticmethod
    def read(path: Union[str, os.PathLike]) -> List[Dict[str, Any]]:
        r"""Reads every record of a JSON-lines file.

        Raises:
            ValueError: If a line is not valid JSON (names file and line).
        """
        records = []
        with open(path) as f:
            for lineno, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{lineno}: expected a JSON "
                                     f"object ({e.msg})") from None
        return records

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.path})'
