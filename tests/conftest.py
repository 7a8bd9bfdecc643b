r"""Shared test fixtures.

Tests that read the real benchmark data use :func:`shared_data_root` (or the
``shared_data`` fixture).  They skip with a clear reason when the data folder
is absent, as on a user's fresh clone, and always run when it is present, as
in CI.
"""
import os
from pathlib import Path

import pytest

try:
    from hypothesis import settings
    settings.register_profile('ci', deadline=None, max_examples=60,
                              derandomize=True, print_blob=True)
    settings.register_profile('dev', deadline=None, max_examples=60)
    settings.load_profile('ci' if os.environ.get('CI') else 'dev')
except ImportError:  # pragma: no cover - hypothesis is a test extra
    pass

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path:
    r"""Where the real data sets live: ``$PYG_SIMCE_DATA`` if set, else
    ``../shared/data`` beside the repository."""
    env = os.environ.get('PYG_SIMCE_DATA')
    if env:
        return Path(env)
    return REPO_ROOT.parent / 'shared' / 'data'


def require_shared_data(*parts: str) -> Path:
    r"""Returns the path below the shared data root, or skips the calling test
    with a reason naming the missing path."""
    path = shared_data_root().joinpath(*parts)
    if not path.exists():
        pytest.skip(f'real data not available: {path} does not exist '
                    f'(set $PYG_SIMCE_DATA or place the data in '
                    f'../shared/data)')
    return path


@pytest.fixture
def shared_data() -> Path:
    return require_shared_data()
