from typing import Any, Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from pyg_simce.metrics.topk import (
    Exclusion,
    _check_embeddings,
    build_exclusion,
    default_chunk_size,
    iter_topk,
)
from pyg_simce.sampler.positive_index import PositiveIndex

METRICS = ('recall', 'ndcg', 'precision', 'hit', 'mrr')


def normalize_similarity(user_emb: Tensor, item_emb: Tensor,
                         similarity: str, eps: float = 1e-8):
    r"""Returns the embeddings whose dot product is the requested
    :obj:`similarity` (:obj:`'dot'` or :obj:`'cosine'`)."""
    if similarity == 'dot':
        return user_emb, item_emb
    if similarity == 'cosine':
        return (F.normalize(user_emb, p=2.0, dim=-1, eps=eps),
                F.normalize(item_emb, p=2.0, dim=-1, eps=eps))
    raise ValueError(f"'similarity' expected one of 'dot', 'cosine' "
                     f"(got {similarity!r})")


def check_ks(ks: Union[int, Sequence[int]], num_items: int) -> List[int]:
    if isinstance(ks, int):
        ks = [ks]
    ks = list(ks)
    if len(ks) == 0 or any(not isinstance(k, int) or isinstance(k, bool)
                           or k < 1 for k in ks):
        raise ValueError(f"'ks' expected a non-empty list of positive "
                         f"integers (got {ks})")
    if max(ks) > num_items:
        raise ValueError(f"'ks' expected values of at most the number of "
                         f"items {num_items} (got {max(ks)})")
    return sorted(set(ks))


def as_index(edge_index: Union[Tensor, PositiveIndex], num_users: int,
             num_items: int, name: str) -> PositiveIndex:
    if isinstance(edge_index, PositiveIndex):
        if edge_index.num_items != num_items or \
                edge_index.num_users > num_users:
            raise ValueError(f"'{name}' expected a PositiveIndex over at most "
                             f"{num_users} users and exactly {num_items} "
                             f"items (got {edge_index.num_users} users and "
                             f"{edge_index.num_items} items)")
        return edge_index
    try:
        return PositiveIndex(edge_index, num_users, num_items)
    except ValueError as e:
        raise ValueError(f"'{name}': {e}") from None


def ranking_metrics(hits: Tensor, num_targets: Tensor,
                    ks: Sequence[int]) -> Dict[str, Tensor]:
    r"""Per-user ranking metrics from a hit matrix.

    Args:
        hits (torch.Tensor): Boolean :obj:`[n, K]`, :obj:`hits[u, r]` tells
            whether the item at rank :math:`r + 1` of user :math:`u` is a
            target, with :math:`K \ge \max(ks)`.
        num_targets (torch.Tensor): :math:`|\mathcal{T}_u| \ge 1` of shape
            :obj:`[n]`.
        ks (Sequence[int]): Cut-offs.

    Returns:
        A dict of :obj:`[n]` float64 tensors keyed :obj:`'recall@k'`,
        :obj:`'ndcg@k'`, :obj:`'precision@k'`, :obj:`'hit@k'`,
        :obj:`'mrr@k'`.
    """
    kmax = max(ks)
    device = hits.device
    hits = hits[:, :kmax].to(torch.float64)
    rank = torch.arange(1, kmax + 1, device=device, dtype=torch.float64)
    gain = 1.0 / torch.log2(rank + 1.0)
    dcg = (hits * gain).cumsum(dim=1)
    ideal = gain.cumsum(0)
    cum_hits = hits.cumsum(dim=1)
    # reciprocal rank of the first hit, kept as a running max over ranks
    first = torch.cummax(hits / rank, dim=1).values
    num_targets = num_targets.to(torch.float64)
    out: Dict[str, Tensor] = {}
    for k in ks:
        h = cum_hits[:, k - 1]
        ideal_k = ideal[num_targets.clamp(max=k).long() - 1]
        out[f'recall@{k}'] = h / num_targets
        out[f'ndcg@{k}'] = dcg[:, k - 1] / ideal_k
        out[f'precision@{k}'] = h / k
        out[f'hit@{k}'] = (h > 0).to(torch.float64)
        out[f'mrr@{k}'] = first[:, k - 1]
    return out


def evaluate_ranking(
    user_emb: Tensor,
    item_emb: Tensor,
    train_edge_index: Union[Tensor, PositiveIndex],
    target_edge_index: Union[Tensor, PositiveIndex],
    *,
    exclude_edge_index: Exclusion = None,
    ks: Union[int, Sequence[int]] = (10, 20, 50),
    chunk_size: Optional[int] = None,
    similarity: str = 'dot',
    return_per_user: bool = False,
) -> Dict[str, Any]:
    r"""All-ranking top-:math:`K` evaluation, the protocol of LightGCN, SSM
    and SimCE (`"LightGCN: Simplifying and Powering Graph Convolution Network
    for Recommendation" <https://arxiv.org/abs/2002.02126>`_): every user
    with targets is scored against every item, the user's training items
    (and :obj:`exclude_edge_index` items, e.g. validation items when scoring
    test) are set to :math:`-\infty`, and the top-:math:`K` list
    :math:`\mathcal{R}_u^K` is compared with the targets
    :math:`\mathcal{T}_u`:

    .. math::
        \mathrm{Recall@}K &= \frac{1}{|\mathcal{U}_T|} \sum_{u \in
        \mathcal{U}_T} \frac{|\mathcal{R}_u^K \cap \mathcal{T}_u|}
        {|\mathcal{T}_u|}

        \mathrm{NDCG@}K &= \frac{1}{|\mathcal{U}_T|} \sum_{u}
        \frac{\sum_{r=1}^{K} \mathbb{1}[\mathcal{R}_{u,r} \in
        \mathcal{T}_u] / \log_2(r + 1)}
        {\sum_{r=1}^{\min(|\mathcal{T}_u|, K)} 1 / \log_2(r + 1)}

        \mathrm{Precision@}K &= \frac{1}{|\mathcal{U}_T|} \sum_{u}
        \frac{|\mathcal{R}_u^K \cap \mathcal{T}_u|}{K}

        \mathrm{HitRate@}K &= \frac{1}{|\mathcal{U}_T|} \sum_{u}
        \mathbb{1}[|\mathcal{R}_u^K \cap \mathcal{T}_u| > 0]

        \mathrm{MRR@}K &= \frac{1}{|\mathcal{U}_T|} \sum_{u}
        \frac{1}{\min\{r \le K : \mathcal{R}_{u,r} \in \mathcal{T}_u\}}
        \quad (0 \text{ if no hit})

    where :math:`\mathcal{U}_T` are the users with at least one target;
    users without targets are skipped. These definitions match
    :class:`torch_geometric.metrics.LinkPredRecall`,
    :class:`~torch_geometric.metrics.LinkPredNDCG`,
    :class:`~torch_geometric.metrics.LinkPredPrecision`,
    :class:`~torch_geometric.metrics.LinkPredHitRatio` and
    :class:`~torch_geometric.metrics.LinkPredMRR`.

    The top-:math:`\max(ks)` list is computed once per user, in chunks of
    :obj:`chunk_size` users (memory bounded by :obj:`chunk_size * num_items`
    scores, see :func:`~pyg_simce.metrics.topk_items`), and every cut-off is
    derived from it. Targets that are also masked can never be hit but
    still count in :math:`|\mathcal{T}_u|`.

    Args:
        user_emb (torch.Tensor): User embeddings :obj:`[num_users, d]`.
        item_emb (torch.Tensor): Item embeddings :obj:`[num_items, d]`.
        train_edge_index (torch.Tensor or PositiveIndex): Training
            interactions :obj:`[2, E]` (row 0 users, row 1 items), masked.
        target_edge_index (torch.Tensor or PositiveIndex): The interactions
            to retrieve :obj:`[2, T]` (e.g. :obj:`edge_label_index` of the
            test split).
        exclude_edge_index (torch.Tensor or PositiveIndex or list, optional):
            Further interactions to mask, e.g. the validation edges when
            scoring test. (default: :obj:`None`)
        ks (int or Sequence[int], optional): Cut-offs :math:`K`.
            (default: :obj:`(10, 20, 50)`)
        chunk_size (int, optional): Users scored at once; by default about
            128 MB of scores and never above 256 MB. (default: :obj:`None`)
        similarity (str, optional): :obj:`'dot'` or :obj:`'cosine'`
            (embeddings are L2-normalised first, eps-safe).
            (default: :obj:`'dot'`)
        return_per_user (bool, optional): If :obj:`True`, the result also
            holds :obj:`'per_user'`: a dict with :obj:`'user_index'`
            :obj:`[n]`, :obj:`'topk'` :obj:`[n, max(ks)]` and one
            :obj:`[n]` tensor per metric. (default: :obj:`False`)

    Returns:
        A dict with float values :obj:`'recall@k'`, :obj:`'ndcg@k'`,
        :obj:`'precision@k'`, :obj:`'hit@k'`, :obj:`'mrr@k'` for every
        :math:`k` and the int :obj:`'num_users'` (users evaluated).
    """
    _check_embeddings(user_emb, item_emb)
    num_users, num_items = user_emb.size(0), item_emb.size(0)
    ks = check_ks(ks, num_items)
    kmax = max(ks)
    target, exclusions = ranking_inputs(train_edge_index, target_edge_index,
                                        exclude_edge_index, num_users,
                                        num_items)
    if chunk_size is None:
        chunk_size = default_chunk_size(num_items, user_emb.element_size())
    elif not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"'chunk_size' expected a positive integer "
                         f"(got {chunk_size})")

    with torch.no_grad():
        user_emb, item_emb = normalize_similarity(user_emb.detach(),
                                                  item_emb.detach(),
                                                  similarity)
        target.to(user_emb.device)
        for ex in exclusions:
            ex.to(user_emb.device)
        users = (target.degree > 0).nonzero().view(-1)

        # The top-K lists are kept ([n, K] ids, small); hits and metrics are
        # computed once at the end instead of a dozen small ops per chunk.
        topk = torch.empty(users.numel(), kmax, dtype=torch.long,
                           device=user_emb.device)
        for start, _, index in iter_topk(user_emb, item_emb, kmax, users,
                                         exclusions, chunk_size):
            topk[start:start + index.size(0)] = index
        return summarize_topk(topk, users, target, ks, return_per_user)


def ranking_inputs(train_edge_index: Any, target_edge_index: Any,
                   exclude_edge_index: Exclusion, num_users: int,
                   num_items: int):
    r"""Checks the interaction arguments of an all-ranking evaluation and
    returns :obj:`(target, exclusions)` as
    :class:`~pyg_simce.sampler.PositiveIndex` objects (the training
    interactions first among the exclusions)."""
    train = as_index(train_edge_index, num_users, num_items,
                     'train_edge_index')
    target = as_index(target_edge_index, num_users, num_items,
                      'target_edge_index')
    exclusions = [train] + build_exclusion(exclude_edge_index, num_users,
                                           num_items)
    if target.num_edges == 0:
        raise ValueError("'target_edge_index' expected at least one target "
                         "interaction (got 0)")
    return target, exclusions


def summarize_topk(topk: Tensor, users: Tensor, target: PositiveIndex,
                   ks: Sequence[int],
                   return_per_user: bool = False) -> Dict[str, Any]:
    r"""The result dict of :func:`evaluate_ranking` from the top-:math:`K`
    lists :obj:`topk` :obj:`[n, max(ks)]` (:obj:`-1` for empty slots) of
    :obj:`users` (those with at least one target)."""
    hits = target._contains_keys(users.view(-1, 1) * target.num_items +
                                 topk.clamp(min=0)) & (topk >= 0)
    per_user_all = ranking_metrics(hits, target.degree[users], ks)
    result: Dict[str, Any] = {}
    for k in ks:
        for name in METRICS:
            key = f'{name}@{k}'
            result[key] = float(per_user_all[key].mean())
    result['num_users'] = int(users.numel())
    if return_per_user:
        result['per_user'] = {'user_index': users, 'topk': topk,
                              **per_user_all}
    return result
