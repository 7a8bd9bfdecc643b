r"""The training loop of :class:`~pyg_simce.train.Trainer`: one step
(:meth:`batch_loss`), epochs, interrupts, evaluation during training and the
final results."""
import time
from typing import Any, Dict, Optional, Tuple

import torch
from torch import Tensor

from pyg_simce.train.batching import epoch_generator, shard_batches
from pyg_simce.train.checkpoint import LAST_CHECKPOINT
from pyg_simce.train.exceptions import TrainingInterrupted
from pyg_simce.train.json_lines_logger import JSONLinesLogger
from pyg_simce.train.row_penalty import densify_gradients, rows_l2_penalty


class Embedder(torch.nn.Module):
    r"""The propagation of the rows a training step needs, as the
    :meth:`forward` that :class:`~torch.nn.parallel.DistributedDataParallel`
    hooks: :meth:`get_embedding_rows` of the model when it has one and
    :obj:`item_rows` is given, else the whole graph indexed."""
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, edge_index: Tensor, user_rows: Tensor,
                item_rows: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        rows = getattr(self.model, 'get_embedding_rows', None)
        if item_rows is not None and rows is not None:
            return rows(edge_index, user_rows, item_rows)
        user_out, item_out = self.model.get_embedding(edge_index)
        # index_select: several times faster than [] indexing on CPU.
        return (user_out.index_select(0, user_rows),
                item_out if item_rows is None else
                item_out.index_select(0, item_rows))


def build_adam(params: Any, lr: float, weight_decay: float,
          fused: Optional[bool], device: torch.device) -> Tuple[Any, bool]:
    r"""Adam, with the fused kernel when :obj:`fused` is :obj:`True` or, for
    :obj:`None`, when the device has one; returns the optimizer and whether
    it is fused."""
    params = list(params)
    if fused is None:
        try:
            probe = torch.zeros(1, device=device, requires_grad=True)
            torch.optim.Adam([probe], fused=True)
            fused = True
        except (RuntimeError, ValueError):
            fused = False
    kwargs = dict(lr=lr, weight_decay=weight_decay)
    if fused:
        kwargs['fused'] = True
    return torch.optim.Adam(params, **kwargs), bool(fused)



class TrainingLoopMixin:
    r"""The training loop of :class:`~pyg_simce.train.Trainer`."""
    # Training step ###########################################################

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
        batch = self.strategy.prepare(users, items, generator, shard)
        embedder = (self._ddp if self._ddp is not None
                    and torch.is_grad_enabled() else self._embedder)
        user_emb, item_emb = embedder(self.edge_index, batch.user_rows,
                                      batch.item_rows)
        loss = self.strategy.loss(batch, user_emb, item_emb, self.loss)
        if self.reg > 0:
            # Every distinct row counted as often as the batch uses it.
            loss = loss + rows_l2_penalty(
                [(self.model.user_embedding.weight, batch.user_rows,
                  batch.user_counts),
                 (self.model.item_embedding.weight, batch.l2_items,
                  batch.l2_item_counts)], batch_size=batch.size,
                weight=self.reg)
        return loss

    # Training loop ###########################################################

    def request_stop(self) -> None:
        r"""Asks :meth:`fit` to stop after the current step, checkpoint and
        raise :class:`TrainingInterrupted` (what Ctrl-C does)."""
        self._interrupts.request()

    def fit(self, resume: bool = False, fresh: bool = False
            ) -> Dict[str, Any]:
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
            fresh (bool, optional): Start a new run in a
                :obj:`checkpoint_dir` that holds a checkpoint, after moving
                its checkpoints (and the log, if it is there) into a
                timestamped subfolder :obj:`replaced-YYYYmmdd-HHMMSS`.
                Without it, a new run refuses such a folder.
                (default: :obj:`False`)

        Raises:
            ValueError: If :obj:`checkpoint_dir` holds a checkpoint and
                neither :obj:`resume` nor :obj:`fresh` is set.
            TrainingInterrupted: After Ctrl-C (or :meth:`request_stop`), once
                the state is checkpointed; resuming continues exactly.
        """
        if resume and fresh:
            raise ValueError("fit expected at most one of 'resume' and "
                             "'fresh' (got both)")
        log_path = self.log_path if self.rank == 0 else None
        if resume:
            self.resume()
            self._logger = JSONLinesLogger(log_path, append=True)
            self._logger.truncate(self._log_position)
        else:
            self._check_new_run(fresh)
            self._logger = JSONLinesLogger(log_path)
        if self.val_data is None and self.test_data is None:
            raise ValueError("evaluation expected 'val_data' or 'test_data' "
                             "(got neither)")
        self._interrupts.requested = False
        with self._interrupts:
            self._train_loop()
        return self._finish()

    def _interrupt_requested(self) -> bool:
        if self.world_size > 1:
            self._interrupts.requested = self._any_process(
                self._interrupts.requested)
        return self._interrupts.requested

    def _train_loop(self) -> None:
        self.model.train()
        num_pairs = self.train_pairs.size(1)
        world_size = self.world_size
        min_size = self.strategy.min_batch_rows
        shard = (self.rank, world_size) if world_size > 1 else None
        while True:
            reason = self.stop_policy.before_epoch(
                self.epoch, self.train_seconds, self._resume_step > 0)
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

            bar = self.reporter.progress_bar(len(batches), start_step,
                                             f'epoch {epoch + 1}/'
                                             f'{self.epochs}')
            t0 = time.perf_counter()
            try:
                for step in range(start_step, len(batches)):
                    if self._interrupt_requested():
                        bar.close()
                        self._interrupt(
                            epoch, step, generator,
                            (loss_sum, loss_count,
                             seconds + time.perf_counter() - t0))
                    batch = batches[step]
                    rows, value = self._step(batch, generator, shard, epoch,
                                             step)
                    loss_sum += value * rows
                    loss_count += rows
                    if self.progress:
                        bar.set_postfix(loss=f'{loss_sum / loss_count:.4f}',
                                        refresh=False)
                    bar.update(1)
            finally:
                bar.close()
            seconds += time.perf_counter() - t0
            self._end_epoch(epoch, loss_sum, loss_count, seconds)

    def _step(self, batch: Tensor, generator: torch.Generator,
              shard: Optional[Tuple[int, int]], epoch: int,
              step: int) -> Tuple[int, float]:
        # One optimisation step; returns this process' rows and the loss.
        users = self.train_pairs[0, batch]
        items = self.train_pairs[1, batch]
        self.optimizer.zero_grad(set_to_none=True)
        if shard is None:
            loss = self.batch_loss(users, items, generator)
        else:
            loss = self.batch_loss(users, items, generator, shard=shard)
        value = self.stop_policy.check_loss(loss, epoch + 1, step + 1)
        rows = batch.numel()
        if shard is None:
            loss.backward()
        else:
            # DDP averages the gradients of the processes: the factor
            # W B_r / B makes the average the gradient of the mean over
            # the global batch of B rows.
            rank, world_size = shard
            rows = len(range(rank, batch.numel(), world_size))
            (loss * (world_size * rows / batch.numel())).backward()
        densify_gradients(self._penalized)
        self.optimizer.step()
        return rows, value

    def _end_epoch(self, epoch: int, loss_sum: float, loss_count: int,
                   seconds: float) -> None:
        if self.world_size > 1:
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
        over_budget = self.stop_policy.over_budget(self.train_seconds)
        if self.epoch % self.eval_every == 0 or last_epoch or over_budget:
            self._evaluate_epoch(record)
        record['elapsed'] = self.train_seconds
        interrupted = self._interrupt_requested()
        self._logger.log(record)
        self.reporter.epoch(record)
        reason = self.stop_policy.after_epoch(self.epoch, self.train_seconds)
        if reason is not None or interrupted or \
                self.epoch % self.checkpoint_every == 0:
            if reason is not None:
                self.stopped_by = reason
            self.save_checkpoint()
        if interrupted:
            raise TrainingInterrupted(
                None if self.checkpoint_dir is None else
                self.checkpoint_dir / LAST_CHECKPOINT, self.epoch, 0)

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

    # Across processes ########################################################

    @property
    def _collective_device(self) -> torch.device:
        return (self.device if self.device.type == 'cuda' else
                torch.device('cpu'))

    def _any_process(self, flag: bool) -> bool:
        value = torch.tensor([float(flag)], device=self._collective_device)
        torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.MAX)
        return bool(value.item() > 0)

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

    # Evaluation and results ##################################################

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
