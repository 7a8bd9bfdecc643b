r"""The model file: one file that holds everything needed to recommend from a
trained model or a fitted baseline, and loads with
:obj:`torch.load(..., weights_only=True)` (no code runs while reading it).

A model file is a :func:`torch.save` archive of a dictionary of tensors and
plain Python values:

.. code-block:: text

    format      'pyg_simce.model'
    version     1
    class       'LightGCN' | 'MF' | 'SVDPP' | 'GFCF' | 'EASE' | 'IALS'
                | 'ItemKNN' | 'MostPopular'
    init_args   the constructor arguments
    state       the weights (a state dict, or a baseline's fitted arrays)
    num_users, num_items
    edge_index  the training graph [2, E] (propagation, exclusion of the
                training items, popularity), or None
    user_raw_id, item_raw_id
                raw ids (a LongTensor, a list of str, or None)
    metadata    versions and what the writer added (e.g. the CLI options)

The class is looked up in an allow-list by its name (:func:`model_classes`),
never imported from a name found in the file.  Files are written atomically
(temporary file, :func:`os.fsync`, :func:`os.replace`, permissions from the
umask) with :func:`~pyg_simce.train.checkpoint.save_checkpoint`.
"""
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor

#: The value of the :obj:`'format'` entry of every model file.
MODEL_FORMAT = 'pyg_simce.model'
#: The version this code writes and the versions it reads.
MODEL_VERSION = 1
SUPPORTED_VERSIONS = (1, )

PathLike = Union[str, os.PathLike]


def model_classes() -> Dict[str, type]:
    r"""The allow-list of the classes a model file may name: the models of
    :mod:`pyg_simce.nn.models` and the baselines of
    :mod:`pyg_simce.baselines`."""
    from pyg_simce.baselines.ease import EASE
    from pyg_simce.baselines.gfcf import GFCF
    from pyg_simce.baselines.ials import IALS
    from pyg_simce.baselines.item_knn import ItemKNN
    from pyg_simce.baselines.most_popular import MostPopular
    from pyg_simce.nn.models.lightgcn import LightGCN
    from pyg_simce.nn.models.mf import MF
    from pyg_simce.nn.models.svdpp import SVDPP
    return {cls.__name__: cls for cls in (MF, LightGCN, SVDPP, GFCF, EASE,
                                          IALS, ItemKNN, MostPopular)}


def safe_raw_ids(raw_id: Any, num_nodes: int, name: str) -> Any:
    r"""A raw-id vocabulary as a model file stores it: a
    :class:`torch.LongTensor` for integer ids, a list of :obj:`str`
    otherwise, :obj:`None` when unknown."""
    if raw_id is None:
        return None
    if isinstance(raw_id, Tensor):
        out = raw_id.detach().cpu()
    else:
        array = np.asarray(raw_id)
        if array.dtype.kind in 'iu':
            out = torch.from_numpy(array.astype(np.int64))
        else:
            out = [str(v) for v in array.reshape(-1).tolist()]
    if isinstance(out, Tensor):
        if out.dtype.is_floating_point or out.dim() != 1:
            raise ValueError(f"'{name}' expected a 1-dimensional vector of "
                             f"integer or string raw ids (got "
                             f"{out.dtype}, shape {list(out.shape)})")
        out = out.long()
    if len(out) != num_nodes:
        raise ValueError(f"'{name}' expected one raw id per node, "
                         f"{num_nodes} (got {len(out)})")
    return out


def train_graph(train_data: Any, num_users: int, num_items: int
                ) -> Tuple[Optional[Tensor], Any, Any]:
    r"""Returns :obj:`(edge_index, user_raw_id, item_raw_id)` of
    :obj:`train_data`: a :obj:`[2, E]` tensor (no raw ids), a
    :class:`~torch_geometric.data.HeteroData` (its
    :obj:`('user', 'rates', 'item')` edges and :obj:`raw_id` attributes), an
    :class:`~pyg_simce.data.InteractionSplit` (its :obj:`train` part) or
    :obj:`None`."""
    from pyg_simce.nn.conv.norm import check_edge_index
    if train_data is None:
        return None, None, None
    if isinstance(train_data, Tensor):
        check_edge_index(train_data, (num_users, num_items),
                         name='train_data')
        return train_data.detach().cpu().long(), None, None
    from pyg_simce.data.raw_ids import raw_ids_of
    if hasattr(train_data, 'train') and not hasattr(train_data, 'edge_types'):
        train_data = train_data.train
    try:
        edge_index = train_data['user', 'rates', 'item'].edge_index
    except (KeyError, AttributeError, TypeError):
        raise ValueError(f"'train_data' expected a [2, E] edge tensor or a "
                         f"HeteroData with ('user', 'rates', 'item') "
                         f"edge_index (got {type(train_data).__name__})"
                         ) from None
    check_edge_index(edge_index, (num_users, num_items), name='train_data')
    user_raw, item_raw = raw_ids_of(train_data)
    return edge_index.detach().cpu().long(), user_raw, item_raw


def constructor_args(model: Any) -> Dict[str, Any]:
    r"""The constructor arguments that rebuild :obj:`model`, read from its
    attributes named like the arguments of its class's :meth:`__init__`."""
    import inspect

    params = inspect.signature(type(model).__init__).parameters
    return {name: getattr(model, name) for name in params
            if name not in ('self', 'args', 'kwargs')}


def save_model_file(model: Any, path: PathLike, *, init_args: Dict[str, Any],
                    state: Dict[str, Any], num_users: int, num_items: int,
                    edge_index: Optional[Tensor], user_raw_id: Any = None,
                    item_raw_id: Any = None,
                    metadata: Optional[Dict[str, Any]] = None) -> Path:
    r"""Writes a model file (the layout of this module) atomically; called
    by the models' and baselines' :meth:`save`."""
    from pyg_simce import __version__
    from pyg_simce.train.checkpoint import save_checkpoint, to_safe
    name = type(model).__name__
    if model_classes().get(name) is not type(model):
        raise ValueError(f"save() expected a model of one of "
                         f"{', '.join(model_classes())} (got "
                         f"{type(model).__module__}.{name}, which a model "
                         f"file cannot name)")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"model file '{path}' expected a file path (got a "
                         f"directory)")
    if not path.parent.is_dir():
        raise ValueError(f"model file '{path}' expected an existing parent "
                         f"directory (got none: '{path.parent}')")
    meta = {'pyg_simce': __version__, 'torch': str(torch.__version__)}
    meta.update(metadata or {})
    try:
        meta = to_safe(meta)
    except TypeError as e:
        raise ValueError(f"'metadata' expected tensors and plain Python "
                         f"values ({e})") from None
    content = {
        'format': MODEL_FORMAT,
        'version': MODEL_VERSION,
        'class': name,
        'init_args': init_args,
        'state': state,
        'num_users': int(num_users),
        'num_items': int(num_items),
        'edge_index': edge_index,
        'user_raw_id': safe_raw_ids(user_raw_id, num_users, 'user_raw_id'),
        'item_raw_id': safe_raw_ids(item_raw_id, num_items, 'item_raw_id'),
        'metadata': meta,
    }
    return save_checkpoint(content, path)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return f'{type(e).__name__}: {text.splitlines()[0]}' if text else \
        type(e).__name__


def read_model_file(path: PathLike,
                    map_location: Any = 'cpu') -> Dict[str, Any]:
    r"""Reads and checks a model file with
    :obj:`torch.load(weights_only=True)`; returns its dictionary.

    Raises:
        FileNotFoundError: If :obj:`path` is not a file.
        ValueError: Naming the file, if it is not a model file, is damaged
            or truncated, holds objects other than tensors and plain values
            (refused without running anything), or has an unknown version or
            class.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file '{path}' does not exist" +
                                (' (got a directory)' if path.is_dir()
                                 else ''))
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError,
                ValueError, NotImplementedError) as e:
            raise ValueError(f"model file '{path}' is damaged or truncated "
                             f"({_first_line(e)})") from None
        if bad is not None:
            raise ValueError(f"model file '{path}' is damaged (entry "
                             f"'{bad}' fails its CRC-32 check)")
    try:
        content = torch.load(path, map_location=map_location,
                             weights_only=True)
    except pickle.UnpicklingError as e:
        if 'weights only' in str(e).lower() or 'weights_only' in str(e):
            raise ValueError(
                f"model file '{path}' refused: not a pyg_simce model file "
                f"(torch.load(weights_only=True) found content other than "
                f"tensors and plain Python values; nothing in it was run)"
            ) from None
        raise ValueError(f"model file '{path}' is not a pyg_simce model "
                         f"file, or it is truncated ({_first_line(e)})"
                         ) from None
    except (RuntimeError, EOFError, OSError, AttributeError, ValueError,
            TypeError, KeyError, IndexError) as e:
        raise ValueError(f"model file '{path}' is not a pyg_simce model "
                         f"file, or it is truncated ({_first_line(e)})"
                         ) from None
    if not isinstance(content, dict) or \
            content.get('format') != MODEL_FORMAT:
        hint = ''
        if isinstance(content, dict) and 'model' in content and \
                'format' in content:
            hint = ('; it looks like a training checkpoint: use '
                    "'pyg-simce eval', or save a model with "
                    "'pyg-simce train --save-model'")
        raise ValueError(f"model file '{path}' is not a pyg_simce model "
                         f"file (expected format '{MODEL_FORMAT}'){hint}")
    version = content.get('version')
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"model file '{path}' has unknown version "
                         f"{version!r} (this pyg_simce reads version "
                         f"{', '.join(map(str, SUPPORTED_VERSIONS))}); "
                         f"upgrade pyg_simce")
    name = content.get('class')
    if name not in model_classes():
        raise ValueError(f"model file '{path}' names unknown class "
                         f"{name!r} (expected one of "
                         f"{', '.join(model_classes())})")
    for key in ('init_args', 'state', 'num_users', 'num_items'):
        if key not in content:
            raise ValueError(f"model file '{path}' lacks the entry "
                             f"'{key}'")
    return content


def load_model(path: PathLike, map_location: Any = 'cpu',
               expected: Optional[type] = None) -> Any:
    r"""Loads a model or baseline saved with its :meth:`save` (also
    :func:`pyg_simce.load`): rebuilt from the constructor arguments in the
    file, with its weights, its training graph
    (:attr:`train_edge_index`) and its raw-id maps (:attr:`user_raw_id`,
    :attr:`item_raw_id`).

    Args:
        path (str or os.PathLike): The model file.
        map_location (str or torch.device, optional): Where the tensors of a
            model of :mod:`pyg_simce.nn.models` go; baselines stay on the
            CPU. (default: :obj:`'cpu'`)
        expected (type, optional): Refuse a file whose class is not a
            subclass of this. (default: :obj:`None`)
    """
    content = read_model_file(path, map_location)
    cls = model_classes()[content['class']]
    if expected is not None and not issubclass(cls, expected):
        raise ValueError(f"model file '{path}' holds a {cls.__name__} "
                         f"(expected a {expected.__name__})")
    try:
        return cls._from_model_file(content, map_location)
    except (KeyError, TypeError, RuntimeError, ValueError,
            AttributeError) as e:
        raise ValueError(f"model file '{path}' holds a {cls.__name__} that "
                         f"cannot be rebuilt ({_first_line(e)})") from None


__all__ = [
    'MODEL_FORMAT',
    'MODEL_VERSION',
    'model_classes',
    'read_model_file',
    'load_model',
    'save_model_file',
]
