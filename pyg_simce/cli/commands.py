r"""The commands of the command line: ``train``, ``eval`` and ``data stats``,
and the data set, model and loss their options name."""
import argparse
import json
import time
from pathlib import Path
from typing import Any, Dict

from pyg_simce.cli.output import (
    _clean_floats,
    _device_name,
    _json_default,
    _metric_line,
    _metric_sort_key,
    _print_results,
    _say,
    _write_json,
)
from pyg_simce.cli.validation import (
    CLIError,
    _resolve_device,
    _resolve_threads,
    validate_data_args,
    validate_output_args,
    validate_train_args,
)

# Builders ####################################################################


def load_split(args: argparse.Namespace) -> Any:
    r"""Loads the :class:`~pyg_simce.data.InteractionSplit` named by the data
    options."""
    from pyg_simce import data as data_pkg

    kwargs: Dict[str, Any] = {}
    if args.split is not None:
        kwargs['split'] = args.split
    if args.ratios is not None:
        kwargs['ratios'] = tuple(args.ratios)
    if getattr(args, 'drop_overlap', False):  # absent from older configs
        kwargs['drop_overlap'] = True
    if args.data is not None:
        kwargs['seed'] = args.seed
        return data_pkg.load_data_dir(args.data, args.format, **kwargs)
    name = args.dataset
    if name.lower() == 'synthetic':
        if args.synthetic_users is not None:
            kwargs['num_users'] = args.synthetic_users
        if args.synthetic_items is not None:
            kwargs['num_items'] = args.synthetic_items
    kwargs['seed'] = args.seed
    if name.strip().lower() != 'synthetic':  # the error names --data-root
        from pyg_simce._dataset_names import find_data_root
        find_data_root(args.data_root, flag='--data-root')
    return data_pkg.load_dataset(name, root=args.data_root, **kwargs)


def build_model(args: argparse.Namespace, num_users: int,
                num_items: int) -> Any:
    r"""Builds the model named by :obj:`--model` and its options."""
    from pyg_simce.nn.models import MF, SVDPP, LightGCN

    if args.model == 'mf':
        return MF(num_users, num_items, embedding_dim=args.dim)
    kwargs: Dict[str, Any] = {}
    if args.alpha0 is not None:
        kwargs['alpha0'] = args.alpha0
    if args.alpha1 is not None:
        kwargs['alpha1'] = args.alpha1
    if args.model == 'svdpp':
        return SVDPP(num_users, num_items, embedding_dim=args.dim,
                     side=args.side or 'user', **kwargs)
    return LightGCN(num_users, num_items, embedding_dim=args.dim,
                    num_layers=3 if args.layers is None else args.layers,
                    **kwargs)


def build_loss(args: argparse.Namespace) -> Any:
    r"""Builds the loss named by :obj:`--loss` with its options."""
    from pyg_simce.nn.loss import loss_resolver
    from pyg_simce.train.defaults import loss_defaults

    defaults = loss_defaults(args.loss)
    kwargs: Dict[str, Any] = {}
    if args.loss in ('ssm', 'softmax'):
        kwargs['temperature'] = (args.temperature if args.temperature
                                 is not None else defaults['temperature'])
    elif args.loss == 'simce':
        kwargs['margin'] = (args.margin if args.margin is not None else
                            defaults['margin'])
    elif args.loss == 'ccl':
        kwargs['margin'] = (args.margin if args.margin is not None else
                            defaults['margin'])
        kwargs['negative_weight'] = (args.negative_weight
                                     if args.negative_weight is not None else
                                     defaults['negative_weight'])
    elif args.loss == 'mml':
        kwargs['margins'] = tuple(args.margins or defaults['margins'])
        kwargs['weights'] = tuple(args.weights or defaults['weights'])
        kwargs['negative_weight'] = (args.negative_weight
                                     if args.negative_weight is not None else
                                     defaults['negative_weight'])
    return loss_resolver(args.loss, **kwargs)


def _cli_config(args: argparse.Namespace,
                resolved: Dict[str, Any]) -> Dict[str, Any]:
    # --save-model names an output, like --out: not part of the run's
    # options (a resume may name another file).
    skip = {'handler', 'command', 'name', 'data_command', 'save_model'}
    cfg = {k: v for k, v in vars(args).items() if k not in skip}
    cfg.update(resolved)
    if cfg.get('k') is not None:
        cfg['k'] = list(cfg['k'])
    return cfg


# Commands ####################################################################


def _prepare_training(args: argparse.Namespace,
                      resolved: Dict[str, Any]) -> Any:
    import torch

    from pyg_simce.train import Trainer

    threads = getattr(args, 'threads', None)
    if threads is not None and not isinstance(threads, int):
        threads = args.threads = _resolve_threads(threads)
    if isinstance(threads, int) and threads != torch.get_num_threads():
        torch.set_num_threads(threads)
    split = load_split(args)
    num_users, num_items = split.num_users, split.num_items
    torch.manual_seed(args.seed)
    model = build_model(args, num_users, num_items)
    loss = build_loss(args)
    if max(args.k) > num_items:
        raise CLIError(f'--k expected cut-offs of at most the number of '
                       f'items {num_items} (got {max(args.k)})')
    log = args.log
    if log is None and args.checkpoint_dir is not None:
        log = str(Path(args.checkpoint_dir) / 'log.jsonl')
    trainer = Trainer(
        model, loss, split.train, val_data=split.val, test_data=split.test,
        lr=args.lr, weight_decay=args.weight_decay,
        batch_size=args.batch_size, epochs=args.epochs, reg=args.reg,
        negative_sampling=resolved['negative_sampling'],
        num_negatives=resolved['num_negatives'],
        beta=1.0 if args.beta is None else args.beta,
        train_similarity=resolved['train_similarity'],
        test_similarity=resolved['test_similarity'],
        eval_every=args.eval_every, metric=args.metric,
        patience=args.patience, time_budget=args.time_budget,
        ks=tuple(args.k), seed=args.seed, device=args.device,
        quiet=args.quiet, log_path=log, checkpoint_dir=args.checkpoint_dir,
        metadata={'cli': _cli_config(args, resolved)},
        global_in_batch=bool(getattr(args, 'global_in_batch', None)),
        fused_optimizer=getattr(args, 'fused_optimizer', None))
    return split, trainer


def cmd_train(args: argparse.Namespace) -> int:
    r"""``pyg-simce train``: trains, evaluates and writes the results.

    Under ``torchrun`` (:obj:`WORLD_SIZE > 1`) every process runs this with
    the same options inside a process group; rank 0 alone prints and writes
    the results, log and checkpoints."""
    validate_output_args(args)  # before any data is read
    from pyg_simce.cli.baseline_command import BASELINE_MODELS, \
        check_baseline_flags, train_baseline
    if args.model in BASELINE_MODELS:
        return train_baseline(args)
    check_baseline_flags(args)
    resolved = validate_train_args(args)
    from pyg_simce.train.distributed import distributed_session

    with distributed_session(args.device,
                             timeout=getattr(args, 'dist_timeout', 600.0)
                             ) as (env, device):
        args.device = str(device)
        if env.rank != 0:
            args.quiet = True
        return _train(args, resolved, env.rank == 0, env.world_size)


def _train(args: argparse.Namespace, resolved: Dict[str, Any],
           main_process: bool, world_size: int) -> int:
    from pyg_simce.train import popularity_baseline

    split, trainer = _prepare_training(args, resolved)
    source = (f'--data {args.data} ({args.format})'
              if args.data else f'--dataset {args.dataset}')
    _say(args, f'{source}: {split.num_users} users, {split.num_items} items, '
         f'{trainer.train_pairs.size(1)} training interactions; '
         f'evaluating on {trainer.eval_split} every {args.eval_every} '
         f'epoch(s)')
    _say(args, f'model {args.model} | loss {args.loss} '
         f'({trainer.loss!r}) | negatives {trainer.negative_sampling}'
         + (f' x{trainer.num_negatives}' if trainer.num_negatives else '') +
         f' | similarity train {trainer.train_similarity} / test '
         f'{trainer.test_similarity} | device {args.device}')
    results = trainer.fit(resume=args.resume,
                          fresh=bool(getattr(args, 'fresh', False)))

    test_target = split.test['user', 'rates', 'item'].edge_label_index
    exclude = (None if split.val is None else
               split.val['user', 'rates', 'item'].edge_label_index)
    baseline = popularity_baseline(trainer.train_pairs, test_target,
                                   split.num_users, split.num_items,
                                   exclude_edge_index=exclude,
                                   ks=trainer.ks)
    from pyg_simce.train.checkpointing import versions as _versions
    payload = {
        'test': results['test'],
        'valid': results['valid'],
        'best_epoch': results['best_epoch'],
        'epochs_run': results['epochs_run'],
        'train_seconds': results['train_seconds'],
        'stopped_by': results['stopped_by'],
        'eval_split': results['eval_split'],
        'config': trainer.config['cli'],
        'seed': args.seed,
        'versions': _versions(),
        'device': _device_name(args.device),
        'baseline': {'most_popular': {'test': baseline}},
        'data': {'num_users': split.num_users, 'num_items': split.num_items,
                 'num_train': int(trainer.train_pairs.size(1)),
                 'num_test': int(test_target.size(1)),
                 'num_valid': (None if exclude is None else
                               int(exclude.size(1)))},
        'history': results['history'],
    }
    if world_size > 1:
        payload['world_size'] = world_size
    payload = _clean_floats(payload)
    if not main_process:
        return 0
    if args.out:
        _write_json(args.out, payload)
    from pyg_simce.cli.recommend_command import save_trained_model
    save_trained_model(args, trainer.model, split.train,
                       trainer.config['cli'])

    sel = ('selected on valid' if results['eval_split'] == 'valid' else
           'no validation split: selected on test')
    print(f"stopped by {results['stopped_by']} after "
          f"{results['epochs_run']} epochs "
          f"({results['train_seconds']:.1f} s); best epoch "
          f"{results['best_epoch']} ({sel})")
    print(_metric_line('most-popular baseline (test)', baseline))
    _print_results(results, args.out)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    r"""``pyg-simce eval``: re-evaluates the best model of a checkpoint."""
    validate_output_args(args)  # before the checkpoint is read
    path = Path(args.checkpoint)
    if path.is_dir():
        path = path / 'last.pt'
    if not path.is_file():
        raise FileNotFoundError(f"--checkpoint: no checkpoint file '{path}'")
    from pyg_simce.train.checkpoint import load_checkpoint
    state = load_checkpoint(path)
    cli = (state.get('config') or {}).get('cli')
    if not isinstance(cli, dict):
        raise CLIError(f"checkpoint '{path}' expected a configuration "
                       f"written by 'pyg-simce train' (got none); evaluate "
                       f"it with Trainer.evaluate in Python")
    run = argparse.Namespace(**cli)
    run.command = 'train'
    if args.data_root is not None:
        run.data_root = args.data_root
    if args.k is not None:
        if any(k < 1 for k in args.k):
            raise CLIError(f"--k expected positive cut-offs (got "
                           f"{','.join(map(str, args.k))})")
        run.k = list(args.k)
    run.device = _resolve_device(args.device)
    run.quiet = True
    run.resume = False
    run.log = None
    run.checkpoint_dir = None
    resolved = {k: cli[k] for k in ('negative_sampling', 'num_negatives',
                                    'train_similarity', 'test_similarity')}
    split, trainer = _prepare_training(run, resolved)
    # Compare with the checkpoint, ignoring what eval may change.
    trainer.check_config(state['config'], path)
    weights = state.get('best_model') or state['model']
    trainer.model.load_state_dict(weights)
    if args.split == 'valid' and split.val is None:
        raise CLIError(f"--split valid expected a validation split (the "
                       f"data of '{path}' has none)")
    t0 = time.perf_counter()
    metrics = trainer.evaluate(args.split)
    seconds = time.perf_counter() - t0
    from pyg_simce.train.checkpointing import versions as _versions
    payload = _clean_floats({
        args.split: metrics,
        'split': args.split,
        'checkpoint': str(path),
        'epoch': state.get('epoch'),
        'best_epoch': (state.get('early_stopping') or {}).get('best_epoch'),
        'eval_seconds': seconds,
        'config': cli,
        'seed': cli.get('seed'),
        'versions': _versions(),
        'device': _device_name(run.device),
    })
    if args.out:
        _write_json(args.out, payload)
    if not args.quiet:
        for key in sorted(metrics, key=_metric_sort_key):
            print(f'{key:>14s} {metrics[key]:.4f}')
    print(_metric_line(args.split, metrics))
    return 0


def cmd_data_stats(args: argparse.Namespace) -> int:
    r"""``pyg-simce data stats``: prints data set statistics."""
    from pyg_simce import data as data_pkg

    args.dataset = None
    validate_data_args(args)
    split = load_split(args)
    stats = data_pkg.dataset_statistics(split)
    if args.json:
        print(json.dumps(_clean_floats(stats), indent=2,
                         default=_json_default))
        return 0
    fmt = getattr(data_pkg, 'format_statistics', None)
    title = (f'{args.data} ({args.format})' if args.data is not None else
             args.dataset)
    if fmt is not None:
        print(fmt(stats, title=title))
    else:  # pragma: no cover - depends on the data layer
        for key, value in stats.items():
            print(f'{key}: {value}')
    return 0

