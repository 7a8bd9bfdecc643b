r"""The evaluation methods of :class:`~pyg_simce.train.Trainer`."""
from typing import Any, Dict, Optional, Tuple

import torch
from torch import Tensor

from pyg_simce.train.distributed import all_reduce_sums
from pyg_simce.train.evaluation import evaluate_sums


def label_index_of(data: Any, name: str) -> Tensor:
    r"""The :obj:`edge_label_index` of a split, or a :class:`ValueError`
    naming it."""
    store = data['user', 'rates', 'item']
    label = getattr(store, 'edge_label_index', None)
    if label is None:
        raise ValueError(f"'{name}' expected a HeteroData with a "
                         f"('user', 'rates', 'item') edge_label_index")
    return label


class EvaluationMixin:
    r"""All-ranking evaluation of the model being trained
    (:meth:`embeddings`, :meth:`evaluate`, :attr:`positive_index`)."""
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
        target = label_index_of(data, f'{split} data')
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
                label_index_of(self.val_data, 'val_data').to(self.device),
                self.num_users, self.num_items)
        return self._val_index
