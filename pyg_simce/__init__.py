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
    'load',
    '__version__',
]


def load(path: Any, map_location: Any = 'cpu') -> Any:
    r"""Loads a model or a fitted baseline written by its :meth:`save` (or
    by ``pyg-simce train --save-model``), whatever its class; see
    :func:`pyg_simce.model_file.load_model`.

    Args:
        path (str or os.PathLike): The model file.
        map_location (str or torch.device, optional): The device of a model
            of :mod:`pyg_simce.nn.models`. (default: :obj:`'cpu'`)
    """
    from pyg_simce.model_file import load_model
    return load_model(path, map_location)


def __getattr__(name: str) -> Any:
    if name in __all__ and name not in ('__version__', 'load'):
        return importlib.import_module(f'{__name__}.{name}')
    raise AttributeError(f"module 'pyg_simce' has no attribute '{name}'")
