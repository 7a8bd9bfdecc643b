import numpy as np
import pytest
import torch

from pyg_simce.data import build_hetero_data, to_raw_ids
from pyg_simce.data.raw_ids import raw_ids_of


def test_maps_integer_and_string_vocabularies():
    data = build_hetero_data(['bob', 'amy', 'cat'], [30, 10, 20])
    user_raw, item_raw = raw_ids_of(data)
    assert isinstance(user_raw, np.ndarray) and isinstance(item_raw,
                                                            torch.Tensor)
    assert to_raw_ids(user_raw, torch.tensor([[2, 0], [1, 1]])) == \
        ['cat', 'amy', 'bob', 'bob']
    assert to_raw_ids(item_raw, [0, 2]) == [10, 30]
    assert to_raw_ids(['x', 'y'], torch.tensor([1])) == ['y']
    assert to_raw_ids(None, torch.tensor([4, 0]), num_nodes=5) == [4, 0]
    assert to_raw_ids(item_raw, torch.empty(0, dtype=torch.long)) == []


def test_refuses_padding_and_out_of_range_ids():
    raw = torch.tensor([7, 8, 9])
    # Plain indexing would map the padding id to the last node.
    assert int(raw[-1]) == 9
    with pytest.raises(ValueError, match=r"'index' expected node ids in "
                       r"\[0, 3\) \(got -1 \(-1 marks an empty "
                       r"recommendation slot, not an item\)\)"):
        to_raw_ids(raw, torch.tensor([0, -1]))
    with pytest.raises(ValueError, match=r"'items' expected node ids in "
                       r"\[0, 3\) \(got 3\)"):
        to_raw_ids(raw, torch.tensor([3]), name='items')
    with pytest.raises(ValueError, match=r"expected node ids in \[0, 3\) "
                       r"\(got -2\)"):
        to_raw_ids(['a', 'b', 'c'], [-2])
    with pytest.raises(ValueError, match="'index' expected integer node ids "
                       r"\(got dtype torch.float32\)"):
        to_raw_ids(raw, torch.tensor([0.0]))
    with pytest.raises(ValueError, match="'num_nodes' expected the number of "
                       "nodes when 'raw_id' is None"):
        to_raw_ids(None, [0])
    with pytest.raises(ValueError, match=r"\[0, 2\) \(got 2\)"):
        to_raw_ids(None, [2], num_nodes=2)


def test_raw_ids_of_missing():
    from torch_geometric.data import HeteroData
    data = HeteroData()
    data['user'].num_nodes = 2
    assert raw_ids_of(data) == (None, None)


def test_raw_ids_are_plain_python_values_that_print_plainly():
    # numpy scalars print as np.str_('sku-26') inside a list.
    data = build_hetero_data(['sku-26', 'sku-3'], [5, 7])
    user_raw, item_raw = raw_ids_of(data)
    users = to_raw_ids(user_raw, [0, 1])
    items = to_raw_ids(item_raw, [0, 1])
    assert [type(u) for u in users] == [str, str]
    assert [type(i) for i in items] == [int, int]
    assert str(users) == "['sku-26', 'sku-3']"
    assert str(items) == '[5, 7]'
