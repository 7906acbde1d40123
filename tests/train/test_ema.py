import pytest
import torch
from torch import nn

from thoughtlab.train import EMA


def test_ema_matches_hand_computation_and_copies_buffers():
    model = nn.Sequential(nn.Linear(2, 1), nn.BatchNorm1d(1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 2.0]]))
    ema = EMA(model, decay=0.5)
    assert not ema.module.training and not any(p.requires_grad for p in ema.module.parameters())
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[3.0, 6.0]]))
        model[1].running_mean.fill_(7.0)
    ema.update(model)  # 0.5 * [1, 2] + 0.5 * [3, 6]
    assert torch.equal(ema.module[0].weight, torch.tensor([[2.0, 4.0]]))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.0, 0.0]]))
    ema.update(model)  # 0.5 * [2, 4] + 0.5 * [0, 0]
    assert torch.equal(ema.module[0].weight, torch.tensor([[1.0, 2.0]]))
    assert torch.equal(ema.module[1].running_mean, torch.tensor([7.0]))
    assert ema.updates == 2
    assert model[0].weight.sum().item() == 0.0  # the live model is untouched


def test_ema_general_decay_and_state_dict_round_trip():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    start = model.weight.detach().clone()
    ema = EMA(model, decay=0.9)
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)
    torch.testing.assert_close(ema.module.weight, 0.9 * start + 0.1 * (start + 1.0))
    other = EMA(nn.Linear(3, 2), decay=0.1)
    other.load_state_dict(ema.state_dict())
    assert other.decay == 0.9 and other.updates == 1
    assert torch.equal(other.module.weight, ema.module.weight)


def test_bad_decay():
    with pytest.raises(ValueError):
        EMA(nn.Linear(1, 1), decay=1.0)
