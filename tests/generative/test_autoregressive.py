"""MADE and gated PixelCNN: autoregressive masks checked by gradients, exact likelihoods, fast = naive sampling."""

import math

import pytest
import torch

from thoughtlab.errors import UserError
from thoughtlab.generative.models import autoregressive as ar


def randomise(model: torch.nn.Module, scale: float = 0.3) -> torch.nn.Module:
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn_like(p))
    return model


def input_gradients(model, x: torch.Tensor, outputs) -> torch.Tensor:
    """|∂ Σ outputs(model(x))[n] / ∂x| for every output position n: (positions, inputs)."""
    rows = []
    for n in range(x[0].numel()):
        x_ = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(outputs(model(x_), n), x_)
        rows.append(grad.abs().sum(0).flatten())
    return torch.stack(rows)


@pytest.mark.parametrize("mask", [0, 1, 2])
def test_made_output_never_depends_on_later_inputs(mask):
    model = ar.MADE(ar.MadeConfig(dim=12, hidden=(20, 20), masks=3))
    model.set_mask(mask)
    x = torch.rand(2, 12)
    grads = input_gradients(model, x, lambda out, n: out[:, n].sum())
    order = model.order
    later = order[None, :] >= order[:, None]  # input j is at or after output i in the ordering
    assert grads[later].max() == 0
    assert grads[~later].sum() > 0
    if mask == 0:
        assert torch.equal(order, torch.arange(12))
    else:
        assert not torch.equal(order, torch.arange(12))


def test_made_ensemble_likelihood_is_exact_on_a_tiny_space():
    """Σ_x p(x) = 1 over all 2^4 binary vectors, for one mask and for the mask ensemble."""
    model = randomise(ar.MADE(ar.MadeConfig(dim=4, hidden=(8,), masks=2)))
    grid = torch.tensor([[(k >> b) & 1 for b in range(4)] for k in range(16)], dtype=torch.float32)
    assert math.isclose(float(model.log_prob(grid).exp().sum().detach()), 1.0, rel_tol=1e-5)
    assert math.isclose(float(model.ensemble_log_prob(grid).exp().sum().detach()), 1.0, rel_tol=1e-5)
    assert model.mask_index == 0


def test_made_samples_follow_the_model():
    model = randomise(ar.MADE(ar.MadeConfig(dim=3, hidden=(8,), masks=1)))
    samples = model.sample(torch.rand(20000, 3, generator=torch.Generator().manual_seed(0)))
    grid = torch.tensor([[(k >> b) & 1 for b in range(3)] for k in range(8)], dtype=torch.float32)
    expected = model.log_prob(grid).exp()
    observed = torch.stack([(samples == g).all(1).float().mean() for g in grid])
    assert (observed - expected).abs().max() < 0.02


def small_pixelcnn(categories: int = 4, size: int = 6) -> ar.GatedPixelCNN:
    config = ar.PixelCNNConfig(size=size, categories=categories, channels=4, layers=3, first_kernel=5, kernel=3, head=8)
    return randomise(ar.GatedPixelCNN(config))


def test_pixelcnn_output_never_depends_on_current_or_later_pixels_and_has_no_blind_spot():
    model = small_pixelcnn(size=7)
    x = torch.randint(0, 4, (2, 1, 7, 7)).float()
    grads = input_gradients(lambda p: model(p), x,
                            lambda out, n: out[:, :, n // 7, n % 7].sum())
    positions = torch.arange(49)
    later = positions[None, :] >= positions[:, None]
    assert grads[later].max() == 0
    # no blind spot: pixel (3, 3) sees (2, 5), up and to the right, which the masked PixelCNN misses
    assert grads[3 * 7 + 3, 2 * 7 + 5] > 0
    assert grads[3 * 7 + 3, 3 * 7 + 2] > 0 and grads[3 * 7 + 3, 0] > 0


def test_pixelcnn_likelihood_sums_to_one_on_a_tiny_space():
    model = small_pixelcnn(categories=2, size=3)
    grid = torch.tensor([[(k >> b) & 1 for b in range(9)] for k in range(512)], dtype=torch.float32).view(512, 1, 3, 3)
    assert math.isclose(float(model.log_prob(grid).exp().sum().detach()), 1.0, rel_tol=1e-5)
    assert torch.allclose(model.bits_per_dim(grid), -model.log_prob(grid) / (9 * math.log(2)))


@pytest.mark.parametrize("categories, size", [(4, 6), (256, 5)])
def test_fast_sampling_gives_the_naive_samples(categories, size):
    model = small_pixelcnn(categories, size)
    noise = ar.gumbel_noise(3, model.config, torch.Generator().manual_seed(1))
    naive = ar.sample_naive(model, noise)
    assert torch.equal(ar.sample_fast(model, noise), naive)
    assert naive.std() > 0


def test_bad_sampling_noise_is_rejected():
    model = small_pixelcnn()
    with pytest.raises(UserError, match="gumbel_noise"):
        ar.sample_fast(model, torch.zeros(2, 5, 5, 4))
