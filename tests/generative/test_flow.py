"""RealNVP: exact inverse, log-determinant against autograd, bits/dim of a known case, input errors."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

from thoughtlab.errors import UserError
from thoughtlab.generative.models import flow as fl


def randomised(config: fl.FlowConfig, seed: int = 0, scale: float = 0.3) -> fl.RealNVP:
    """A flow whose zero-initialised output layers are perturbed, so it is far from the identity."""
    torch.manual_seed(seed)
    model = fl.RealNVP(config).double()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn_like(p))
    return model


@pytest.mark.parametrize("config", [fl.FlowConfig(shape=(1, 28, 28), levels=3, hidden=8),
                                    fl.FlowConfig(shape=(2,), couplings=4, hidden=16)])
def test_inverse_recovers_input(config):
    model = randomised(config, scale=0.05)
    v = torch.randn(4, *config.shape, dtype=torch.float64)
    z, _ = model(v)
    assert z.shape == (4, math.prod(config.shape))
    assert (v - model.inverse(z)).abs().max() < 1e-5
    assert (z - v.flatten(1)).abs().max() > 1e-2  # not the identity


def test_inverse_recovers_input_float32_at_28x28():
    model = fl.RealNVP(fl.FlowConfig(levels=2, hidden=8))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    v = torch.randn(3, 1, 28, 28)
    assert (model.inverse(model(v)[0]) - v).abs().max() < 1e-5


@pytest.mark.parametrize("config", [fl.FlowConfig(shape=(1, 4, 4), levels=2, hidden=4),
                                    fl.FlowConfig(shape=(2, 4, 4), levels=3, hidden=4),
                                    fl.FlowConfig(shape=(2,), couplings=3, hidden=8)])
def test_log_det_matches_autograd_jacobian(config):
    model = randomised(config, seed=1)
    v = torch.randn(*config.shape, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda x: model(x.unsqueeze(0))[0][0], v)
    expected = torch.linalg.slogdet(jac.reshape(v.numel(), v.numel()))[1]
    assert torch.allclose(model(v.unsqueeze(0))[1][0], expected, atol=1e-8)


def test_logit_transform_log_det_matches_autograd():
    y = torch.rand(6, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda t: fl.logit_transform(t.unsqueeze(0), 0.05)[0][0], y)
    assert torch.allclose(fl.logit_transform(y.unsqueeze(0), 0.05)[1][0], torch.logdet(jac))
    row = y.unsqueeze(0)
    assert torch.allclose(fl.inverse_logit(fl.logit_transform(row, 0.05)[0], 0.05), row)


def test_bits_per_dim_of_the_identity_flow_matches_closed_form():
    """At initialisation every coupling is the identity, so z = logit(α + (1−2α)y) exactly."""
    model = fl.RealNVP(fl.FlowConfig(shape=(1, 4, 4), levels=2, hidden=4, alpha=0.05))
    pixels = torch.randint(0, 256, (3, 1, 4, 4)).float()
    bpd = fl.bits_per_dim(model, pixels, torch.Generator().manual_seed(7)).detach().numpy()
    u = torch.rand(pixels.shape, generator=torch.Generator().manual_seed(7)).numpy()
    y = (pixels.numpy() + u) / 256.0
    s = 0.05 + 0.9 * y
    v = np.log(s / (1 - s))
    log_p = (norm.logpdf(v) + np.log(0.9) - np.log(s * (1 - s))).reshape(3, -1).sum(1)
    expected = (-log_p + 16 * np.log(256)) / (16 * np.log(2))
    np.testing.assert_allclose(bpd, expected, rtol=1e-5)


def test_sampling_gives_images_in_unit_interval():
    model = fl.RealNVP(fl.FlowConfig(levels=2, hidden=4))
    images = fl.sample_images(model, 5, torch.Generator().manual_seed(0))
    assert images.shape == (5, 1, 28, 28) and images.min() >= 0 and images.max() <= 1


def test_squeeze_is_inverted():
    x = torch.randn(2, 3, 6, 4)
    assert torch.equal(fl.unsqueeze(fl.squeeze(x)), x)
    assert fl.squeeze(x).shape == (2, 12, 3, 2)


@pytest.mark.parametrize("call, message", [
    (lambda: fl.RealNVP(fl.FlowConfig(shape=(1, 28, 28), levels=4)), "divisible"),
    (lambda: fl.dequantize(torch.full((1, 4), 0.5)), "integer pixel values"),
    (lambda: fl.dequantize(torch.full((1, 4), 300.0)), "integer pixel values"),
])
def test_bad_input(call, message):
    with pytest.raises(UserError, match=message):
        call()
