from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from pyg_simce.data.split_overlap import resolve_overlap
from pyg_simce.train.checkpointing import (  # noqa: F401 (re-exported)
    CHECKPOINT_FORMAT,
    RESUMABLE_OPTIONS,
    CheckpointingMixin,
)
from pyg_simce.train.defaults import loss_name_of
from pyg_simce.train.distributed import get_rank, get_world_size
from pyg_simce.train.early_stopping import EarlyStopping
from pyg_simce.train.exceptions import (  # noqa: F401 (re-exported)
    ConfigMismatchError,
    TrainingInterrupted,
)
from pyg_simce.train.interrupt_handler import InterruptHandler
from pyg_simce.train.negatives import negative_strategy
from pyg_simce.train.options import TrainerOptions
from pyg_simce.train.reporting import Reporter, stderr_is_tty
from pyg_simce.train.stop_policy import StopPolicy
from pyg_simce.train.trainer_evaluation import EvaluationMixin
from pyg_simce.train.training_loop import (
    Embedder,
    TrainingLoopMixin,
    build_adam,
)


def _edge_index_of(data: Any, name: str) -> Tensor:
    try:
        store = data['user', 'rates', 'item']
        return store.edge_index
    except (KeyError, AttributeError, TypeError):
        raise ValueError(f"'{name}' expected a HeteroData with a "
                         f"('user', 'rates', 'item') edge_index "
                         f"(got {type(data).__name__})") from None


class Trainer(TrainingLoopMixin, CheckpointingMixin, EvaluationMixin):
    r"""Trains a collaborative-filtering model with a ranking loss and
    evaluates it with the all-ranking protocol (every item scored, the
    user's training items masked), as in the
    `LightGCN <https://arxiv.org/abs/2002.02126>`_,
    `SSM <https://arxiv.org/abs/2201.02327>`_ and
    `SimCE <https://arxiv.org/abs/2406.16170>`_ papers.

    One training step asks the negative strategy (:mod:`pyg_simce.train.
    negatives`) for the batch's negatives and the embedding rows they need,
    propagates only those rows (:meth:`get_embedding_rows` of the model,
    whose normalised adjacency is cached), scores positives and negatives
    and adds the LightGCN-style :math:`L_2` penalty on the layer-0
    embeddings of the batch,

    .. math::
        \mathcal{L} = \frac{1}{B}\sum_{(u,i)} \ell(s_{ui}, \{s_{uj}\}_{j
        \in \mathcal{N}_u}) + \frac{\lambda}{2B} \Big(\sum_u
        \|\mathbf{e}^{(0)}_u\|^2 + \sum_i \|\mathbf{e}^{(0)}_i\|^2 +
        \sum_j \|\mathbf{e}^{(0)}_j\|^2\Big),

    where the last sum runs over the sampled negatives of per-user and
    shared-pool sampling (each counted once per user it is a negative for)
    and is absent for in-batch and full-catalogue negatives.

    Negatives (:obj:`negative_sampling`), each a
    :class:`~pyg_simce.train.negatives.NegativeStrategy`:

    * :obj:`'uniform'` / :obj:`'popularity'`:
      :class:`~pyg_simce.train.negatives.PerUserNegatives`,
      :obj:`num_negatives` items per positive drawn among the items the user
      never interacted with in training (uniformly, or :math:`\propto`
      popularity :math:`^\beta`).
    * :obj:`'shared'`:
      :class:`~pyg_simce.train.negatives.SharedPoolNegatives`, one pool of
      :obj:`num_negatives` uniform items per batch minus each user's
      training items.
    * :obj:`'in-batch'`:
      :class:`~pyg_simce.train.negatives.InBatchNegatives`, the other
      positives of the batch (:class:`~pyg_simce.nn.loss.SampledSoftmaxLoss`
      as in the SSM paper).
    * :obj:`'full'`:
      :class:`~pyg_simce.train.negatives.FullCatalogueNegatives`, the whole
      catalogue (:class:`~pyg_simce.nn.loss.SoftmaxLoss`).

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
        fused_optimizer (bool, optional): Use Adam's fused kernel; by
            default wherever the device has one (it matches the unfused
            kernel to float tolerance). (default: :obj:`None`)
        drop_overlap (bool, optional): Drop the validation and test pairs
            that are also training pairs (and the test pairs that are also
            validation pairs), with a warning naming their count, instead
            of raising a :class:`ValueError`: they can never be hit, since
            those items are masked at evaluation. (default: :obj:`False`)
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
        fused_optimizer: Optional[bool] = None,
        drop_overlap: bool = False,
    ) -> None:
        self.loss_name = loss_name_of(loss)
        self.world_size = get_world_size()
        self.rank = get_rank()
        self.options = opts = TrainerOptions(
            lr=lr, weight_decay=weight_decay, batch_size=batch_size,
            epochs=epochs, reg=reg, negative_sampling=negative_sampling,
            num_negatives=num_negatives, beta=beta,
            train_similarity=train_similarity,
            test_similarity=test_similarity, eval_every=eval_every,
            metric=metric, patience=patience, time_budget=time_budget,
            ks=ks, seed=seed, checkpoint_every=checkpoint_every,
            eval_chunk_size=eval_chunk_size, global_in_batch=global_in_batch,
            fused_optimizer=fused_optimizer).resolve(self.loss_name, loss,
                                                     self.world_size)
        for name in ('lr', 'weight_decay', 'batch_size', 'epochs', 'reg',
                     'negative_sampling', 'num_negatives', 'beta',
                     'train_similarity', 'test_similarity', 'eval_every',
                     'metric', 'patience', 'time_budget', 'ks', 'seed',
                     'checkpoint_every', 'eval_chunk_size',
                     'global_in_batch'):
            setattr(self, name, getattr(opts, name))

        if device is None:
            try:
                device = next(model.parameters()).device
            except StopIteration:
                device = torch.device('cpu')
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.loss = loss.to(self.device)
        self.num_users = num_users = int(model.num_users)
        self.num_items = num_items = int(model.num_items)
        if self.ks[-1] > num_items:
            raise ValueError(f"'ks' expected cut-offs of at most the number "
                             f"of items {num_items} (got {self.ks[-1]})")
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
        # Targets that are training (or, for test, validation) pairs can
        # never be hit: refused with their count, or dropped on request.
        val_data, test_data = resolve_overlap(edge_index, val_data,
                                              test_data, drop_overlap,
                                              'Trainer')
        self.train_data = train_data
        self.val_data = val_data
        self.test_data = test_data
        self.edge_index = edge_index.to(self.device)
        # The interactions iterated over: the training edges (on CPU, where
        # the permutation and the sampler run).
        self.train_pairs = edge_index.cpu()

        self.quiet = bool(quiet) or self.rank != 0
        if self.rank != 0:
            progress = False
        if progress is None:
            progress = (not quiet) and stderr_is_tty()
        self.progress = bool(progress)
        self.reporter = Reporter(self.metric, self.quiet, self.progress,
                                 epochs=self.epochs,
                                 early_stopping=self.patience is not None,
                                 time_budget=self.time_budget)
        self.log_path = None if log_path is None else Path(log_path)
        self.checkpoint_dir = (None if checkpoint_dir is None else
                               Path(checkpoint_dir))
        self.metadata = dict(metadata or {})

        from pyg_simce.nn.similarity import normalize
        self.strategy = negative_strategy(
            self.negative_sampling, num_negatives=self.num_negatives,
            beta=self.beta, global_in_batch=self.global_in_batch,
            world_size=self.world_size)
        self.strategy.check_loss(self.loss_name, self.loss)
        self.strategy.bind(
            self.train_pairs, num_users, num_items, seed=self.seed,
            device=self.device,
            transform=normalize if self.train_similarity == 'cosine' else None)
        self._embedder = Embedder(self.model)
        # The tables of the L2 penalty, whose gradient may arrive sparse.
        self._penalized = (self.model.user_embedding.weight,
                           self.model.item_embedding.weight)
        self._ddp: Optional[torch.nn.Module] = None
        if self.world_size > 1:
            from torch.nn.parallel import DistributedDataParallel
            # Every parameter reaches the loss through the embedder (no
            # unused parameters); the adjacency is a per-process cache, not
            # a buffer, and the buffers are equal everywhere.
            self._ddp = DistributedDataParallel(
                self._embedder,
                device_ids=([self.device] if self.device.type == 'cuda'
                            else None),
                broadcast_buffers=False)

        self.early_stopping = EarlyStopping(metric=self.metric,
                                            patience=self.patience)
        self.stop_policy = StopPolicy(self.epochs, self.early_stopping,
                                      self.time_budget)
        self.optimizer, self.fused_optimizer = build_adam(
            self.model.parameters(), self.lr, self.weight_decay,
            opts.fused_optimizer, self.device)
        self._positive_index = None
        self._val_index = None
        self._interrupts = InterruptHandler()

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
        self._log_position = 0  # log bytes of the run resumed (none yet)

    # Configuration ###########################################################

    @property
    def eval_split(self) -> str:
        r"""The split evaluated during training: :obj:`'valid'` when a
        validation split exists, else :obj:`'test'`."""
        return 'valid' if self.val_data is not None else 'test'

    @property
    def _sampler(self) -> Any:
        # The negative sampler of the strategy (None for in-batch / full).
        return getattr(self.strategy, 'sampler', None)

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
        }
        for key in ('lr', 'weight_decay', 'batch_size', 'epochs', 'reg',
                    'negative_sampling', 'num_negatives', 'beta',
                    'train_similarity', 'test_similarity', 'eval_every',
                    'metric', 'patience', 'time_budget'):
            cfg[key] = getattr(self, key)
        cfg['ks'] = list(self.ks)
        cfg['seed'] = self.seed
        cfg['num_train_interactions'] = int(self.train_pairs.size(1))
        cfg['fused_optimizer'] = self.fused_optimizer
        for key, value in self.metadata.items():
            cfg.setdefault(key, value)
        return cfg
