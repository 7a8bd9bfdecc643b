r"""One run of the clean protocol, cached and resumable: trained on the
training part with the carved validation split for early stopping and
selection; the test split evaluated only when the run is a final one.

A run's folder (``<work>/<dataset>/<key>/``, *key* hashing its spec, which
names the protocol and the validation carve) holds the trainer's per-epoch
checkpoint, its log, ``record.json`` (validation metrics and learning
curve, written when training ends) and ``best.pt`` (the selected weights,
``weights_only`` loadable).  :func:`final_test` reads ``best.pt`` and writes
``test.json``: the test metrics and the per-user Recall@20 and NDCG@20 that
the paired intervals need.  A trial and a final run of the same
configuration and seed are one run: training never depends on whether the
test split will be read.
"""
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any, Dict, Optional

import torch

from benchmarks.clean.validation_split import CleanData, final_evaluation
from benchmarks.common import write_json
from benchmarks.suites.per_user import per_user_metrics
from benchmarks.suites.run_lock import run_lock
from benchmarks.suites.training import (
    _curve,
    _log_lines,
    build_model,
    run_folder,
    spec_key,
)

def train_clean(spec: Dict[str, Any], data: CleanData, work: Path,
                quiet: bool = True) -> Dict[str, Any]:
    r"""Returns the validation record of the run :obj:`spec`, training it
    (or resuming its checkpoint) unless it finished before. The test split
    is never opened here.  Raises
    :class:`~benchmarks.suites.run_lock.RunInProgress` when another process
    is training it."""
    folder = run_folder(spec, work)
    record = _finished(folder)
    if record is not None:
        return record
    # One process trains a run (benchmarks.suites.run_lock); inside the
    # lock the cache is read again, the holder may just have finished it.
    with run_lock(folder):
        return _finished(folder) or _train(spec, data, folder, quiet)


def _finished(folder: Path) -> Optional[Dict[str, Any]]:
    record_path = folder / 'record.json'
    if record_path.is_file() and (folder / 'best.pt').is_file():
        record = json.loads(record_path.read_text())
        record['cached'] = True
        return record
    return None


def _train(spec: Dict[str, Any], data: CleanData, folder: Path,
           quiet: bool) -> Dict[str, Any]:
    from pyg_simce.nn.loss import loss_resolver
    from pyg_simce.train import Trainer
    from pyg_simce.train.checkpoint import latest_checkpoint

    record_path = folder / 'record.json'
    (folder / 'spec.json').write_text(json.dumps(spec, indent=1))
    ckpt_dir = folder / 'checkpoint'
    log_path = folder / 'log.jsonl'
    device = torch.device(spec['device'])
    torch.manual_seed(spec['seed'])
    model = build_model(spec, data.num_users, data.num_items).to(device)
    trainer = Trainer(model, loss_resolver(spec['loss'],
                                           **spec['loss_kwargs']),
                      data.train, val_data=data.val, test_data=None,
                      lr=spec['lr'], reg=spec['reg'],
                      batch_size=spec['batch_size'], epochs=spec['epochs'],
                      eval_every=spec['eval_every'],
                      patience=spec['patience'], ks=(10, 20),
                      seed=spec['seed'], device=device, quiet=quiet,
                      progress=False, log_path=log_path,
                      checkpoint_dir=ckpt_dir, checkpoint_every=1,
                      metadata={'benchmark_key': spec_key(spec)},
                      **spec['trainer_kwargs'])
    resumed = latest_checkpoint(ckpt_dir) is not None
    result = trainer.fit(resume=resumed)
    tmp = folder / 'best.pt.tmp'
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()},
               tmp)
    os.replace(tmp, folder / 'best.pt')
    lines = _log_lines(log_path)
    seconds = [rec['seconds'] for rec in lines]
    record = {
        'key': spec_key(spec),
        'spec': spec,
        'valid': result['valid'],
        'best_epoch': result['best_epoch'],
        'epochs_run': result['epochs_run'],
        'stopped_by': result['stopped_by'],
        'train_seconds': round(result['train_seconds'], 3),
        'resumed': resumed,
        'epoch_seconds_median': (statistics.median(seconds)
                                 if seconds else None),
        'torch_threads': torch.get_num_threads(),
        'negative_sampling': trainer.negative_sampling,
        'num_negatives': trainer.num_negatives,
        'test_similarity': trainer.test_similarity,
        'curve': _curve(lines),
        'finished': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
    }
    write_json(record_path, record)
    record['cached'] = False
    return record


def final_test(spec: Dict[str, Any], record: Dict[str, Any],
               data: CleanData, work: Path) -> Dict[str, Any]:
    r"""The test metrics of the trained run :obj:`spec` (its selected
    weights), with per-user Recall@20 and NDCG@20; computed once and cached
    in ``test.json``. Training and validation interactions are masked."""
    folder = run_folder(spec, work)
    path = folder / 'test.json'
    if path.is_file():
        return json.loads(path.read_text())
    device = torch.device(spec['device'])
    model = build_model(spec, data.num_users, data.num_items)
    model.load_state_dict(torch.load(folder / 'best.pt', map_location='cpu',
                                     weights_only=True))
    model = model.to(device).eval()
    rates = ('user', 'rates', 'item')
    train_edges = data.train[rates].edge_index.to(device)
    with torch.no_grad():
        user_out, item_out = model.get_embedding(train_edges)
    with final_evaluation():
        test = data.test.open()
    target = test[rates].edge_label_index.to(device)
    out = {'key': spec_key(spec)}
    out.update(per_user_metrics(
        user_out, item_out, train_edges, target,
        exclude=data.val[rates].edge_label_index.to(device),
        similarity=record['test_similarity']))
    write_json(path, out)
    return out


def cached_validation(spec: Dict[str, Any],
                      work: Path) -> Optional[Dict[str, Any]]:
    r"""The finished validation record of :obj:`spec`, or :obj:`None`."""
    path = run_folder(spec, work) / 'record.json'
    return json.loads(path.read_text()) if path.is_file() else None
