"""Parity with torchmetrics 1.9.0 (FID, KID) on the same feature arrays.

No Inception weights are available offline, so both libraries get features directly:
torchmetrics accepts any ``nn.Module`` as ``feature=``; an identity module with a
``num_features`` attribute (so torchmetrics does not probe it with a dummy image) turns
``update(features, real)`` into "these rows are the extractor's output".

torchmetrics keeps float64 running sums Σx, Σxxᵀ and takes Σ = (Σxxᵀ − nμμᵀ)/(n−1), then
tr(Σ₁Σ₂)^{1/2} = Σ √eigvals(Σ₁Σ₂) (non-symmetric, complex).  KID there draws subsets with
the global torch RNG, so the subsets cannot be matched to ours; one subset of all n rows is
a permutation of the whole set, for which the estimator (cross diagonal kept, like ours)
does not depend on the draw.
"""

import numpy as np
import pytest
import torch

from thoughtlab.metrics import compute_fid, compute_kid, feature_stats

torchmetrics_fid = pytest.importorskip("torchmetrics.image.fid")
torchmetrics_kid = pytest.importorskip("torchmetrics.image.kid")


class GivenFeatures(torch.nn.Module):
    """Identity 'feature extractor': torchmetrics' input rows are taken as the features themselves."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _relu_features(n, d, seed, shift=0.0):
    """Non-negative correlated float32 features with mean > std (Inception-pool-like)."""
    fixed = np.random.default_rng(11)
    w, b = fixed.standard_normal((16, d)) / 4.0, 0.5 + 0.3 * fixed.standard_normal(d)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 16)) + shift
    return np.maximum(z @ w + b + 0.5 * rng.standard_normal((n, d)), 0).astype(np.float32)


def _torchmetrics_fid(real, fake, batch=700):
    metric = torchmetrics_fid.FrechetInceptionDistance(feature=GivenFeatures(real.shape[1]))
    for start in range(0, len(real), batch):  # several updates, as with image batches
        metric.update(torch.from_numpy(real[start:start + batch]).double(), real=True)
    for start in range(0, len(fake), batch):
        metric.update(torch.from_numpy(fake[start:start + batch]).double(), real=False)
    value = metric.compute()
    assert value.dtype == torch.float64
    return float(value)


@pytest.mark.parametrize("shift", [0.05, 1.0])  # close sets (FID ≈ tr Σ / 120), then far apart
def test_fid_matches_torchmetrics(shift):
    """Measured here: 5.4e-7 (close) and 3.4e-8 (far) relative with float32 covariance products (the
    rounding of float32 sums over one 3000-row chunk; 4e-9 at 50k x 2048, see fid.py), below 1e-13
    with ``precision="float64"``."""
    real, fake = _relu_features(3000, 64, 0), _relu_features(2500, 64, 1, shift=shift)
    reference = _torchmetrics_fid(real, fake)
    assert abs(compute_fid(real, fake)["value"] - reference) <= 2e-6 * reference
    exact = compute_fid(*(feature_stats(x, precision="float64") for x in (real, fake)))["value"]
    assert abs(exact - reference) <= 1e-11 * reference


def test_fid_differs_from_torchmetrics_when_the_sets_differ():
    """Guard against a vacuous comparison: a different fake set gives a clearly different value."""
    real, fake = _relu_features(3000, 64, 0), _relu_features(2500, 64, 1, shift=0.05)
    other = _relu_features(2500, 64, 2, shift=0.2)
    assert abs(compute_fid(real, other)["value"] - _torchmetrics_fid(real, fake)) > 1e-2 * _torchmetrics_fid(real, fake)


@pytest.mark.filterwarnings("ignore:Metric `Kernel Inception Distance` will save all extracted features")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kid_matches_torchmetrics_on_one_full_set_subset(dtype):
    real, fake = _relu_features(600, 32, 3).astype(dtype), _relu_features(600, 32, 4, shift=0.3).astype(dtype)
    metric = torchmetrics_kid.KernelInceptionDistance(feature=GivenFeatures(32), subsets=1, subset_size=600)
    metric.update(torch.from_numpy(real), real=True)
    metric.update(torch.from_numpy(fake), real=False)
    torch.manual_seed(0)
    reference = float(metric.compute()[0])
    ours = compute_kid(real, fake, subsets=1, subset_size=600)["value"]
    tolerance = 1e-12 if dtype == np.float64 else 1e-6  # measured: equal in float64, 9e-8 in float32 kernels
    assert abs(ours - reference) <= tolerance * abs(reference)
    assert reference > 0
