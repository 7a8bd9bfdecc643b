import pytest

from pyg_simce.nn.loss import (
    BCELoss,
    BPRLoss,
    CCLLoss,
    MultiMarginLoss,
    SampledSoftmaxLoss,
    SimCELoss,
    SoftmaxLoss,
    loss_resolver,
)


@pytest.mark.parametrize('name,cls', [
    ('bpr', BPRLoss), ('bce', BCELoss), ('softmax', SoftmaxLoss),
    ('ssm', SampledSoftmaxLoss), ('sampled_softmax', SampledSoftmaxLoss),
    ('simce', SimCELoss), ('ccl', CCLLoss), ('mml', MultiMarginLoss),
    ('multi_margin', MultiMarginLoss), ('SimCE', SimCELoss),
    ('sampled-softmax', SampledSoftmaxLoss), ('SimCELoss', SimCELoss),
    ('bpr_loss', BPRLoss), ('MultiMarginLoss', MultiMarginLoss),
])
def test_names_and_aliases(name, cls):
    assert type(loss_resolver(name)) is cls


def test_keyword_arguments_are_forwarded():
    loss = loss_resolver('simce', margin=1.0, bound='softplus',
                         reduction='sum')
    assert (loss.margin, loss.bound, loss.reduction) == (1.0, 'softplus',
                                                         'sum')
    assert loss_resolver('ssm', temperature=0.12).temperature == 0.12
    existing = CCLLoss()
    assert loss_resolver(existing) is existing


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="'name'.*'bpr'.*'simce'"):
        loss_resolver('hinge')


def test_unknown_keyword_is_named_with_accepted_ones():
    with pytest.raises(ValueError, match=r"\['temprature'\].*temperature"):
        loss_resolver('ssm', temprature=0.1)
    with pytest.raises(ValueError, match="'temperature'"):
        loss_resolver('ssm', temperature=0.0)
