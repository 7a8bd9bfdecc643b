r"""Pure normalisation functions for bipartite user-item propagation.

Nothing here holds state; :class:`~pyg_simce.nn.conv.BipartiteConv` and the
cached :class:`~pyg_simce.nn.conv.SparseAdjacency` both call
:func:`bipartite_norm`, so every propagation path uses exactly the same
coefficients.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor


def inverse_degree_power(degree: Tensor, alpha: float) -> Tensor:
    r"""Returns :math:`d^{-\alpha}` element-wise, with :math:`0` wherever
    :math:`d = 0` (never :obj:`inf` or :obj:`NaN`).

    For :math:`\alpha = 0` every node with :math:`d > 0` gets :math:`1`;
    isolated nodes still get :math:`0` (they never send or receive a message,
    so the value is never used on an edge).

    Args:
        degree (torch.Tensor): Non-negative degrees (any floating dtype).
        alpha (float): The exponent :math:`\alpha`.
    """
    out = degree.pow(-float(alpha))
    return out.masked_fill_(degree <= 0, 0.0)


def check_edge_index(edge_index: Tensor, size: Tuple[int, int],
                     name: str = 'edge_index') -> None:
    r"""Raises a :class:`ValueError` naming :obj:`name` unless
    :obj:`edge_index` is an integer tensor of shape :obj:`[2, E]` whose row 0
    lies in :obj:`[0, size[0])` and row 1 in :obj:`[0, size[1])`."""
    if not isinstance(edge_index, Tensor) or edge_index.is_sparse or \
            edge_index.layout != torch.strided:
        raise ValueError(f"'{name}' expected a dense integer tensor of shape "
                         f"[2, num_edges] (got {type(edge_index).__name__})")
    if edge_index.dtype.is_floating_point or edge_index.is_complex() or \
            edge_index.dtype == torch.bool:
        raise ValueError(f"'{name}' expected an integer dtype "
                         f"(got {edge_index.dtype})")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"'{name}' expected shape [2, num_edges] "
                         f"(got {list(edge_index.shape)})")
    if edge_index.numel() == 0:
        return
    lo = edge_index.min(dim=1).values.tolist()
    hi = edge_index.max(dim=1).values.tolist()
    for r, what in ((0, 'row 0 (source)'), (1, 'row 1 (target)')):
        if lo[r] < 0 or hi[r] >= size[r]:
            raise ValueError(f"'{name}' {what} expected ids in "
                             f"[0, {size[r]}) (got min {lo[r]}, max {hi[r]})")


def bipartite_norm(
    edge_index: Tensor,
    size: Tuple[int, int],
    alpha0: float = 0.5,
    alpha1: float = 0.5,
    dtype: Optional[torch.dtype] = None,
) -> Tensor:
    r"""Computes the coefficient of every message in a bipartite graph with
    receiver exponent :math:`\alpha_0` and sender exponent :math:`\alpha_1`,
    as in eqs. (23), (24) and (31) of the `"On the Effectiveness of Sampled
    Softmax Loss for Item Recommendation" <https://arxiv.org/abs/2201.02327>`_
    paper:

    .. math::
        w_{j \to i} = \frac{1}{|\mathcal{N}(i)|^{\alpha_0} \,
        |\mathcal{N}(j)|^{\alpha_1}},

    where :math:`j = \text{edge\_index}[0, e]` is the source,
    :math:`i = \text{edge\_index}[1, e]` the target,
    :math:`|\mathcal{N}(i)|` the number of edges entering :math:`i` and
    :math:`|\mathcal{N}(j)|` the number of edges leaving :math:`j` (duplicate
    edges count with their multiplicity).  In matrix form the propagation is
    :math:`\mathbf{D}_{\text{dst}}^{-\alpha_0} \mathbf{A}
    \mathbf{D}_{\text{src}}^{-\alpha_1}`; :math:`\alpha_0 = \alpha_1 = 0.5`
    on the homogeneous user-item graph is LightGCN's symmetric normalisation.
    Nodes without edges get no coefficient at all, so no :obj:`NaN` or
    :obj:`inf` can appear.

    Args:
        edge_index (torch.Tensor): Edges :obj:`[2, E]`, row 0 the sources.
        size ((int, int)): :obj:`(num_src, num_dst)`.
        alpha0 (float, optional): Exponent on the receiving side.
            (default: :obj:`0.5`)
        alpha1 (float, optional): Exponent on the sending side.
            (default: :obj:`0.5`)
        dtype (torch.dtype, optional): Floating dtype of the result.
            (default: :obj:`torch.get_default_dtype()`)

    Shapes:
        - **input:** :obj:`edge_index` :math:`(2, |\mathcal{E}|)`
        - **output:** :math:`(|\mathcal{E}|)`
    """
    num_src, num_dst = int(size[0]), int(size[1])
    if num_src < 0 or num_dst < 0:
        raise ValueError(f"'size' expected two non-negative ints "
                         f"(got {size})")
    dtype = dtype or torch.get_default_dtype()
    src, dst = edge_index[0], edge_index[1]
    ones = torch.ones(src.numel(), dtype=dtype, device=src.device)
    deg_src = torch.zeros(num_src, dtype=dtype, device=src.device)
    deg_dst = torch.zeros(num_dst, dtype=dtype, device=src.device)
    deg_src.index_add_(0, src, ones)
    deg_dst.index_add_(0, dst, ones)
    return (inverse_degree_power(deg_dst, alpha0)[dst] *
            inverse_degree_power(deg_src, alpha1)[src])
