import gzip

import pytest
import torch

from pyg_simce.data import (
    RATES,
    available_datasets,
    load_data_dir,
    load_dataset,
    registered_datasets,
    resolve_data_root,
)
from pyg_simce.data import dataset_registry


def edges(index):
    return sorted(map(tuple, index.t().tolist()))


def write_lightgcn(directory, gz=True):
    directory.mkdir(parents=True)
    train = '0 0 1 2\n1 1 3\n2 0 2 3 4\n'
    test = '0 3\n1 0\n2 1\n'
    if gz:
        (directory / 'train.txt.gz').write_bytes(gzip.compress(train.encode()))
    else:
        (directory / 'train.txt').write_text(train)
    (directory / 'test.txt').write_text(test)


def write_root(root):
    write_lightgcn(root / 'gowalla')
    write_lightgcn(root / 'amazon-book', gz=False)
    d = root / 'irbench' / 'toy'
    d.mkdir(parents=True)
    (d / 'train.tsv.gz').write_bytes(
        gzip.compress(b'user_procid\titem_procid\n0\t0\n0\t1\n1\t1\n'))
    (d / 'test.tsv.gz').write_bytes(
        gzip.compress(b'user_procid\titem_procid\n0\t2\n1\t0\n'))
    d = root / 'ml-100k'
    d.mkdir()
    rows = [(u, i, 1 + (u * i) % 5, 1000 + u * 10 + i)
            for u in range(1, 9) for i in range(1, 8) if (u + i) % 3]
    (d / 'u.data').write_text(''.join('\t'.join(map(str, r)) + '\n'
                                      for r in rows))
    return rows


def test_resolve_data_root_order(tmp_path, monkeypatch):
    explicit = tmp_path / 'explicit'
    explicit.mkdir()
    env = tmp_path / 'env'
    env.mkdir()
    work = tmp_path / 'repo'
    work.mkdir()
    beside = tmp_path / 'shared' / 'data'
    beside.mkdir(parents=True)
    monkeypatch.setenv('PYG_SIMCE_DATA', str(env))
    assert resolve_data_root(explicit) == explicit
    assert resolve_data_root() == env
    monkeypatch.setenv('PYG_SIMCE_DATA', str(tmp_path / 'nope'))
    with pytest.raises(FileNotFoundError, match='PYG_SIMCE_DATA'):
        resolve_data_root()
    monkeypatch.delenv('PYG_SIMCE_DATA')
    monkeypatch.chdir(work)
    assert resolve_data_root().resolve() == beside.resolve()
    # Nothing found: the error names every place tried.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(dataset_registry, '_REPO_ROOT', tmp_path / 'x' / 'y')
    with pytest.raises(FileNotFoundError) as info:
        resolve_data_root()
    message = str(info.value)
    assert str(tmp_path.parent / 'shared' / 'data') in message
    assert str(tmp_path / 'x' / 'shared' / 'data') in message
    assert 'PYG_SIMCE_DATA' in message
    with pytest.raises(FileNotFoundError, match="argument 'root'"):
        resolve_data_root(tmp_path / 'missing')
    # The synthetic set needs no root.
    assert available_datasets() == ['synthetic']
    assert load_dataset('synthetic', num_users=30, num_items=20,
                        mean_degree=5).num_users == 30


def test_registry_on_a_fake_root(tmp_path):
    rows = write_root(tmp_path)
    assert available_datasets(tmp_path) == [
        'gowalla', 'amazon-book', 'ml-100k', 'irbench/toy', 'synthetic'
    ]
    split = load_dataset('gowalla', root=tmp_path)
    assert split.val is None
    assert edges(split.train[RATES].edge_index) == [(0, 0), (0, 1), (0, 2),
                                                    (1, 1), (1, 3), (2, 0),
                                                    (2, 2), (2, 3), (2, 4)]
    assert edges(split.test[RATES].edge_label_index) == [(0, 3), (1, 0),
                                                         (2, 1)]
    book = load_dataset('amazon-book', root=tmp_path)
    assert torch.equal(book.train[RATES].edge_index,
                       split.train[RATES].edge_index)
    toy = load_dataset('irbench/toy', root=tmp_path)
    assert edges(toy.test[RATES].edge_label_index) == [(0, 2), (1, 0)]
    # Re-splitting a pre-split set merges its parts first.
    re = load_dataset('gowalla', root=tmp_path, split='random',
                      ratios=(0.5, 0.5), seed=1)
    merged = edges(split.train[RATES].edge_index) + edges(
        split.test[RATES].edge_label_index)
    assert sorted(edges(re.train[RATES].edge_index) +
                  edges(re.test[RATES].edge_label_index)) == sorted(merged)
    with pytest.raises(ValueError, match="'ratios'.*split='random'"):
        load_dataset('gowalla', root=tmp_path, ratios=(0.5, 0.5))
    ml = load_dataset('ml-100k', root=tmp_path, seed=5)
    assert ml.train['user'].raw_id.tolist() == list(range(1, 9))
    n = ml.train[RATES].edge_index.size(1)
    assert n + ml.test[RATES].edge_label_index.size(1) == len(rows)
    again = load_dataset('ml-100k', root=tmp_path, seed=5)
    assert torch.equal(again.test[RATES].edge_label_index,
                       ml.test[RATES].edge_label_index)
    thr = load_dataset('ml-100k', root=tmp_path, rating_threshold=4,
                       split='leave-one-out')
    total = sum(p[RATES].edge_label_index.size(1) for p in thr
                if p is not None)
    assert total == sum(r[2] >= 4 for r in rows)
    with pytest.raises(ValueError, match="'split'"):
        load_dataset('ml-100k', root=tmp_path, split='given')


def test_missing_files_and_unknown_names(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_dataset('amazon-book', root=tmp_path)
    assert str(tmp_path / 'amazon-book') in str(info.value)
    (tmp_path / 'yelp2018').mkdir()
    with pytest.raises(FileNotFoundError, match='train.txt.*train.txt.gz'):
        load_dataset('yelp2018', root=tmp_path)
    with pytest.raises(FileNotFoundError, match='irbench.*nothing'):
        load_dataset('irbench/nothing', root=tmp_path)
    with pytest.raises(ValueError) as info:
        load_dataset('netflix', root=tmp_path)
    for name in ('gowalla', 'yelp2018', 'ml-100k', 'ml-1m', 'amazon-book',
                 'irbench/amazon2014-health', 'synthetic'):
        assert repr(name) in str(info.value)
        assert name in registered_datasets()
    with pytest.raises(ValueError, match="unexpected argument.*'k_core'"):
        load_dataset('gowalla', root=tmp_path, k_core=3)


def test_load_data_dir_formats(tmp_path):
    write_root(tmp_path)
    a = load_data_dir(tmp_path / 'gowalla', 'lightgcn')
    b = load_dataset('gowalla', root=tmp_path)
    assert torch.equal(a.test[RATES].edge_label_index,
                       b.test[RATES].edge_label_index)
    t = load_data_dir(tmp_path / 'irbench' / 'toy', 'tsv')
    assert t.test[RATES].edge_label_index.size(1) == 2
    m1 = load_data_dir(tmp_path / 'ml-100k', 'movielens', seed=2)
    m2 = load_data_dir(tmp_path / 'ml-100k' / 'u.data', 'movielens', seed=2)
    assert torch.equal(m1.test[RATES].edge_label_index,
                       m2.test[RATES].edge_label_index)
    csv_dir = tmp_path / 'csv'
    csv_dir.mkdir()
    (csv_dir / 'log.csv').write_text(
        'who,what,stars\n' + ''.join(f'u{u},i{i},{(u + i) % 5}\n'
                                     for u in range(6) for i in range(5)))
    c = load_data_dir(csv_dir, 'csv', user_col='who', item_col='what',
                      rating_col='stars', rating_threshold=2, k_core=2,
                      split='random', ratios=(0.6, 0.2, 0.2))
    assert c.train['user'].raw_id.dtype.kind == 'U'
    assert c.val is not None
    (csv_dir / 'other.tsv').write_text('user\titem\n1\t2\n')
    with pytest.raises(ValueError, match='exactly one'):
        load_data_dir(csv_dir, 'csv')
    t = load_data_dir(csv_dir / 'other.tsv', 'csv', ratios=(0.5, 0.5))
    assert t.num_users == 1
    with pytest.raises(ValueError, match="'format'"):
        load_data_dir(csv_dir, 'parquet')
    with pytest.raises(FileNotFoundError, match='nowhere'):
        load_data_dir(tmp_path / 'nowhere', 'lightgcn')
    with pytest.raises(ValueError, match='directory'):
        load_data_dir(csv_dir / 'log.csv', 'lightgcn')
    with pytest.raises(ValueError, match="unexpected argument.*'user_col'"):
        load_data_dir(tmp_path / 'gowalla', 'lightgcn', user_col='x')


def test_load_data_dir_missing_file_names_the_folder_once(tmp_path):
    from pyg_simce.data import load_data_dir

    with pytest.raises(FileNotFoundError) as info:
        load_data_dir(tmp_path, 'lightgcn')
    message = str(info.value)
    assert f"data set '{tmp_path}'" in message
    assert str(tmp_path / 'train.txt') in message
    assert "''" not in message


def test_missing_root_message_names_root_and_each_path_once(tmp_path,
                                                             monkeypatch):
    monkeypatch.delenv('PYG_SIMCE_DATA', raising=False)
    (tmp_path / 'repo').mkdir()
    monkeypatch.chdir(tmp_path / 'repo')
    # The working folder is the checkout: one folder to search, named once.
    monkeypatch.setattr(dataset_registry, '_REPO_ROOT', tmp_path / 'repo')
    with pytest.raises(FileNotFoundError) as info:
        load_dataset('gowalla')
    searched = tmp_path / 'shared' / 'data'
    assert str(info.value) == (
        "no data root found: pass root=..., set $PYG_SIMCE_DATA, or create "
        f"one of the searched folders ('{searched}'); docs/data.rst "
        "describes the expected layout")


def test_unknown_name_suggests_the_closest(tmp_path):
    with pytest.raises(ValueError, match="unknown data set 'gowala'; did "
                       "you mean 'gowalla'\\? expected one of"):
        load_dataset('gowala', root=tmp_path)
    with pytest.raises(ValueError, match="did you mean 'irbench/douban-"
                       "music'"):
        load_dataset('douban-musik', root=tmp_path)
