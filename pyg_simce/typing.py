r"""Optional-dependency flags and type aliases, following
:mod:`torch_geometric.typing`.

Every optional package is detected here once.  Code elsewhere branches on the
flags instead of importing optional packages directly, so the library runs at
full quality with only the hard dependencies (``torch``, ``torch_geometric``,
``numpy``, ``tqdm``).
"""
import warnings
from typing import Tuple, Union

import torch
from torch import Tensor

try:
    import torch_scatter  # noqa: F401
    WITH_TORCH_SCATTER = True
except Exception as e:  # pragma: no cover - depends on the environment
    if not isinstance(e, ImportError):
        warnings.warn(f"An issue occurred while importing 'torch-scatter': {e}")
    WITH_TORCH_SCATTER = False

try:
    import torch_sparse  # noqa: F401
    from torch_sparse import SparseTensor  # noqa: F401
    WITH_TORCH_SPARSE = True
except Exception as e:  # pragma: no cover - depends on the environment
    if not isinstance(e, ImportError):
        warnings.warn(f"An issue occurred while importing 'torch-sparse': {e}")
    WITH_TORCH_SPARSE = False

try:
    import matplotlib  # noqa: F401
    WITH_MATPLOTLIB = True
except ImportError:  # pragma: no cover - depends on the environment
    WITH_MATPLOTLIB = False

#: ``(user_out, item_out)`` as returned by ``get_embedding``.
EmbeddingPair = Tuple[Tensor, Tensor]
#: A pair of node counts ``(num_src, num_dst)``.
SizePair = Tuple[int, int]
#: Anything accepted where a device is expected.
DeviceLike = Union[str, torch.device]

__all__ = [
    'WITH_TORCH_SCATTER',
    'WITH_TORCH_SPARSE',
    'WITH_MATPLOTLIB',
    'EmbeddingPair',
    'SizePair',
    'DeviceLike',
]
