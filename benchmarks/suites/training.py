r"""One training run of a benchmark suite, cached and resumable.

A run is fully described by its *spec* (dataset and load arguments, model,
loss, trainer options, seed, device, package version).  Its record (final
metrics, learning curve, long-tail decomposition, magnitude fits) is kept
under ``<work>/<dataset>/<key>/record.json``, where :obj:`key` hashes the
spec, so that suites sharing a run (*e.g.* LightGCN + SSM appears in
``losses``, ``backbones`` and ``propagation``) train it once.  While a run
trains, the trainer writes an atomic checkpoint after every epoch into the
same folder; a stopped run resumes from it when the suite is started again.
"""
import hashlib
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch

import pyg_simce
from benchmarks.common import environment_info
from benchmarks.suites.config import RunConfig, Settings
from benchmarks.suites.magnitude_records import magnitude_record, \
    message_record, propagated_sides
from benchmarks.suites.per_user import per_user_metrics
from benchmarks.suites.run_lock import run_lock

WORK = Path(__file__).resolve().parent.parent / 'work'


def run_spec(run: RunConfig, settings: Settings, seed: int,
             device: str) -> Dict[str, Any]:
    r"""The complete, JSON-serialisable description of a run: the dataset
    settings with the run's overrides applied."""
    model_kwargs: Dict[str, Any] = {'embedding_dim': settings.embedding_dim}
    if run.model == 'lightgcn':
        model_kwargs.update(num_layers=settings.num_layers, alpha0=0.5,
                            alpha1=0.5)
    elif run.model == 'svdpp':
        model_kwargs.update(side='user', alpha0=1.0, alpha1=0.0)
    model_kwargs.update(run.model_kwargs)
    if run.model != 'lightgcn' and 'num_layers' in run.model_kwargs:
        raise ValueError(f"run {run.label!r}: 'num_layers' is only a "
                         f"LightGCN option (model {run.model!r})")
    loss_kwargs = dict(run.loss_kwargs)
    if run.loss == 'ssm':
        loss_kwargs.setdefault('temperature', settings.ssm_temperature)
    trainer_kwargs = dict(settings.loss_settings.get(run.loss, {}))
    trainer_kwargs.update(run.trainer_kwargs)
    spec = {
        'dataset': settings.dataset,
        'load': settings.load,
        'model': run.model,
        'model_kwargs': model_kwargs,
        'loss': run.loss,
        'loss_kwargs': loss_kwargs,
        'trainer_kwargs': trainer_kwargs,
        'batch_size': settings.batch_size,
        'lr': settings.lr,
        'reg': settings.reg,
        'epochs': settings.epochs,
        'eval_every': settings.eval_every,
        'patience': settings.patience,
        'seed': int(seed),
        'device': device,
        'pyg_simce': pyg_simce.__version__,
    }
    # A run's own budget (e.g. the SimCE paper's 50 epochs for SimCE
    # against 200 for BPR) replaces the dataset's.
    spec.update(run.settings)
    if run.negatives_exclude is not None:  # absent otherwise: keys unchanged
        spec['negatives_exclude'] = run.negatives_exclude
    return spec


def spec_key(spec: Dict[str, Any]) -> str:
    r"""A short stable hash of :obj:`spec`."""
    text = json.dumps(spec, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def build_model(spec: Dict[str, Any], num_users: int,
                num_items: int) -> torch.nn.Module:
    r"""The model of :obj:`spec`, freshly initialised."""
    from pyg_simce.nn.models import MF, SVDPP, LightGCN

    cls = {'mf': MF, 'svdpp': SVDPP, 'lightgcn': LightGCN}[spec['model']]
    return cls(num_users, num_items, **spec['model_kwargs'])


def _log_lines(log_path: Path) -> List[Dict[str, Any]]:
    # The JSON-lines log of the trainer, one record per epoch (a resumed
    # run truncates it back to its checkpoint first). A run still training
    # in another process may have half-written its last line: that line is
    # left out.
    lines = []
    if log_path.is_file():
        for line in log_path.read_text().splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def _read_json(path: Path) -> Optional[Dict[str, Any]]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _curve(lines: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    # The epochs with metrics form the learning curve.
    return [{
        'epoch': rec['epoch'],
        'train_seconds': round(float(rec['elapsed']), 3),
        'recall@20': rec['metrics']['recall@20'],
        'ndcg@20': rec['metrics']['ndcg@20'],
    } for rec in lines if 'metrics' in rec]


def run_folder(spec: Dict[str, Any], work: Path = WORK) -> Path:
    r"""The cache folder of the run :obj:`spec`."""
    return Path(work) / spec['dataset'].replace('/', '-') / spec_key(spec)


def cached_record(spec: Dict[str, Any], work: Path = WORK,
                  unfinished: bool = True) -> Optional[Dict[str, Any]]:
    r"""The record of the run :obj:`spec` without training: the finished
    record when there is one; else, with :obj:`unfinished`, a provisional
    record of a run that is still training (or was stopped), built from its
    log: the test metrics of its best evaluation so far, marked
    :obj:`'unfinished': True`. That is exactly what the run would report if
    it stopped now, but only for runs evaluated on the test split (no
    validation split, as in the reference code of Gowalla and Yelp2018): a
    run selected on a validation split has no test figure before it ends.
    The provisional record has no long-tail or magnitude analysis (those
    need the final embeddings). Returns :obj:`None` when there is nothing
    to report."""
    folder = run_folder(spec, work)
    record_path = folder / 'record.json'
    if record_path.is_file():
        record = json.loads(record_path.read_text())
        record['cached'] = True
        return record
    if not unfinished:
        return None
    log_path = folder / 'log.jsonl'
    lines = _log_lines(log_path)
    evals = [rec for rec in lines if 'metrics' in rec]
    if not evals or any(rec.get('split') != 'test' for rec in evals):
        return None
    flagged = [rec for rec in evals if rec.get('best')]
    best = flagged[-1] if flagged else max(
        evals, key=lambda rec: rec['metrics']['recall@20'])
    from pyg_simce.train.defaults import resolve_options

    loss = resolve_options(spec['loss'], **spec['trainer_kwargs'])
    seconds = [rec['seconds'] for rec in lines]
    return {
        'key': spec_key(spec),
        'spec': spec,
        'test': best['metrics'],
        'valid': None,
        'selection': 'best test evaluation so far (unfinished run)',
        'best_epoch': int(best['epoch']),
        'epochs_run': int(lines[-1]['epoch']),
        'stopped_by': 'unfinished',
        'train_seconds': round(float(lines[-1]['elapsed']), 3),
        'epoch_seconds_median': statistics.median(seconds),
        'torch_threads': None,
        'negative_sampling': loss['negative_sampling'],
        'num_negatives': loss['num_negatives'],
        'train_similarity': loss['train_similarity'],
        'test_similarity': loss['test_similarity'],
        'curve': _curve(lines),
        'environment': _read_json(folder / 'environment.json'),
        'unfinished': True,
        'cached': True,
    }


class SplitCache:
    r"""Loads each dataset once per process."""
    def __init__(self, root: Optional[str] = None) -> None:
        self.root = root
        self._splits: Dict[str, Any] = {}

    def get(self, dataset: str, load: Dict[str, Any]) -> Any:
        from pyg_simce.data import load_dataset

        key = json.dumps([dataset, load], sort_keys=True)
        if key not in self._splits:
            self._splits[key] = load_dataset(dataset, root=self.root, **load)
        return self._splits[key]


def execute(spec: Dict[str, Any], splits: SplitCache, work: Path = WORK,
            fresh: bool = False, quiet: bool = True) -> Dict[str, Any]:
    r"""Returns the record of the run :obj:`spec`: from the cache when it
    finished before, else trains it (resuming from its checkpoint if one
    exists) and caches the record.  Raises
    :class:`~benchmarks.suites.run_lock.RunInProgress` when another process
    is training it.

    Args:
        spec (dict): From :func:`run_spec`.
        splits (SplitCache): The dataset loader.
        work (Path): The cache and checkpoint folder.
        fresh (bool): Ignore a cached record and any checkpoint.
        quiet (bool): Do not print the trainer's per-epoch lines.
    """
    if not fresh:
        record = cached_record(spec, work, unfinished=False)
        if record is not None:
            return record
    # One process trains a run; another one that needs it gets
    # RunInProgress (benchmarks.suites.run_lock).  Inside the lock the
    # cache is read again: the holder may just have finished it.
    with run_lock(run_folder(spec, work)):
        return _train(spec, splits, work, fresh, quiet)


def _train(spec: Dict[str, Any], splits: SplitCache, work: Path,
           fresh: bool, quiet: bool) -> Dict[str, Any]:
    from pyg_simce.metrics import longtail_decomposition
    from pyg_simce.nn.loss import loss_resolver
    from pyg_simce.train import Trainer
    from pyg_simce.train.checkpoint import latest_checkpoint

    key = spec_key(spec)
    folder = run_folder(spec, work)
    record_path = folder / 'record.json'
    if not fresh:
        record = cached_record(spec, work, unfinished=False)
        if record is not None:
            return record
    folder.mkdir(parents=True, exist_ok=True)
    ckpt_dir = folder / 'checkpoint'
    log_path = folder / 'log.jsonl'
    if fresh:
        for p in list(ckpt_dir.glob('*')) if ckpt_dir.is_dir() else []:
            p.unlink()
        if log_path.exists():
            log_path.unlink()
    (folder / 'spec.json').write_text(json.dumps(spec, indent=1))
    # The machine that trains it (the last session's, if resumed): a report
    # may be written on another, e.g. the runs of a lent GPU reported with
    # --report-only, and an unfinished run's report reads it from here.
    environment = environment_info(seed=spec['seed'], device=spec['device'])
    (folder / 'environment.json').write_text(json.dumps(environment,
                                                        indent=1))

    split = splits.get(spec['dataset'], spec['load'])
    device = torch.device(spec['device'])
    torch.manual_seed(spec['seed'])
    model = build_model(spec, split.num_users, split.num_items).to(device)
    edges = split.train['user', 'rates', 'item'].edge_index
    with torch.no_grad():
        model.eval()
        u0, i0 = model.get_embedding(edges.to(device))
        model.train()
    init_magnitude = magnitude_record(u0, i0, edges, split.num_users,
                                      split.num_items)
    init_message = message_record(spec, model.user_embedding.weight.detach(),
                                  model.item_embedding.weight.detach(),
                                  edges, split.num_users, split.num_items)
    trainer = Trainer(model, loss_resolver(spec['loss'],
                                           **spec['loss_kwargs']),
                      split.train, val_data=split.val,
                      test_data=split.test, lr=spec['lr'], reg=spec['reg'],
                      batch_size=spec['batch_size'], epochs=spec['epochs'],
                      eval_every=spec['eval_every'],
                      patience=spec['patience'], ks=(10, 20, 50),
                      seed=spec['seed'], device=device, quiet=quiet,
                      progress=False, log_path=log_path,
                      checkpoint_dir=ckpt_dir, checkpoint_every=1,
                      metadata={'benchmark_key': key},
                      **spec['trainer_kwargs'])
    if spec.get('negatives_exclude') == 'test':
        from benchmarks.suites.false_negatives import \
            exclude_test_from_negatives
        exclude_test_from_negatives(trainer, split)
    resumed = (not fresh) and latest_checkpoint(ckpt_dir) is not None
    start = time.perf_counter()
    result = trainer.fit(resume=resumed)
    wall = time.perf_counter() - start

    user_out, item_out = trainer.embeddings()
    test_target = split.test['user', 'rates', 'item'].edge_label_index
    exclude = None
    if split.val is not None:
        exclude = split.val['user', 'rates', 'item'].edge_label_index
    tail = longtail_decomposition(user_out, item_out, edges, test_target,
                                  k=20, exclude_edge_index=exclude,
                                  similarity=trainer.test_similarity)
    per_user = per_user_metrics(user_out, item_out, edges.to(device),
                                test_target.to(device),
                                None if exclude is None else
                                exclude.to(device), trainer.test_similarity)
    lines = _log_lines(log_path)
    seconds = [rec['seconds'] for rec in lines]
    record = {
        'key': key,
        'spec': spec,
        'test': result['test'],
        'valid': result['valid'],
        'selection': ('best validation evaluation' if split.val is not None
                      else 'best test evaluation (no validation split), as '
                      'in the reference code'),
        'best_epoch': result['best_epoch'],
        'epochs_run': result['epochs_run'],
        'stopped_by': result['stopped_by'],
        'train_seconds': round(result['train_seconds'], 3),
        'wall_seconds_last_session': round(wall, 3),
        'resumed': resumed,
        'epoch_seconds_median': (statistics.median(seconds)
                                 if seconds else None),
        # What the timings above ran with (shared machines are noisy).
        'torch_threads': torch.get_num_threads(),
        'load_average_at_finish': round(os.getloadavg()[0], 2),
        'environment': environment,
        'negative_sampling': trainer.negative_sampling,
        'num_negatives': trainer.num_negatives,
        'train_similarity': trainer.train_similarity,
        'test_similarity': trainer.test_similarity,
        'loss_repr': repr(trainer.loss),
        'curve': _curve(lines),
        'longtail': {
            'recall_per_group': [round(x, 5)
                                 for x in tail['recall_per_group']],
            'share_per_group': [round(x, 5)
                                for x in tail['share_per_group']],
            'target_share_per_group': [
                round(x, 5) for x in tail['target_share_per_group']
            ],
        },
        'magnitude': {
            'propagated_sides': propagated_sides(spec),
            'init': init_magnitude,
            'trained': magnitude_record(user_out, item_out, edges,
                                        split.num_users, split.num_items),
            'init_message': init_message,
            'trained_message': message_record(
                spec, model.user_embedding.weight.detach(),
                model.item_embedding.weight.detach(), edges,
                split.num_users, split.num_items),
        },
        'finished': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
        'per_user': per_user,
    }
    tmp = record_path.with_suffix('.tmp')
    tmp.write_text(json.dumps(record, indent=1))
    tmp.replace(record_path)
    record['cached'] = False
    return record
