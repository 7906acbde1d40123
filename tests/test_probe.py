"""Probe: known answers for dead units, effective rank and gradient norms."""

import math

import pytest
import torch
from torch import nn

from thoughtlab.errors import BadInput, UnknownName, UserError
from thoughtlab.probe import LayerStats, Probe, effective_rank, weight_grad_norms


def net_with_dead_units(k: int, width: int = 6) -> nn.Sequential:
    """Linear(2, width) + ReLU where units 0..k-1 have weight 0 and bias -1 (always off)."""
    model = nn.Sequential(nn.Linear(2, width), nn.ReLU(), nn.Linear(width, 3))
    with torch.no_grad():
        first = model[0]
        first.weight.copy_(torch.randn(width, 2, generator=torch.Generator().manual_seed(0)))
        first.bias.fill_(0.0)
        first.weight[:k] = 0.0
        first.bias[:k] = -1.0
    return model


def test_exactly_k_dead_units():
    model = net_with_dead_units(k=2)
    x = torch.randn(200, 2, generator=torch.Generator().manual_seed(1))
    with Probe(model) as probe:
        stats = probe.measure(x)
    assert list(stats) == ["1"]
    assert stats["1"].units == 6
    assert stats["1"].dead_fraction == pytest.approx(2 / 6)
    assert stats["1"].grad_norm is None


def test_pre_activation_layer_counts_non_positive_as_off():
    model = net_with_dead_units(k=3)
    x = torch.randn(100, 2, generator=torch.Generator().manual_seed(2))
    with Probe(model, ["0"]) as probe:
        assert probe.measure(x)["0"].dead_fraction == pytest.approx(3 / 6)


def test_conv_unit_is_a_channel():
    conv = nn.Conv2d(1, 4, 3, padding=1)
    with torch.no_grad():
        conv.weight[0] = 0.0
        conv.bias[0] = -0.5  # channel 0 off everywhere
        conv.weight[1] = 0.0
        conv.bias[1] = 0.0  # channel 1 exactly zero: dead too
    model = nn.Sequential(conv, nn.ReLU())
    x = torch.randn(8, 1, 5, 5, generator=torch.Generator().manual_seed(3))
    with Probe(model) as probe:
        stats = probe.measure(x, batch_size=3)
    assert stats["1"].units == 4
    assert stats["1"].dead_fraction == pytest.approx(0.5)
    assert 1.0 <= stats["1"].effective_rank <= 2.0


def test_effective_rank_isotropic_gaussian_and_rank_one():
    gen = torch.Generator().manual_seed(4)
    d = 10
    assert effective_rank(torch.randn(20000, d, generator=gen)) == pytest.approx(d, rel=0.01)
    rank_one = torch.outer(torch.randn(50, generator=gen), torch.randn(7, generator=gen))
    assert effective_rank(rank_one) == pytest.approx(1.0, abs=1e-6)
    assert effective_rank(torch.ones(5, 3)) == 0.0


def test_streamed_rank_matches_direct_svd():
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(300, 8, generator=gen) @ torch.randn(8, 8, generator=gen)
    model = nn.Sequential(nn.Identity())
    with Probe(model, [nn.Identity]) as probe:
        streamed = probe.measure(x, batch_size=70)["0"].effective_rank
    assert streamed == pytest.approx(effective_rank(x), rel=1e-6)


def test_gradient_norm_matches_hand_computation():
    """loss = mean_n sum_j out_nj, out = W2 relu(h): dL/d relu_n = W2.sum(0) / N for every n."""
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2, bias=False))
    x = torch.randn(10, 3, generator=torch.Generator().manual_seed(6))
    y = torch.zeros(10)

    def loss_fn(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return out.sum(dim=1).mean()

    per_sample = model[2].weight.detach().sum(0) / len(x)
    expected = math.sqrt(len(x)) * float(per_sample.norm())
    with Probe(model) as probe:
        whole = probe.measure(x, y, loss_fn=loss_fn)["1"].grad_norm
        batched = probe.measure(x, y, loss_fn=loss_fn, batch_size=4)["1"].grad_norm
    assert whole == pytest.approx(expected, rel=1e-5)
    assert batched == pytest.approx(expected, rel=1e-5)
    assert all(p.grad is None for p in model.parameters())


def test_weight_grad_norms_hand_computation():
    model = nn.Sequential(nn.Linear(3, 1, bias=False))
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(7))
    model(x).sum().backward()  # dL/dW = sum_n x_n
    assert weight_grad_norms(model)["0"] == pytest.approx(float(x.sum(0).norm()), rel=1e-6)


def test_hooks_removed_on_exit_and_mode_restored():
    model = net_with_dead_units(k=1)
    model.train()
    with Probe(model) as probe:
        assert len(model[1]._forward_hooks) == 1
        probe.measure(torch.randn(4, 2))
        assert model.training
    assert len(model[1]._forward_hooks) == 0
    with pytest.raises(UserError, match="outside its context"):
        probe.measure(torch.randn(4, 2))


def test_measure_keeps_rng_state():
    model = net_with_dead_units(k=1)
    state = torch.get_rng_state()
    with Probe(model) as probe:
        probe.measure(torch.ones(4, 2), torch.zeros(4, dtype=torch.long))
    assert torch.equal(state, torch.get_rng_state())


def test_shared_module_reports_each_call():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.act(self.lin(self.act(x)))

    with Probe(Twice()) as probe:
        assert list(probe.measure(torch.randn(6, 2))) == ["act", "act#2"]


def test_errors_for_unknown_names_and_no_layers():
    model = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(UnknownName, match="unknown layer 'nope'"):
        Probe(model, ["nope"])
    with pytest.raises(BadInput):
        Probe(model, [3])
    with Probe(model) as probe, pytest.raises(UserError, match="no hooked layer"):
        probe.measure(torch.randn(3, 2))


def test_layer_stats_is_plain_data():
    stats = LayerStats(0.5, 2.0, 4)
    assert stats.grad_norm is None and stats.units == 4
