"""FID: closed forms, agreement with scipy's sqrtm, small-N behaviour, statistics files, repeats."""

import warnings

import numpy as np
import pytest
import scipy.linalg
import torch

from thoughtlab.errors import BadInput
from thoughtlab.metrics import FidStats, compute_fid, feature_stats, frechet_distance, load_stats, save_stats
from thoughtlab.metrics.checks import SmallSampleWarning
from thoughtlab.metrics.fid import trace_sqrt_product


def _random_covariance(rng, d, n=None):
    a = rng.standard_normal((d, n or 2 * d))
    return a @ a.T / a.shape[1]


@pytest.mark.parametrize("var1", [[1.0, 4.0, 9.0], [1.0, 0.0, 9.0]])  # positive definite, then singular
def test_fid_of_diagonal_gaussians_has_closed_form(var1):
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    var1, var2 = np.array(var1), np.array([4.0, 1.0, 1.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    value = frechet_distance(FidStats(mu1, np.diag(var1)), FidStats(mu2, np.diag(var2)))
    assert value == pytest.approx(expected, rel=1e-12)
    assert frechet_distance(FidStats(mu2, np.diag(var2)), FidStats(mu1, np.diag(var1))) == pytest.approx(expected)


def test_fid_of_rotated_gaussians_has_closed_form():
    """Σ₂ = c²Σ₁ commute, so tr(Σ₁Σ₂)^½ = c·tr Σ₁ and FID = ‖Δμ‖² + (1 − c)² tr Σ₁."""
    rng = np.random.default_rng(1)
    sigma = _random_covariance(rng, 16)
    mu1, mu2 = rng.standard_normal(16), rng.standard_normal(16)
    expected = np.sum((mu1 - mu2) ** 2) + (1 - 3.0) ** 2 * np.trace(sigma)
    assert frechet_distance(FidStats(mu1, sigma), FidStats(mu2, 9.0 * sigma)) == pytest.approx(expected, rel=1e-10)


def test_fid_of_samples_approaches_the_population_value():
    rng = np.random.default_rng(2)
    real = rng.standard_normal((20000, 4))
    fake = rng.standard_normal((20000, 4)) * 2.0 + 0.5
    expected = 4 * 0.5 ** 2 + 4 * (2.0 - 1.0) ** 2
    assert compute_fid(real, fake)["value"] == pytest.approx(expected, rel=0.05)


def test_symmetric_eigen_trace_matches_scipy_sqrtm_on_full_rank_inputs():
    rng = np.random.default_rng(3)
    s1, s2 = _random_covariance(rng, 64), _random_covariance(rng, 64)
    reference = np.trace(scipy.linalg.sqrtm(s1 @ s2)).real
    assert abs(trace_sqrt_product(s1, s2) - reference) <= 1e-9 * abs(reference)
    assert abs(trace_sqrt_product(s2, s1) - reference) <= 1e-9 * abs(reference)
    mu1, mu2 = rng.standard_normal(64), rng.standard_normal(64)
    fid_reference = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * reference
    value = frechet_distance(FidStats(mu1, s1), FidStats(mu2, s2))
    assert abs(value - fid_reference) <= 1e-9 * abs(fid_reference)


def test_feature_stats_match_numpy_cov():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5000, 8)).astype(np.float32) + 100.0
    stats = feature_stats(x, precision="float64")
    np.testing.assert_allclose(stats.mu, x.astype(np.float64).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.sigma, np.cov(x, rowvar=False), rtol=1e-9, atol=1e-12)
    assert stats.n == 5000
    fast = feature_stats(x).sigma  # float32 products: see test_fid_covariance.py for the tolerances
    np.testing.assert_allclose(fast, np.cov(x, rowvar=False), rtol=0, atol=1e-6)


def test_fid_is_finite_with_a_warning_when_n_is_below_d():
    rng = np.random.default_rng(5)
    real, fake = rng.standard_normal((20, 50)), rng.standard_normal((20, 50)) + 0.1
    with pytest.warns(SmallSampleWarning, match="N=20 < d=50"):
        value = compute_fid(real, fake)["value"]
    assert np.isfinite(value) and value > 0


def test_identical_sets_give_fid_near_zero():
    x = np.random.default_rng(6).standard_normal((500, 16))
    assert abs(compute_fid(x, x)["value"]) < 1e-9


def test_stats_round_trip_through_npz(tmp_path):
    stats = feature_stats(np.random.default_rng(7).standard_normal((100, 6)))
    loaded = load_stats(save_stats(stats, tmp_path / "real.npz"))
    np.testing.assert_array_equal(loaded.mu, stats.mu)
    np.testing.assert_array_equal(loaded.sigma, stats.sigma)
    assert loaded.n == 100
    with np.load(tmp_path / "real.npz") as data:  # what pytorch-fid and TTUR read
        np.testing.assert_array_equal(data["mu"], stats.mu)
        np.testing.assert_array_equal(data["sigma"], stats.sigma)


def test_foreign_stats_file_without_n_loads_and_scores(tmp_path):
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((300, 5)), rng.standard_normal((300, 5)) + 1.0
    stats_a, stats_b = feature_stats(a), feature_stats(b)
    np.savez_compressed(tmp_path / "pytorch_fid.npz", mu=stats_a.mu.astype(np.float32), sigma=stats_a.sigma)
    loaded = load_stats(tmp_path / "pytorch_fid.npz")
    assert loaded.n is None
    assert compute_fid(loaded, stats_b)["value"] == pytest.approx(compute_fid(a, b)["value"], rel=1e-6)


def test_bad_stats_files_raise_bad_input(tmp_path):
    with pytest.raises(BadInput, match="no such statistics file"):
        load_stats(tmp_path / "missing.npz")
    np.savez(tmp_path / "wrong.npz", mean=np.zeros(3))
    with pytest.raises(BadInput, match="not 'mu' and 'sigma'"):
        load_stats(tmp_path / "wrong.npz")
    np.savez(tmp_path / "shape.npz", mu=np.zeros(3), sigma=np.zeros((2, 2)))
    with pytest.raises(BadInput, match="expected"):
        load_stats(tmp_path / "shape.npz")
    (tmp_path / "garbage.npz").write_bytes(b"not a zip")
    with pytest.raises(BadInput, match="not a readable"):
        load_stats(tmp_path / "garbage.npz")


def test_repeats_report_mean_and_std_and_reproduce_bit_for_bit():
    rng = np.random.default_rng(9)
    real, fake = rng.standard_normal((400, 4)), rng.standard_normal((400, 4)) + 0.3
    first = compute_fid(real, fake, repeats=5, seed=3)
    assert first == compute_fid(real, fake, repeats=5, seed=3)
    assert first["protocol"]["subset_size"] == 200 and first["std"] > 0
    assert first["mean"] != compute_fid(real, fake, repeats=5, seed=4)["mean"]


def test_fid_bad_inputs():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((50, 4))
    with pytest.raises(BadInput, match="exceeds"):
        compute_fid(x, x, repeats=2, subset_size=51)
    with pytest.raises(BadInput, match="at least 2"):
        compute_fid(x[:1], x)
    with pytest.raises(BadInput, match="dimensions"):
        compute_fid(x, rng.standard_normal((50, 5)))
    with pytest.raises(BadInput, match="saved statistics"):
        compute_fid(feature_stats(x), x, repeats=2)
    with pytest.raises(BadInput, match="threads"):
        compute_fid(x, x, threads=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compute_fid(x, x)  # N >= d: no warning


def _thread_settings():
    from threadpoolctl import threadpool_info

    return torch.get_num_threads(), [(p["internal_api"], p["num_threads"]) for p in threadpool_info()]


@pytest.mark.parametrize("threads", [None, 1, 3])
def test_fid_restores_the_callers_thread_settings(threads):
    rng = np.random.default_rng(5)
    real, fake = rng.normal(size=(300, 20)), rng.normal(size=(300, 20)) + 0.1
    before = _thread_settings()
    value = compute_fid(real, fake, threads=threads)["value"]
    assert _thread_settings() == before
    assert value == pytest.approx(compute_fid(real, fake)["value"], rel=1e-9)
