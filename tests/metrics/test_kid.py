"""KID: the estimator against a direct formula, zero for one distribution, seeding, bad input."""

import numpy as np
import pytest
import torch

from thoughtlab.errors import BadInput
from thoughtlab.metrics import compute_kid


def _direct_mmd2(x, y):
    """The unbiased MMD² of the notes, written out with full float64 kernel matrices."""
    d, m = x.shape[1], len(x)
    kernel = lambda a, b: (a @ b.T / d + 1.0) ** 3  # noqa: E731
    k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
    off = lambda k: k.sum() - np.trace(k)  # noqa: E731
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
