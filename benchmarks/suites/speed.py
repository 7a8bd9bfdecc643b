r"""The ``speed`` suite: a LightGCN training step and the full-ranking
evaluation of every user, ours against PyG's
:class:`torch_geometric.nn.models.LightGCN`, on the same graph, the same
batches and in the same process; results are ratios (PyG time / ours)."""
import statistics
import time
from typing import Any, Callable, Dict, List

import torch

from benchmarks.micro.propagation_step import (make_adam, make_batches,
                                               ours_step, pyg_step)
from benchmarks.suites.report import fmt


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], Any], repeat: int,
           device: torch.device) -> Dict[str, float]:
    times: List[float] = []
    for _ in range(repeat):
        _sync(device)
        t = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t)
    return {'median': statistics.median(times), 'min': min(times),
            'repeat': repeat}


def _pyg_recommend(model: Any, homo: torch.Tensor, num_users: int,
                   num_items: int, train: torch.Tensor, k: int,
                   chunk: int) -> torch.Tensor:
    # PyG's recipe: propagate once, then score users against every item;
    # PyG's LightGCN.recommend has no masking, so the training items are
    # set to -inf by hand (the work the all-ranking protocol requires), in
    # user chunks to bound memory as ours does.
    emb = model.get_embedding(homo)
    user, item = emb[:num_users], emb[num_users:]
    row_ptr = torch.ops.aten._convert_indices_from_coo_to_csr(
        train[0], num_users).cpu()
    out = []
    for start in range(0, num_users, chunk):
        stop = min(start + chunk, num_users)
        scores = user[start:stop] @ item.t()
        lo, hi = int(row_ptr[start]), int(row_ptr[stop])
        scores[train[0, lo:hi] - start, train[1, lo:hi]] = float('-inf')
        out.append(scores.topk(k, dim=1).indices)
    return torch.cat(out)


def run_speed(split: Any, cfg: Dict[str, Any], seed: int, device: str,
              dataset: str = '') -> Dict[str, Any]:
    r"""Times both implementations and returns the figures and the table."""
    from torch_geometric.nn.models import LightGCN as PyGLightGCN

    from pyg_simce.nn.models import LightGCN

    dev = torch.device(device)
    edge_index = split.train['user', 'rates', 'item'].edge_index
    U, I = split.num_users, split.num_items
    order = torch.argsort(edge_index[0] * I + edge_index[1])
    edge_index = edge_index[:, order]
    dim, B, k = cfg['embedding_dim'], cfg['batch_size'], cfg['k']
    repeat, pyg_repeat = cfg['repeat'], cfg['pyg_repeat']
    batches = [tuple(t.to(dev) for t in b) for b in make_batches(
        edge_index, I, B, repeat + 2, seed)]
    edge_index = edge_index.to(dev)
    homo = torch.cat([
        torch.stack([edge_index[0], edge_index[1] + U]),
        torch.stack([edge_index[1] + U, edge_index[0]])
    ], dim=1)
    results: Dict[str, Any] = {}
    body = []
    for K in cfg['num_layers']:
        torch.manual_seed(seed)
        model = LightGCN(U, I, dim, num_layers=K).to(dev)
        ours = ours_step(model, edge_index, make_adam(model, False),
                         'pyg_simce', U)
        torch.manual_seed(seed)
        pyg = pyg_step(U, I, edge_index, dim, K, False)
        for b in batches[:2]:
            ours(b)
            pyg(b)
        it = iter(batches[1:])
        t_ours = _timed(lambda: ours(next(it)), repeat, dev)
        it = iter(batches[1:])
        t_pyg = _timed(lambda: pyg(next(it)), pyg_repeat, dev)

        # Full-ranking top-k of every user with the training items masked.
        torch.manual_seed(seed)
        pyg_model = PyGLightGCN(U + I, dim, K).to(dev)
        with torch.no_grad():
            pyg_model.embedding.weight.copy_(torch.cat(
                [model.user_embedding.weight, model.item_embedding.weight]))
        chunk = max(1, min(U, 2**26 // max(I, 1)))
        with torch.no_grad():
            model.eval()
            ours_top = model.recommend(edge_index, k=k,
                                       exclude_edge_index=edge_index)
            pyg_top = _pyg_recommend(pyg_model, homo, U, I, edge_index, k,
                                     chunk)
            agree = float((torch.sort(ours_top, 1).values == torch.sort(
                pyg_top, 1).values).all(1).float().mean())
            e_ours = _timed(
                lambda: model.recommend(edge_index, k=k,
                                        exclude_edge_index=edge_index),
                max(1, repeat // 2), dev)
            e_pyg = _timed(
                lambda: _pyg_recommend(pyg_model, homo, U, I, edge_index, k,
                                       chunk), max(1, pyg_repeat // 2), dev)
        results[str(K)] = {
            'train_step_seconds': {'pyg_simce': t_ours, 'pyg': t_pyg},
            'train_step_speedup': t_pyg['median'] / t_ours['median'],
            'evaluation_seconds': {'pyg_simce': e_ours, 'pyg': e_pyg},
            'evaluation_speedup': e_pyg['median'] / e_ours['median'],
            'top_k_lists_equal_fraction': agree,
        }
        body.append([
            str(K), fmt(t_ours['median'], 4), fmt(t_pyg['median'], 4),
            f"{results[str(K)]['train_step_speedup']:.1f}x",
            fmt(e_ours['median'], 3), fmt(e_pyg['median'], 3),
            f"{results[str(K)]['evaluation_speedup']:.1f}x", f'{agree:.3f}'
        ])
    header = ['layers', 'step ours (s)', 'step PyG (s)', 'step speed-up',
              f'top-{k} eval ours (s)', 'eval PyG (s)', 'eval speed-up',
              'same top-k lists']
    # The design target (at least 10x at K=3) is stated for Gowalla; on
    # other graphs the ratio is reported as an observation.
    verdicts = [{
        'claim': f'training step faster than PyG LightGCN (K={K}'
        + (', target >= 10x on Gowalla)' if dataset == 'gowalla' else ')'),
        'holds': (r['train_step_speedup'] >= 10 if dataset == 'gowalla'
                  else None),
        'evidence': f"K={K}: training step {r['train_step_speedup']:.1f}x, "
        f"full-ranking evaluation {r['evaluation_speedup']:.1f}x"
    } for K, r in results.items()]
    return {'table': {'header': header, 'rows': body}, 'timings': results,
            'verdicts': verdicts, 'device': device}
