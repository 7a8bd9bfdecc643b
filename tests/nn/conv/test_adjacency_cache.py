import torch

from pyg_simce.nn.conv import AdjacencyCache, graph_key


def test_cache_hits_for_the_same_tensor_only():
    cache = AdjacencyCache()
    calls = []

    def build(tag):
        calls.append(tag)
        return tag

    edge_index = torch.tensor([[0, 1], [1, 0]])
    assert cache.get(edge_index, 'p', lambda: build('a')) == 'a'
    assert cache.get(edge_index, 'p', lambda: build('b')) == 'a'
    assert (cache.hits, cache.misses) == (1, 1)

    # Equal content but another tensor -> rebuilt (never a stale reuse).
    assert cache.get(edge_index.clone(), 'p', lambda: build('c')) == 'c'
    # Other parameters -> rebuilt.
    other = torch.tensor([[0, 1], [1, 1]])
    assert cache.get(other, 'p', lambda: build('d')) == 'd'
    assert cache.get(other, 'q', lambda: build('e')) == 'e'
    # In-place write bumps the version counter -> rebuilt.
    other[1, 1] = 0
    assert cache.get(other, 'q', lambda: build('f')) == 'f'
    assert cache.get(other, 'q', lambda: build('g')) == 'f'
    assert calls == ['a', 'c', 'd', 'e', 'f']

    cache.clear()
    assert cache.value is None
    assert cache.get(other, 'q', lambda: build('h')) == 'h'
    assert 'filled' in repr(cache)


def test_graph_key_views_and_sparse():
    edge_index = torch.arange(8).view(2, 4)
    assert graph_key(edge_index) == graph_key(edge_index.view(2, 4))
    assert graph_key(edge_index) != graph_key(edge_index[:, :2])
    sparse = edge_index.to_sparse()
    assert graph_key(sparse)[0] == 'object'


def test_copies_start_empty():
    import copy
    import pickle

    cache = AdjacencyCache()
    edge_index = torch.tensor([[0], [1]])
    cache.get(edge_index, 'p', lambda: torch.eye(2).to_sparse_csr())
    for clone in (copy.deepcopy(cache), pickle.loads(pickle.dumps(cache))):
        assert clone.value is None
        assert clone.get(edge_index, 'p', lambda: 'rebuilt') == 'rebuilt'
    assert cache.value is not None
