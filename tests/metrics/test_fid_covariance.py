"""FID covariances by float32 symmetric rank-k updates: agreement with float64 ``np.cov`` and FID parity.

The tolerances are stated against the float64 reference (what pytorch-fid computes:
``np.mean`` and ``np.cov`` of float64 activations).  The features are non-negative
ReLU averages whose mean is large against their spread, the case where forming the
raw moments in float32 (Σxxᵀ − Nμμᵀ) would lose ~(μ/σ)²·2⁻²⁴ and fail these bounds.
"""

import numpy as np
import pytest

from thoughtlab.errors import UserError
from thoughtlab.metrics import FidStats, compute_fid, feature_stats, frechet_distance, load_stats, save_stats
from thoughtlab.metrics import fid as fid_module

ROWS = 3 * fid_module.CHUNK_ROWS + 5  # several chunks, a ragged last one, more than one thread block


def _relu_features(n, d, seed, shift=0.0, offset=0.5):
    """Averages of four ReLU(zW + b + noise): non-negative, correlated, mean > std (like Inception pool3)."""
    fixed = np.random.default_rng(99)
    w = fixed.standard_normal((16, d)) / 4.0
    b = offset + 0.3 * fixed.standard_normal(d)
    rng = np.random.default_rng(seed)
    total = np.zeros((n, d))
    for _ in range(4):
        total += np.maximum((rng.standard_normal((n, 16)) + shift) @ w + b + 0.5 * rng.standard_normal((n, d)), 0)
    return (total / 4).astype(np.float32)


def _reference(x):
    """pytorch-fid's statistics: float64 mean and np.cov."""
    return FidStats(x.astype(np.float64).mean(axis=0), np.cov(x, rowvar=False), len(x))


def _scaled_error(sigma, reference):
    """max |Δσᵢⱼ| / √(σᵢᵢσⱼⱼ): the covariance error on the correlation scale."""
    scale = np.sqrt(np.outer(np.diag(reference), np.diag(reference)))
    return np.max(np.abs(sigma - reference) / scale)


@pytest.mark.parametrize("offset", [0.5, 20.0])  # mean/std about 2, then about 50
def test_float32_covariance_matches_float64_np_cov(offset):
    x = _relu_features(ROWS, 40, 0, offset=offset)
    stats, reference = feature_stats(x), _reference(x)
    np.testing.assert_allclose(stats.mu, reference.mu, rtol=1e-12)
    assert _scaled_error(stats.sigma, reference.sigma) <= 2e-6
    assert np.linalg.norm(stats.sigma - reference.sigma) <= 3e-7 * np.linalg.norm(reference.sigma)
    np.testing.assert_array_equal(stats.sigma, stats.sigma.T)


def test_float64_precision_matches_np_cov_to_rounding():
    x = _relu_features(ROWS, 40, 1, offset=20.0)
    stats = feature_stats(x, precision="float64")
    assert _scaled_error(stats.sigma, _reference(x).sigma) <= 1e-12
    assert "float64 syrk" in stats.covariance


def test_fid_from_float32_covariances_matches_the_float64_reference():
    """Close distributions (FID ≪ tr Σ) are the hard case: the trace terms cancel."""
    real, fake = _relu_features(ROWS, 40, 2), _relu_features(ROWS, 40, 3, shift=0.05)
    reference = frechet_distance(_reference(real), _reference(fake))
    result = compute_fid(real, fake)
    assert reference < 0.05 * (np.trace(_reference(real).sigma) + np.trace(_reference(fake).sigma))
    assert abs(result["value"] - reference) <= 1e-6 * reference
    assert "float32 syrk" in result["protocol"]["covariance"]


def test_float64_input_is_centred_in_float64():
    x = _relu_features(ROWS, 12, 4, offset=20.0).astype(np.float64) + 1e-3  # values not representable in float32
    assert _scaled_error(feature_stats(x).sigma, np.cov(x, rowvar=False)) <= 2e-6


@pytest.mark.parametrize("n, d", [(2, 1), (2, 3), (3, 1), (fid_module.CHUNK_ROWS + 1, 1)])
def test_edge_shapes_match_np_cov(n, d):
    x = np.random.default_rng(n + d).standard_normal((n, d)).astype(np.float32) * 3.0 + 7.0
    stats = feature_stats(x)
    assert stats.sigma.shape == (d, d) and stats.n == n
    reference = np.atleast_2d(np.cov(x, rowvar=False))
    np.testing.assert_allclose(stats.sigma, reference, rtol=2e-6, atol=1e-12)


def test_integer_features_are_read_as_float64():
    x = np.random.default_rng(5).integers(0, 256, size=(1000, 6))
    assert _scaled_error(feature_stats(x).sigma, np.cov(x, rowvar=False)) <= 2e-6
    assert _scaled_error(feature_stats(x, precision="float64").sigma, np.cov(x, rowvar=False)) <= 1e-12


def test_repeated_calls_give_the_same_bits():
    x = _relu_features(ROWS, 24, 6)
    np.testing.assert_array_equal(feature_stats(x).sigma, feature_stats(x).sigma)


def test_unknown_precision_is_refused():
    with pytest.raises(UserError, match="unknown FID covariance precision 'float16'"):
        feature_stats(np.zeros((4, 2)), precision="float16")


def test_protocol_records_how_each_covariance_was_made(tmp_path):
    rng = np.random.default_rng(7)
    real, fake = rng.standard_normal((50, 3)), rng.standard_normal((50, 3))
    assert "float32 syrk" in compute_fid(real, fake)["protocol"]["covariance"]
    loaded = load_stats(save_stats(feature_stats(real), tmp_path / "real.npz"))
    assert loaded.covariance is None
    assert compute_fid(loaded, fake)["protocol"]["covariance"].startswith("real: unknown")
