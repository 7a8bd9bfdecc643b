r"""The magnitude records of a trained run (the ``magnitude`` suite): log-log
fits of squared embedding norm against training degree, of the final
embeddings and of the one-step message alone."""
import math
from typing import Any, Dict, List

import torch


def _binned(norms: torch.Tensor, degrees: torch.Tensor,
            bins: int = 12) -> List[List[float]]:
    # Mean squared norm per logarithmic degree bin: [degree, ||e||^2, count].
    keep = degrees >= 1
    d, n2 = degrees[keep].double(), norms[keep].double().pow(2)
    if d.numel() == 0:
        return []
    edges = torch.logspace(0, math.log10(float(d.max()) + 1), bins + 1,
                           dtype=torch.float64)
    which = torch.bucketize(d, edges, right=True).clamp(1, bins) - 1
    out = []
    for b in range(bins):
        m = which == b
        if bool(m.any()):
            out.append([round(float(d[m].mean()), 3),
                        float(n2[m].mean()), int(m.sum())])
    return out


def magnitude_record(user_emb: torch.Tensor, item_emb: torch.Tensor,
                     edge_index: torch.Tensor, num_users: int,
                     num_items: int) -> Dict[str, Any]:
    r"""Log-log fits of squared embedding norm against training degree, for
    users and items (:func:`pyg_simce.nn.magnitude.embedding_norm_vs_degree`),
    with per-degree-bin means for plots."""
    from pyg_simce.nn.magnitude import embedding_norm_vs_degree

    out = {}
    for side, emb, ids, n in (('user', user_emb, edge_index[0], num_users),
                              ('item', item_emb, edge_index[1], num_items)):
        degree = torch.bincount(ids.cpu(), minlength=n)
        fit = embedding_norm_vs_degree(emb.detach().cpu(), degree)
        out[side] = {
            'slope': float(fit['slope']),
            'intercept': float(fit['intercept']),
            'num_fitted': int(fit['num_fitted']),
            'bins': _binned(fit['norms'], degree),
        }
    return out


def propagated_sides(spec: Dict[str, Any]) -> List[str]:
    r"""The sides whose final embedding contains a propagated message."""
    if spec['model'] == 'mf':
        return []
    if spec['model'] == 'svdpp':
        return [spec['model_kwargs'].get('side', 'user')]
    return ['user', 'item'] if spec['model_kwargs'].get('num_layers',
                                                        1) > 0 else []


def message_record(spec: Dict[str, Any], user0: torch.Tensor,
                   item0: torch.Tensor, edge_index: torch.Tensor,
                   num_users: int, num_items: int) -> Dict[str, Any]:
    r"""Fits of the one-step message of eq. (24) alone, computed from the
    layer-0 tables with the model's exponents: the quantity whose magnitude
    eq. (29) predicts (the final embedding adds the layer-0 term)."""
    from pyg_simce.nn.conv import BipartiteConv

    kwargs = spec['model_kwargs']
    conv = BipartiteConv(alpha0=kwargs.get('alpha0', 0.5),
                         alpha1=kwargs.get('alpha1', 0.5))
    out = {}
    edge_index = edge_index.to(user0.device)
    with torch.no_grad():
        for side in propagated_sides(spec):
            if side == 'item':
                msg = conv((user0, None), edge_index,
                           size=(num_users, num_items))
            else:
                msg = conv((item0, None), edge_index.flip(0),
                           size=(num_items, num_users))
            n = num_items if side == 'item' else num_users
            row = edge_index[1] if side == 'item' else edge_index[0]
            out[side] = magnitude_record(
                msg, msg, torch.stack([row, row]), n, n)[side]
    return out
