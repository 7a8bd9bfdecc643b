r"""Per-loss training defaults, shared by :class:`~pyg_simce.train.Trainer`,
the command line and the documentation.

Each loss of the SimCE / SSM papers comes with the negative-sampling scheme
and similarity it was designed for.  When a user does not override them,
these are used:

.. list-table::
   :header-rows: 1

   * - loss
     - negatives
     - train / test similarity
     - loss hyper-parameters
   * - ``bpr``
     - 1 uniform negative per positive, excluding the user's training items
     - dot / dot
     -
   * - ``bce``
     - 4 uniform negatives per positive, excluding training items
     - dot / dot
     -
   * - ``ssm``
     - in-batch (the other positives of the batch)
     - cosine / dot
     - :math:`\tau = 0.1`
   * - ``simce``
     - 64 negatives excluding training items, from a per-batch shared pool
     - dot / dot
     - margin :math:`m = 5`
   * - ``ccl``
     - 256 negatives excluding training items, shared pool
     - cosine / cosine
     - margin 0.9, negative weight 150
   * - ``mml``
     - 256 negatives excluding training items, shared pool
     - cosine / cosine
     - margins (0.6, 0.7, 0.8, 0.9), weights (0.05, 0.15, 0.2, 0.6),
       negative weight 350
   * - ``softmax``
     - the full catalogue
     - dot / dot
     - :math:`\tau = 1`
"""
from typing import Any, Dict, Tuple

#: Loss names understood by the trainer and the command line.
LOSS_NAMES: Tuple[str, ...] = ('bpr', 'bce', 'softmax', 'ssm', 'simce', 'ccl',
                               'mml')

#: Negative-sampling strategies.
#:
#: * ``'uniform'``: per positive, :obj:`num_negatives` items drawn uniformly
#:   among the items the user never interacted with in training (exact).
#: * ``'popularity'``: as ``'uniform'`` but with probability proportional to
#:   the training popularity raised to :obj:`beta`.
#: * ``'shared'``: one pool of :obj:`num_negatives` uniform items per batch,
#:   scored against every user of the batch by a single matrix product; pool
#:   items that are a user's training item are removed for that user.
#: * ``'in-batch'``: the positive items of the other batch rows.
#: * ``'full'``: every item of the catalogue (full softmax).
NEGATIVE_SAMPLING: Tuple[str, ...] = ('uniform', 'popularity', 'shared',
                                      'in-batch', 'full')

SIMILARITIES: Tuple[str, ...] = ('dot', 'cosine')

_DEFAULTS: Dict[str, Dict[str, Any]] = {
    'bpr': dict(negative_sampling='uniform', num_negatives=1,
                train_similarity='dot', test_similarity='dot'),
    'bce': dict(negative_sampling='uniform', num_negatives=4,
                train_similarity='dot', test_similarity='dot'),
    'ssm': dict(negative_sampling='in-batch', num_negatives=None,
                train_similarity='cosine', test_similarity='dot',
                temperature=0.1),
    'simce': dict(negative_sampling='shared', num_negatives=64,
                  train_similarity='dot', test_similarity='dot', margin=5.0),
    'ccl': dict(negative_sampling='shared', num_negatives=256,
                train_similarity='cosine', test_similarity='cosine',
                margin=0.9, negative_weight=150.0),
    'mml': dict(negative_sampling='shared', num_negatives=256,
                train_similarity='cosine', test_similarity='cosine',
                margins=(0.6, 0.7, 0.8, 0.9), weights=(0.05, 0.15, 0.2, 0.6),
                negative_weight=350.0),
    'softmax': dict(negative_sampling='full', num_negatives=None,
                    train_similarity='dot', test_similarity='dot',
                    temperature=1.0),
}

# Loss class name -> loss name, to infer defaults from a loss module.
_CLASS_TO_NAME = {
    'BPRLoss': 'bpr',
    'BCELoss': 'bce',
    'SoftmaxLoss': 'softmax',
    'SampledSoftmaxLoss': 'ssm',
    'SimCELoss': 'simce',
    'CCLLoss': 'ccl',
    'MultiMarginLoss': 'mml',
}


def loss_defaults(name: str) -> Dict[str, Any]:
    r"""Returns a copy of the training defaults of the loss :obj:`name`
    (see the table above).

    Raises:
        ValueError: If :obj:`name` is not a known loss (lists the names).
    """
    key = str(name).lower()
    if key not in _DEFAULTS:
        raise ValueError(f"loss expected one of {', '.join(LOSS_NAMES)} "
                         f"(got '{name}')")
    return dict(_DEFAULTS[key])


def loss_name_of(loss: Any) -> str:
    r"""Returns the loss name of a loss module (*e.g.* :obj:`'simce'` for a
    :class:`~pyg_simce.nn.loss.SimCELoss`), or :obj:`'custom'` for a loss
    the library does not define."""
    for cls in type(loss).__mro__:
        if cls.__name__ in _CLASS_TO_NAME:
            return _CLASS_TO_NAME[cls.__name__]
    return 'custom'
