r"""Held-out positives among sampled negatives, and how much of a loss's push
on its negatives lands on them.

Per-positive negatives are drawn uniformly among the items a user did not
interact with in *training*; the user's held-out test items are among those
items, so some draws are false negatives.  How often depends on the data
set's density: for a training positive of user :math:`u`, with
:math:`T_u` test items, :math:`P_u` training items and :math:`I` items,
:math:`N` independent draws contain a test item with probability

.. math::
    1 - \left(1 - \frac{|T_u|}{|I| - |P_u|}\right)^N,

averaged here over the training positives (:func:`expected_test_draws`).
What a loss does with those draws differs: SSM and BPR spread their push
over the negatives by their softmax or sigmoid weights, SimCE puts all of it
on the highest-scoring negative while its hinge is active.
:func:`negative_push` measures, for trained embeddings and one seeded draw,
the share of the loss's gradient with respect to the negative scores that
falls on test items.  It reads the test split, so it is an analysis of
finished runs, never an input of training or selection.
"""
import argparse
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import torch
from torch import Tensor

#: Training positives probed per model (seeded), and positives scored at once.
PROBE_POSITIVES = 20000
CHUNK = 2048


def _pair_keys(pairs: Tensor, num_items: int) -> Tensor:
    return pairs[0].long() * num_items + pairs[1].long()


def is_test_pair(users: Tensor, items: Tensor, test_pairs: Tensor,
                    num_items: int) -> Tensor:
    r"""Whether each :obj:`(users[k], items[k, n])` is a test pair: a bool
    tensor of the shape of :obj:`items`."""
    keys = torch.unique(_pair_keys(test_pairs, num_items))
    query = users.long().view(-1, *([1] * (items.dim() - 1))) * num_items \
        + items.long()
    pos = torch.searchsorted(keys, query.reshape(-1)).clamp_max(
        max(keys.numel() - 1, 0))
    found = keys[pos] == query.reshape(-1) if keys.numel() else \
        torch.zeros(query.numel(), dtype=torch.bool)
    return found.view_as(items)


def expected_test_draws(train_pairs: Tensor, test_pairs: Tensor,
                        num_users: int, num_items: int,
                        num_negatives: int,
                        shared_pool: bool = False) -> Dict[str, float]:
    r"""The exact probabilities, averaged over the training positives, that
    one uniform draw excluding the user's training items is a test item
    (:obj:`test_share_of_draws`) and that :obj:`num_negatives` independent
    draws contain at least one (:obj:`draws_with_test`).  With
    :obj:`shared_pool`, the draws are one pool per batch taken uniformly
    from the whole catalogue, from which each user's training items are
    then dropped (:class:`~pyg_simce.train.negatives.SharedPoolNegatives`).
    """
    n_train = torch.bincount(train_pairs[0], minlength=num_users).double()
    n_test = torch.bincount(test_pairs[0], minlength=num_users).double()
    if shared_pool:
        q = n_test / num_items
    else:
        q = n_test / (num_items - n_train).clamp_min(1)
    weights = n_train / n_train.sum()
    return {
        'test_share_of_draws': float((weights * q).sum()),
        'draws_with_test': float((weights * (1 - (1 - q) ** num_negatives))
                                 .sum()),
        'num_negatives': int(num_negatives),
        'test_items_per_user': float(n_test[n_test > 0].mean()),
        'density': float(train_pairs.size(1) + test_pairs.size(1))
        / (num_users * num_items),
    }


def negative_push(user_emb: Tensor, item_emb: Tensor, pos_pairs: Tensor,
                  neg: Tensor, is_test: Tensor, loss: Callable[..., Tensor],
                  chunk: int = CHUNK,
                  item_degree: Optional[Tensor] = None) -> Dict[str, float]:
    r"""Where :obj:`loss` pushes on the negatives :obj:`neg [P, N]` of the
    positives :obj:`pos_pairs [2, P]`, scored as dot products of
    :obj:`user_emb` and :obj:`item_emb` (already transformed, e.g. normalised
    for cosine training).

    Returns the share of the drawn negatives that are test items
    (:obj:`is_test`), of positives with at least one, of positives whose
    highest-scoring negative is one (:obj:`hardest_is_test`), of positives
    whose negatives get any gradient (:obj:`active`), and the share of
    :math:`\sum |\partial L / \partial s_{uj}|` that falls on test items
    (:obj:`gradient_on_test`).  With :obj:`item_degree` (training degree
    per item) also the gradient-weighted mean degree of the negatives
    (:obj:`pushed_degree`: how popular the items the loss pushes down are)
    beside the plain mean degree of the draws (:obj:`drawn_degree`).
    :obj:`loss` must sum over positives (:obj:`reduction='sum'`) so that
    chunks add up.
    """
    on_test = total = hardest = active = pushed = 0.0
    for start in range(0, neg.size(0), chunk):
        sl = slice(start, start + chunk)
        u = user_emb[pos_pairs[0, sl]]
        pos = (u * item_emb[pos_pairs[1, sl]]).sum(-1)
        scores = torch.einsum('pd,pnd->pn', u, item_emb[neg[sl]])
        scores.requires_grad_(True)
        grad, = torch.autograd.grad(loss(pos, scores), scores)
        grad = grad.abs()
        test = is_test[sl]
        on_test += float((grad * test).sum())
        total += float(grad.sum())
        hardest += float(test.gather(1, scores.detach().argmax(
            1, keepdim=True)).sum())
        active += float((grad.sum(1) > 0).sum())
        if item_degree is not None:
            pushed += float((grad * item_degree[neg[sl]]).sum())
    count = max(neg.size(0), 1)
    out = {
        'test_share_of_draws': float(is_test.float().mean()),
        'draws_with_test': float(is_test.any(1).float().mean()),
        'hardest_is_test': hardest / count,
        'active': active / count,
        'gradient_on_test': on_test / total if total > 0 else 0.0,
    }
    if item_degree is not None:
        out['drawn_degree'] = float(item_degree[neg].double().mean())
        out['pushed_degree'] = pushed / total if total > 0 else 0.0
    return out


def probe_draw(train_pairs: Tensor, test_pairs: Tensor, num_users: int,
               num_items: int, num_negatives: int, positives: int =
               PROBE_POSITIVES, seed: int = 0) -> Dict[str, Tensor]:
    r"""One seeded probe: :obj:`positives` training pairs and
    :obj:`num_negatives` uniform negatives each, drawn as the trainer draws
    them (excluding the user's training items), with their test
    membership."""
    from pyg_simce.sampler import UniformNegativeSampler

    gen = torch.Generator().manual_seed(seed)
    pick = torch.randperm(train_pairs.size(1), generator=gen)[:positives]
    pos_pairs = train_pairs[:, pick]
    sampler = UniformNegativeSampler(train_pairs, num_users, num_items,
                                     num_negatives=num_negatives, seed=seed)
    neg = sampler.sample(pos_pairs[0]).view(pick.numel(), -1)
    return {'pos_pairs': pos_pairs, 'neg': neg,
            'is_test': is_test_pair(pos_pairs[0], neg, test_pairs,
                                       num_items)}


def exclude_test_from_negatives(trainer: Any, split: Any) -> None:
    r"""Rebinds :obj:`trainer`'s per-positive negative sampler to the
    training *and* test pairs, so that no user's test item is ever drawn as
    a negative: an oracle that measures what false negatives cost a loss (it
    reads the test split, so only under the paper protocol)."""
    from pyg_simce.nn.similarity import normalize
    from pyg_simce.train.negatives import PerUserNegatives

    strategy = trainer.strategy
    if not isinstance(strategy, PerUserNegatives):
        raise ValueError(f"'negatives_exclude' needs per-positive negatives "
                         f"('uniform' or 'popularity'; got "
                         f"{trainer.negative_sampling!r})")
    pairs = torch.cat([split.train['user', 'rates', 'item'].edge_index,
                       split.test['user', 'rates', 'item'].edge_label_index],
                      dim=1)
    strategy.bind(pairs, split.num_users, split.num_items,
                  seed=trainer.seed, device=trainer.device,
                  transform=normalize if trainer.train_similarity == 'cosine'
                  else None)


def recommended_popularity(user_emb: Tensor, item_emb: Tensor,
                           train_pairs: Tensor, test_pairs: Tensor,
                           num_items: int, similarity: str = 'dot',
                           k: int = 20,
                           exclude: Optional[Tensor] = None
                           ) -> Dict[str, float]:
    r"""Test Recall@:obj:`k` of the embeddings and how popular their
    recommendations are: the mean training degree of the items in the
    top-:obj:`k` lists of the test users (training items, and the
    :obj:`exclude` pairs such as validation ones, masked), beside the
    mean training degree of the test items themselves (one count per test
    interaction).  A list that drifts below the test items' popularity has
    moved away from what the users go on to choose."""
    from pyg_simce.metrics import topk_items
    from pyg_simce.metrics.ranking import (
        as_index,
        normalize_similarity,
        summarize_topk,
    )

    degree = torch.bincount(train_pairs[1], minlength=num_items).double()
    users = torch.unique(test_pairs[0])
    u, i = normalize_similarity(user_emb, item_emb, similarity)
    masked = train_pairs if exclude is None else [train_pairs, exclude]
    # One ranking serves both: the lists' popularity and their recall.
    top = topk_items(u, i, k, src_index=users, exclude_edge_index=masked)
    target = as_index(test_pairs, user_emb.size(0), num_items, 'test_pairs')
    recall = summarize_topk(top, users, target, (k, ))[f'recall@{k}']
    return {f'recall@{k}': float(recall),
            'top_mean_degree': float(degree[top.clamp_min(0)][
                top >= 0].mean()),
            'test_mean_degree': float(degree[test_pairs[1]].mean())}


def run_push(record: Dict[str, Any], folder: Path, split: Any,
             probe: Dict[str, Tensor]) -> Optional[Dict[str, Any]]:
    r"""The :func:`negative_push` and :func:`recommended_popularity` of a
    cached run's selected (best) and final models, read from its
    checkpoint; :obj:`None` when the run has no checkpoint.  An oracle run
    (trained on test-free negatives) is probed too: its figures say how
    often a model that was never pushed against test items ranks one as the
    hardest of the draws."""
    from benchmarks.suites.training import build_model
    from pyg_simce.nn.loss import loss_resolver
    from pyg_simce.nn.similarity import normalize

    spec = record['spec']
    path = folder / 'checkpoint' / 'last.pt'
    if not path.is_file():
        return None
    state = torch.load(path, map_location='cpu', weights_only=True)
    edges = split.train['user', 'rates', 'item'].edge_index
    degree = torch.bincount(edges[1], minlength=split.num_items).double()
    loss = loss_resolver(spec['loss'], **spec['loss_kwargs'],
                         reduction='sum')
    out: Dict[str, Any] = {}
    for name, key, epoch in (('best', 'best_model', record['best_epoch']),
                             ('final', 'model', state.get('epoch'))):
        weights = state.get(key)
        if weights is None:
            continue
        model = build_model(spec, split.num_users, split.num_items)
        model.load_state_dict(weights)
        model.eval()
        with torch.no_grad():
            user_emb, item_emb = model.get_embedding(edges)
            ranked = recommended_popularity(
                user_emb, item_emb, edges,
                split.test['user', 'rates', 'item'].edge_label_index,
                split.num_items, record.get('test_similarity', 'dot'),
                exclude=None if split.val is None else
                split.val['user', 'rates', 'item'].edge_label_index)
        if record.get('train_similarity') == 'cosine':
            user_emb, item_emb = normalize(user_emb), normalize(item_emb)
        push = negative_push(user_emb, item_emb, probe['pos_pairs'],
                             probe['neg'], probe['is_test'], loss,
                             item_degree=degree)
        out[name] = dict(push, **ranked, epoch=epoch)
    return out


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    r"""``python -m benchmarks.suites.false_negatives --datasets ...``: the
    exact share of uniform negatives that are test items on each data set
    (the model-free part of the analysis), as JSON."""
    from benchmarks.common import (
        environment_info,
        recorded_command,
        write_json,
    )
    from benchmarks.suites.config import load_settings
    from pyg_simce.data import load_dataset

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument('--datasets', nargs='+', required=True)
    parser.add_argument('--num-negatives', type=int, default=64)
    parser.add_argument('--mode', default='full', choices=['full', 'quick'])
    parser.add_argument('--data-root', default=None)
    parser.add_argument('--out', type=Path, default=None,
                        help='JSON file to write (default: print only)')
    args = parser.parse_args(argv)
    rows = {}
    for name in args.datasets:
        load = load_settings(name, args.mode).load
        split = load_dataset(name, root=args.data_root, **load)
        rows[name] = dict(expected_test_draws(
            split.train['user', 'rates', 'item'].edge_index,
            split.test['user', 'rates', 'item'].edge_label_index,
            split.num_users, split.num_items, args.num_negatives),
            load=load)
        print(f"{name}: {rows[name]['draws_with_test']:.4f} of positives "
              f"draw a test item among {args.num_negatives} negatives "
              f"({rows[name]['test_share_of_draws']:.5f} of draws)",
              flush=True)
    payload = {'datasets': rows, 'num_negatives': args.num_negatives,
               'command': recorded_command(
                   'benchmarks.suites.false_negatives', argv),
               'environment': environment_info(seed=None, device='cpu')}
    if args.out is not None:
        write_json(args.out, payload)
    return payload


if __name__ == '__main__':
    main()
