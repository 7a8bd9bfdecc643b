r"""Per-loss training defaults, the one source shared by
:class:`~pyg_simce.train.Trainer`, the command line (whose help is generated
from it), the benchmark configs and the documentation.

Each loss of the SimCE / SSM papers comes with the negative-sampling scheme
and similarity it was designed for.  When a user does not override them,
these are used (the table is generated from ``_DEFAULTS``):

{table}
"""
from typing import Any, Dict, Optional, Tuple

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


_NEGATIVE_WORDS = {
    'uniform': '{n} uniform negative(s) per positive, excluding the user\'s '
               'training items',
    'popularity': '{n} negative(s) per positive drawn by popularity, '
                  'excluding training items',
    'shared': '{n} negatives excluding training items, from a per-batch '
              'shared pool',
    'in-batch': 'in-batch (the other positives of the batch)',
    'full': 'the full catalogue',
}

_HPARAM_WORDS = {
    'temperature': 'temperature {}',
    'margin': 'margin {}',
    'negative_weight': 'negative weight {}',
    'margins': 'margins {}',
    'weights': 'weights {}',
}

#: The options :func:`resolve_options` fills in from the loss's defaults.
RESOLVED_OPTIONS: Tuple[str, ...] = ('negative_sampling', 'num_negatives',
                                     'train_similarity', 'test_similarity')


def describe_negatives(negative_sampling: str,
                       num_negatives: Optional[int]) -> str:
    r"""A sentence naming a negative-sampling choice, as in the table
    above."""
    return _NEGATIVE_WORDS[negative_sampling].format(n=num_negatives)


def describe_hparams(name: str) -> str:
    r"""The loss hyper-parameter defaults of :obj:`name` in words, *e.g.*
    :obj:`'margin 5.0'`."""
    d = _DEFAULTS[name]
    return ', '.join(_HPARAM_WORDS[k].format(tuple(d[k]) if isinstance(
        d[k], (list, tuple)) else d[k]) for k in _HPARAM_WORDS if k in d)


def resolve_options(loss_name: str, **given: Any) -> Dict[str, Any]:
    r"""Returns :obj:`negative_sampling`, :obj:`num_negatives`,
    :obj:`train_similarity` and :obj:`test_similarity` for the loss
    :obj:`loss_name` (:obj:`'custom'` takes BPR's), each from :obj:`given`
    unless it is absent or :obj:`None`, else from the loss's defaults.

    The one resolution rule of the Trainer, the command line and the
    benchmark configs."""
    defaults = loss_defaults('bpr' if loss_name == 'custom' else loss_name)
    return {
        key: (given[key] if given.get(key) is not None else defaults[key])
        for key in RESOLVED_OPTIONS
    }


def _table() -> str:
    rows = ['.. list-table::', '   :header-rows: 1', '',
            '   * - loss', '     - negatives',
            '     - train / test similarity', '     - loss hyper-parameters']
    for name in LOSS_NAMES:
        d = _DEFAULTS[name]
        negatives = describe_negatives(d['negative_sampling'],
                                       d['num_negatives'])
        rows += [f'   * - ``{name}``', f'     - {negatives}',
                 f"     - {d['train_similarity']} / {d['test_similarity']}",
                 f'     - {describe_hparams(name)}'.rstrip()]
    return '\n'.join(rows)


__doc__ = __doc__.format(table=_table())
