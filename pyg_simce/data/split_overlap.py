r"""Detection of target pairs that can never be hit at evaluation.

Evaluation masks the user's training items (and, when scoring the test part,
the validation items), so a validation or test pair that is also a training
pair (or a test pair that is also a validation pair) can never be
recommended: Recall and NDCG are silently too low.  Every pre-made split
(:func:`~pyg_simce.data.given_split`, the pre-split loaders, the PyG adapters)
and :class:`~pyg_simce.train.Trainer` check for such pairs: by default they
raise a :class:`ValueError` with the counts; with :obj:`drop_overlap=True`
they drop the pairs and warn with the counts.
"""
import copy
import warnings
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from pyg_simce.data.bipartite_data import RATES
from pyg_simce.data.interaction_split import InteractionSplit

#: How to get past the error.
DROP_HINT = 'pass drop_overlap=True / --drop-overlap to drop them'


def _numpy(edge_index: Any) -> np.ndarray:
    if isinstance(edge_index, Tensor):
        edge_index = edge_index.detach().cpu().numpy()
    return np.asarray(edge_index, dtype=np.int64).reshape(2, -1)


def overlap_masks(train: Any, val: Optional[Any], test: Optional[Any]
                  ) -> Dict[str, np.ndarray]:
    r"""Boolean masks over the target pairs ``[2, E]`` of :obj:`val` and
    :obj:`test` marking the pairs that can never be hit.

    Returns a dictionary with ``'val'`` (validation pairs that are training
    pairs), ``'test'`` (test pairs that are training pairs) and
    ``'test_val'`` (test pairs that are validation pairs and not training
    pairs), for the parts given.

    Args:
        train (torch.Tensor or numpy.ndarray): Training pairs ``[2, E]``.
        val (torch.Tensor or numpy.ndarray, optional): Validation targets.
        test (torch.Tensor or numpy.ndarray, optional): Test targets.
    """
    parts = {'train': _numpy(train)}
    if val is not None:
        parts['val'] = _numpy(val)
    if test is not None:
        parts['test'] = _numpy(test)
    width = 1 + max((int(p[1].max()) for p in parts.values() if p.size),
                    default=0)
    keys = {name: p[0] * width + p[1] for name, p in parts.items()}
    out = {}
    if 'val' in keys:
        out['val'] = np.isin(keys['val'], keys['train'])
    if 'test' in keys:
        out['test'] = np.isin(keys['test'], keys['train'])
        if 'val' in keys:
            out['test_val'] = (np.isin(keys['test'], keys['val'])
                               & ~out['test'])
    return out


def _count(n: int, what: str) -> str:
    return f"{n} {what} {'pair' if n == 1 else 'pairs'}"


def _describe(counts: Dict[str, int]) -> List[str]:
    out = []
    found = [(counts[k], w) for k, w in (('val', 'validation'),
                                         ('test', 'test')) if counts.get(k)]
    if found:
        total = sum(n for n, _ in found)
        verb = ('is also a training pair' if total == 1 else
                'are also training pairs')
        out.append(' and '.join(_count(n, w) for n, w in found) + ' ' + verb)
    n = counts.get('test_val', 0)
    if n:
        verb = ('is also a validation pair' if n == 1 else
                'are also validation pairs')
        out.append(f"{_count(n, 'test')} {verb} (validation items are "
                   f'masked when scoring the test part)')
    return out


def _targets(data: Any) -> Optional[Tensor]:
    r"""The targets of a part, :obj:`None` without any (the evaluation
    reports a part without ``edge_label_index`` itself)."""
    try:
        return data[RATES].edge_label_index
    except (KeyError, AttributeError, TypeError):
        return None


def _drop_targets(data: Any, keep: np.ndarray, dropped: int) -> Any:
    r"""A shallow copy of :obj:`data` whose targets (``edge_label_index``
    and an aligned ``edge_label``) keep only :obj:`keep`."""
    out = copy.copy(data)
    store = out[RATES]
    label_index = store.edge_label_index
    mask = torch.from_numpy(keep).to(label_index.device)
    label = getattr(store, 'edge_label', None)
    if isinstance(label, Tensor) and label.dim() >= 1 and \
            label.size(0) == label_index.size(1):
        store.edge_label = label[mask]
    store.edge_label_index = label_index[:, mask]
    out.num_overlap_dropped = int(getattr(data, 'num_overlap_dropped', 0)
                                  or 0) + int(dropped)
    return out


def resolve_overlap(train_index: Any, val_data: Any, test_data: Any,
                    drop_overlap: bool = False,
                    source: Optional[str] = None) -> Tuple[Any, Any]:
    r"""Checks the targets of :obj:`val_data` and :obj:`test_data` against
    the training pairs :obj:`train_index`: validation or test pairs that
    are also training pairs, and test pairs that are also validation pairs,
    can never be hit, since those items are masked at evaluation.

    Args:
        train_index (torch.Tensor): Training pairs ``[2, E]``.
        val_data (HeteroData, optional): Validation part (its
            ``edge_label_index`` holds the targets).
        test_data (HeteroData, optional): Test part.
        drop_overlap (bool): Drop the pairs that can never be hit (and warn
            with their count) instead of raising. (default: :obj:`False`)
        source (str, optional): Where the data comes from, named in the
            message. (default: :obj:`None`)

    Returns:
        ``(val_data, test_data)``: the given objects when nothing overlaps,
        else copies without the overlapping targets, with the count in
        ``num_overlap_dropped``.

    Raises:
        ValueError: with the counts, when pairs overlap and
            :obj:`drop_overlap` is :obj:`False`, or when dropping them leaves
            a part without targets.
    """
    masks = overlap_masks(train_index, _targets(val_data),
                          _targets(test_data))
    counts = {k: int(m.sum()) for k, m in masks.items()}
    if not any(counts.values()):
        return val_data, test_data
    prefix = f'{source}: ' if source else ''
    text = '; '.join(_describe(counts))
    if not drop_overlap:
        raise ValueError(
            f'{prefix}{text}; they can never be recommended because '
            f'training items are masked at evaluation, so Recall/NDCG would '
            f'be too low; {DROP_HINT}')
    out = []
    for name, data in (('val', val_data), ('test', test_data)):
        if name not in masks:  # no part, or a part without targets
            out.append(data)
            continue
        bad = masks[name]
        if name == 'test' and 'test_val' in masks:
            bad = bad | masks['test_val']
        if len(bad) > 0 and bad.all():
            what = 'validation' if name == 'val' else 'test'
            raise ValueError(f"{prefix}expected {what} pairs left after "
                             f"dropping those that can never be hit (got "
                             f"none of {len(bad)})")
        out.append(_drop_targets(data, ~bad, int(bad.sum())) if bad.any()
                   else data)
    warnings.warn(f'{prefix}drop_overlap=True: dropped the pairs that can '
                  f'never be hit: {text}',
                  stacklevel=3)
    return out[0], out[1]


def check_split_overlap(split: InteractionSplit, drop_overlap: bool = False,
                        source: Optional[str] = None) -> InteractionSplit:
    r"""Applies :func:`resolve_overlap` to an :class:`InteractionSplit`."""
    val, test = resolve_overlap(split.train[RATES].edge_index, split.val,
                                split.test, drop_overlap, source)
    if val is split.val and test is split.test:
        return split
    return InteractionSplit(split.train, val, test)


def overlap_counts(split: InteractionSplit) -> Dict[str, int]:
    r"""The number of pairs of an :class:`InteractionSplit` that can never
    be hit at evaluation: ``'val'`` (validation pairs that are training
    pairs), ``'test'`` (test pairs that are training pairs) and
    ``'test_val'`` (test pairs that are validation but not training pairs);
    ``'val'`` and ``'test_val'`` only when the split has a validation
    part."""
    masks = overlap_masks(split.train[RATES].edge_index, _targets(split.val),
                          _targets(split.test))
    return {k: int(m.sum()) for k, m in masks.items()}
