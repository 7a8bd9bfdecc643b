r"""Regularisers, kept separate from the ranking losses."""
import math

from torch import Tensor

CONVENTIONS = ('lightgcn', 'ssm')


def l2_regularization(*tensors: Tensor, batch_size: int, weight: float,
                      convention: str = 'lightgcn') -> Tensor:
    r"""L2 penalty on the batch's layer-0 (ego) embeddings, e.g. the rows of
    :obj:`model.user_embedding.weight` / :obj:`model.item_embedding.weight`
    of the batch users, positive and negative items (not the propagated
    embeddings).

    * :obj:`"lightgcn"` (default), the convention of `LightGCN
      <https://arxiv.org/abs/2002.02126>`_, used together with a loss
      averaged over the batch (:obj:`reduction="mean"`):

      .. math::
          \mathcal{R} = \lambda \frac{1}{2B} \sum_{\mathbf{e} \in
          \text{tensors}} \|\mathbf{e}^{(0)}\|_2^2.

    * :obj:`"ssm"`, an **option** for code bases that *sum* the loss over
      the batch, as the official in-batch sampled softmax loss does
      (`"On the Effectiveness of Sampled Softmax Loss for Item
      Recommendation" <https://arxiv.org/abs/2201.02327>`_, which otherwise
      adds "the L2 regularization term as in LightGCN"): the TensorFlow
      :obj:`tf.nn.l2_loss` form without the division by the batch size,

      .. math::
          \mathcal{R} = \lambda \frac{1}{2} \sum_{\mathbf{e} \in
          \text{tensors}} \|\mathbf{e}^{(0)}\|_2^2.

      Paired with :obj:`reduction="sum"`, the objective is exactly
      :math:`B` times the :obj:`"lightgcn"` objective with
      :obj:`reduction="mean"`, so the same :math:`\lambda` means the same
      trade-off in both conventions.  :obj:`batch_size` is validated but
      does not enter the value.

    Args:
        *tensors (torch.Tensor): Embedding rows of the batch, any shapes.
        batch_size (int): Batch size :math:`B > 0` (number of positives).
        weight (float): Coefficient :math:`\lambda \geq 0`.
        convention (str, optional): :obj:`"lightgcn"` or :obj:`"ssm"`.
            (default: :obj:`"lightgcn"`)

    :rtype: scalar :class:`torch.Tensor`
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"Expected 'convention' to be one of {CONVENTIONS} "
                         f"(got {convention!r})")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise ValueError(f"Expected 'batch_size' to be an int (got "
                         f"{batch_size!r})")
    if batch_size <= 0:
        raise ValueError(f"Expected 'batch_size' to be positive (got "
                         f"{batch_size})")
    if (isinstance(weight, bool) or not isinstance(weight, (int, float))
            or not math.isfinite(weight) or weight < 0):
        raise ValueError(f"Expected 'weight' to be a finite non-negative "
                         f"number (got {weight!r})")
    if len(tensors) == 0:
        raise ValueError("Expected at least one embedding tensor (got none)")
    total = None
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor) or not t.is_floating_point():
            raise ValueError(f"Expected 'tensors[{k}]' to be a floating-point "
                             f"tensor (got {t!r:.60})")
        sq = t.pow(2).sum()
        total = sq if total is None else total + sq.to(total.device)
    assert total is not None
    if convention == 'lightgcn':
        return weight * total / (2.0 * batch_size)
    return weight * total / 2.0


__all__ = ['l2_regularization']
