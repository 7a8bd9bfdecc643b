import math
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from pyg_simce.train.batching import epoch_generator, shard_batches
from pyg_simce.train.checkpoint import (
    LAST_CHECKPOINT,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from pyg_simce.train.defaults import (
    NEGATIVE_SAMPLING,
    SIMILARITIES,
    loss_defaults,
    loss_name_of,
)
from pyg_simce.train.distributed import (
    all_gather_with_grad,
    all_reduce_sums,
    get_rank,
    get_world_size,
)
from pyg_simce.train.early_stopping import EarlyStopping
from pyg_simce.train.evaluation import evaluate_sums
from pyg_simce.train.json_lines_logger import JSONLinesLogger

CHECKPOINT_FORMAT = 'pyg_simce.checkpoint/1'

#: Options that may change between a checkpoint and the run resuming it.
RESUMABLE_OPTIONS = frozenset({
    'epochs', 'time_budget', 'eval_every', 'patience', 'ks', 'quiet',
    'device', 'log_path', 'checkpoint_dir', 'checkpoint_every',
    'eval_chunk_size', 'out', 'log', 'resume', 'data_root', 'k',
    'checkpoint', 'command', 'threads'
})

#: Per-user negatives up to this many per positive are scored by gathering
#: their embeddings; more are scored through one product with the batch's
#: distinct candidate items (measured faster on CPU beyond a few negatives).
GATHER_MAX_NEGATIVES = 4

#: Losses for which a :obj:`-inf` negative score is exactly an absent
#: negative (max / log-sum-exp / sum of softplus), so that excluded
#: negatives can be masked in the dense layout instead of going ragged.
INF_MASK_LOSSES = frozenset({'simce', 'ssm', 'softmax', 'bce'})

NEG_INF = float('-inf')


class ConfigMismatchError(ValueError):
    r"""Raised when a checkpoint was written with options that differ from
    the current ones in a way that makes resuming meaningless.  The
    :obj:`differences` attribute lists :obj:`(option, checkpoint_value,
    current_value)` triples."""
    def __init__(self, path: Any,
                 differences: List[Tuple[str, Any, Any]]) -> None:
        self.path = path
        self.differences = differences
        parts = ', '.join(f'{k} (checkpoint: {a!r}, now: {b!r})'
                          for k, a, b in differences)
        super().__init__(f"checkpoint '{path}' expected the same options as "
                         f"this run; differing: {parts}")


class TrainingInterrupted(KeyboardInterrupt):
    r"""Raised by :meth:`Trainer.fit` after an interrupt (Ctrl-C) once the
    state has been checkpointed.  :obj:`checkpoint` is the file written, or
    :obj:`None` when no checkpoint folder was configured."""
    def __init__(self, checkpoint: Optional[Path], epoch: int,
                 step: int) -> None:
        self.checkpoint = checkpoint
        self.epoch = epoch
        self.step = step
        where = (f'checkpoint saved to {checkpoint}'
                 if checkpoint is not None else 'no checkpoint directory')
        super().__init__(f'interrupted during epoch {epoch + 1} after step '
                         f'{step}; {where}')


def _edge_index_of(data: Any, name: str) -> Tensor:
    try:
        store = data['user', 'rates', 'item']
        return store.edge_index
    except (KeyError, AttributeError, TypeError):
        raise ValueError(f"'{name}' expected a HeteroData with a "
                         f"('user', 'rates', 'item') edge_index "
                         f"(got {type(data).__name__})") from None


def _label_index_of(data: Any, name: str) -> Tensor:
    store = data['user', 'rates', 'item']
    label = getattr(store, 'edge_label_index', None)
    if label is None:
        raise ValueError(f"'{name}' expected a HeteroData with a "
                         f"('user', 'rates', 'item') edge_label_index")
    return label


class _Embedder(torch.nn.Module):
    # The propagation of the whole graph as a forward(), the call that
    # DistributedDataParallel hooks.
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, edge_index: Tensor) -> Tuple[Tensor, Tensor]:
        return self.model.get_embedding(edge_index)


def _shard_sizes(n: int, world_size: int) -> List[int]:
    # Rows of chunk[rank::world_size] for every rank.
    return [len(range(r, n, world_size)) for r in range(world_size)]


def _format_metrics(metrics: Dict[str, float],
                    keys: Sequence[str]) -> str:
    return ' '.join(f'{k} {metrics[k]:.4f}' for k in keys if k in metrics)


class Trainer:
    r"""Trains a collaborative-filtering model with a ranking loss and
    evaluates it with the all-ranking protocol (every item scored, the
    user's training items masked), as in the
    `LightGCN <https://arxiv.org/abs/2002.02126>`_,
    `SSM <https://arxiv.org/abs/2201.02327>`_ and
    `SimCE <https://arxiv.org/abs/2406.16170>`_ papers.

    One training step computes the propagated embeddings of the whole graph
    once (:meth:`get_embedding`, whose normalised adjacency is cached by the
    model), indexes the batch rows, scores positives and negatives and adds
    the LightGCN-style :math:`L_2` penalty on the layer-0 embeddings of the
    batch,

    .. math::
        \mathcal{L} = \frac{1}{B}\sum_{(u,i)} \ell(s_{ui}, \{s_{uj}\}_{j
        \in \mathcal{N}_u}) + \frac{\lambda}{2B} \Big(\sum_u
        \|\mathbf{e}^{(0)}_u\|^2 + \sum_i \|\mathbf{e}^{(0)}_i\|^2 +
        \sum_j \|\mathbf{e}^{(0)}_j\|^2\Big),

    where the last sum runs over the sampled negatives of per-user and
    shared-pool sampling (each counted once per user it is a negative for)
    and is absent for in-batch and full-catalogue negatives.

    Negatives (:obj:`negative_sampling`):

    * :obj:`'uniform'` / :obj:`'popularity'`: :obj:`num_negatives` items per
      positive drawn among the items the user never interacted with in
      training (uniformly, or :math:`\propto` popularity :math:`^\beta`).
      Scored by gathering the embeddings for a few negatives, else by one
      product with the batch's distinct candidate items.
    * :obj:`'shared'`: one pool of :obj:`num_negatives` uniform items per
      batch, scored against all batch users by a single
      :math:`[B, d] \times [d, P]` product; pool items that are a user's
      training items are removed for that user through the ragged
      :obj:`(pos, neg, index)` call of the loss.
    * :obj:`'in-batch'`: the other positives of the batch
      (:class:`~pyg_simce.nn.loss.SampledSoftmaxLoss` as in the SSM paper).
    * :obj:`'full'`: the whole catalogue
      (:class:`~pyg_simce.nn.loss.SoftmaxLoss`).

    Options left at :obj:`None` take the per-loss defaults of
    :mod:`pyg_simce.train.defaults`.

    Evaluation runs every :obj:`eval_every` epochs on the validation split
    when given, else on the test split, and is labelled :obj:`'valid'` or
    :obj:`'test'` in the log and on the console.  The best evaluated model
    by :obj:`metric` is restored at the end; the final test metrics are
    computed from it, with the validation items masked as well.

    Every random choice of epoch :math:`t` (permutation and negatives) comes
    from a generator seeded by :obj:`(seed, t)`, so that a run resumed from a
    checkpoint (at an epoch boundary, or mid-epoch after an interrupt)
    reproduces the uninterrupted run exactly.

    Inside a :mod:`torch.distributed` process group (*e.g.* under
    ``torchrun``, see :mod:`pyg_simce.train.distributed`), every process
    builds the same trainer; :obj:`batch_size` is the global batch, of which
    each process trains on the strided shard of :func:`shard_batches`.  The
    model is wrapped in
    :class:`~torch.nn.parallel.DistributedDataParallel` and each process
    scales its loss by :math:`W B_r / B` (:math:`W` processes, :math:`B_r`
    its rows, :math:`B` the global batch) so that the averaged gradient is
    the gradient of the single-process loss of the global batch.  Negatives
    are drawn for the whole global batch on every process (the generators
    stay identical), evaluation splits the users across processes and adds
    the metric sums, and only rank 0 prints, logs and writes checkpoints.
    With the same seed and global batch a run therefore reproduces the
    single-process run (except in-batch negatives without
    :obj:`global_in_batch`, whose pool is the process' shard).

    Args:
        model (torch.nn.Module): A model with :meth:`get_embedding` and
            :obj:`user_embedding` / :obj:`item_embedding` tables, *e.g.*
            :class:`~pyg_simce.nn.models.LightGCN`.
        loss (torch.nn.Module): A loss of :mod:`pyg_simce.nn.loss`.
        train_data (torch_geometric.data.HeteroData): The training part of
            an :class:`~pyg_simce.data.InteractionSplit`.
        val_data (torch_geometric.data.HeteroData, optional): The validation
            part, or :obj:`None`. (default: :obj:`None`)
        test_data (torch_geometric.data.HeteroData, optional): The test part.
            (default: :obj:`None`)
        lr (float, optional): Adam learning rate. (default: :obj:`1e-3`)
        weight_decay (float, optional): Adam weight decay.
            (default: :obj:`0.0`)
        batch_size (int, optional): Positive interactions per step.
            (default: :obj:`2048`)
        epochs (int, optional): Maximum number of epochs.
            (default: :obj:`100`)
        reg (float, optional): :math:`\lambda` of the :math:`L_2` penalty.
            (default: :obj:`0.0`)
        negative_sampling (str, optional): One of :obj:`'uniform'`,
            :obj:`'popularity'`, :obj:`'shared'`, :obj:`'in-batch'`,
            :obj:`'full'`. (default: per loss)
        num_negatives (int, optional): Negatives per positive (pool size for
            :obj:`'shared'`). (default: per loss)
        beta (float, optional): Popularity exponent of :obj:`'popularity'`.
            (default: :obj:`1.0`)
        train_similarity (str, optional): :obj:`'dot'` or :obj:`'cosine'`.
            (default: per loss)
        test_similarity (str, optional): :obj:`'dot'` or :obj:`'cosine'`.
            (default: per loss)
        eval_every (int, optional): Evaluate every this many epochs.
            (default: :obj:`1`)
        metric (str, optional): Metric monitored for early stopping and model
            selection. (default: :obj:`'recall@20'`)
        patience (int, optional): Stop after this many evaluations without
            improvement; :obj:`None` disables early stopping.
            (default: :obj:`None`)
        time_budget (float, optional): Stop after the epoch during which the
            accumulated training time exceeds this many seconds.
            (default: :obj:`None`)
        ks (Sequence[int], optional): Cut-offs of the metrics.
            (default: :obj:`(10, 20, 50)`)
        seed (int, optional): Seed of every random choice.
            (default: :obj:`0`)
        device (str or torch.device, optional): Where to train.
            (default: the model's device)
        quiet (bool, optional): Print nothing but warnings.
            (default: :obj:`False`)
        progress (bool, optional): Show tqdm progress bars; by default only
            when standard error is a terminal and :obj:`quiet` is off.
            (default: :obj:`None`)
        log_path (str, optional): JSON-lines log file, one line per epoch.
            (default: :obj:`None`)
        checkpoint_dir (str, optional): Folder of the resumable checkpoint.
            (default: :obj:`None`)
        checkpoint_every (int, optional): Write a checkpoint every this many
            epochs (and always at the end and on interrupt).
            (default: :obj:`1`)
        eval_chunk_size (int, optional): Users scored at once during
            evaluation. (default: :obj:`None`)
        metadata (dict, optional): Extra JSON-serialisable facts recorded in
            checkpoints and compared on resume (*e.g.* the dataset name).
            (default: :obj:`None`)
        global_in_batch (bool, optional): With in-batch negatives in a
            process group, gather the batch items of every process
            (differentiably), so that the negative pool is the global batch
            as in a single-process run. (default: :obj:`False`)
    """
    def __init__(
        self,
        model: torch.nn.Module,
        loss: torch.nn.Module,
        train_data: Any,
        *,
        val_data: Any = None,
        test_data: Any = None,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        batch_size: int = 2048,
        epochs: int = 100,
        reg: float = 0.0,
        negative_sampling: Optional[str] = None,
        num_negatives: Optional[int] = None,
        beta: float = 1.0,
        train_similarity: Optional[str] = None,
        test_similarity: Optional[str] = None,
        eval_every: int = 1,
        metric: str = 'recall@20',
        patience: Optional[int] = None,
        time_budget: Optional[float] = None,
        ks: Sequence[int] = (10, 20, 50),
        seed: int = 0,
        device: Optional[Union[str, torch.device]] = None,
        quiet: bool = False,
        progress: Optional[bool] = None,
        log_path: Optional[Union[str, Path]] = None,
        checkpoint_dir: Optional[Union[str, Path]] = None,
        checkpoint_every: int = 1,
        eval_chunk_size: Optional[int] = None,
        metadata: Optional[Dict[str, Any]] = None,
        global_in_batch: bool = False,
    ) -> None:
        self.loss_name = loss_name_of(loss)
        defaults = (loss_defaults(self.loss_name)
                    if self.loss_name != 'custom' else loss_defaults('bpr'))
        if negative_sampling is None:
            negative_sampling = defaults['negative_sampling']
        if num_negatives is None:
            num_negatives = defaults['num_negatives']
        if train_similarity is None:
            train_similarity = defaults['train_similarity']
        if test_similarity is None:
            test_similarity = defaults['test_similarity']

        _check_positive_int('batch_size', batch_size)
        _check_positive_int('epochs', epochs, allow_zero=True)
        _check_positive_int('eval_every', eval_every)
        _check_positive_int('checkpoint_every', checkpoint_every)
        _check_number('lr', lr, positive=True)
        _check_number('weight_decay', weight_decay)
        _check_number('reg', reg)
        _check_number('beta', beta)
        if time_budget is not None:
            _check_number('time_budget', time_budget, positive=True)
        if negative_sampling not in NEGATIVE_SAMPLING:
            raise ValueError(f"'negative_sampling' expected one of "
                             f"{', '.join(NEGATIVE_SAMPLING)} "
                             f"(got '{negative_sampling}')")
        for name, sim in (('train_similarity', train_similarity),
                          ('test_similarity', test_similarity)):
            if sim not in SIMILARITIES:
                raise ValueError(f"'{name}' expected one of "
                                 f"{', '.join(SIMILARITIES)} (got '{sim}')")
        if self.loss_name == 'softmax' and negative_sampling != 'full':
            raise ValueError(f"the softmax loss expected "
                             f"negative_sampling='full' (got "
                             f"'{negative_sampling}'); use 'ssm' for "
                             f"sampled negatives")
        if negative_sampling in ('uniform', 'popularity', 'shared'):
            if num_negatives is None:
                raise ValueError(f"'num_negatives' expected a positive "
                                 f"integer for negative_sampling="
                                 f"'{negative_sampling}' (got None)")
            _check_positive_int('num_negatives', num_negatives)
        if negative_sampling == 'in-batch' and batch_size < 2:
            raise ValueError(f"'batch_size' expected at least 2 for "
                             f"in-batch negatives (got {batch_size})")
        if negative_sampling == 'full' and self.loss_name not in ('softmax',
                                                                  'custom'):
            if not hasattr(loss, 'forward_full'):
                raise ValueError(f"negative_sampling='full' expected the "
                                 f"softmax loss (got '{self.loss_name}')")
        if global_in_batch and negative_sampling != 'in-batch':
            raise ValueError(f"'global_in_batch' expected "
                             f"negative_sampling='in-batch' (got "
                             f"'{negative_sampling}')")
        self.world_size = get_world_size()
        self.rank = get_rank()
        if self.world_size > 1:
            per_rank = 2 if (negative_sampling == 'in-batch'
                             and not global_in_batch) else 1
            if batch_size < per_rank * self.world_size:
                raise ValueError(
                    f"'batch_size' (the global batch) expected at least "
                    f"{per_rank * self.world_size} with {self.world_size} "
                    f"processes (got {batch_size})")
            reduction = getattr(loss, 'reduction', 'mean')
            if reduction != 'mean':
                raise ValueError(f"multi-process training expected a loss "
                                 f"with reduction='mean' (got "
                                 f"'{reduction}')")
        ks = tuple(sorted({int(k) for k in ks}))
        if not ks or ks[0] < 1:
            raise ValueError(f"'ks' expected positive cut-offs (got {ks})")
        if '@' in metric:
            metric_k = metric.rsplit('@', 1)[1]
            if not metric_k.isdigit():
                raise ValueError(f"'metric' expected a name like 'recall@20' "
                                 f"(got '{metric}')")
            ks = tuple(sorted(set(ks) | {int(metric_k)}))

        if device is None:
            try:
                device = next(model.parameters()).device
            except StopIteration:
                device = torch.device('cpu')
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.loss = loss.to(self.device)
        num_users = int(model.num_users)
        num_items = int(model.num_items)
        self.num_users, self.num_items = num_users, num_items
        if ks[-1] > num_items:
            raise ValueError(f"'ks' expected cut-offs of at most the number "
                             f"of items {num_items} (got {ks[-1]})")

        edge_index = _edge_index_of(train_data, 'train_data').long()
        if edge_index.numel() == 0:
            raise ValueError("'train_data' expected at least one training "
                             "interaction (got 0)")
        if (int(edge_index[0].max()) >= num_users
                or int(edge_index[1].max()) >= num_items):
            raise ValueError(
                f"'train_data' expected user ids < {num_users} and item ids "
                f"< {num_items} as in the model (got max user "
                f"{int(edge_index[0].max())}, max item "
                f"{int(edge_index[1].max())})")
        self.train_data = train_data
        self.val_data = val_data
        self.test_data = test_data
        self.edge_index = edge_index.to(self.device)
        # The interactions iterated over: the training edges (on CPU, where
        # the permutation and the sampler run).
        self.train_pairs = edge_index.cpu()

        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.batch_size = int(batch_size)
        self.epochs = int(epochs)
        self.reg = float(reg)
        self.negative_sampling = negative_sampling
        self.num_negatives = (None if num_negatives is None else
                              int(num_negatives))
        self.beta = float(beta)
        self.train_similarity = train_similarity
        self.test_similarity = test_similarity
        self.eval_every = int(eval_every)
        self.metric = metric
        self.patience = patience
        self.time_budget = None if time_budget is None else float(time_budget)
        self.ks = ks
        self.seed = int(seed)
        self.quiet = bool(quiet) or self.rank != 0
        if self.rank != 0:
            progress = False
        if progress is None:
            progress = (not quiet) and _stderr_is_tty()
        self.progress = bool(progress)
        self.log_path = None if log_path is None else Path(log_path)
        self.checkpoint_dir = (None if checkpoint_dir is None else
                               Path(checkpoint_dir))
        self.checkpoint_every = int(checkpoint_every)
        self.eval_chunk_size = eval_chunk_size
        self.metadata = dict(metadata or {})
        self.global_in_batch = bool(global_in_batch)
        self._ddp: Optional[torch.nn.Module] = None
        if self.world_size > 1:
            from torch.nn.parallel import DistributedDataParallel
            # Every parameter reaches the loss through get_embedding (no
            # unused parameters); the adjacency is a per-process cache, not
            # a buffer, and the buffers are equal everywhere.
            self._ddp = DistributedDataParallel(
                _Embedder(self.model),
                device_ids=([self.device] if self.device.type == 'cuda'
                            else None),
                broadcast_buffers=False)

        self.early_stopping = EarlyStopping(metric=metric, patience=patience)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.lr,
                                          weight_decay=self.weight_decay)
        self._sampler = self._build_sampler()
        self._positive_index = None
        self._val_index = None

        # Run state.
        self.epoch = 0  # completed epochs
        self.train_seconds = 0.0
        self.best_state: Optional[Dict[str, Tensor]] = None
        self.best_metrics: Optional[Dict[str, float]] = None
        self.history: List[Dict[str, Any]] = []
        self.stopped_by: Optional[str] = None
        self._resume_step = 0
        self._resume_generator_state: Optional[Tensor] = None
        self._resume_partial: Tuple[float, int, float] = (0.0, 0, 0.0)
        self._interrupt_requested = False

    # Configuration ###########################################################

    @property
    def eval_split(self) -> str:
        r"""The split evaluated during training: :obj:`'valid'` when a
        validation split exists, else :obj:`'test'`."""
        return 'valid' if self.val_data is not None else 'test'

    @property
    def config(self) -> Dict[str, Any]:
        r"""The options of this run as JSON-serialisable values, as recorded
        in checkpoints and results files."""
        model = self.model
        cfg = {
            'model': type(model).__name__,
            'model_repr': repr(model),
            'num_users': self.num_users,
            'num_items': self.num_items,
            'embedding_dim': int(getattr(model, 'embedding_dim', 0)),
            'loss': self.loss_name,
            'loss_repr': repr(self.loss),
            'lr': self.lr,
            'weight_decay': self.weight_decay,
            'batch_size': self.batch_size,
            'epochs': self.epochs,
            'reg': self.reg,
            'negative_sampling': self.negative_sampling,
            'num_negatives': self.num_negatives,
            'beta': self.beta,
            'train_similarity': self.train_similarity,
            'test_similarity': self.test_similarity,
            'eval_every': self.eval_every,
            'metric': self.metric,
            'patience': self.patience,
            'time_budget': self.time_budget,
            'ks': list(self.ks),
            'seed': self.seed,
            'num_train_interactions': int(self.train_pairs.size(1)),
        }
        for key, value in self.metadata.items():
            cfg.setdefault(key, value)
        return cfg

    def _build_sampler(self) -> Any:
        if self.negative_sampling not in ('uniform', 'popularity', 'shared'):
            return None
        from pyg_simce import sampler as sampler_pkg
        kwargs = dict(num_negatives=self.num_negatives,
                      exclude_positives=True, seed=self.seed)
        if self.negative_sampling == 'popularity':
            return sampler_pkg.PopularityNegativeSampler(
                self.train_pairs, self.num_users, self.num_items,
                beta=self.beta, **kwargs)
        return sampler_pkg.UniformNegativeSampler(self.train_pairs,
                                                  self.num_users,
                                                  self.num_items, **kwargs)

    @property
    def positive_index(self) -> Any:
        r"""The :class:`~pyg_simce.sampler.PositiveIndex` of the training
        interactions (built on first use)."""
        if self._positive_index is None:
            from pyg_simce.sampler import PositiveIndex
            self._positive_index = PositiveIndex(self.edge_index,
                                                 self.num_users,
                                                 self.num_items)
        return self._positive_index

    # Training step ###########################################################

    def _similarity(self, x: Tensor) -> Tensor:
        if self.train_similarity == 'cosine':
            return F.normalize(x, p=2.0, dim=-1, eps=1e-8)
        return x

    def batch_loss(self, users: Tensor, items: Tensor,
                   generator: Optional[torch.Generator] = None,
                   shard: Optional[Tuple[int, int]] = None) -> Tensor:
        r"""The loss of one batch of positive :obj:`(users, items)` pairs,
        including the regulariser, with negatives drawn from
        :obj:`generator`.

        Args:
            users (torch.Tensor): User ids :obj:`[B]`.
            items (torch.Tensor): Positive item ids :obj:`[B]`.
            generator (torch.Generator, optional): The source of randomness.
                (default: :obj:`None`)
            shard (Tuple[int, int], optional): :obj:`(rank, world_size)`:
                :obj:`users` and :obj:`items` are the global batch, the
                negatives are drawn for all of it and the loss is the mean
                over the rows :obj:`rank::world_size`. (default: :obj:`None`)
        """
        from pyg_simce.nn.loss import l2_regularization

        device = self.device
        full_users = users
        if shard is not None:
            rank, world_size = shard
            global_size = users.numel()
            users, items = users[rank::world_size], items[rank::world_size]
        B = users.numel()
        if self._ddp is not None and torch.is_grad_enabled():
            user_out, item_out = self._ddp(self.edge_index)
        else:
            user_out, item_out = self.model.get_embedding(self.edge_index)
        users_d, items_d = users.to(device), items.to(device)
        # How often each layer-0 row enters the L2 penalty in this batch.
        item_counts = torch.bincount(items_d, minlength=self.num_items)
        mode = self.negative_sampling

        if mode == 'in-batch' and shard is not None and \
                self.global_in_batch:
            loss = self._global_in_batch_loss(
                user_out[users_d], item_out[items_d], items_d,
                _shard_sizes(global_size, world_size), rank)
        elif mode == 'in-batch':
            loss = self._in_batch_loss(user_out[users_d], item_out[items_d],
                                       items_d)
        else:
            u = self._similarity(user_out[users_d])
            i = self._similarity(item_out[items_d])
            pos = (u * i).sum(dim=-1)

        if mode in ('uniform', 'popularity'):
            # Drawn for the global batch, so that every process' generator
            # stays in the state of a single-process run.
            neg_items = self._sampler.sample(full_users, generator=generator)
            neg_items = neg_items.view(full_users.numel(), -1)
            if shard is not None:
                neg_items = neg_items[rank::world_size]
            neg_items = neg_items.to(device)
            N = neg_items.size(1)
            if N <= GATHER_MAX_NEGATIVES:
                ne = self._similarity(item_out[neg_items])  # [B, N, d]
                neg = (u.unsqueeze(1) * ne).sum(dim=-1)
            else:
                # One product with the distinct candidates, then a gather
                # of scores: no [B, N, d] tensor.
                cand, inverse = torch.unique(neg_items, return_inverse=True)
                scores = u @ self._similarity(item_out[cand]).t()
                neg = scores.gather(1, inverse)
            loss = self.loss(pos, neg)
            item_counts += torch.bincount(neg_items.view(-1),
                                          minlength=self.num_items)
        elif mode == 'shared':
            pool = self._shared_pool(generator).to(device)
            P = pool.numel()
            scores = u @ self._similarity(item_out[pool]).t()  # [B, P]
            keep = self._pool_admissible(users_d, pool)  # [B, P]
            if bool(keep.all()):
                loss = self.loss(pos, scores)
                counts = torch.full((P, ), B, device=device)
            elif self.loss_name in INF_MASK_LOSSES:
                # -inf is exactly "absent" for these losses: dense and fast.
                loss = self.loss(pos, scores.masked_fill(~keep, NEG_INF))
                counts = keep.sum(dim=0)
            else:
                row, col = keep.nonzero(as_tuple=True)
                loss = self.loss(pos, scores[row, col], row)
                counts = keep.sum(dim=0)
            item_counts.index_add_(0, pool, counts.to(item_counts.dtype))
        elif mode == 'full':
            scores = u @ self._similarity(item_out).t()  # [B, I]
            loss = self.loss.forward_full(scores, items_d)

        if self.reg > 0:
            user_counts = torch.bincount(users_d, minlength=self.num_users)
            loss = loss + l2_regularization(
                _weighted_rows(self.model.user_embedding.weight, user_counts,
                               B),
                _weighted_rows(self.model.item_embedding.weight, item_counts,
                               B), batch_size=B, weight=self.reg)
        return loss

    def _in_batch_loss(self, user_emb: Tensor, item_emb: Tensor,
                       items: Tensor) -> Tensor:
        # Row r scores its user against every positive item of the batch:
        # the diagonal holds the positives, the other columns are the
        # negatives, except columns whose item equals row r's item.
        B = items.numel()
        row, col = _repeated_item_pairs(items)
        loss_fn = self.loss
        if type(loss_fn).__name__ == 'SampledSoftmaxLoss' and \
                loss_fn.reduction in ('mean', 'sum'):
            # Fast exact path for in-batch sampled softmax: log(e^{s_rr} +
            # sum_c e^{s_rc}) - s_rr is the cross-entropy of row r of the
            # [B, B] logits with target r, computed by one fused kernel
            # (measured 2x faster than a separate [B, B - 1] negative
            # matrix); 1 / tau is folded into the user side.
            u = self._similarity(user_emb) / loss_fn.temperature
            logits = u @ self._similarity(item_emb).t()
            if row.numel() > 0:
                logits = logits.index_put((row, col),
                                          logits.new_tensor(NEG_INF))
            target = torch.arange(B, device=logits.device)
            return F.cross_entropy(logits, target,
                                   reduction=loss_fn.reduction)
        if self.loss_name in INF_MASK_LOSSES:
            scores = self._similarity(user_emb) @ self._similarity(
                item_emb).t()
            pos = scores.diagonal()
            diag = torch.arange(B, device=scores.device)
            neg = scores.index_put(
                (torch.cat([diag, row]), torch.cat([diag, col])),
                scores.new_tensor(NEG_INF))  # [B, B], excluded: -inf
            return loss_fn(pos, neg)
        from pyg_simce.nn.loss import in_batch_negatives

        # Mean-type losses: drop excluded negatives (ragged).
        pos, neg, index = in_batch_negatives(
            user_emb, item_emb, similarity=self.train_similarity,
            remove_accidental_hits=True, item_index=items)
        return loss_fn(pos, neg, index)

    def _global_in_batch_loss(self, user_emb: Tensor, item_emb: Tensor,
                              items: Tensor, sizes: List[int],
                              rank: int) -> Tensor:
        # This process' rows score their user against the positive items of
        # every process (gathered with gradient); row j's positive is column
        # offset + j, columns holding the same item are masked.
        b = items.numel()
        pool = all_gather_with_grad(item_emb, sizes)  # [G, d]
        pool_items = all_gather_with_grad(items, sizes)  # [G]
        own = sum(sizes[:rank]) + torch.arange(b, device=items.device)
        count = torch.bincount(pool_items)
        rows = (count[items] > 1).nonzero().view(-1)
        same = items[rows].view(-1, 1) == pool_items.view(1, -1)
        same[torch.arange(rows.numel(), device=items.device), own[rows]] = \
            False
        r, c = same.nonzero(as_tuple=True)
        row, col = rows[r], c
        loss_fn = self.loss
        if type(loss_fn).__name__ == 'SampledSoftmaxLoss':
            u = self._similarity(user_emb) / loss_fn.temperature
            logits = u @ self._similarity(pool).t()
            if row.numel() > 0:
                logits = logits.index_put((row, col),
                                          logits.new_tensor(NEG_INF))
            return F.cross_entropy(logits, own, reduction='mean')
        scores = self._similarity(user_emb) @ self._similarity(pool).t()
        local = torch.arange(b, device=items.device)
        pos = scores[local, own]
        if self.loss_name in INF_MASK_LOSSES:
            neg = scores.index_put(
                (torch.cat([local, row]), torch.cat([own, col])),
                scores.new_tensor(NEG_INF))
            return loss_fn(pos, neg)
        keep = torch.ones_like(scores, dtype=torch.bool)
        keep[local, own] = False
        keep[row, col] = False
        row, col = keep.nonzero(as_tuple=True)
        return loss_fn(pos, scores[row, col], row)

    def _pool_admissible(self, users: Tensor, pool: Tensor) -> Tensor:
        # [B, P] mask: True where pool[j] is not a training item of users[b]
        # (a single gather from a dense table on small catalogues).
        return self._sampler.pool_mask(users, pool)

    def _shared_pool(self, generator: Optional[torch.Generator]) -> Tensor:
        sample_shared = getattr(self._sampler, 'sample_shared', None)
        if sample_shared is not None:
            return sample_shared(self.num_negatives, generator=generator)
        return torch.randint(self.num_items, (self.num_negatives, ),
                             generator=generator)

    # Evaluation ##############################################################

    @torch.no_grad()
    def embeddings(self) -> Tuple[Tensor, Tensor]:
        r"""The propagated :obj:`(user, item)` embeddings of the current
        model, in evaluation mode."""
        was_training = self.model.training
        self.model.eval()
        try:
            user_out, item_out = self.model.get_embedding(self.edge_index)
        finally:
            self.model.train(was_training)
        return user_out.detach(), item_out.detach()

    def evaluate(self, split: str = 'test',
                 users: Optional[Tensor] = None) -> Dict[str, float]:
        r"""All-ranking metrics of the current model on :obj:`split`
        (:obj:`'valid'` or :obj:`'test'`).  Training items are masked, and so
        are validation items when scoring the test split.

        Args:
            split (str, optional): :obj:`'valid'` or :obj:`'test'`.
                (default: :obj:`'test'`)
            users (torch.Tensor, optional): Restrict the evaluation to these
                users. (default: :obj:`None`: all users; in a process group
                each process scores the users :obj:`rank::world_size` and the
                metric sums are all-reduced, so that every process returns
                the metrics of all users)
        """
        if split in ('valid', 'val', 'validation'):
            data, exclude = self.val_data, None
            split = 'valid'
        elif split == 'test':
            data = self.test_data
            exclude = self._validation_index()
        else:
            raise ValueError(f"'split' expected 'valid' or 'test' "
                             f"(got '{split}')")
        if data is None:
            raise ValueError(f"no '{split}' split to evaluate")
        target = _label_index_of(data, f'{split} data')
        user_out, item_out = self.embeddings()
        sharded = users is None and self.world_size > 1
        if sharded:
            users = torch.arange(self.rank, self.num_users, self.world_size)
        sums, n = evaluate_sums(user_out, item_out, self.positive_index,
                                target, exclude_edge_index=exclude,
                                ks=self.ks, similarity=self.test_similarity,
                                chunk_size=self.eval_chunk_size, users=users)
        if sharded:
            sums, n = all_reduce_sums(sums, n, device=self.device)
        if n == 0:
            raise ValueError("evaluation expected at least one user with a "
                             "target interaction (got none)")
        return {k: v / n for k, v in sums.items()}

    def _validation_index(self) -> Any:
        # The validation targets as a PositiveIndex (built once), masked
        # when scoring the test split.
        if self.val_data is None:
            return None
        if self._val_index is None:
            from pyg_simce.sampler import PositiveIndex
            self._val_index = PositiveIndex(
                _label_index_of(self.val_data, 'val_data').to(self.device),
                self.num_users, self.num_items)
        return self._val_index

    # Checkpoints #############################################################

    def state_dict(self) -> Dict[str, Any]:
        r"""Everything a resumed run needs, as tensors and Python values."""
        return {
            'format': CHECKPOINT_FORMAT,
            'epoch': self.epoch,
            'step': self._resume_step,
            'generator_state': self._resume_generator_state,
            'partial': list(self._resume_partial),
            'model': {
                k: v.detach().cpu().clone()
                for k, v in self.model.state_dict().items()
            },
            'optimizer': self.optimizer.state_dict(),
            'early_stopping': self.early_stopping.state_dict(),
            'best_model': self.best_state,
            'best_metrics': self.best_metrics,
            'history': self.history,
            'train_seconds': self.train_seconds,
            'stopped_by': self.stopped_by,
            'log_position': (self._logger.position
                             if getattr(self, '_logger', None) else 0),
            'rng': {
                'torch': torch.get_rng_state(),
                'cuda': (torch.cuda.get_rng_state_all()
                         if torch.cuda.is_available() else []),
            },
            'config': self.config,
            'versions': _versions(),
        }

    def save_checkpoint(self, path: Optional[Union[str, Path]] = None
                        ) -> Optional[Path]:
        r"""Writes the current state atomically to :obj:`path` (by default
        :obj:`checkpoint_dir/last.pt`) and returns the path, or :obj:`None`
        without a checkpoint folder."""
        if path is None:
            if self.checkpoint_dir is None:
                return None
            path = self.checkpoint_dir / LAST_CHECKPOINT
        if self.rank != 0:  # rank 0 writes for every process
            return Path(path)
        return save_checkpoint(self.state_dict(), path)

    def check_config(self, config: Dict[str, Any], path: Any = None) -> None:
        r"""Raises :class:`ConfigMismatchError` if :obj:`config` (from a
        checkpoint) differs from this run in an option not listed in
        :data:`RESUMABLE_OPTIONS`."""
        diffs: List[Tuple[str, Any, Any]] = []
        _compare(config, self.config, '', diffs)
        if diffs:
            raise ConfigMismatchError(path, diffs)

    def load_state_dict(self, state: Dict[str, Any],
                        path: Any = None) -> None:
        r"""Restores a state written by :meth:`state_dict` after checking
        that its options are compatible with this run."""
        if state.get('format') != CHECKPOINT_FORMAT:
            raise ValueError(f"checkpoint '{path}' expected format "
                             f"'{CHECKPOINT_FORMAT}' "
                             f"(got '{state.get('format')}')")
        self.check_config(state.get('config', {}), path)
        self.model.load_state_dict(state['model'])
        self.optimizer.load_state_dict(state['optimizer'])
        self.early_stopping.load_state_dict(state['early_stopping'])
        self.best_state = state.get('best_model')
        self.best_metrics = state.get('best_metrics')
        self.history = list(state.get('history') or [])
        self.epoch = int(state['epoch'])
        self.train_seconds = float(state.get('train_seconds', 0.0))
        self.stopped_by = state.get('stopped_by')
        self._resume_step = int(state.get('step', 0))
        self._resume_generator_state = state.get('generator_state')
        partial = state.get('partial') or [0.0, 0, 0.0]
        self._resume_partial = (float(partial[0]), int(partial[1]),
                                float(partial[2]))
        if self.rank != 0:
            self._resume_partial = (0.0, 0, self._resume_partial[2])
        self._log_position = int(state.get('log_position', 0))
        rng = state.get('rng') or {}
        if isinstance(rng.get('torch'), Tensor):
            torch.set_rng_state(rng['torch'])
        if rng.get('cuda') and torch.cuda.is_available():
            try:
                torch.cuda.set_rng_state_all(rng['cuda'])
            except RuntimeError:  # pragma: no cover - different GPU count
                pass

    def resume(self, path: Optional[Union[str, Path]] = None) -> Path:
        r"""Loads the checkpoint :obj:`path`, by default the latest one in
        :obj:`checkpoint_dir`, into this trainer and returns its path.

        Raises:
            FileNotFoundError: If there is no checkpoint.
            ConfigMismatchError: If it was written with incompatible options.
        """
        if path is None:
            if self.checkpoint_dir is None:
                raise ValueError("resuming expected a 'checkpoint_dir' "
                                 "(got None)")
            path = latest_checkpoint(self.checkpoint_dir)
            if path is None:
                raise FileNotFoundError(f"no checkpoint to resume from in "
                                        f"'{self.checkpoint_dir}'")
        path = Path(path)
        state = load_checkpoint(path, map_location='cpu')
        self.load_state_dict(state, path)
        self._resumed = True
        return path

    # Training loop ###########################################################

    def _print(self, message: str) -> None:
        if self.quiet:
            return
        from tqdm import tqdm
        tqdm.write(message, file=sys.stdout)

    def _install_interrupt_handler(self) -> Any:
        # First Ctrl-C: finish the current step, checkpoint, stop.  Second:
        # the default behaviour (immediate KeyboardInterrupt).
        if threading.current_thread() is not threading.main_thread():
            return None
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum, frame):
            if self._interrupt_requested:
                signal.signal(signal.SIGINT, signal.default_int_handler)
                raise KeyboardInterrupt
            self._interrupt_requested = True

        try:
            signal.signal(signal.SIGINT, handler)
        except ValueError:  # pragma: no cover - not the main interpreter
            return None
        return previous

    def request_stop(self) -> None:
        r"""Asks :meth:`fit` to stop after the current step, checkpoint and
        raise :class:`TrainingInterrupted` (what Ctrl-C does)."""
        self._interrupt_requested = True

    def _interrupt(self, epoch_index: int, step: int,
                   generator: Optional[torch.Generator],
                   partial: Tuple[float, int, float]) -> None:
        self._resume_step = step
        self._resume_generator_state = (None if generator is None else
                                        generator.get_state())
        if self.world_size > 1:
            # The checkpoint holds the partial loss of all processes; on
            # resume rank 0 carries it.
            partial = self._reduce_epoch(*partial)
        self._resume_partial = partial
        path = self.save_checkpoint()
        raise TrainingInterrupted(path, epoch_index, step)

    def fit(self, resume: bool = False) -> Dict[str, Any]:
        r"""Trains until :obj:`epochs`, early stopping or the time budget,
        restores the best model and returns the results:

        .. code-block:: python

            {'test': {...} or None, 'valid': {...} or None,
             'best_epoch': int, 'epochs_run': int, 'train_seconds': float,
             'stopped_by': 'epochs' | 'early_stopping' | 'time_budget',
             'eval_split': 'valid' | 'test', 'history': [...]}

        Args:
            resume (bool, optional): Continue from the latest checkpoint in
                :obj:`checkpoint_dir`. (default: :obj:`False`)

        Raises:
            TrainingInterrupted: After Ctrl-C (or :meth:`request_stop`), once
                the state is checkpointed; resuming continues exactly.
        """
        log_path = self.log_path if self.rank == 0 else None
        if resume:
            self.resume()
            self._logger = JSONLinesLogger(log_path, append=True)
            self._logger.truncate(self._log_position)
        else:
            self._logger = JSONLinesLogger(log_path)
        if self.val_data is None and self.test_data is None:
            raise ValueError("evaluation expected 'val_data' or 'test_data' "
                             "(got neither)")

        self._interrupt_requested = False
        previous_handler = self._install_interrupt_handler()
        try:
            self._train_loop()
        finally:
            if previous_handler is not None:
                signal.signal(signal.SIGINT, previous_handler)
        return self._finish()

    def _should_stop_before_epoch(self) -> Optional[str]:
        if self.early_stopping.should_stop:
            return 'early_stopping'
        if (self.time_budget is not None
                and self.train_seconds >= self.time_budget
                and self._resume_step == 0):
            return 'time_budget'
        if self.epoch >= self.epochs:
            return 'epochs'
        return None

    def _train_loop(self) -> None:
        from tqdm import tqdm

        self.model.train()
        num_pairs = self.train_pairs.size(1)
        min_size = 2 if self.negative_sampling == 'in-batch' else 1
        world_size = self.world_size
        if world_size > 1 and self.global_in_batch:
            min_size = 1
        shard = (self.rank, world_size) if world_size > 1 else None
        while True:
            reason = self._should_stop_before_epoch()
            if reason is not None:
                self.stopped_by = reason
                break
            self.stopped_by = None
            epoch = self.epoch  # 0-based index of the running epoch
            generator = epoch_generator(self.seed, epoch)
            perm = torch.randperm(num_pairs, generator=generator)
            # The global batches; each process trains on the rows
            # rank::world_size of each (the shards of shard_batches, whose
            # chunks are kept iff every shard has min_size rows).
            batches = shard_batches(perm, self.batch_size,
                                    min_size=min_size * world_size)
            start_step = self._resume_step
            loss_sum, loss_count, seconds = self._resume_partial
            if start_step > 0 and self._resume_generator_state is not None:
                generator.set_state(self._resume_generator_state)
            self._resume_step = 0
            self._resume_generator_state = None
            self._resume_partial = (0.0, 0, 0.0)

            bar = tqdm(total=len(batches), initial=start_step,
                       desc=f'epoch {epoch + 1}/{self.epochs}', leave=False,
                       disable=not self.progress, dynamic_ncols=True,
                       file=sys.stderr)
            t0 = time.perf_counter()
            try:
                for step in range(start_step, len(batches)):
                    if world_size > 1:
                        self._interrupt_requested = self._any_process(
                            self._interrupt_requested)
                    if self._interrupt_requested:
                        bar.close()
                        self._interrupt(
                            epoch, step, generator,
                            (loss_sum, loss_count,
                             seconds + time.perf_counter() - t0))
                    batch = batches[step]
                    users = self.train_pairs[0, batch]
                    items = self.train_pairs[1, batch]
                    self.optimizer.zero_grad(set_to_none=True)
                    if shard is None:
                        loss = self.batch_loss(users, items, generator)
                    else:
                        loss = self.batch_loss(users, items, generator,
                                               shard=shard)
                    if not torch.isfinite(loss):
                        raise FloatingPointError(
                            f'training loss became {float(loss)} in epoch '
                            f'{epoch + 1}, step {step + 1}; lower --lr or '
                            f'check the data')
                    rows = batch.numel()
                    if shard is None:
                        loss.backward()
                    else:
                        # DDP averages the gradients of the processes: the
                        # factor W B_r / B makes the average the gradient of
                        # the mean over the global batch of B rows.
                        rows = len(range(self.rank, batch.numel(),
                                         world_size))
                        (loss * (world_size * rows / batch.numel())
                         ).backward()
                    self.optimizer.step()
                    loss_sum += float(loss.detach()) * rows
                    loss_count += rows
                    if self.progress:
                        bar.set_postfix(loss=f'{loss_sum / loss_count:.4f}',
                                        refresh=False)
                    bar.update(1)
            finally:
                bar.close()
            seconds += time.perf_counter() - t0
            if world_size > 1:
                loss_sum, loss_count, seconds = self._reduce_epoch(
                    loss_sum, loss_count, seconds)
            self.epoch = epoch + 1
            self.train_seconds += seconds
            record: Dict[str, Any] = {
                'epoch': self.epoch,
                'loss': loss_sum / max(loss_count, 1),
                'seconds': seconds,
            }
            last_epoch = self.epoch >= self.epochs
            over_budget = (self.time_budget is not None
                           and self.train_seconds >= self.time_budget)
            if self.epoch % self.eval_every == 0 or last_epoch or over_budget:
                self._evaluate_epoch(record)
            record['elapsed'] = self.train_seconds
            if world_size > 1:
                self._interrupt_requested = self._any_process(
                    self._interrupt_requested)
            self._logger.log(record)
            self._report(record)
            if (self.epoch % self.checkpoint_every == 0 or last_epoch
                    or over_budget or self.early_stopping.should_stop
                    or self._interrupt_requested):
                if self.early_stopping.should_stop:
                    self.stopped_by = 'early_stopping'
                elif over_budget:
                    self.stopped_by = 'time_budget'
                elif last_epoch:
                    self.stopped_by = 'epochs'
                self.save_checkpoint()
            if self._interrupt_requested:
                raise TrainingInterrupted(
                    None if self.checkpoint_dir is None else
                    self.checkpoint_dir / LAST_CHECKPOINT, self.epoch, 0)

    def _any_process(self, flag: bool) -> bool:
        value = torch.tensor([float(flag)], device=self._collective_device)
        torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.MAX)
        return bool(value.item() > 0)

    @property
    def _collective_device(self) -> torch.device:
        return (self.device if self.device.type == 'cuda' else
                torch.device('cpu'))

    def _reduce_epoch(self, loss_sum: float, loss_count: int,
                      seconds: float) -> Tuple[float, int, float]:
        # The loss of the epoch over all processes, and the slowest
        # process' time (so that every process takes the same time-budget
        # decisions).
        dist = torch.distributed
        sums = torch.tensor([loss_sum, float(loss_count)],
                            dtype=torch.float64,
                            device=self._collective_device)
        dist.all_reduce(sums, op=dist.ReduceOp.SUM)
        return (float(sums[0]), int(round(float(sums[1]))),
                self._max_seconds(seconds))

    def _max_seconds(self, seconds: float) -> float:
        value = torch.tensor([seconds], dtype=torch.float64,
                             device=self._collective_device)
        torch.distributed.all_reduce(value,
                                     op=torch.distributed.ReduceOp.MAX)
        return float(value)

    def _evaluate_epoch(self, record: Dict[str, Any]) -> None:
        t0 = time.perf_counter()
        split = self.eval_split
        metrics = self.evaluate(split)
        eval_seconds = time.perf_counter() - t0
        if self.world_size > 1:
            eval_seconds = self._max_seconds(eval_seconds)
        self.train_seconds += eval_seconds
        improved = self.early_stopping.step(metrics, self.epoch)
        if improved:
            self.best_state = {
                k: v.detach().cpu().clone()
                for k, v in self.model.state_dict().items()
            }
            self.best_metrics = dict(metrics)
        record['split'] = split
        record['metrics'] = metrics
        record['eval_seconds'] = eval_seconds
        record['best'] = bool(improved)
        self.history.append({
            'epoch': self.epoch,
            'split': split,
            self.metric: metrics.get(self.metric)
        })

    def _report(self, record: Dict[str, Any]) -> None:
        line = (f"epoch {record['epoch']:>4d} | loss {record['loss']:.4f} | "
                f"{record['seconds']:.2f}s")
        if 'metrics' in record:
            keys = [f'recall@{k}' for k in (20, )] + ['ndcg@20']
            if self.metric not in keys:
                keys.insert(0, self.metric)
            line += (f" | {record['split']} "
                     f"{_format_metrics(record['metrics'], keys)}")
            if record.get('best'):
                line += ' *'
        self._print(line)

    def _finish(self) -> Dict[str, Any]:
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        best_epoch = self.early_stopping.best_epoch
        valid = None
        if self.val_data is not None:
            valid = (dict(self.best_metrics) if self.best_metrics is not None
                     else self.evaluate('valid'))
        test = None
        if self.test_data is not None:
            if self.val_data is None and self.best_metrics is not None:
                test = dict(self.best_metrics)
            else:
                test = self.evaluate('test')
        return {
            'test': test,
            'valid': valid,
            'best_epoch': 0 if best_epoch is None else int(best_epoch),
            'epochs_run': self.epoch,
            'train_seconds': self.train_seconds,
            'stopped_by': self.stopped_by or 'epochs',
            'eval_split': self.eval_split,
            'history': list(self.history),
        }

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(model={type(self.model).__name__}'
                f', loss={self.loss_name}, negatives={self.negative_sampling}'
                f', batch_size={self.batch_size}, epochs={self.epochs})')


def _repeated_item_pairs(items: Tensor) -> Tuple[Tensor, Tensor]:
    # Off-diagonal (r, c) with items[r] == items[c], comparing only the rows
    # whose item occurs more than once (no [B, B] comparison).
    count = torch.bincount(items)
    rows = (count[items] > 1).nonzero().view(-1)
    if rows.numel() == 0:
        return rows, rows
    sub = items[rows]
    same = sub.view(-1, 1) == sub.view(1, -1)
    same.fill_diagonal_(False)
    r, c = same.nonzero(as_tuple=True)
    return rows[r], rows[c]


def _weighted_rows(weight: Tensor, counts: Tensor, batch_size: int) -> Tensor:
    # Rows scaled by sqrt(count), so that their squared norm is
    # count * ||row||^2: the L2 penalty of every occurrence in the batch
    # without gathering repeated rows.  Small tables are scaled densely
    # (cheaper than a gather and its scatter-add backward).
    scale = counts.to(weight.dtype).sqrt().unsqueeze(1)
    if weight.size(0) <= 8 * batch_size:
        return weight * scale
    rows = counts.nonzero().view(-1)
    return weight[rows] * scale[rows]


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # pragma: no cover
        return False


def _normalise(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value


def _compare(old: Dict[str, Any], new: Dict[str, Any], prefix: str,
             diffs: List[Tuple[str, Any, Any]]) -> None:
    # Differences between two configurations, recursing into nested
    # dictionaries and skipping the options a resumed run may change.
    for key in sorted(set(old) | set(new)):
        if key in RESUMABLE_OPTIONS:
            continue
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            _compare(a, b, f'{prefix}{key}.', diffs)
        elif _normalise(a) != _normalise(b):
            diffs.append((f'{prefix}{key}', a, b))


def _check_positive_int(name: str, value: Any,
                        allow_zero: bool = False) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok or value < (0 if allow_zero else 1):
        kind = 'non-negative' if allow_zero else 'positive'
        raise ValueError(f"'{name}' expected a {kind} integer (got {value!r})")


def _check_number(name: str, value: Any, positive: bool = False) -> None:
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
          and math.isfinite(value))
    if not ok or value < 0 or (positive and value == 0):
        kind = 'positive' if positive else 'non-negative'
        raise ValueError(f"'{name}' expected a {kind} finite number "
                         f"(got {value!r})")


def _versions() -> Dict[str, str]:
    import numpy
    import torch_geometric

    import pyg_simce
    return {
        'pyg_simce': pyg_simce.__version__,
        'torch': torch.__version__,
        'torch_geometric': torch_geometric.__version__,
        'numpy': numpy.__version__,
    }

