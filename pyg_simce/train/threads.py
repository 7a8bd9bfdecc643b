r"""How many torch CPU threads to use."""
import os
from typing import Union


def resolve_threads(value: Union[int, str]) -> int:
    r"""Returns the number of torch CPU threads for a ``--threads`` option:
    a positive integer as given, or :obj:`'auto'`.

    :obj:`'auto'` keeps torch's default unless the machine is already busy
    (one-minute load average within half a core of the core count), in which
    case it picks one thread: parallel kernels stall on cores that other
    processes keep busy, and one thread is then faster.

    Args:
        value (int or str): A positive integer, its string, or
            :obj:`'auto'`.

    Raises:
        ValueError: for anything else, naming the option.
    """
    import torch

    if isinstance(value, bool):
        raise ValueError(f"--threads expected a positive integer or 'auto' "
                         f"(got {value!r})")
    if isinstance(value, int):
        threads = value
    elif str(value).strip().lower() == 'auto':
        threads = torch.get_num_threads()
        try:
            load = os.getloadavg()[0]
        except (OSError, AttributeError):  # pragma: no cover - Windows
            load = 0.0
        if threads > 1 and load >= (os.cpu_count() or 1) - 0.5:
            threads = 1
    else:
        try:
            threads = int(str(value).strip())
        except ValueError:
            raise ValueError(f"--threads expected a positive integer or "
                             f"'auto' (got '{value}')") from None
    if threads < 1:
        raise ValueError(f"--threads expected a positive integer or 'auto' "
                         f"(got {threads})")
    return threads
