r"""pyg_simce: collaborative filtering with modern ranking losses on PyTorch
Geometric.

The sub-packages are imported lazily so that ``import pyg_simce`` stays cheap
for the command line.
"""
import importlib
from typing import Any

__version__ = '0.1.0'

__all__ = [
    'data',
    'sampler',
    'nn',
    'metrics',
    'train',
    '__version__',
]


def __getattr__(name: str) -> Any:
    if name in __all__ and name != '__version__':
        return importlib.import_module(f'{__name__}.{name}')
    raise AttributeError(f"module 'pyg_simce' has no attribute '{name}'")
