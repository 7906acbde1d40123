"""KID: the estimator against a direct formula, zero for one distribution, seeding, bad input."""

import numpy as np
import pytest
import torch

from thoughtlab.errors import BadInput
from thoughtlab.metrics import compute_kid


def _direct_mmd2(x, y):
    """The unbiased MMD² of the notes, written out with full float64 kernel matrices."""
    d, m = x.shape[1], len(x)
    kernel = lambda a, b: (a @ b.T / d + 1.0) ** 3
    k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
    off = lambda k: k.sum() - np.trace(k)
    return (off(k_xx) + off(k_yy)) / (m * (m - 1)) - 2 * k_xy.sum() / m ** 2


def test_single_subset_equals_the_direct_formula():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((60, 8)), rng.standard_normal((60, 8)) + 0.5
    result = compute_kid(x, y, subsets=1, subset_size=60)
    assert result["value"] == pytest.approx(_direct_mmd2(x, y), rel=1e-12)
    assert result["std"] == 0.0


def test_kid_is_near_zero_for_one_distribution_and_positive_for_a_shift():
    rng = np.random.default_rng(1)
    real = rng.standard_normal((2000, 16)).astype(np.float32)
    same = compute_kid(real, rng.standard_normal((2000, 16)).astype(np.float32), subsets=20, subset_size=500)
    shifted = compute_kid(real, rng.standard_normal((2000, 16)).astype(np.float32) + 0.3, subsets=20, subset_size=500)
    assert abs(same["value"]) < 3 * same["std"] + 1e-3
    assert shifted["value"] > 10 * shifted["std"]


def test_subset_size_is_capped_by_the_smaller_set_and_recorded():
    rng = np.random.default_rng(2)
    result = compute_kid(rng.standard_normal((30, 4)), rng.standard_normal((50, 4)), subsets=3)
    assert result["protocol"]["subset_size"] == 30
    assert result["protocol"]["requested_subset_size"] == 1000


def test_seeds_reproduce_bit_for_bit_and_torch_input_matches_numpy():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((300, 8)).astype(np.float32), rng.standard_normal((300, 8)).astype(np.float32)
    first = compute_kid(x, y, subsets=10, subset_size=100, seed=5)
    assert first == compute_kid(torch.from_numpy(x), torch.from_numpy(y), subsets=10, subset_size=100, seed=5)
    assert first["value"] != compute_kid(x, y, subsets=10, subset_size=100, seed=6)["value"]


def test_kid_bad_inputs():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((10, 4))
    with pytest.raises(BadInput, match="at least 2 fake samples"):
        compute_kid(x, x[:1])
    with pytest.raises(BadInput, match="4 dimensions but fake features have 3"):
        compute_kid(x, x[:, :3])
    with pytest.raises(BadInput, match="subsets must be an integer"):
        compute_kid(x, x, subsets=0)
    bad = x.copy()
    bad[7, 2] = np.nan
    with pytest.raises(BadInput, match="first: row 7"):
        compute_kid(x, bad)


def _kid_recomputing_every_subset(x, y, subsets, m, seed):
    """The estimator with every subset's kernels recomputed (the loop the shortcut must reproduce)."""
    from thoughtlab.metrics.kid import unbiased_mmd2

    rng, values = np.random.default_rng(seed), []
    for _ in range(subsets):
        real_rows = torch.from_numpy(np.sort(rng.choice(len(x), m, replace=False)))
        fake_rows = torch.from_numpy(np.sort(rng.choice(len(y), m, replace=False)))
        values.append(unbiased_mmd2(torch.from_numpy(x)[real_rows], torch.from_numpy(y)[fake_rows], 3,
                                    1.0 / x.shape[1], 1.0))
    return float(np.mean(values)), float(np.std(values))


@pytest.mark.parametrize("n_real, n_fake, m", [(120, 120, 1000), (120, 150, 1000), (150, 120, 1000), (150, 130, 60)])
def test_whole_set_shortcut_is_bit_identical_to_recomputing_every_subset(n_real, n_fake, m):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((n_real, 32)).astype(np.float32)
    y = (rng.standard_normal((n_fake, 32)) + 0.2).astype(np.float32)
    result = compute_kid(x, y, subsets=7, subset_size=m, seed=11)
    mean, std = _kid_recomputing_every_subset(x, y, 7, min(m, n_real, n_fake), 11)
    if result["protocol"]["subsets_identical"]:  # one repeated value: exact zero std, mean equal to rounding
        assert n_real == n_fake == result["protocol"]["subset_size"]
        assert result["std"] == 0.0 and std <= 1e-12 * abs(mean)
        assert result["value"] == pytest.approx(mean, rel=1e-12, abs=0)
    else:
        assert (result["value"], result["std"]) == (mean, std)  # bit for bit


def test_whole_sets_compute_each_kernel_once(monkeypatch):
    from thoughtlab.metrics import kid

    calls = []
    original = kid.polynomial_kernel_sums
    monkeypatch.setattr(kid, "polynomial_kernel_sums", lambda *a: calls.append(len(a[0])) or original(*a))
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((100, 8)), rng.standard_normal((100, 8))
    result = compute_kid(x, y, subsets=50)  # subset_size 1000 is capped at N = M = 100: every subset is everything
    assert len(calls) == 3 and result["std"] == 0.0 and result["protocol"]["subsets_identical"]
    calls.clear()
    compute_kid(x, np.concatenate([y, y]), subsets=50)  # fake larger: only the real within-set sum is shared
    assert len(calls) == 1 + 2 * 50
