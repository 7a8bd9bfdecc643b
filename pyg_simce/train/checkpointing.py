r"""Checkpoint state and resume of :class:`~pyg_simce.train.Trainer`: what
a resumed run needs, and the check that a checkpoint was written with
compatible options."""
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
from torch import Tensor

from pyg_simce.train.checkpoint import (
    LAST_CHECKPOINT,
    PREVIOUS_CHECKPOINT,
    latest_checkpoint,
    load_checkpoint,
    move_aside,
    save_checkpoint,
)
from pyg_simce.train.exceptions import ConfigMismatchError

CHECKPOINT_FORMAT = 'pyg_simce.checkpoint/1'

#: Options that may change between a checkpoint and the run resuming it.
RESUMABLE_OPTIONS = frozenset({
    'epochs', 'time_budget', 'eval_every', 'patience', 'ks', 'quiet',
    'device', 'log_path', 'checkpoint_dir', 'checkpoint_every',
    'eval_chunk_size', 'out', 'log', 'resume', 'data_root', 'k',
    'checkpoint', 'command', 'threads', 'fused_optimizer', 'fresh',
    'dist_timeout'
})


def versions() -> Dict[str, str]:
    r"""The versions of the packages a result depends on."""
    import numpy
    import torch_geometric

    import pyg_simce
    return {
        'pyg_simce': pyg_simce.__version__,
        'torch': torch.__version__,
        'torch_geometric': torch_geometric.__version__,
        'numpy': numpy.__version__,
    }


class CheckpointingMixin:
    r"""The checkpoint methods of :class:`~pyg_simce.train.Trainer`
    (:meth:`state_dict`, :meth:`save_checkpoint`, :meth:`load_state_dict`,
    :meth:`resume`, :meth:`check_config`)."""
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
            'versions': versions(),
        }

    def save_checkpoint(self, path: Optional[Union[str, Path]] = None
                        ) -> Optional[Path]:
        r"""Writes the current state atomically to :obj:`path` (by default
        :obj:`checkpoint_dir/last.pt`, the checkpoint it replaces being kept
        as :obj:`prev.pt`) and returns the path, or :obj:`None` without a
        checkpoint folder."""
        previous = None
        if path is None:
            if self.checkpoint_dir is None:
                return None
            path = self.checkpoint_dir / LAST_CHECKPOINT
            # After a fall-back, last.pt is the damaged file: prev.pt stays.
            if not getattr(self, '_fell_back', False):
                previous = self.checkpoint_dir / PREVIOUS_CHECKPOINT
        if self.rank != 0:  # rank 0 writes for every process
            return Path(path)
        path = save_checkpoint(self.state_dict(), path, previous=previous)
        self._fell_back = False
        return path

    def _check_new_run(self, fresh: bool = False) -> None:
        # A new run (no resume) refuses a folder that holds a checkpoint,
        # unless 'fresh' moves the old files aside first (rank 0 alone, once
        # every process has looked).
        if self.checkpoint_dir is None:
            return
        found = latest_checkpoint(self.checkpoint_dir)
        if self.world_size > 1:
            found_any = self._any_process(found is not None)
        else:
            found_any = found is not None
        if not found_any:
            return
        if not fresh:
            raise ValueError(
                f"checkpoint_dir '{self.checkpoint_dir}' expected no "
                f"checkpoint for a new run (got '{found}'); continue it "
                f"with resume=True (--resume), or start over with "
                f"fresh=True (--fresh), which moves the old files into a "
                f"timestamped subfolder")
        if self.rank == 0:
            extra = []
            if self.log_path is not None and Path(self.log_path).resolve(
            ).parent == self.checkpoint_dir.resolve():
                extra.append(self.log_path)
            target = move_aside(self.checkpoint_dir, extra)
            print(f"moved the previous checkpoint files of "
                  f"'{self.checkpoint_dir}' to '{target}'", file=sys.stderr)

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

    def resume(self, path: Optional[Union[str, Path]] = None
               ) -> Optional[Path]:
        r"""Loads the checkpoint :obj:`path`, by default the latest one in
        :obj:`checkpoint_dir`, into this trainer and returns its path.

        Without :obj:`path`, a damaged :obj:`last.pt` makes it fall back to
        the previous checkpoint :obj:`prev.pt` (if kept and intact), and it
        says so on stderr.  A :obj:`checkpoint_dir` that is missing or holds
        no checkpoint leaves the trainer as it is (a fresh run), says so on
        stderr (:obj:`no checkpoint in 'DIR'; starting a fresh run`) and
        returns :obj:`None`.

        Raises:
            FileNotFoundError: If the given :obj:`path` does not exist.
            ValueError: If the checkpoint is damaged (and no intact previous
                one is kept).
            ConfigMismatchError: If it was written with incompatible options.
        """
        if path is None:
            if self.checkpoint_dir is None:
                raise ValueError("resuming expected a 'checkpoint_dir' "
                                 "(got None)")
            folder = self.checkpoint_dir
            if not (folder / LAST_CHECKPOINT).is_file() and \
                    not (folder / PREVIOUS_CHECKPOINT).is_file():
                if self.rank == 0:
                    print(f"no checkpoint in '{folder}'; starting a fresh "
                          f"run", file=sys.stderr)
                return None
            path, state = self._load_latest()
        else:
            path = Path(path)
            state = load_checkpoint(path, map_location='cpu')
        self.load_state_dict(state, path)
        self._resumed = True
        return path

    def _load_latest(self) -> Tuple[Path, Dict[str, Any]]:
        folder = self.checkpoint_dir
        last, prev = folder / LAST_CHECKPOINT, folder / PREVIOUS_CHECKPOINT
        if not last.is_file() and not prev.is_file():
            raise FileNotFoundError(f"no checkpoint to resume from in "
                                    f"'{folder}'")
        try:
            return last, load_checkpoint(last, map_location='cpu')
        except (ValueError, FileNotFoundError) as e:
            if not prev.is_file():
                raise
            reason = e
        state = load_checkpoint(prev, map_location='cpu')
        self._fell_back = True
        if self.rank == 0:
            print(f"resuming from the previous checkpoint '{prev}' "
                  f"(epoch {state.get('epoch')}) because {reason}",
                  file=sys.stderr)
        return prev, state


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
