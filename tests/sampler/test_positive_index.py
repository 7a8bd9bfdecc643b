import pytest
import torch

from pyg_simce.sampler import PositiveIndex


def random_edges(num_users, num_items, num_edges, seed=0):
    gen = torch.Generator().manual_seed(seed)
    row = torch.randint(num_users, (num_edges, ), generator=gen)
    col = torch.randint(num_items, (num_edges, ), generator=gen)
    return torch.stack([row, col])


def test_csr_matches_python_sets():
    edge_index = random_edges(13, 17, 80)  # contains duplicates
    index = PositiveIndex(edge_index, 15, 17)
    sets = [set() for _ in range(15)]
    for u, i in edge_index.t().tolist():
        sets[u].add(i)
    assert index.rowptr.tolist()[0] == 0
    assert index.degree.tolist() == [len(s) for s in sets]
    assert index.num_edges == sum(len(s) for s in sets)
    for u in range(15):
        lo, hi = index.rowptr[u].item(), index.rowptr[u + 1].item()
        assert index.col[lo:hi].tolist() == sorted(sets[u])
    item_deg = [sum(i in s for s in sets) for i in range(17)]
    assert index.item_degree().tolist() == item_deg


def test_contains_and_neighbors_against_sets():
    edge_index = random_edges(20, 30, 150, seed=1)
    index = PositiveIndex(edge_index, 20, 30)
    sets = [set() for _ in range(20)]
    for u, i in edge_index.t().tolist():
        sets[u].add(i)
    users = torch.arange(20).view(-1, 1)
    items = torch.arange(30).view(1, -1)
    got = index.contains(users, items)
    assert got.shape == (20, 30)
    expected = torch.tensor([[i in sets[u] for i in range(30)]
                             for u in range(20)])
    assert torch.equal(got, expected)

    query = torch.tensor([7, 3, 7, 19])
    batch, nbrs = index.neighbors(query)
    pairs = sorted(zip(batch.tolist(), nbrs.tolist()))
    expected_pairs = sorted((b, i) for b, u in enumerate(query.tolist())
                            for i in sets[u])
    assert pairs == expected_pairs
    assert torch.all(batch[1:] >= batch[:-1])


def test_inferred_sizes_and_empty():
    index = PositiveIndex(torch.tensor([[0, 2], [5, 1]]))
    assert (index.num_users, index.num_items) == (3, 6)
    empty = PositiveIndex(torch.empty(2, 0, dtype=torch.long), 4, 5)
    assert empty.num_edges == 0
    assert not empty.contains(torch.tensor([1, 2]), torch.tensor([0, 4])).any()
    batch, items = empty.neighbors(torch.tensor([0, 3]))
    assert batch.numel() == items.numel() == 0


def test_errors():
    with pytest.raises(ValueError, match='edge_index'):
        PositiveIndex(torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match='integer'):
        PositiveIndex(torch.zeros(2, 3))
    with pytest.raises(ValueError, match='num_users'):
        PositiveIndex(torch.tensor([[0, 5], [0, 1]]), num_users=5)
    with pytest.raises(ValueError, match='num_items'):
        PositiveIndex(torch.tensor([[0, 1], [0, 3]]), 2, 3)
    with pytest.raises(ValueError, match='non-negative'):
        PositiveIndex(torch.tensor([[0, -1], [0, 1]]))
    index = PositiveIndex(torch.tensor([[0, 1], [0, 1]]), 2, 2)
    with pytest.raises(ValueError, match='users'):
        index.contains(torch.tensor([2]), torch.tensor([0]))
    with pytest.raises(ValueError, match='items'):
        index.contains(torch.tensor([0]), torch.tensor([-1]))


def test_outer_membership_with_duplicated_pool_items():
    # large user x pool products take the sorted-pool path: same answer
    edge_index = random_edges(50, 40, 300, seed=3)
    index = PositiveIndex(edge_index, 50, 40)
    gen = torch.Generator().manual_seed(4)
    users = torch.randint(50, (64, ), generator=gen)  # repeated users
    pool = torch.randint(40, (80, ), generator=gen)  # duplicated items
    assert users.numel() * pool.numel() >= 4 * index.num_edges
    got = index.contains(users.view(-1, 1), pool.view(1, -1))
    ref = index._contains_keys(users.view(-1, 1) * 40 + pool.view(1, -1))
    assert torch.equal(got, ref)
    assert ref.any() and not ref.all()
    empty_user = PositiveIndex(edge_index, 60, 40)  # users 50..59: no items
    got = empty_user.contains(torch.arange(50, 60).view(-1, 1),
                              torch.arange(40).repeat(10).view(1, -1))
    assert not got.any()


def test_dense_table_and_sorted_search_agree(monkeypatch):
    gen = torch.Generator().manual_seed(3)
    edge_index = torch.stack([torch.randint(0, 40, (300, ), generator=gen),
                              torch.randint(0, 70, (300, ), generator=gen)])
    users = torch.randint(0, 40, (500, ), generator=gen)
    items = torch.randint(0, 70, (500, ), generator=gen)
    truth = {(int(u), int(i)) for u, i in edge_index.t()}
    expected = torch.tensor([(int(u), int(i)) in truth
                             for u, i in zip(users, items)])

    dense = PositiveIndex(edge_index, 40, 70)
    assert torch.equal(dense.contains(users, items), expected)
    assert dense._dense is not None  # 2,800 cells: the table path ran

    monkeypatch.setattr(PositiveIndex, 'dense_max_cells', 0)
    searched = PositiveIndex(edge_index, 40, 70)
    assert torch.equal(searched.contains(users, items), expected)
    assert searched._dense is None


def test_bit_table_every_bit_of_a_word():
    # One user whose items fill words of the bit table in every pattern:
    # all 64 bits of word 0 (bit 63 is the sign bit), every other bit of
    # word 1, only bit 63 of word 2; queried at every cell against sets.
    items = list(range(64)) + list(range(64, 128, 2)) + [191]
    edge_index = torch.tensor([[0] * len(items), items])
    index = PositiveIndex(edge_index, 2, 200)
    users = torch.tensor([0, 1]).repeat_interleave(200)
    cells = torch.arange(200).repeat(2)
    truth = set(items)
    expected = torch.tensor([u == 0 and int(i) in truth
                             for u, i in zip(users.tolist(), cells)])
    assert torch.equal(index.contains(users, cells), expected)
    assert index._dense is not None and index._dense.dtype == torch.int64
    assert int(index._dense[0]) == -1  # all 64 bits set
