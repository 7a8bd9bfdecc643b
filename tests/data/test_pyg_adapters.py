import numpy as np
import pytest
import torch
from torch_geometric.data import HeteroData

from pyg_simce.data import (
    RATED_BY,
    RATES,
    from_amazon_book,
    from_movielens_100k,
    normalize_node_types,
    pyg_to_split,
)
from pyg_simce.testing import with_package

TRAIN = {0: [0, 1, 2], 1: [2, 3], 2: [0, 4], 3: [1]}
TEST = {0: [3], 1: [0, 4], 2: [1]}


def write_amazon_book_raw(root):
    r"""The raw layout of PyG's AmazonBook (LightGCN files)."""
    raw = root / 'raw'
    raw.mkdir(parents=True)
    (raw / 'user_list.txt').write_text(
        'org_id remap_id\n' + ''.join(f'A{u} {u}\n' for u in range(4)))
    (raw / 'item_list.txt').write_text(
        'org_id remap_id\n' + ''.join(f'B{i} {i}\n' for i in range(6)))
    for name, adj in (('train.txt', TRAIN), ('test.txt', TEST)):
        (raw / name).write_text(''.join(
            ' '.join(map(str, [u, *items])) + '\n'
            for u, items in adj.items()))


def amazon_book_like():
    r"""The HeteroData that AmazonBook.process builds from those files."""
    data = HeteroData()
    data['user'].num_nodes = 4
    data['book'].num_nodes = 6
    for attr, adj in (('edge_index', TRAIN), ('edge_label_index', TEST)):
        index = torch.tensor([[u for u, its in adj.items() for _ in its],
                              [i for its in adj.values() for i in its]])
        data['user', 'rates', 'book'][attr] = index
    data['book', 'rated_by', 'user'].edge_index = \
        data['user', 'rates', 'book'].edge_index.flip([0])
    return data


def check_amazon_split(split):
    assert split.val is None
    for part in (split.train, split.test):
        assert part.node_types == ['user', 'item']
        assert part['user'].num_nodes == 4 and part['item'].num_nodes == 6
        assert set(part.edge_types) == {RATES, RATED_BY}
        assert torch.equal(part[RATED_BY].edge_index,
                           part[RATES].edge_index.flip([0]))
        part.validate()
    train = set(map(tuple, split.train[RATES].edge_index.t().tolist()))
    test = set(map(tuple, split.test[RATES].edge_label_index.t().tolist()))
    assert train == {(u, i) for u, its in TRAIN.items() for i in its}
    assert test == {(u, i) for u, its in TEST.items() for i in its}
    assert split.train['item'].raw_id.tolist() == list(range(6))


def test_amazon_book_layout_without_pandas():
    check_amazon_split(from_amazon_book(amazon_book_like()))


@with_package('pandas')
def test_amazon_book_dataset_from_raw_files(tmp_path):
    from torch_geometric.datasets import AmazonBook
    write_amazon_book_raw(tmp_path)
    dataset = AmazonBook(str(tmp_path))
    check_amazon_split(from_amazon_book(dataset))
    check_amazon_split(from_amazon_book(dataset[0]))


def write_movielens_raw(root):
    r"""The raw layout of PyG's MovieLens100K (GroupLens ml-100k files)."""
    raw = root / 'raw'
    raw.mkdir(parents=True)
    genres = '|'.join(['0'] * 18)
    (raw / 'u.item').write_text(''.join(
        f'{m}|Movie {m} (1995)|01-Jan-1995||http://x|0|{genres}\n'
        for m in range(1, 6)), encoding='latin-1')
    (raw / 'u.user').write_text(''.join(
        f'{u}|{20 + u}|{"MF"[u % 2]}|{["writer", "other"][u % 2]}|0000{u}\n'
        for u in range(1, 4)))
    (raw / 'u1.base').write_text('1\t1\t5\t100\n1\t2\t2\t101\n2\t3\t4\t102\n'
                                 '3\t5\t1\t103\n3\t1\t4\t104\n')
    (raw / 'u1.test').write_text('1\t3\t4\t200\n2\t1\t1\t201\n3\t2\t5\t202\n')


def movielens_like():
    data = HeteroData()
    data['movie'].x = torch.zeros(5, 18)
    data['user'].x = torch.ones(3, 4)
    rates = data['user', 'rates', 'movie']
    rates.edge_index = torch.tensor([[0, 0, 1, 2, 2], [0, 1, 2, 4, 0]])
    rates.rating = torch.tensor([5, 2, 4, 1, 4])
    rates.time = torch.tensor([100, 101, 102, 103, 104])
    rates.edge_label_index = torch.tensor([[0, 1, 2], [2, 0, 1]])
    rates.edge_label = torch.tensor([4.0, 1.0, 5.0])
    data['movie', 'rated_by', 'user'].edge_index = rates.edge_index.flip([0])
    return data


def check_movielens_split(split, threshold):
    train = set(map(tuple, split.train[RATES].edge_index.t().tolist()))
    test = set(map(tuple, split.test[RATES].edge_label_index.t().tolist()))
    if threshold is None:
        assert train == {(0, 0), (0, 1), (1, 2), (2, 4), (2, 0)}
        assert test == {(0, 2), (1, 0), (2, 1)}
    else:
        assert train == {(0, 0), (1, 2), (2, 0)}
        assert test == {(0, 2), (2, 1)}
    assert split.train['item'].num_nodes == 5
    assert split.train['user'].num_nodes == 3
    assert split.train['item'].x.size() == (5, 18)
    ei = split.train[RATES].edge_index.t().tolist()
    rating = dict(zip([(0, 0), (0, 1), (1, 2), (2, 4), (2, 0)],
                      [5, 2, 4, 1, 4]))
    assert split.train[RATES].rating.tolist() == [rating[tuple(p)]
                                                  for p in ei]


@pytest.mark.parametrize('threshold', [None, 4])
def test_movielens_layout_without_pandas(threshold):
    check_movielens_split(from_movielens_100k(movielens_like(), threshold),
                          threshold)


@with_package('pandas')
@pytest.mark.parametrize('threshold', [None, 4])
def test_movielens_dataset_from_raw_files(tmp_path, threshold):
    from torch_geometric.datasets import MovieLens100K
    write_movielens_raw(tmp_path)
    dataset = MovieLens100K(str(tmp_path))
    check_movielens_split(from_movielens_100k(dataset, threshold), threshold)


def test_normalize_and_errors():
    data = normalize_node_types(movielens_like())
    assert data.node_types == ['user', 'item']
    assert torch.equal(data[RATED_BY].rating, data[RATES].rating)
    assert 'edge_label_index' in data[RATES]
    with pytest.raises(ValueError, match="'item_type'"):
        normalize_node_types(movielens_like(), item_type='book')
    with pytest.raises(ValueError, match='HeteroData or a PyG dataset'):
        normalize_node_types(np.zeros(3))
    no_test = amazon_book_like()
    del no_test['user', 'rates', 'book'].edge_label_index
    with pytest.raises(ValueError, match='edge_label_index'):
        pyg_to_split(no_test)
    with pytest.raises(ValueError, match='rating_threshold'):
        pyg_to_split(amazon_book_like(), rating_threshold=3)
