r"""Summary statistics of an interaction graph or split."""
from typing import Any, Dict, List, Tuple, Union

import numpy as np
import torch
from torch_geometric.data import HeteroData

from pyg_simce.data.bipartite_data import RATES
from pyg_simce.data.interaction_split import InteractionSplit
from pyg_simce.data.split_overlap import overlap_counts

_QUANTILES = (('min', 0.0), ('25%', 0.25), ('50%', 0.5), ('75%', 0.75),
              ('max', 1.0))


def _quantiles(degree: np.ndarray) -> Dict[str, float]:
    if len(degree) == 0:
        return {name: 0.0 for name, _ in _QUANTILES}
    values = np.quantile(degree, [q for _, q in _QUANTILES])
    return {name: float(v) for (name, _), v in zip(_QUANTILES, values)}


def _all_edges(obj: Union[HeteroData, InteractionSplit]
               ) -> Tuple[torch.Tensor, Dict[str, int], HeteroData]:
    if isinstance(obj, InteractionSplit):
        parts = {}
        edges = []
        for name in ('train', 'val', 'test'):
            part = getattr(obj, name)
            if part is None:
                continue
            target = part[RATES].edge_label_index
            parts[name] = int(target.size(1))
            edges.append(target)
        # A pair in two parts is one interaction.
        ei = torch.cat(edges, dim=1).cpu().numpy().astype(np.int64)
        key = ei[0] * (int(ei[1].max()) + 1) + ei[1]
        _, first = np.unique(key, return_index=True)
        return torch.from_numpy(ei[:, np.sort(first)]), parts, obj.train
    if isinstance(obj, HeteroData):
        if RATES not in obj.edge_types:
            raise ValueError(f"expected a HeteroData with edge type {RATES} "
                             f'(got edge types {obj.edge_types})')
        return obj[RATES].edge_index, {}, obj
    raise ValueError(f"expected 'data_or_split' to be a HeteroData or an "
                     f'InteractionSplit (got {type(obj).__name__})')


def dataset_statistics(data_or_split: Union[HeteroData, InteractionSplit]
                       ) -> Dict[str, Any]:
    r"""Returns the size, density and degree distribution of an interaction
    graph or of a split.

    For a split, the interactions are the distinct pairs of the union of
    the parts' targets (train, validation, test), and their sizes are
    reported as ``'train'``, ``'val'`` (when present) and ``'test'``.
    Degrees count all those interactions.  ``'overlap'`` counts the
    validation and test pairs that are also training pairs plus the test
    pairs that are also validation pairs (they can never be hit at
    evaluation; see :func:`~pyg_simce.data.overlap_counts`),
    and ``'overlap_dropped'`` those dropped by :obj:`drop_overlap=True`.

    Args:
        data_or_split (HeteroData or InteractionSplit): The data.

    Returns:
        A dictionary with ``'users'``, ``'items'``, ``'interactions'``,
        ``'density'`` (interactions / (users * items)), ``'user_degree'`` and
        ``'item_degree'`` (dictionaries of the quantiles ``'min'``,
        ``'25%'``, ``'50%'``, ``'75%'``, ``'max'``), ``'duplicates_removed'``,
        and, for a split, the part sizes, ``'overlap'`` and
        ``'overlap_dropped'``.
    """
    edge_index, parts, ref = _all_edges(data_or_split)
    num_users = int(ref['user'].num_nodes)
    num_items = int(ref['item'].num_nodes)
    num = int(edge_index.size(1))
    user_deg = np.bincount(edge_index[0].numpy(), minlength=num_users)
    item_deg = np.bincount(edge_index[1].numpy(), minlength=num_items)
    stats: Dict[str, Any] = {
        'users': num_users,
        'items': num_items,
        'interactions': num,
    }
    stats.update(parts)
    stats['density'] = num / max(num_users * num_items, 1)
    stats['user_degree'] = _quantiles(user_deg)
    stats['item_degree'] = _quantiles(item_deg)
    stats['duplicates_removed'] = int(getattr(ref, 'num_duplicates', None)
                                      or 0)
    if isinstance(data_or_split, InteractionSplit):
        stats['overlap'] = sum(overlap_counts(data_or_split).values())
        stats['overlap_dropped'] = sum(
            int(getattr(part, 'num_overlap_dropped', None) or 0)
            for part in (data_or_split.val, data_or_split.test)
            if part is not None)
    return stats


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != 0 and abs(value) < 1e-2:
            return f'{value:.3e}'
        if value == int(value):
            return f'{int(value):,}'
        return f'{value:,.4f}' if abs(value) < 1 else f'{value:,.2f}'
    if isinstance(value, int):
        return f'{value:,}'
    return str(value)


def format_statistics(stats: Dict[str, Any], title: str = '') -> str:
    r"""Formats the output of :func:`dataset_statistics` as a plain-text
    table.

    Args:
        stats (dict): As returned by :func:`dataset_statistics`.
        title (str): An optional first line. (default: :obj:`''`)
    """
    rows: List[Tuple[str, str]] = []
    for key, value in stats.items():
        if isinstance(value, dict):
            rows.append((key, '  '.join(f'{q} {_fmt(v)}'
                                        for q, v in value.items())))
        else:
            rows.append((key, _fmt(value)))
    width = max(len(k) for k, _ in rows)
    lines = [title] if title else []
    lines += [f'{k.ljust(width)}  {v}' for k, v in rows]
    return '\n'.join(lines)
