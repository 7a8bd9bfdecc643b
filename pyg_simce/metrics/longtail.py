from typing import Any, Dict, Optional, Union

import torch
from torch import Tensor

from pyg_simce.metrics.ranking import as_index, normalize_similarity
from pyg_simce.metrics.topk import (
    Exclusion,
    _check_embeddings,
    build_exclusion,
    default_chunk_size,
    iter_topk,
)
from pyg_simce.sampler.positive_index import PositiveIndex


def popularity_groups(item_degree: Tensor, num_groups: int = 10) -> Tensor:
    r"""Splits the items into :obj:`num_groups` popularity groups of (as
    nearly as possible) equal total training interactions, as in the
    long-tail analysis of `"On the Effectiveness of Sampled Softmax Loss for
    Item Recommendation" <https://arxiv.org/abs/2201.02327>`_ (Sec. 3.2.4).

    Items are sorted by increasing degree :math:`d_i` (ties by item id) and
    item :math:`i` goes to the group that holds the midpoint of its share of
    the cumulative interaction mass :math:`D = \sum_i d_i`:

    .. math::
        g(i) = \min\left(G - 1, \left\lfloor G \cdot
        \frac{\sum_{j \preceq i} d_j - d_i / 2}{D} \right\rfloor\right)

    so group :obj:`0` holds the least popular items (the long tail, most of
    the catalogue) and group :obj:`G - 1` the most popular ones (the paper's
    larger GroupID = larger degree, with ids starting at 0 here). Group ids
    never decrease with degree. An item that alone carries more than
    :math:`D / G` interactions can leave a neighbouring group empty.

    Args:
        item_degree (torch.Tensor): Training interactions per item
            :obj:`[num_items]` (non-negative).
        num_groups (int, optional): The number of groups :math:`G`.
            (default: :obj:`10`)

    Returns:
        A :class:`torch.LongTensor` of group ids of shape :obj:`[num_items]`.
    """
    if not isinstance(item_degree, Tensor) or item_degree.dim() != 1:
        raise ValueError(f"'item_degree' expected a 1-D tensor "
                         f"(got {item_degree!r:.60})")
    if not isinstance(num_groups, int) or isinstance(num_groups, bool) or \
            num_groups < 1:
        raise ValueError(f"'num_groups' expected a positive integer "
                         f"(got {num_groups})")
    degree = item_degree.to(torch.float64)
    if degree.numel() > 0 and bool((degree < 0).any()):
        raise ValueError(f"'item_degree' expected non-negative values "
                         f"(got min {float(degree.min())})")
    total = float(degree.sum()) if degree.numel() > 0 else 0.0
    if not total > 0.0:
        raise ValueError(f"'item_degree' expected a positive total number "
                         f"of interactions (got {total})")
    order = torch.sort(degree, stable=True).indices
    sorted_degree = degree[order]
    midpoint = sorted_degree.cumsum(0) - sorted_degree / 2
    group_sorted = (midpoint * num_groups / total).floor().long()
    group_sorted.clamp_(0, num_groups - 1)
    group = torch.empty_like(group_sorted)
    group[order] = group_sorted
    return group


def longtail_decomposition(
    user_emb: Tensor,
    item_emb: Tensor,
    train_edge_index: Union[Tensor, PositiveIndex],
    target_edge_index: Union[Tensor, PositiveIndex],
    *,
    num_groups: int = 10,
    k: int = 20,
    exclude_edge_index: Exclusion = None,
    chunk_size: Optional[int] = None,
    similarity: str = 'dot',
    item_degree: Optional[Tensor] = None,
) -> Dict[str, Any]:
    r"""Decomposes Recall@:math:`K` over item popularity groups (eq. 22 of
    `"On the Effectiveness of Sampled Softmax Loss for Item Recommendation"
    <https://arxiv.org/abs/2201.02327>`_):

    .. math::
        \mathrm{Recall@}K = \frac{1}{|\mathcal{U}_T|} \sum_{u}
        \frac{\sum_{g=0}^{G-1} |(\mathcal{R}_u^K)^{(g)} \cap
        \mathcal{T}_u|}{|\mathcal{T}_u|} = \sum_{g=0}^{G-1}
        \mathrm{Recall}^{(g)}

    where :math:`(\mathcal{R}_u^K)^{(g)}` are the items of group :math:`g`
    in the user's top-:math:`K` list. Groups come from
    :func:`popularity_groups` on the training degrees (group :obj:`0` = least
    popular). The ranking protocol (masking, chunks, similarity) is that of
    :func:`~pyg_simce.metrics.evaluate_ranking`, so the per-group values sum
    to its :obj:`'recall@K'`.

    Args:
        user_emb (torch.Tensor): User embeddings :obj:`[num_users, d]`.
        item_emb (torch.Tensor): Item embeddings :obj:`[num_items, d]`.
        train_edge_index (torch.Tensor or PositiveIndex): Training
            interactions (masked, and the source of item popularity).
        target_edge_index (torch.Tensor or PositiveIndex): The interactions
            to retrieve.
        num_groups (int, optional): The number of groups.
            (default: :obj:`10`)
        k (int, optional): The cut-off :math:`K`. (default: :obj:`20`)
        exclude_edge_index (torch.Tensor or PositiveIndex or list, optional):
            Further interactions to mask. (default: :obj:`None`)
        chunk_size (int, optional): Users scored at once.
            (default: :obj:`None`)
        similarity (str, optional): :obj:`'dot'` or :obj:`'cosine'`.
            (default: :obj:`'dot'`)
        item_degree (torch.Tensor, optional): Item popularity to group by;
            the number of distinct training users per item when :obj:`None`.
            (default: :obj:`None`)

    Returns:
        A dict with :obj:`'recall'` (Recall@:math:`K`),
        :obj:`'recall_per_group'` (:math:`\mathrm{Recall}^{(g)}`, sums to
        :obj:`'recall'`), :obj:`'share_per_group'` (fraction of all top-K
        slots filled by items of each group), :obj:`'target_share_per_group'`
        (fraction of the target interactions in each group),
        :obj:`'item_count_per_group'`, :obj:`'item_fraction_per_group'`,
        :obj:`'interactions_per_group'` (training mass),
        :obj:`'degree_range_per_group'` (:obj:`[min, max]` degree, or
        :obj:`None` for an empty group), :obj:`'item_group'` (the
        :obj:`[num_items]` group ids), :obj:`'k'`, :obj:`'num_groups'` and
        :obj:`'num_users'`. Lists are indexed by group id.
    """
    _check_embeddings(user_emb, item_emb)
    num_users, num_items = user_emb.size(0), item_emb.size(0)
    if not isinstance(k, int) or isinstance(k, bool) or not \
            1 <= k <= num_items:
        raise ValueError(f"'k' expected an integer in [1, {num_items}] "
                         f"(got {k})")
    train = as_index(train_edge_index, num_users, num_items,
                     'train_edge_index')
    target = as_index(target_edge_index, num_users, num_items,
                      'target_edge_index')
    if target.num_edges == 0:
        raise ValueError("'target_edge_index' expected at least one target "
                         "interaction (got 0)")
    exclusions = [train] + build_exclusion(exclude_edge_index, num_users,
                                           num_items)
    if item_degree is None:
        item_degree = train.item_degree()
    elif not isinstance(item_degree, Tensor) or \
            item_degree.shape != (num_items, ):
        raise ValueError(f"'item_degree' expected shape [{num_items}] "
                         f"(got {getattr(item_degree, 'shape', item_degree)})")
    group = popularity_groups(item_degree, num_groups)
    if chunk_size is None:
        chunk_size = default_chunk_size(num_items, user_emb.element_size())
    elif not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"'chunk_size' expected a positive integer "
                         f"(got {chunk_size})")

    device = user_emb.device
    with torch.no_grad():
        user_emb, item_emb = normalize_similarity(user_emb.detach(),
                                                  item_emb.detach(),
                                                  similarity)
        # The indices follow the embeddings (as in evaluate_ranking), so
        # that embeddings on a GPU are ranked and decomposed there.
        target.to(device)
        for ex in exclusions:
            ex.to(device)
        users = (target.degree > 0).nonzero().view(-1)
        index = torch.empty(users.numel(), k, dtype=torch.long,
                            device=device)
        for start, _, chunk in iter_topk(user_emb, item_emb, k, users,
                                         exclusions, chunk_size):
            index[start:start + chunk.size(0)] = chunk
    return decompose_topk(index, users, target, group, item_degree, k,
                          num_groups)


def decompose_topk(index: Tensor, users: Tensor, target: PositiveIndex,
                   group: Tensor, item_degree: Tensor, k: int,
                   num_groups: int) -> Dict[str, Any]:
    r"""The summary of :func:`longtail_decomposition` from top-:obj:`k`
    lists :obj:`index` (:obj:`-1` in empty slots) of the target users
    :obj:`users`, the item groups of :func:`popularity_groups` and the item
    degrees they came from."""
    device = index.device
    num_items = target.num_items
    group = group.to(device)
    recall_g = torch.zeros(num_groups, dtype=torch.float64, device=device)
    slots_g = torch.zeros(num_groups, dtype=torch.float64, device=device)
    num_targets = target.degree.to(device)[users].to(torch.float64)
    valid = index >= 0
    safe = index.clamp(min=0)
    hits = target._contains_keys(users.view(-1, 1) * num_items +
                                 safe) & valid
    g = group[safe]
    weight = hits.to(torch.float64) / num_targets.view(-1, 1)
    recall_g.index_add_(0, g.view(-1), weight.view(-1))
    slots_g.index_add_(0, g[valid],
                       torch.ones_like(g[valid], dtype=torch.float64))

    n = users.numel()
    recall_g = recall_g / n
    item_count = torch.bincount(group, minlength=num_groups)
    degree = item_degree.to(device, torch.float64)
    mass = torch.zeros(num_groups, dtype=torch.float64, device=device)
    mass.index_add_(0, group, degree)
    target_items = target.col.to(device)
    target_g = torch.bincount(group[target_items],
                              minlength=num_groups).to(torch.float64)
    ranges = []
    for g in range(num_groups):
        d = degree[group == g]
        ranges.append(None if d.numel() == 0 else
                      [float(d.min()), float(d.max())])
    total_slots = float(slots_g.sum())
    return {
        'recall': float(recall_g.sum()),
        'recall_per_group': recall_g.tolist(),
        'share_per_group': (slots_g / max(total_slots, 1.0)).tolist(),
        'target_share_per_group': (target_g / target_g.sum()).tolist(),
        'item_count_per_group': item_count.tolist(),
        'item_fraction_per_group': (item_count.double() /
                                    num_items).tolist(),
        'interactions_per_group': mass.tolist(),
        'degree_range_per_group': ranges,
        'item_group': group,
        'k': k,
        'num_groups': num_groups,
        'num_users': int(n),
    }
