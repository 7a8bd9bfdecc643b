r"""Helpers for the test suite, in the spirit of :mod:`torch_geometric.testing`.

Tests that read the real benchmark data call :func:`require_shared_data`.  It
skips with a clear reason when the data folder is absent, as on a user's fresh
clone, and the test always runs when the folder is present, as in CI.
"""
import os
from pathlib import Path
from typing import Callable

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path:
    r"""Where the real data sets live for the tests: ``$PYG_SIMCE_DATA`` when
    set, else ``../shared/data`` beside the repository checkout."""
    env = os.environ.get('PYG_SIMCE_DATA')
    if env:
        return Path(env)
    return REPO_ROOT.parent / 'shared' / 'data'


def require_shared_data(*parts: str) -> Path:
    r"""Returns ``shared_data_root() / parts``, or skips the calling test with
    a reason naming the missing path."""
    import pytest

    path = shared_data_root().joinpath(*parts)
    if not path.exists():
        pytest.skip(f'real data not available: {path} does not exist '
                    f'(set $PYG_SIMCE_DATA or place the data in '
                    f'../shared/data)')
    return path


def with_package(name: str) -> Callable:
    r"""Skips the decorated test when the optional package :obj:`name` is not
    importable."""
    import importlib.util

    import pytest

    found = importlib.util.find_spec(name) is not None
    return pytest.mark.skipif(not found, reason=f"package '{name}' not found")
