import csv
import json

import pytest
import torch

import pyg_simce
from pyg_simce import cli
from pyg_simce.data import to_raw_ids
from pyg_simce.nn.models import MF


def _interactions(path, num_users=40, num_items=30, seed=0):
    # String raw ids whose sorted order differs from the row order.
    gen = torch.Generator().manual_seed(seed)
    rows = ['user,item']
    for u in range(num_users):
        items = torch.randperm(num_items, generator=gen)[:6 + u % 5]
        rows += [f'user-{(u * 7) % num_users:02d},sku{int(i) * 3:03d}'
                 for i in items]
    path.write_text('\n'.join(rows) + '\n')
    return path


def _read(path):
    if path.suffix == '.csv':
        with open(path, newline='') as f:
            reader = csv.reader(f)
            assert next(reader) == ['user', 'rank', 'item', 'score']
            return [(u, int(r), i, float(s)) for u, r, i, s in reader]
    return [(d['user'], d['rank'], d['item'], d['score'])
            for d in map(json.loads, path.read_text().splitlines())]


def _expected(model, raw_users, k, exclude_seen):
    lookup = {raw: i for i, raw in enumerate(list(model.user_raw_id))}
    users = torch.tensor([lookup[u] for u in raw_users])
    ids, scores = model.recommend(src_index=users, k=k,
                                  exclude_seen=exclude_seen,
                                  return_scores=True)
    rows = []
    for raw, row_ids, row_scores in zip(raw_users, ids, scores):
        keep = row_ids >= 0
        items = to_raw_ids(model.item_raw_id, row_ids[keep])
        rows += [(raw, rank + 1, item, float(score)) for rank, (item, score)
                 in enumerate(zip(items, row_scores[keep].tolist()))]
    return rows


def test_train_save_model_then_recommend(tmp_path, run_cli_all, capsys):
    data = _interactions(tmp_path / 'interactions.csv')
    common = ['--data', str(data), '--format', 'csv', '--k', '10,20',
              '--threads', '1',
              '--quiet']
    results = run_cli_all({
        'lightgcn': ['train', *common, '--model', 'lightgcn', '--layers', '1',
                     '--dim', '8', '--epochs', '2', '--batch-size', '128',
                     '--loss', 'bpr', '--save-model', 'lightgcn.pt'],
        'mostpop': ['train', *common, '--model', 'mostpop', '--save-model',
                    'models/mostpop.pt', '--out', 'mostpop.json'],
    }, tmp_path)
    for name, (code, stdout, stderr) in results.items():
        assert code == 0, (name, stderr)
        assert 'model saved to' in stdout
    # A missing folder of --save-model is created, as for --out.
    (tmp_path / 'models' / 'mostpop.pt').rename(tmp_path / 'mostpop.pt')
    (tmp_path / 'users.txt').write_text('user-03\n\nuser-17\nuser-00\n')

    for name in ('lightgcn', 'mostpop'):
        model = pyg_simce.load(tmp_path / f'{name}.pt')
        assert model.user_raw_id == [f'user-{u:02d}' for u in range(40)]
        assert all(i.startswith('sku') for i in model.item_raw_id)
        for out, flags in ((f'{name}.csv', ['--exclude-seen']),
                           (f'{name}.jsonl', [])):
            assert cli.main(['recommend', '--model-file',
                             str(tmp_path / f'{name}.pt'), '--users',
                             str(tmp_path / 'users.txt'), '--k', '5',
                             '--out', str(tmp_path / out), *flags]) == 0
            assert 'wrote 15 recommendations for 3 users to' in \
                capsys.readouterr().out
            got = _read(tmp_path / out)
            want = _expected(model, ['user-03', 'user-17', 'user-00'], 5,
                             bool(flags))
            assert got == want
        # --exclude-seen: never a training item of the user.
        train = model.train_edge_index
        seen = {(model.user_raw_id[u], model.item_raw_id[i])
                for u, i in train.t().tolist()}
        assert not seen & {(u, i) for u, _, i, _ in
                           _read(tmp_path / f'{name}.csv')}
        assert seen & {(u, i) for u, _, i, _ in
                       _read(tmp_path / f'{name}.jsonl')}

    # --users all, and --format overriding the extension.
    assert cli.main(['recommend', '--model-file',
                     str(tmp_path / 'lightgcn.pt'), '--users', 'all', '--k',
                     '2', '--format', 'jsonl', '--out',
                     str(tmp_path / 'all.txt'), '--quiet']) == 0
    got = _read(tmp_path / 'all.txt')
    assert got == _expected(pyg_simce.load(tmp_path / 'lightgcn.pt'),
                            [f'user-{u:02d}' for u in range(40)], 2, False)


@pytest.fixture
def small_model(tmp_path):
    torch.manual_seed(0)
    model = MF(4, 6, embedding_dim=3)
    edge_index = torch.tensor([[0, 0, 0, 0, 0, 1, 2], [0, 1, 2, 3, 4, 5, 0]])
    path = model.save(tmp_path / 'mf.pt', edge_index,
                      user_raw_id=torch.tensor([10, 20, 30, 40]),
                      item_raw_id=[f'x{i}' for i in range(6)])
    bare = MF(4, 6).save(tmp_path / 'bare.pt')
    return pyg_simce.load(path), path, bare


def _fails(capsys, argv):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('pyg-simce: error: ') and err.count('\n') == 1
    assert 'Traceback' not in err
    return ' '.join(err.split())


def test_padding_unknown_users_and_popular_fallback(tmp_path, small_model,
                                                    capsys):
    model, path, _ = small_model
    users = tmp_path / 'u.txt'
    users.write_text('10\n99\n30\n77\n')
    out = tmp_path / 'r.csv'
    base = ['recommend', '--model-file', str(path), '--users', str(users),
            '--k', '3', '--out', str(out)]
    assert cli.main(base + ['--exclude-seen']) == 0
    captured = capsys.readouterr()
    assert ('pyg-simce: 2 of 4 user ids unknown to the model (99, 77): '
            'skipped') in captured.err
    rows = _read(out)
    # User 10 (node 0) has one admissible item: one row, no padding row.
    assert [r for r in rows if r[0] == '10'] == [
        ('10', 1, 'x5', float(model.recommend(
            src_index=torch.tensor([0]), k=1, exclude_seen=True,
            return_scores=True)[1][0, 0]))]
    assert [r[1] for r in rows if r[0] == '30'] == [1, 2, 3]

    assert cli.main(base + ['--unknown-users', 'popular', '--quiet']) == 0
    assert 'recommended the most popular items' in capsys.readouterr().err
    rows = _read(out)
    # Item 0 has 2 training users, items 1-5 one each (ties: lower id).
    assert [r for r in rows if r[0] == '99'] == [
        ('99', 1, 'x0', 2.0), ('99', 2, 'x1', 1.0), ('99', 3, 'x2', 1.0)]

    assert _fails(capsys, base + ['--unknown-users', 'error']) == (
        f"pyg-simce: error: {users}:2: 2 user id(s) unknown to the model "
        f"(first: 99, 77); --unknown-users skip or popular handles them")


def test_argument_errors_before_loading(tmp_path, small_model, capsys):
    model, path, bare = small_model
    users = tmp_path / 'u.txt'
    users.write_text('10\n')
    hostile = tmp_path / 'hostile.pt'
    hostile.write_bytes(b'\x80\x04not a model')

    def run(*extra, model_file=path, k='2', out=tmp_path / 'r.csv',
            users_arg=users):
        return _fails(capsys, ['recommend', '--model-file', str(model_file),
                               '--users', str(users_arg), '--k', k,
                               '--out', str(out), *extra])

    # Argument errors win over an unreadable model file: checked first.
    assert run(model_file=hostile, k='0').endswith(
        '--k expected a positive integer (got 0)')
    assert run(model_file=hostile, out=tmp_path / 'no' / 'r.csv').endswith(
        f"--out '{tmp_path / 'no' / 'r.csv'}' expected an existing folder "
        f"'{tmp_path / 'no'}' (got none)")
    assert run(model_file=hostile, out=tmp_path).endswith(
        f"--out '{tmp_path}' expected a file path (got a directory)")
    assert run(model_file=hostile, out=tmp_path / 'r.txt').endswith(
        f"--out '{tmp_path / 'r.txt'}' expected a .csv or .jsonl extension, "
        f"or --format csv|jsonl (got '.txt')")
    assert run(model_file=tmp_path / 'none.pt').endswith(
        f"--model-file '{tmp_path / 'none.pt'}' does not exist")
    assert run(model_file=tmp_path).endswith(
        f"--model-file '{tmp_path}' does not exist (got a directory)")
    assert run(model_file=hostile, users_arg=tmp_path / 'none.txt').endswith(
        f"--users '{tmp_path / 'none.txt'}' expected a file of raw user ids "
        f"or 'all' (got no such file)")
    for text, message in (
            ('10\n20 30\n', f"{users}:2: expected one raw user id per line "
             f"(got '20 30')"),
            ('10,20\n', f"{users}:1: expected one raw user id per line "
             f"(got '10,20')"),
            ('10\n\n10\n', f"{users}:3: user id '10' repeats line 1"),
            ('\n \n', f"--users '{users}' expected at least one raw user id "
             f"(got none)")):
        users.write_text(text)
        assert run(model_file=hostile).endswith(message)
    users.write_bytes(b'\xff\xfe1\n')
    assert run(model_file=hostile).endswith(
        f"--users '{users}' expected a UTF-8 text file with one raw user id "
        f"per line (got undecodable bytes)")

    users.write_text('10\nbob\n')
    assert run().endswith(f"{users}:2: expected an integer user id, as the "
                          f"model's raw user ids are integers (got 'bob')")
    users.write_text('10\n')
    assert run(model_file=hostile).endswith(
        f"model file '{hostile}' refused: not a pyg_simce model file "
        f"(torch.load(weights_only=True) found content other than tensors "
        f"and plain Python values; nothing in it was run)")
    assert run(k='7').endswith('--k expected at most the number of items of '
                               'the model, 6 (got 7)')
    assert run('--exclude-seen', model_file=bare).endswith(
        f"--exclude-seen expected a model file with its training graph "
        f"('{bare}' has none)")
    users.write_text('1\n99\n')
    assert run('--unknown-users', 'popular', model_file=bare).endswith(
        f"--unknown-users popular expected a model file with its training "
        f"graph ('{bare}' has none)")
    assert not (tmp_path / 'r.csv').exists()


def test_save_model_path_checked_before_training(tmp_path, capsys):
    base = ['train', '--dataset', 'synthetic', '--synthetic-users', '20',
            '--synthetic-items', '10', '--threads', '1', '--quiet']
    for model in ('mf', 'mostpop'):
        message = _fails(capsys, base + ['--model', model, '--save-model',
                                         str(tmp_path)])
        assert f'--save-model {tmp_path} expected a file path' in message
