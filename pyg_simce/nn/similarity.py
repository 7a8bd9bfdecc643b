r"""User-item similarity functions.

Two families are provided:

* **row-wise** functions :func:`dot` and :func:`cosine` score aligned pairs:
  row :math:`k` of :obj:`a` against row :math:`k` of :obj:`b`
  (:obj:`[n, d] x [n, d] -> [n]`, leading batch dimensions broadcast);
* **matrix** functions :func:`dot_matrix` and :func:`cosine_matrix` score
  every row of :obj:`a` against every row of :obj:`b`
  (:obj:`[n, d] x [m, d] -> [n, m]`), e.g. the in-batch score matrix of
  sampled softmax.

A temperature never lives here: it belongs to the loss that uses it (see
:class:`~pyg_simce.nn.loss.SampledSoftmaxLoss`).

The similarity used for **training** and the one used for **testing** are
independent choices.  Table 4 of `"On the Effectiveness of Sampled Softmax
Loss for Item Recommendation" <https://arxiv.org/abs/2201.02327>`_ finds that,
for LightGCN trained with sampled softmax, cosine similarity is the better
choice during training while the inner product is the better one for ranking
at test time (it also uses the representation magnitudes).  Resolve each by
name with :func:`get_similarity`.

:func:`cosine` and :func:`cosine_matrix` are safe at zero vectors: a row whose
norm is below :obj:`eps` is divided by :obj:`eps` instead, so the result is
:obj:`0` and the gradients are finite.
"""
from typing import Callable

from torch import Tensor

Similarity = Callable[[Tensor, Tensor], Tensor]


def _check_pair(a: Tensor, b: Tensor, matrix: bool) -> None:
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise ValueError(f"Expected tensors for 'a' and 'b' (got "
                         f"{type(a).__name__} and {type(b).__name__})")
    if a.dim() < 1 or b.dim() < 1:
        raise ValueError(f"Expected 'a' and 'b' to have a feature dimension "
                         f"(got shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)})")
    if a.size(-1) != b.size(-1):
        raise ValueError(f"Expected 'a' and 'b' to share the last (feature) "
                         f"dimension (got {a.size(-1)} and {b.size(-1)})")
    if matrix and (a.dim() != 2 or b.dim() != 2):
        raise ValueError(f"Expected two-dimensional 'a' [n, d] and 'b' "
                         f"[m, d] (got shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)})")


def _check_eps(eps: float) -> None:
    if not eps > 0:
        raise ValueError(f"Expected 'eps' to be positive (got {eps})")


def normalize(x: Tensor, eps: float = 1e-8) -> Tensor:
    r"""Divides each row of :obj:`x` by :math:`\max(\|x\|_2, \epsilon)`.

    Unlike :meth:`torch.nn.functional.normalize`, the gradient is finite and
    zero-safe at :math:`x = 0`: the squared norm is clamped *before* the
    square root, so the square root is never differentiated at zero.

    Args:
        x (torch.Tensor): Input of shape :obj:`[*, d]`.
        eps (float, optional): Smallest norm divided by.
            (default: :obj:`1e-8`)
    """
    _check_eps(eps)
    sq = (x * x).sum(dim=-1, keepdim=True).clamp_min(eps * eps)
    return x * sq.rsqrt()


def dot(a: Tensor, b: Tensor) -> Tensor:
    r"""Row-wise inner product :math:`s_k = \mathbf{a}_k^{\top}\mathbf{b}_k`.

    Args:
        a (torch.Tensor): Shape :obj:`[*, d]`.
        b (torch.Tensor): Shape :obj:`[*, d]` (broadcast against :obj:`a`).

    :rtype: :class:`torch.Tensor` of shape :obj:`[*]`
    """
    _check_pair(a, b, matrix=False)
    return (a * b).sum(dim=-1)


def cosine(a: Tensor, b: Tensor, eps: float = 1e-8) -> Tensor:
    r"""Row-wise cosine similarity

    .. math::
        s_k = \frac{\mathbf{a}_k^{\top}\mathbf{b}_k}
        {\max(\|\mathbf{a}_k\|, \epsilon) \, \max(\|\mathbf{b}_k\|, \epsilon)}.

    Args:
        a (torch.Tensor): Shape :obj:`[*, d]`.
        b (torch.Tensor): Shape :obj:`[*, d]` (broadcast against :obj:`a`).
        eps (float, optional): Smallest norm divided by; keeps the value and
            gradient finite at zero vectors. (default: :obj:`1e-8`)

    :rtype: :class:`torch.Tensor` of shape :obj:`[*]`
    """
    _check_pair(a, b, matrix=False)
    return (normalize(a, eps) * normalize(b, eps)).sum(dim=-1)


def dot_matrix(a: Tensor, b: Tensor) -> Tensor:
    r"""All-pairs inner products :math:`\mathbf{A}\mathbf{B}^{\top}`.

    Args:
        a (torch.Tensor): Shape :obj:`[n, d]`.
        b (torch.Tensor): Shape :obj:`[m, d]`.

    :rtype: :class:`torch.Tensor` of shape :obj:`[n, m]`
    """
    _check_pair(a, b, matrix=True)
    return a @ b.t()


def cosine_matrix(a: Tensor, b: Tensor, eps: float = 1e-8) -> Tensor:
    r"""All-pairs cosine similarities (one matrix product of the
    row-normalised inputs, see :func:`cosine`).

    Args:
        a (torch.Tensor): Shape :obj:`[n, d]`.
        b (torch.Tensor): Shape :obj:`[m, d]`.
        eps (float, optional): Smallest norm divided by.
            (default: :obj:`1e-8`)

    :rtype: :class:`torch.Tensor` of shape :obj:`[n, m]`
    """
    _check_pair(a, b, matrix=True)
    return normalize(a, eps) @ normalize(b, eps).t()


_ROW_WISE = {'dot': dot, 'cosine': cosine}
_MATRIX = {'dot': dot_matrix, 'cosine': cosine_matrix}
_ALIASES = {'ip': 'dot', 'inner_product': 'dot', 'cos': 'cosine'}


def get_similarity(name: str, matrix: bool = False) -> Similarity:
    r"""Returns a similarity function by name.

    Training and test similarity are resolved independently, e.g.
    :obj:`get_similarity('cosine')` for the loss and
    :obj:`get_similarity('dot', matrix=True)` for full ranking.

    Args:
        name (str): :obj:`"dot"` (aliases :obj:`"ip"`,
            :obj:`"inner_product"`) or :obj:`"cosine"` (alias :obj:`"cos"`).
        matrix (bool, optional): If :obj:`True`, returns the all-pairs form
            (:func:`dot_matrix` / :func:`cosine_matrix`) instead of the
            row-wise one. (default: :obj:`False`)
    """
    if not isinstance(name, str):
        raise ValueError(f"Expected 'name' to be a string (got "
                         f"{type(name).__name__})")
    key = name.lower().replace('-', '_')
    key = _ALIASES.get(key, key)
    table = _MATRIX if matrix else _ROW_WISE
    if key not in table:
        raise ValueError(f"Unknown similarity 'name' (got '{name}'); "
                         f"expected one of {sorted(_ROW_WISE)}")
    return table[key]


#: Alias of :func:`get_similarity` following PyG's ``*_resolver`` naming.
similarity_resolver = get_similarity

__all__ = [
    'dot',
    'cosine',
    'dot_matrix',
    'cosine_matrix',
    'normalize',
    'get_similarity',
    'similarity_resolver',
]
