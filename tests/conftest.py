import os

import pytest

from pyg_simce.testing import require_shared_data

try:
    from hypothesis import settings
    settings.register_profile('ci', deadline=None, max_examples=60,
                              derandomize=True, print_blob=True)
    settings.register_profile('dev', deadline=None, max_examples=60)
    settings.load_profile('ci' if os.environ.get('CI') else 'dev')
except ImportError:  # pragma: no cover - hypothesis is a test extra
    pass


@pytest.fixture
def shared_data():
    r"""The real data root; skips the test when it is absent."""
    return require_shared_data()
