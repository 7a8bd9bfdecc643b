import itertools
from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from pyg_simce.data import RATED_BY, RATES, build_hetero_data, k_core


def is_core(edges, user_k, item_k):
    du = Counter(u for u, _ in edges)
    di = Counter(i for _, i in edges)
    return all(du[u] >= user_k and di[i] >= item_k for u, i in edges)


def brute_force_core(edges, user_k, item_k):
    r"""The largest subset of edges in which every node has enough edges."""
    edges = sorted(set(edges))
    for size in range(len(edges), -1, -1):
        for subset in itertools.combinations(edges, size):
            if is_core(subset, user_k, item_k):
                return set(subset)
    return set()


def raw_edges(data):
    ei = data[RATES].edge_index
    return set(
        zip(data['user'].raw_id[ei[0]].tolist(),
            data['item'].raw_id[ei[1]].tolist()))


def test_hand_case():
    # Users 0-2 with items 10-12 form a 2-core; user 3 hangs on item 10 only,
    # and item 13 is rated once; removing them leaves 0-2 x 10-12.
    edges = [(0, 10), (0, 11), (1, 10), (1, 11), (1, 12), (2, 12), (2, 11),
             (3, 10), (2, 13)]
    data = build_hetero_data(*map(np.array, zip(*edges)),
                             timestamp=np.arange(len(edges)))
    out = k_core(data, k=2)
    expected = {(0, 10), (0, 11), (1, 10), (1, 11), (1, 12), (2, 12),
                (2, 11)}
    assert raw_edges(out) == expected == brute_force_core(edges, 2, 2)
    assert out['user'].raw_id.tolist() == [0, 1, 2]
    assert out['item'].raw_id.tolist() == [10, 11, 12]
    assert torch.equal(out[RATED_BY].edge_index,
                       out[RATES].edge_index.flip([0]))
    # timestamps follow their edges
    t = dict(zip(edges, range(len(edges))))
    ei = out[RATES].edge_index
    got = [(out['user'].raw_id[u].item(), out['item'].raw_id[i].item())
           for u, i in ei.t().tolist()]
    assert out[RATES].time.tolist() == [t[p] for p in got]
    # A chain that collapses completely only after several rounds.
    chain = [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2)]
    data = build_hetero_data(*map(np.array, zip(*chain)))
    assert raw_edges(k_core(data, k=2)) == set()


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1,
                max_size=11), st.integers(1, 3), st.integers(1, 3))
def test_matches_brute_force(edges, user_k, item_k):
    data = build_hetero_data(*map(np.array, zip(*edges)))
    out = k_core(data, user_k=user_k, item_k=item_k)
    got = raw_edges(out)
    assert is_core(got, user_k, item_k)
    assert got == brute_force_core(edges, user_k, item_k)
    assert out['user'].num_nodes == len({u for u, _ in got})
    assert out['item'].num_nodes == len({i for _, i in got})


def test_degrees_on_larger_graph():
    rng = np.random.default_rng(0)
    user = rng.zipf(1.5, 5000) % 400
    item = rng.zipf(1.3, 5000) % 300
    out = k_core(build_hetero_data(user, item), k=5)
    ei = out[RATES].edge_index
    assert ei.size(1) > 0
    assert torch.bincount(ei[0]).min() >= 5
    assert torch.bincount(ei[1]).min() >= 5


def test_bad_arguments():
    data = build_hetero_data(np.array([0]), np.array([0]))
    with pytest.raises(ValueError, match="'k'"):
        k_core(data, k=-1)
    with pytest.raises(ValueError, match="'user_k'"):
        k_core(data, user_k=1.5)
