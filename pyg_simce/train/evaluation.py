r"""Evaluation entry points of the trainer: all-ranking metrics of a model's
embeddings (optionally over a subset of users, as reducible sums), and the
most-popular baseline."""
from typing import Any, Dict, Optional, Sequence, Tuple

import torch
from torch import Tensor


def _restrict(target: Tensor, users: Optional[Tensor]) -> Tensor:
    if users is None:
        return target
    users = users.to(target.device, torch.long).view(-1)
    mask = torch.isin(target[0], users)
    return target[:, mask]


def evaluate_sums(
    user_emb: Tensor,
    item_emb: Tensor,
    train_edge_index: Any,
    target_edge_index: Tensor,
    *,
    exclude_edge_index: Any = None,
    ks: Sequence[int] = (10, 20, 50),
    similarity: str = 'dot',
    chunk_size: Optional[int] = None,
    users: Optional[Tensor] = None,
) -> Tuple[Dict[str, float], int]:
    r"""The per-user metric **sums** and the number of evaluated users (users
    with at least one target), over the users in :obj:`users` (all users by
    default).

    Sums and counts of disjoint user subsets add up, so that several
    processes can each evaluate a shard of the users and all-reduce
    :math:`(\sum, n)`; the mean is :math:`\sum / n`.
    """
    from pyg_simce.metrics import evaluate_ranking

    target = _restrict(target_edge_index, users)
    if target.size(1) == 0:
        return {}, 0
    metrics = evaluate_ranking(user_emb, item_emb, train_edge_index, target,
                               exclude_edge_index=exclude_edge_index,
                               ks=tuple(ks), chunk_size=chunk_size,
                               similarity=similarity)
    num_users = int(metrics.pop('num_users'))
    sums = {k: float(v) * num_users for k, v in metrics.items()
            if isinstance(v, float)}
    return sums, num_users


def evaluate_model(
    user_emb: Tensor,
    item_emb: Tensor,
    train_edge_index: Any,
    target_edge_index: Tensor,
    *,
    exclude_edge_index: Any = None,
    ks: Sequence[int] = (10, 20, 50),
    similarity: str = 'dot',
    chunk_size: Optional[int] = None,
    users: Optional[Tensor] = None,
) -> Dict[str, float]:
    r"""All-ranking metrics (Recall, NDCG, Precision, HitRate and MRR at
    every cut-off of :obj:`ks`) of the given embeddings.  The training items
    (and :obj:`exclude_edge_index`, *e.g.* the validation items when scoring
    test) are masked; users without targets are skipped.

    Args:
        user_emb (torch.Tensor): Propagated user embeddings :obj:`[U, d]`.
        item_emb (torch.Tensor): Propagated item embeddings :obj:`[I, d]`.
        train_edge_index (torch.Tensor): Training interactions (masked).
        target_edge_index (torch.Tensor): The interactions to retrieve.
        exclude_edge_index (torch.Tensor, optional): More interactions to
            mask. (default: :obj:`None`)
        ks (Sequence[int], optional): Cut-offs. (default: :obj:`(10, 20, 50)`)
        similarity (str, optional): :obj:`'dot'` or :obj:`'cosine'`.
            (default: :obj:`'dot'`)
        chunk_size (int, optional): Users scored at once.
            (default: :obj:`None`)
        users (torch.Tensor, optional): Evaluate only these users.
            (default: :obj:`None`)
    """
    sums, n = evaluate_sums(user_emb, item_emb, train_edge_index,
                            target_edge_index,
                            exclude_edge_index=exclude_edge_index, ks=ks,
                            similarity=similarity, chunk_size=chunk_size,
                            users=users)
    if n == 0:
        raise ValueError("evaluation expected at least one user with a "
                         "target interaction (got none)")
    return {k: v / n for k, v in sums.items()}


def popularity_baseline(
    train_edge_index: Tensor,
    target_edge_index: Tensor,
    num_users: int,
    num_items: int,
    *,
    exclude_edge_index: Optional[Tensor] = None,
    ks: Sequence[int] = (10, 20, 50),
) -> Dict[str, float]:
    r"""The metrics of the most-popular recommender, which ranks every item
    by its number of training interactions (the same list for every user,
    minus the user's training items).

    It is the floor any learned model must clearly beat; it is computed with
    the same evaluator as the models (a one-dimensional "embedding": users
    :math:`1`, items their training degree).
    """
    degree = torch.bincount(train_edge_index[1].long().cpu(),
                            minlength=num_items).to(torch.float64)
    # Deterministic tie-break: lower item id first.
    rank_key = degree - torch.arange(num_items, dtype=torch.float64) / (
        2.0 * max(num_items, 1))
    user_emb = torch.ones(num_users, 1, dtype=torch.float64)
    item_emb = rank_key.view(-1, 1)
    return evaluate_model(user_emb, item_emb, train_edge_index.cpu(),
                          target_edge_index.cpu(),
                          exclude_edge_index=(None if exclude_edge_index is
                                              None else
                                              exclude_edge_index.cpu()),
                          ks=ks, similarity='dot')
