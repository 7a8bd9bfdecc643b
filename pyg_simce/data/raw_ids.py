r"""Mapping contiguous node ids back to the raw ids of the input files."""
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

#: A raw-id vocabulary: ``raw_id[i]`` is the raw id of node ``i``.
RawIds = Union[Tensor, np.ndarray, Sequence[Any]]


def to_raw_ids(raw_id: Optional[RawIds], index: Union[Tensor, Sequence[int]],
               *, num_nodes: Optional[int] = None,
               name: str = 'index') -> List[Any]:
    r"""Maps contiguous node ids to raw ids, refusing anything that is not a
    node: a negative id (such as the :obj:`-1` that
    :meth:`~pyg_simce.nn.models.MF.recommend` puts in the slots of a user
    with fewer than :obj:`k` admissible items) or an id past the last node.
    Plain indexing, ``raw_id[-1]``, would silently return the raw id of the
    last node instead.

    Args:
        raw_id (torch.Tensor or numpy.ndarray or list, optional): The
            vocabulary, e.g. ``data['item'].raw_id``; :obj:`None` when the
            raw ids are the node ids themselves (then :obj:`num_nodes` is
            required).
        index (torch.Tensor or sequence of int): Node ids, any shape.
        num_nodes (int, optional): The number of nodes; by default the
            length of :obj:`raw_id`. (default: :obj:`None`)
        name (str, optional): The argument named in errors.
            (default: :obj:`'index'`)

    Returns:
        A flat list of raw ids (Python :obj:`int` or :obj:`str`), in the
        order of :obj:`index` flattened.

    Raises:
        ValueError: If an id is negative or not below the number of nodes.
    """
    if raw_id is not None and num_nodes is None:
        num_nodes = len(raw_id)
    if num_nodes is None:
        raise ValueError("'num_nodes' expected the number of nodes when "
                         "'raw_id' is None (got None)")
    index = torch.as_tensor(index)
    if index.dtype.is_floating_point or index.dtype == torch.bool:
        raise ValueError(f"'{name}' expected integer node ids (got dtype "
                         f"{index.dtype})")
    flat = index.reshape(-1).long().cpu()
    if flat.numel() > 0:
        lo, hi = int(flat.min()), int(flat.max())
        if lo < 0 or hi >= num_nodes:
            bad = lo if lo < 0 else hi
            what = (' (-1 marks an empty recommendation slot, not an item)'
                    if bad == -1 else '')
            raise ValueError(f"'{name}' expected node ids in [0, "
                             f"{num_nodes}) (got {bad}{what})")
    if raw_id is None:
        return flat.tolist()
    if isinstance(raw_id, Tensor):
        return raw_id.index_select(0, flat.to(raw_id.device)).tolist()
    array = np.asarray(raw_id)
    return array[flat.numpy()].tolist()


def raw_ids_of(data: Any) -> Tuple[Optional[RawIds], Optional[RawIds]]:
    r"""Returns :obj:`(user_raw_id, item_raw_id)` of a
    :class:`~torch_geometric.data.HeteroData` (``data['user'].raw_id`` and
    ``data['item'].raw_id``), :obj:`None` for a missing one."""
    out = []
    for node_type in ('user', 'item'):
        try:
            store = data[node_type]
            out.append(store['raw_id'] if 'raw_id' in store else None)
        except (KeyError, AttributeError, TypeError):
            out.append(None)
    return out[0], out[1]


__all__ = ['to_raw_ids', 'raw_ids_of', 'RawIds']
