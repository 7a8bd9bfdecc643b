import pyg_simce.nn as nn
import pyg_simce.nn.loss as loss


def test_every_loss_export_is_reexported_from_nn():
    missing = [name for name in loss.__all__ if name not in nn.__all__]
    assert missing == []
    for name in loss.__all__:
        assert getattr(nn, name) is getattr(loss, name)


def test_public_api_one_liner():
    from pyg_simce.nn import LightGCN, SimCELoss
    model = LightGCN(3, 4, embedding_dim=8, num_layers=1)
    assert model.user_embedding.weight.shape == (3, 8)
    assert SimCELoss().margin == 5.0
