"""AIS and BDMC: agreement with the closed-form marginal of a linear-Gaussian decoder, bounds that
sandwich it and tighten with more temperatures, a nonlinear sanity check, seeding and bad input."""

import math

import numpy as np
import pytest
import torch

from thoughtlab.errors import BadInput
from thoughtlab.metrics.ais import (
    ais_log_likelihood,
    bdmc,
    gaussian_log_likelihood,
    sigmoid_schedule,
)

LATENT, OBS, VARIANCE = 2, 4, 0.5
HMC = {"chains": 16, "leapfrog": 5, "step_size": 0.1}


def _linear_model(seed=0):
    """g(z) = W z + b and its exact marginal p(x) = N(b, W Wᵀ + σ² I) (float64)."""
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(OBS, LATENT, generator=generator, dtype=torch.float64)
    bias = torch.randn(OBS, generator=generator, dtype=torch.float64)
    marginal = torch.distributions.MultivariateNormal(bias, weight @ weight.T + VARIANCE * torch.eye(OBS).double())
    return (lambda z: z @ weight.T + bias), marginal


def _sample(marginal, n, seed=0):
    """n seeded draws from the exact marginal (MultivariateNormal.sample takes no generator)."""
    noise = torch.randn(n, OBS, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return marginal.loc + noise @ marginal.scale_tril.T


def _nonlinear_decoder(seed=0):
    """A fixed random two-layer tanh network from 2 latents to 6 outputs (float32)."""
    generator = torch.Generator().manual_seed(seed)
    w1, w2 = torch.randn(16, LATENT, generator=generator), torch.randn(6, 16, generator=generator) / 4
    return lambda z: torch.tanh(z @ w1.T) @ w2.T


def test_sigmoid_schedule_runs_from_zero_to_one_increasing_and_symmetric():
    betas = sigmoid_schedule(50)
    assert len(betas) == 51 and betas[0] == 0.0 and betas[-1] == 1.0
    assert np.all(np.diff(betas) > 0)
    np.testing.assert_allclose(betas + betas[::-1], 1.0, atol=1e-12)


def test_gaussian_log_likelihood_uses_the_variance():
    x, mean = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 0.0]])
    expected = torch.distributions.Normal(mean, math.sqrt(0.3)).log_prob(x).sum()
    assert float(gaussian_log_likelihood(x, mean, 0.3)) == pytest.approx(float(expected), rel=1e-6)


def test_ais_matches_the_exact_linear_gaussian_likelihood():
    decoder, marginal = _linear_model()
    x = _sample(marginal, 10)
    result = ais_log_likelihood(decoder, x, latent_dim=LATENT, obs_variance=VARIANCE, steps=300,
                                **{**HMC, "chains": 64})
    error = torch.tensor(result["per_example"]) - marginal.log_prob(x)
    assert float(error.abs().mean()) < 0.1
    assert -0.1 < float(error.mean()) < 0.05  # a lower bound in expectation: no systematic overestimate
    assert result["value"] == pytest.approx(float(np.mean(result["per_example"])))
    assert result["protocol"]["obs_variance"] == VARIANCE and result["protocol"]["steps"] == 300


def test_bdmc_sandwiches_the_exact_likelihood_and_the_gap_shrinks_with_steps():
    decoder, marginal = _linear_model(1)
    short = bdmc(decoder, LATENT, 20, obs_variance=VARIANCE, steps=10, dtype=torch.float64, **HMC)
    long = bdmc(decoder, LATENT, 20, obs_variance=VARIANCE, steps=300, dtype=torch.float64, **HMC)
    for result in (short, long):
        exact = float(marginal.log_prob(result["x"]).mean())
        assert result["lower"] <= exact + 0.05
        assert result["upper"] >= exact - 0.05
    assert long["gap"] < 0.5 * short["gap"]
    assert long["gap"] < 0.1


def test_bdmc_on_a_nonlinear_decoder_gives_ordered_bounds_that_tighten():
    decoder = _nonlinear_decoder()
    short = bdmc(decoder, LATENT, 16, obs_variance=0.05, steps=10, **HMC)
    long = bdmc(decoder, LATENT, 16, obs_variance=0.05, steps=200, **HMC)
    assert short["lower"] < short["upper"]
    gaps = np.asarray(long["gap_per_example"])
    assert long["gap"] > -3 * gaps.std(ddof=1) / math.sqrt(len(gaps))  # upper >= lower up to 3 standard errors
    assert long["gap"] < 0.5 * short["gap"]
    assert long["x"].shape == (16, 6) and long["z"].shape == (16, LATENT)


def test_same_seed_is_bit_for_bit_and_another_seed_differs():
    decoder, marginal = _linear_model()
    x = _sample(marginal, 4).float()
    decoder_32 = lambda z: decoder(z.double()).float()
    run = lambda seed: ais_log_likelihood(decoder_32, x, latent_dim=LATENT, obs_variance=VARIANCE,
                                          steps=15, seed=seed, **HMC)
    assert run(3)["per_example"] == run(3)["per_example"]
    assert run(3)["per_example"] != run(4)["per_example"]
    first = bdmc(_nonlinear_decoder(), LATENT, 3, obs_variance=0.1, steps=5, seed=7, **HMC)
    second = bdmc(_nonlinear_decoder(), LATENT, 3, obs_variance=0.1, steps=5, seed=7, **HMC)
    assert first["lower_per_example"] == second["lower_per_example"]
    assert first["upper_per_example"] == second["upper_per_example"]
    assert torch.equal(first["x"], second["x"])


def test_one_chain_and_numpy_input_work():
    decoder, marginal = _linear_model()
    x = _sample(marginal, 3).numpy()
    result = ais_log_likelihood(decoder, x, latent_dim=LATENT, obs_variance=VARIANCE, steps=5, chains=1, leapfrog=2)
    assert len(result["per_example"]) == 3 and all(math.isfinite(v) for v in result["per_example"])
    assert result["diagnostics"]["log_weight_std_over_chains"] == 0.0


@pytest.mark.parametrize("change, message", [
    ({"x": torch.tensor([[0.0, float("nan"), 0.0, 0.0]])}, "NaN"),
    ({"x": torch.zeros(4)}, "shape"),
    ({"x": torch.zeros((2, 4), dtype=torch.uint8)}, "dtype"),
    ({"x": torch.zeros((2, 5), dtype=torch.float64)}, "decoder output has shape"),
    ({"obs_variance": 0.0}, "obs_variance"),
    ({"obs_variance": -1.0}, "obs_variance"),
    ({"latent_dim": 0}, "latent_dim"),
    ({"steps": 0}, "steps"),
    ({"chains": 1.5}, "chains"),
    ({"target_acceptance": 1.0}, "target_acceptance"),
])
def test_bad_input_raises_one_clear_error(change, message):
    decoder, _ = _linear_model()
    kwargs = {"x": torch.zeros((2, OBS), dtype=torch.float64), "latent_dim": LATENT, "obs_variance": VARIANCE,
              "steps": 2, **change}
    x = kwargs.pop("x")
    with pytest.raises(BadInput, match=message):
        ais_log_likelihood(decoder, x, **kwargs)


def test_bdmc_rejects_a_decoder_with_the_wrong_batch_size_and_a_non_differentiable_decoder():
    with pytest.raises(BadInput, match="decoder output"):
        bdmc(lambda z: torch.zeros(1, 3), LATENT, 4, obs_variance=0.1, steps=2)
    with pytest.raises(BadInput, match="differentiabl"):
        ais_log_likelihood(lambda z: torch.zeros(len(z), 3), torch.zeros(2, 3), latent_dim=LATENT,
                           obs_variance=0.1, steps=2)
    with pytest.raises(BadInput, match="NaN or Inf log-likelihood"):
        ais_log_likelihood(lambda z: z.sum(1, keepdim=True) / 0.0, torch.zeros(2, 1), latent_dim=LATENT,
                           obs_variance=0.1, steps=2)
    with pytest.raises(BadInput, match="callable"):
        bdmc("decoder", LATENT, 4, obs_variance=0.1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda_and_agrees_with_the_exact_likelihood():
    decoder, marginal = _linear_model()
    x = _sample(marginal, 10)
    cuda_decoder = lambda z: decoder(z.cpu()).to(z.device)
    result = ais_log_likelihood(cuda_decoder, x.cuda(), latent_dim=LATENT, obs_variance=VARIANCE, steps=300,
                                **{**HMC, "chains": 64})
    error = torch.tensor(result["per_example"]) - marginal.log_prob(x)
    assert float(error.abs().mean()) < 0.1
