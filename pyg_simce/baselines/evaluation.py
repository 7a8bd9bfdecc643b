r"""All-ranking evaluation of the classical recommenders, in user chunks."""
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from pyg_simce.metrics.ranking import check_ks, ranking_inputs, \
    summarize_topk
from pyg_simce.metrics.topk import Exclusion
from pyg_simce.sampler.positive_index import PositiveIndex

#: Default bound of one chunk of dense scores, in bytes.
CHUNK_BYTES = 64 * 1024 * 1024


def iter_score_topk(
    model: Any,
    users: Tensor,
    k: int,
    exclusions: List[PositiveIndex],
    chunk_size: Optional[int] = None,
    history: Any = None,
) -> Iterator[Tuple[int, Tensor, Tensor]]:
    r"""Yields :obj:`(start, topk_value, topk_index)` for consecutive chunks
    of :obj:`users`: the chunk's dense scores from :obj:`model.score`, the
    excluded pairs set to :math:`-\infty`, the top-:obj:`k` items in
    decreasing order and :obj:`-1` (value :math:`-\infty`) in slots only
    excluded items could fill
    (the masking of :func:`~pyg_simce.metrics.topk_items`)."""
    if chunk_size is None:
        chunk_size = max(1, CHUNK_BYTES // (4 * max(1, model.num_items)))
    elif isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or \
            chunk_size < 1:
        raise ValueError(f"'chunk_size' expected a positive integer "
                         f"(got {chunk_size})")
    neg_inf = float('-inf')
    for start in range(0, users.numel(), chunk_size):
        u = users[start:start + chunk_size]
        scores = model.score(u, history)
        for ex in exclusions:
            inside = u < ex.num_users
            batch, items = ex._neighbors(u.clamp(max=ex.num_users - 1))
            keep = inside[batch]
            scores[batch[keep], items[keep]] = neg_inf
        value, index = torch.topk(scores, k, dim=1, sorted=True)
        index.masked_fill_(value == neg_inf, -1)
        yield start, value, index


def _baseline_topk(model: Any, train_edge_index: Any, target_edge_index: Any,
                   exclude_edge_index: Exclusion, k: int,
                   chunk_size: Optional[int]):
    r"""The top-:obj:`k` lists of the users with targets, as
    :obj:`(topk, users, target, exclusions)` (the training interactions
    first among the exclusions)."""
    history = None
    if isinstance(train_edge_index, Tensor) and model._uses_history:
        history = model.history(train_edge_index)
    target, exclusions = ranking_inputs(train_edge_index, target_edge_index,
                                        exclude_edge_index, model.num_users,
                                        model.num_items)
    for ex in [target] + exclusions:
        ex.to(torch.device('cpu'))
    users = (target.degree > 0).nonzero().view(-1)
    topk = torch.empty(users.numel(), k, dtype=torch.long)
    for start, _, index in iter_score_topk(model, users, k, exclusions,
                                           chunk_size, history):
        topk[start:start + index.size(0)] = index
    return topk, users, target, exclusions


def evaluate_baseline(
    model: Any,
    train_edge_index: Union[Tensor, PositiveIndex],
    target_edge_index: Union[Tensor, PositiveIndex],
    *,
    exclude_edge_index: Exclusion = None,
    ks: Union[int, Sequence[int]] = (10, 20, 50),
    chunk_size: Optional[int] = None,
    return_per_user: bool = False,
) -> Dict[str, Any]:
    r"""The all-ranking metrics of :func:`~pyg_simce.metrics.evaluate_ranking`
    (Recall, NDCG, Precision, HitRate and MRR at every cut-off, users without
    targets skipped, training items masked) for a fitted recommender of
    :mod:`pyg_simce.baselines`, scored by its :meth:`score` in chunks of
    :obj:`chunk_size` users (about 64 MB of scores by default), so that
    memory never holds users :math:`\times` items at once.

    For the models with exact factors (:class:`~pyg_simce.baselines.IALS`,
    :class:`~pyg_simce.baselines.MostPopular`),
    :func:`~pyg_simce.metrics.evaluate_ranking` on their
    :meth:`get_embedding` gives the same figures.

    Args:
        model: A fitted baseline.
        train_edge_index (torch.Tensor or PositiveIndex): Training
            interactions :obj:`[2, E]`: masked, and the histories the
            item-item models score from.
        target_edge_index (torch.Tensor or PositiveIndex): The interactions
            to retrieve :obj:`[2, T]`.
        exclude_edge_index (torch.Tensor or list, optional): Further
            interactions to mask. (default: :obj:`None`)
        ks (int or Sequence[int], optional): Cut-offs.
            (default: :obj:`(10, 20, 50)`)
        chunk_size (int, optional): Users scored at once.
            (default: :obj:`None`)
        return_per_user (bool, optional): Also return :obj:`'per_user'` as
            :func:`~pyg_simce.metrics.evaluate_ranking`.
            (default: :obj:`False`)
    """
    model._check_fitted()
    num_items = model.num_items
    ks = check_ks(ks, num_items)
    kmax = max(ks)
    topk, users, target, _ = _baseline_topk(
        model, train_edge_index, target_edge_index, exclude_edge_index, kmax,
        chunk_size)
    return summarize_topk(topk, users, target, ks, return_per_user)


def baseline_longtail(
    model: Any,
    train_edge_index: Tensor,
    target_edge_index: Union[Tensor, PositiveIndex],
    *,
    num_groups: int = 10,
    k: int = 20,
    exclude_edge_index: Exclusion = None,
    chunk_size: Optional[int] = None,
) -> Dict[str, Any]:
    r"""The long-tail decomposition of Recall@:obj:`k` over item popularity
    groups of :func:`~pyg_simce.metrics.longtail_decomposition` for a fitted
    recommender of :mod:`pyg_simce.baselines`: the same groups (training
    degree), the same masking and the same returned fields, with the top-
    :obj:`k` lists of :func:`evaluate_baseline`. The per-group values sum to
    its :obj:`'recall@k'`.

    Args:
        model: A fitted baseline.
        train_edge_index (torch.Tensor): Training interactions :obj:`[2, E]`
            (masked, the item popularity and the item-item models'
            histories).
        target_edge_index (torch.Tensor or PositiveIndex): The interactions
            to retrieve.
        num_groups (int, optional): The number of popularity groups.
            (default: :obj:`10`)
        k (int, optional): The cut-off. (default: :obj:`20`)
        exclude_edge_index (torch.Tensor or list, optional): Further
            interactions to mask. (default: :obj:`None`)
        chunk_size (int, optional): Users scored at once.
            (default: :obj:`None`)
    """
    from pyg_simce.metrics.longtail import decompose_topk, popularity_groups
    model._check_fitted()
    num_items = model.num_items
    if not isinstance(k, int) or isinstance(k, bool) or \
            not 1 <= k <= num_items:
        raise ValueError(f"'k' expected an integer in [1, {num_items}] "
                         f"(got {k})")
    # Checked before the (long) ranking of every user, not after it.
    if not isinstance(num_groups, int) or isinstance(num_groups, bool) or \
            num_groups < 1:
        raise ValueError(f"'num_groups' expected a positive integer "
                         f"(got {num_groups})")
    topk, users, target, exclusions = _baseline_topk(
        model, train_edge_index, target_edge_index, exclude_edge_index, k,
        chunk_size)
    item_degree = exclusions[0].item_degree()
    group = popularity_groups(item_degree, num_groups)
    return decompose_topk(topk, users, target, group, item_degree, k,
                          num_groups)
