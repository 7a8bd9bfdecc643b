r"""The shared skeleton of the classical recommenders of
:mod:`pyg_simce.baselines`."""
import os
import pathlib
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from pyg_simce.nn.conv.norm import check_edge_index


def check_positive(name: str, value: Any, integer: bool = False) -> Any:
    r"""Raises a :class:`ValueError` naming :obj:`name` unless :obj:`value`
    is a positive number (a positive :obj:`int` if :obj:`integer`)."""
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or \
            not value > 0 or (not integer and not np.isfinite(value)):
        what = 'a positive int' if integer else 'a positive finite number'
        raise ValueError(f"'{name}' expected {what} (got {value!r})")
    return value


def train_edges(train_data: Any) -> Tuple[Tensor, int, int]:
    r"""Returns :obj:`(edge_index, num_users, num_items)` of the
    :obj:`('user', 'rates', 'item')` training edges of a
    :class:`~torch_geometric.data.HeteroData` (or of an
    :class:`~pyg_simce.data.InteractionSplit`, whose :obj:`train` part is
    used)."""
    if hasattr(train_data, 'train') and not hasattr(train_data, 'edge_types'):
        train_data = train_data.train
    try:
        store = train_data['user', 'rates', 'item']
        edge_index = store.edge_index
        num_users = int(train_data['user'].num_nodes)
        num_items = int(train_data['item'].num_nodes)
    except (KeyError, AttributeError, TypeError):
        raise ValueError(f"'train_data' expected a HeteroData with a "
                         f"('user', 'rates', 'item') edge_index and "
                         f"num_nodes on 'user' and 'item' (got "
                         f"{type(train_data).__name__})") from None
    check_edge_index(edge_index, (num_users, num_items), name='train_data')
    if edge_index.size(1) == 0:
        raise ValueError("'train_data' expected at least one training "
                         "interaction (got 0)")
    return edge_index.cpu().long(), num_users, num_items


def scipy_sparse():
    r"""Returns :mod:`scipy.sparse`, or raises an :class:`ImportError` that
    names the optional extra the baselines need."""
    try:
        import scipy.sparse
    except ImportError:
        raise ImportError("pyg_simce.baselines expected scipy (got none "
                          "installed); pip install 'pyg_simce[baselines]'"
                          ) from None
    return scipy.sparse


def interaction_matrix(edge_index: Tensor, num_users: int, num_items: int):
    r"""The binary user-item matrix :math:`\mathbf{R}` as a
    :class:`scipy.sparse.csr_matrix` (float32, duplicates counted once)."""
    sp = scipy_sparse()
    row = edge_index[0].numpy()
    col = edge_index[1].numpy()
    mat = sp.csr_matrix((np.ones(row.size, dtype=np.float32), (row, col)),
                        shape=(num_users, num_items))
    mat.sum_duplicates()
    mat.data[:] = 1.0
    return mat


def csr_to_state(matrix) -> Dict[str, Any]:
    r"""A :class:`scipy.sparse.csr_matrix` as tensors (for a model file)."""
    return {'indptr': torch.from_numpy(matrix.indptr.astype(np.int64)),
            'indices': torch.from_numpy(matrix.indices.astype(np.int64)),
            'data': torch.from_numpy(np.array(matrix.data)),
            'shape': [int(n) for n in matrix.shape]}


def csr_from_state(state: Dict[str, Any]):
    r"""The inverse of :func:`csr_to_state`."""
    sp = scipy_sparse()
    return sp.csr_matrix((state['data'].numpy(), state['indices'].numpy(),
                          state['indptr'].numpy()),
                         shape=tuple(state['shape']))


def require_scipy(model: str) -> None:
    import importlib.util
    if importlib.util.find_spec('scipy') is None:  # pragma: no cover
        raise ImportError(f"'{model}' requires scipy; install the optional "
                          f"extra: pip install 'pyg_simce[baselines]'")


class BaselineRecommender:
    r"""The shared skeleton of the classical recommenders: :meth:`fit` on the
    :obj:`('user', 'rates', 'item')` training edges of a
    :class:`~torch_geometric.data.HeteroData` (the same object the
    :class:`~pyg_simce.train.Trainer` takes), :meth:`score` for a chunk of
    users (a dense :obj:`[len(users), num_items]` block, so that memory is
    bounded by the chunk), :meth:`recommend` with the signature of the
    models' :meth:`~pyg_simce.nn.models.MF.recommend`, and
    :func:`~pyg_simce.baselines.evaluate_baseline` for the all-ranking
    metrics of :func:`~pyg_simce.metrics.evaluate_ranking`.

    Subclasses implement :meth:`_fit` and :meth:`_score`.
    """
    def __init__(self):
        self.num_users: Optional[int] = None
        self.num_items: Optional[int] = None
        self.fit_seconds: Optional[float] = None
        self._history = None
        #: Raw user and item ids of the fitted data (:obj:`None` if unknown).
        self.user_raw_id: Any = None
        self.item_raw_id: Any = None

    # To be defined by subclasses #############################################

    def _fit(self, matrix) -> None:
        raise NotImplementedError

    def _score(self, users: np.ndarray, history) -> np.ndarray:
        raise NotImplementedError

    # Public API ##############################################################

    def fit(self, train_data: Any) -> 'BaselineRecommender':
        r"""Fits the model on the training edges of :obj:`train_data`
        and returns it; :attr:`fit_seconds` holds the wall-clock time.

        Args:
            train_data (torch_geometric.data.HeteroData): Holds the
                :obj:`('user', 'rates', 'item')` training :obj:`edge_index`
                and :obj:`num_nodes` of :obj:`'user'` and :obj:`'item'`.
        """
        import time
        require_scipy(self.__class__.__name__)
        from pyg_simce.data.raw_ids import raw_ids_of
        edge_index, num_users, num_items = train_edges(train_data)
        self.check_sizes(num_users, num_items)
        if hasattr(train_data, 'train') and \
                not hasattr(train_data, 'edge_types'):
            train_data = train_data.train
        self.user_raw_id, self.item_raw_id = raw_ids_of(train_data)
        start = time.perf_counter()
        matrix = interaction_matrix(edge_index, num_users, num_items)
        self.num_users, self.num_items = num_users, num_items
        self._history = matrix
        self._fit(matrix)
        self.fit_seconds = time.perf_counter() - start
        return self

    def check_sizes(self, num_users: int, num_items: int) -> None:
        r"""Raises a :class:`ValueError` when the model cannot be fitted to a
        graph of this size (overridden by subclasses)."""

    @property
    def is_fitted(self) -> bool:
        return self._history is not None

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise RuntimeError(f"'{self.__class__.__name__}' expected a call "
                               f"to fit() before scoring")

    def history(self, edge_index: Optional[Tensor] = None):
        r"""The user-item matrix the scores are computed from: the fitted
        one, or the one of :obj:`edge_index` (fold-in of new histories)."""
        self._check_fitted()
        if edge_index is None:
            return self._history
        check_edge_index(edge_index, (self.num_users, self.num_items))
        return interaction_matrix(edge_index.cpu().long(), self.num_users,
                                  self.num_items)

    @torch.no_grad()
    def score(self, users: Tensor, history=None) -> Tensor:
        r"""Returns the scores :math:`s_{ui}` of the given users against
        every item, :obj:`[len(users), num_items]` (float32, CPU).

        Args:
            users (torch.Tensor): User ids :obj:`[n]`.
            history (scipy.sparse.csr_matrix, optional): The user-item
                matrix the users' rows are read from; the fitted one by
                default. (default: :obj:`None`)
        """
        self._check_fitted()
        users = torch.as_tensor(users).view(-1).cpu().long()
        if users.numel() > 0 and (int(users.min()) < 0 or
                                  int(users.max()) >= self.num_users):
            raise ValueError(f"'users' expected user ids in "
                             f"[0, {self.num_users}) (got range "
                             f"[{int(users.min())}, {int(users.max())}])")
        if history is None:
            history = self._history
        out = self._score(users.numpy(), history)
        return torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))

    @property
    def train_edge_index(self) -> Optional[Tensor]:
        r"""The fitted training edges :obj:`[2, E]` (sorted by user, then
        item), or :obj:`None` before :meth:`fit`."""
        if self._history is None:
            return None
        coo = self._history.tocoo()
        return torch.from_numpy(np.stack([coo.row, coo.col]).astype(
            np.int64))

    @torch.no_grad()
    def recommend(
        self,
        edge_index: Optional[Tensor] = None,
        src_index: Optional[Tensor] = None,
        k: int = 20,
        exclude_edge_index: Any = None,
        chunk_size: Optional[int] = None,
        *,
        exclude_seen: bool = False,
        return_scores: bool = False,
    ) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        r"""Returns the top-:obj:`k` items of every user in :obj:`src_index`
        over the whole catalogue, in user chunks, never returning an
        excluded pair, with the semantics of the models'
        :meth:`~pyg_simce.nn.models.MF.recommend`: a user with fewer than
        :obj:`k` admissible items gets the id :obj:`-1` with score
        :math:`-\infty` in the remaining slots.

        Args:
            edge_index (torch.Tensor, optional): The users' observed
                interactions :obj:`[2, E]`; the fitted ones when :obj:`None`.
                The item-item models (:class:`GFCF`, :class:`EASE`,
                :class:`ItemKNN`) score each user's row of it against their
                fitted item-item weights, so it may differ from the fitted
                data; :class:`IALS` and :class:`MostPopular` score with their
                fitted factors. (default: :obj:`None`)
            src_index (torch.Tensor, optional): User ids; all users when
                :obj:`None`. (default: :obj:`None`)
            k (int, optional): Items per user. (default: :obj:`20`)
            exclude_edge_index (torch.Tensor or list, optional):
                :obj:`[2, E']` (user, item) pairs never to recommend, or a
                list/tuple of such tensors. (default: :obj:`None`)
            chunk_size (int, optional): Users scored at once.
                (default: :obj:`None`)
            exclude_seen (bool, optional): Also exclude the observed
                interactions (:obj:`edge_index`, else the fitted ones).
                (default: :obj:`False`)
            return_scores (bool, optional): Return :obj:`(ids, scores)`
                (the scores of :meth:`score`; for :class:`MostPopular` the
                item's popularity rank, higher is more popular) instead of
                :obj:`ids`. (default: :obj:`False`)

        Shapes:
            - **output:** :math:`(|\text{src\_index}|, k)` (twice with
              :obj:`return_scores`)
        """
        from pyg_simce.baselines.evaluation import iter_score_topk
        from pyg_simce.metrics.topk import _check_src_index, \
            build_exclusion, exclusion_list
        self._check_fitted()
        check_positive('k', k, integer=True)
        if k > self.num_items:
            raise ValueError(f"'k' expected at most num_items="
                             f"{self.num_items} (got {k})")
        history = self.history(edge_index) if self._uses_history else None
        users = _check_src_index(src_index, self.num_users,
                                 torch.device('cpu'))
        exclude = exclusion_list(exclude_edge_index, self.num_users,
                                 self.num_items)
        if exclude_seen:
            exclude.append(self.train_edge_index if edge_index is None else
                           edge_index)
        exclusions = build_exclusion(exclude, self.num_users, self.num_items)
        out = torch.empty(users.numel(), k, dtype=torch.long)
        scores = torch.empty(users.numel(), k) if return_scores else None
        for start, value, index in iter_score_topk(self, users, k,
                                                   exclusions, chunk_size,
                                                   history):
            out[start:start + index.size(0)] = index
            if scores is not None:
                scores[start:start + index.size(0)] = value
        return (out, scores) if return_scores else out

    # Saving and loading ######################################################

    def init_args(self) -> Dict[str, Any]:
        r"""The constructor arguments that rebuild this model (read from
        the attributes named like the arguments)."""
        from pyg_simce.model_file import constructor_args
        return constructor_args(self)

    def save(self, path: Union[str, os.PathLike], *,
             user_raw_id: Any = None, item_raw_id: Any = None,
             metadata: Optional[Dict[str, Any]] = None) -> pathlib.Path:
        r"""Writes the fitted model to one file that :meth:`load` (or
        :func:`pyg_simce.load`) rebuilds without fitting again, in the
        format of the models' :meth:`~pyg_simce.nn.models.MF.save` (see
        :mod:`pyg_simce.model_file`): the constructor arguments, the fitted
        arrays (as tensors), the training graph and the raw-id maps.

        Args:
            path (str or os.PathLike): The file; its folder must exist.
            user_raw_id (torch.Tensor or list, optional): Raw user ids; those
                of the fitted data by default. (default: :obj:`None`)
            item_raw_id (torch.Tensor or list, optional): Raw item ids.
                (default: :obj:`None`)
            metadata (dict, optional): Plain values stored with the model.
                (default: :obj:`None`)
        """
        from pyg_simce.model_file import save_model_file
        self._check_fitted()
        return save_model_file(
            self, path, init_args=self.init_args(),
            state=dict(self._file_state(), fit_seconds=self.fit_seconds),
            num_users=self.num_users, num_items=self.num_items,
            edge_index=self.train_edge_index,
            user_raw_id=(self.user_raw_id if user_raw_id is None else
                         user_raw_id),
            item_raw_id=(self.item_raw_id if item_raw_id is None else
                         item_raw_id), metadata=metadata)

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> 'BaselineRecommender':
        r"""Rebuilds a fitted model written by :meth:`save`; refuses a
        file of another class."""
        from pyg_simce.model_file import load_model
        return load_model(path, 'cpu', expected=cls)

    @classmethod
    def _from_model_file(cls, content: Dict[str, Any],
                         map_location: Any) -> 'BaselineRecommender':
        model = cls(**content['init_args'])
        model.num_users = int(content['num_users'])
        model.num_items = int(content['num_items'])
        edge_index = content['edge_index'].cpu().long()
        model._history = interaction_matrix(edge_index, model.num_users,
                                            model.num_items)
        state = {k: (v.cpu() if isinstance(v, Tensor) else v)
                 for k, v in content['state'].items()}
        model.fit_seconds = state.pop('fit_seconds', None)
        model._set_file_state(state)
        model.user_raw_id = content.get('user_raw_id')
        model.item_raw_id = content.get('item_raw_id')
        return model

    def _file_state(self) -> Dict[str, Any]:
        r"""The fitted arrays as tensors and plain values (subclasses)."""
        raise NotImplementedError

    def _set_file_state(self, state: Dict[str, Any]) -> None:
        r"""Restores what :meth:`_file_state` returned (subclasses)."""
        raise NotImplementedError

    #: Whether the scores read the users' interaction rows (item-item models).
    _uses_history = True

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in self._repr_args().items())
        return f'{self.__class__.__name__}({args})'

    def _repr_args(self) -> dict:
        return {}
