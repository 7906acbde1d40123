"""The continuous 2-D autoregressive model: a normalised exact density, autoregressive, learns a known Gaussian."""

import math

import pytest
import torch

from thoughtlab.errors import BadInput
from thoughtlab.generative.models import recipes as rc
from thoughtlab.generative.models.mixture_autoregressive import MixtureAR, MixtureARConfig
from thoughtlab.train.core import TrainState, train

COV = torch.tensor([[1.0, 0.8], [0.8, 1.0]])


def grid_mass(model: MixtureAR, half_width: float = 8.0, n: int = 500) -> float:
    """∫∫ p(x) dx over [−w, w]² by the midpoint rule."""
    h = 2 * half_width / n
    centres = -half_width + h * (torch.arange(n, dtype=torch.float64) + 0.5)
    xx, yy = torch.meshgrid(centres, centres, indexing="ij")
    with torch.no_grad():
        lp = model.double().log_prob(torch.stack([xx.flatten(), yy.flatten()], 1))
    model.float()
    return float(lp.exp().sum() * h * h)


def gaussian_points(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=g) @ torch.linalg.cholesky(COV).T


def trained(steps: int = 400) -> MixtureAR:
    torch.manual_seed(0)
    model = MixtureAR(MixtureARConfig(dim=2, components=4, hidden=32))
    state = TrainState({}, models={"density": model}, optimizers={"density": torch.optim.Adam(model.parameters(), 1e-2)})
    recipe = rc.PointsML(gaussian_points(4000, seed=1), 200, seed=0)
    state.objects["order"] = recipe.order
    train(recipe, state, steps, progress=False)
    return model.eval()


@pytest.fixture(scope="module")
def learned() -> MixtureAR:
    return trained()


@pytest.mark.parametrize("seed", [0, 1])
def test_random_density_mass_on_a_grid_matches_its_samples_inside_it(seed):
    """A heavy-tailed random density puts ~1-2 % of its mass outside [−8, 8]²: the grid integral must equal the
    fraction of its own samples that land inside (20,000 samples: standard error ≤ 0.0011)."""
    torch.manual_seed(seed)
    model = MixtureAR(MixtureARConfig(dim=2, components=3, hidden=8))
    with torch.no_grad():  # a sharper, shifted random density than the default init
        for p in model.parameters():
            p.add_(0.5 * torch.randn_like(p))
    inside = (model.sample(20000, torch.Generator().manual_seed(seed)).abs() <= 8.0).all(1).float().mean().item()
    assert inside < 0.999 and abs(grid_mass(model) - inside) < 0.005


def test_trained_density_integrates_to_one(learned):
    assert math.isclose(grid_mass(learned), 1.0, abs_tol=1e-3)


def test_learns_the_log_likelihood_of_a_known_gaussian(learned):
    """Mean test log-likelihood within 0.05 nats of the truth E[log N(x; 0, Σ)] = −½ log det(2πeΣ)."""
    test = gaussian_points(20000, seed=2)
    exact = -0.5 * math.log(torch.linalg.det(2 * math.pi * math.e * COV).item())
    with torch.no_grad():
        ours = learned.log_prob(test).mean().item()
    assert abs(ours - exact) < 0.05


def test_samples_follow_the_learned_gaussian(learned):
    x = learned.sample(20000, torch.Generator().manual_seed(3))
    assert torch.allclose(torch.cov(x.T), COV, atol=0.08) and x.mean(0).abs().max() < 0.05


def test_first_coordinate_ignores_the_second_and_sampling_is_reproducible(learned):
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(4)).requires_grad_(True)
    log_pi, mu, log_sigma = learned.conditional(x, 0)
    grads = torch.autograd.grad((log_pi.sum() + mu.sum() + log_sigma.sum()), x, allow_unused=True)[0]
    assert grads is None or torch.count_nonzero(grads) == 0
    _, mu1, _ = learned.conditional(x, 1)
    assert torch.autograd.grad(mu1.sum(), x)[0][:, 1].abs().max() == 0  # x_2's mixture sees only x_1
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(learned.sample(10, g1), learned.sample(10, g2))


@pytest.mark.parametrize("make, message", [
    (lambda: MixtureAR(MixtureARConfig(dim=0)), "dim"),
    (lambda: MixtureAR(MixtureARConfig(dim=2)).log_prob(torch.zeros(3, 3)), "shape"),
    (lambda: MixtureAR(MixtureARConfig(dim=2)).log_prob(torch.zeros(3)), "shape"),
])
def test_bad_input(make, message):
    with pytest.raises(BadInput, match=message):
        make()
