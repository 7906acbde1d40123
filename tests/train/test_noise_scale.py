"""Gradient noise scale: closed form on linear regression, agreement with a backward loop, bad inputs."""

import math

import pytest
import torch
from torch import nn

from thoughtlab.errors import BadInput
from thoughtlab.train.noise_scale import NoiseScale, noise_scale, noise_scale_from_grads, per_example_grads


def squared_error(forward, x, y):
    return 0.5 * (forward(x).squeeze() - y.squeeze()) ** 2


def regression(n: int, d: int, delta: torch.Tensor, sigma: float, seed: int):
    """y = w*·x + σ ε with x ~ N(0, I); the model sits at w = w* + δ."""
    gen = torch.Generator().manual_seed(seed)
    w_star = torch.randn(d, generator=gen, dtype=torch.float64)
    x = torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = x @ w_star + sigma * torch.randn(n, generator=gen, dtype=torch.float64)
    model = nn.Linear(d, 1, bias=False).double()
    with torch.no_grad():
        model.weight.copy_((w_star + delta)[None])
    return model, x, y


def test_linear_regression_matches_closed_form():
    # g = (x·δ − σε) x, so G = δ and Σ = (|δ|² + σ²) I + δδᵀ (Isserlis): tr Σ = d(|δ|² + σ²) + |δ|².
    d, sigma = 4, 0.5
    delta = torch.tensor([0.3, -0.2, 0.1, 0.4], dtype=torch.float64)
    model, x, y = regression(40_000, d, delta, sigma, seed=0)
    ns = noise_scale(model, squared_error, x, y)
    dd = float(delta @ delta)
    exact_trace = d * (dd + sigma**2) + dd
    assert ns.trace_cov == pytest.approx(exact_trace, rel=0.03)
    assert ns.grad_sq == pytest.approx(dd, rel=0.08)
    assert ns.b_simple == pytest.approx(exact_trace / dd, rel=0.1)


def test_noise_scale_grows_as_the_model_approaches_the_optimum():
    far, x, y = regression(5000, 4, torch.full((4,), 1.0, dtype=torch.float64), 0.5, seed=1)
    near, _, _ = regression(5000, 4, torch.full((4,), 0.05, dtype=torch.float64), 0.5, seed=1)
    assert noise_scale(near, squared_error, x, y).b_simple > 10 * noise_scale(far, squared_error, x, y).b_simple


def test_per_example_grads_equal_a_loop_of_backward_passes():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    x, y = torch.randn(6, 3), torch.randn(6)
    grads = per_example_grads(model, squared_error, x, y)
    for i in range(6):
        model.zero_grad()
        squared_error(model, x[i:i + 1], y[i:i + 1]).backward()
        for name, p in model.named_parameters():
            torch.testing.assert_close(grads[name][i], p.grad)
    assert all(p.grad is not None for p in model.parameters())  # the loop's grads, untouched by the vmap path


def test_params_restricts_the_gradient_and_frozen_weights_still_act():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    x, y = torch.randn(5, 3), torch.randn(5)
    only = per_example_grads(model, squared_error, x, y, params=["2.weight"])
    full = per_example_grads(model, squared_error, x, y)
    assert list(only) == ["2.weight"]
    torch.testing.assert_close(only["2.weight"], full["2.weight"])


def test_two_input_loss_for_a_discriminator_pair():
    torch.manual_seed(0)
    d = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    loss = lambda f, r, z: nn.functional.softplus(-f(r)).sum() + nn.functional.softplus(f(z)).sum()  # noqa: E731
    ns = noise_scale(d, loss, real, fake)
    assert ns.batch == 16 and ns.trace_cov > 0 and math.isfinite(ns.grad_sq)


def test_unbiased_terms_from_known_rows():
    rows = torch.tensor([[1.0, 0.0], [3.0, 0.0], [2.0, 3.0], [2.0, -3.0]], dtype=torch.float64)
    ns = noise_scale_from_grads(rows)
    # mean (2, 0); squared deviations 1 + 1 + 9 + 9 = 20 -> tr Σ = 20/3; |G|² = 4 − (20/3)/4
    assert ns.trace_cov == pytest.approx(20 / 3)
    assert ns.grad_sq == pytest.approx(4 - 5 / 3)
    assert ns.b_simple == pytest.approx((20 / 3) / (4 - 5 / 3))


def test_no_measurable_signal_gives_infinite_noise_scale():
    assert NoiseScale(trace_cov=1.0, grad_sq=-0.1, batch=8).b_simple == math.inf
    assert NoiseScale(trace_cov=1.0, grad_sq=0.0, batch=8).b_simple == math.inf


@pytest.mark.parametrize(
    "model, batch, params, message",
    [
        (nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4)), (torch.randn(4, 2), torch.randn(4)), None, "batch norm"),
        (nn.Linear(2, 1), (torch.randn(4, 2), torch.randn(3)), None, "common batch size"),
        (nn.Linear(2, 1), (torch.randn(1, 2), torch.randn(1)), None, "at least 2 examples"),
        (nn.Linear(2, 1), (torch.randn(4, 2), torch.randn(4)), ["nope"], "not trainable parameters"),
    ],
)
def test_bad_inputs(model, batch, params, message):
    with pytest.raises(BadInput, match=message):
        noise_scale(model, squared_error, *batch, params=params)
