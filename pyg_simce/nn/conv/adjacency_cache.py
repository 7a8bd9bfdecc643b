r"""A one-entry cache for normalised adjacencies, validated on every lookup."""
from typing import Any, Callable, Hashable, Optional, Tuple

import torch
from torch import Tensor


def graph_key(graph: Any) -> Tuple:
    r"""Returns what identifies the contents of :obj:`graph` while a
    reference to it is held: for a dense tensor its data pointer, shape,
    strides, dtype, device and version counter (bumped by every in-place
    write); for sparse tensors and other objects their identity."""
    if isinstance(graph, Tensor) and graph.layout == torch.strided:
        return ('dense', graph.data_ptr(), tuple(graph.shape),
                tuple(graph.stride()), graph.dtype, str(graph.device),
                graph._version)
    return ('object', id(graph), type(graph).__name__)


class AdjacencyCache:
    r"""Holds one normalised adjacency together with the graph it was built
    from, and rebuilds it whenever a lookup brings a different graph.

    The rule: a cached value is reused only if the graph passed now has the
    same :func:`graph_key` as the graph it was built from.  Because the cache
    keeps a reference to that graph, its memory cannot be reused by another
    tensor, so an equal data pointer, shape and strides mean the same memory,
    and an unchanged version counter means it was not written in place.
    Passing another :obj:`edge_index` (even with the same shape), a modified
    one, or one on another device or with other parameters (:obj:`params`:
    node counts, exponents, dtype) therefore rebuilds the adjacency; a
    sparse adjacency matrix is matched by identity.  Copies
    (:func:`copy.deepcopy`, pickling) start empty.

    Attributes:
        hits (int): Lookups answered from the cache.
        misses (int): Lookups that built a new value.
    """
    def __init__(self):
        self.hits = 0
        self.misses = 0
        self.clear()

    def clear(self) -> None:
        r"""Drops the cached value and the reference to its graph."""
        self._graph: Optional[Any] = None
        self._key: Optional[Tuple] = None
        self._value: Optional[Any] = None

    @property
    def value(self) -> Optional[Any]:
        r"""The cached value, or :obj:`None`."""
        return self._value

    def get(self, graph: Any, params: Hashable,
            build: Callable[[], Any]) -> Any:
        r"""Returns the cached value for :obj:`(graph, params)`, building it
        with :obj:`build()` when the cache is empty or stale."""
        key = (graph_key(graph), params)
        if self._value is not None and self._key == key:
            self.hits += 1
            return self._value
        self.misses += 1
        value = build()
        self._graph, self._key, self._value = graph, key, value
        return value

    # The cache is derived data: copies and pickles start empty (sparse CSR
    # tensors cannot be deep-copied or pickled, and a copy must not share the
    # original's graph reference).
    def __getstate__(self) -> dict:
        return {'hits': 0, 'misses': 0}

    def __setstate__(self, state: dict) -> None:
        self.hits, self.misses = state['hits'], state['misses']
        self.clear()

    def __repr__(self) -> str:
        state = 'empty' if self._value is None else 'filled'
        return (f'{self.__class__.__name__}({state}, hits={self.hits}, '
                f'misses={self.misses})')
