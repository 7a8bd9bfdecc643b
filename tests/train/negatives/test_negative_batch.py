import pytest
import torch

from pyg_simce.train.negatives.negative_batch import counted_rows


@pytest.mark.parametrize('count,size', [(5, 100), (30, 100), (400, 100),
                                        (1, 1)])
def test_unique_rows_equals_torch_unique(count, size):
    # Both paths (sort for few ids, a count table for many) against
    # torch.unique.
    ids = torch.randint(size, (count, ),
                        generator=torch.Generator().manual_seed(count))
    rows, inverse, counts = counted_rows(ids, size)
    exp = torch.unique(ids, sorted=True, return_inverse=True,
                       return_counts=True)
    for a, b in zip((rows, inverse, counts), exp):
        assert a.dtype == b.dtype
        assert torch.equal(a, b)
    assert torch.equal(rows[inverse], ids)


def test_unique_rows_of_no_ids():
    rows, inverse, counts = counted_rows(torch.zeros(0, dtype=torch.long), 10)
    assert rows.numel() == inverse.numel() == counts.numel() == 0
