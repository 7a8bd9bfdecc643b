import io

import pytest
import torch

from pyg_simce.sampler import (
    PopularityNegativeSampler,
    UniformNegativeSampler,
)

SAMPLERS = [UniformNegativeSampler, PopularityNegativeSampler]


def graph(seed=0):
    gen = torch.Generator().manual_seed(seed)
    row = torch.randint(20, (200, ), generator=gen)
    col = torch.randint(60, (200, ), generator=gen)
    return torch.stack([row, col])


@pytest.mark.parametrize('cls', SAMPLERS)
def test_same_seed_same_samples(cls):
    users = torch.arange(20).repeat(3)
    a = cls(graph(), 20, 60, num_negatives=5, seed=11)
    b = cls(graph(), 20, 60, num_negatives=5, seed=11)
    c = cls(graph(), 20, 60, num_negatives=5, seed=12)
    first = a.sample(users)
    assert torch.equal(first, b.sample(users))
    assert not torch.equal(first, c.sample(users))
    assert not torch.equal(first, a.sample(users))  # the stream advances
    torch.manual_seed(5)
    d = cls(graph(), 20, 60, num_negatives=5)
    torch.manual_seed(5)
    e = cls(graph(), 20, 60, num_negatives=5)
    assert torch.equal(d.sample(users), e.sample(users))


@pytest.mark.parametrize('cls', SAMPLERS)
def test_state_dict_resume(cls):
    users = torch.arange(20)
    a = cls(graph(), 20, 60, num_negatives=4, seed=3)
    a.sample(users)
    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    expected = [a.sample(users), a.sample_shared(30)]
    b = cls(graph(), 20, 60, num_negatives=4, seed=99)
    buffer.seek(0)
    b.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(b.sample(users), expected[0])
    assert torch.equal(b.sample_shared(30), expected[1])
    with pytest.raises(ValueError, match='state_dict'):
        b.load_state_dict({'seed': 1})


@pytest.mark.parametrize('cls', SAMPLERS)
def test_external_generator(cls):
    users = torch.arange(20)
    a = cls(graph(), 20, 60, num_negatives=4, seed=0)
    g1 = torch.Generator().manual_seed(42)
    g2 = torch.Generator().manual_seed(42)
    state = a.generator.get_state()
    assert torch.equal(a.sample(users, generator=g1),
                       a.sample(users, generator=g2))
    assert torch.equal(a.generator.get_state(), state)  # own one untouched
    assert a.sample(users, num_negatives=7).shape == (20, 7)


@pytest.mark.parametrize('cls', SAMPLERS)
def test_shared_pool_and_mask(cls):
    edge_index = graph()
    sets = [set() for _ in range(20)]
    for u, i in edge_index.t().tolist():
        sets[u].add(i)
    sampler = cls(edge_index, 20, 60, seed=0)
    pool = sampler.sample_shared(64)
    assert pool.shape == (64, ) and pool.min() >= 0 and pool.max() < 60
    users = torch.tensor([0, 5, 5, 19])
    mask = sampler.pool_mask(users, pool)
    expected = torch.tensor([[i not in sets[u] for i in pool.tolist()]
                             for u in users.tolist()])
    assert torch.equal(mask, expected)
    assert not expected.all()  # the pool does hold some positives
    with pytest.raises(ValueError, match="'num'"):
        sampler.sample_shared(0)


@pytest.mark.parametrize('cls', SAMPLERS)
def test_argument_errors(cls):
    with pytest.raises(ValueError, match='num_negatives'):
        cls(graph(), 20, 60, num_negatives=0)
    with pytest.raises(ValueError, match='num_items'):
        cls(graph(), 20, 50)  # item ids up to 59
    with pytest.raises(ValueError, match='num_users'):
        cls(graph(), 0, 60)
    sampler = cls(graph(), 20, 60, seed=0)
    with pytest.raises(ValueError, match='user_index'):
        sampler.sample(torch.tensor([20]))
    with pytest.raises(ValueError, match='user_index'):
        sampler.sample(torch.tensor([-1]))
    with pytest.raises(ValueError, match='user_index'):
        sampler.sample(torch.tensor([[1]]))
    with pytest.raises(ValueError, match='user_index'):
        sampler.sample(torch.tensor([1.0]))
    with pytest.raises(ValueError, match='num_negatives'):
        sampler.sample(torch.tensor([1]), num_negatives=0)
    with pytest.raises(ValueError, match='generator'):
        sampler.sample(torch.tensor([1]), generator=5)
    assert sampler.sample(torch.empty(0, dtype=torch.long)).shape == (0, 1)
