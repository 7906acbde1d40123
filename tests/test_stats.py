"""Interval estimates against closed forms, paired differences, sub-seeds."""

import math
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats as scipy_stats

from thoughtlab.errors import BadInput
from thoughtlab.stats import (
    bootstrap_ci, child_rng, child_seed, correlation_ci, mean_ci, paired, paired_effect, proportion_ci,
)


def test_mean_ci_is_the_student_t_interval():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    iv = mean_ci(x)
    half = scipy_stats.t.ppf(0.975, 3) * x.std(ddof=1) / 2
    assert iv.estimate == pytest.approx(3.5) and iv.low == pytest.approx(3.5 - half) and iv.high == pytest.approx(3.5 + half)


def test_mean_ci_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    covered = [(lambda iv: iv.low < 0 < iv.high)(mean_ci(rng.normal(0, 1, 5))) for _ in range(2000)]
    assert 0.93 < np.mean(covered) < 0.97


def test_bootstrap_of_normal_samples_matches_the_closed_form():
    x = np.random.default_rng(1).normal(10.0, 2.0, 400)
    iv, t = bootstrap_ci(x), mean_ci(x)
    assert iv.estimate == pytest.approx(t.estimate)
    assert iv.low == pytest.approx(t.low, abs=0.05) and iv.high == pytest.approx(t.high, abs=0.05)


def test_one_unit_cannot_resolve_anything():
    iv = mean_ci([3.0])
    assert iv.estimate == 3.0 and iv.low == -math.inf and iv.high == math.inf
    assert iv.to_json()["low"] is None


def test_constant_units_give_a_zero_width_interval():
    iv = bootstrap_ci([0.5] * 10)
    assert iv.low == iv.high == 0.5


@pytest.mark.parametrize("values", [[], [1.0, float("nan")], [float("inf")]])
def test_undefined_values_are_refused(values):
    with pytest.raises(BadInput):
        mean_ci(values)


def test_paired_differences_per_seed_and_per_item():
    views = [{"a": 2.0, "b": 1.0, "ia": [1, 2], "ib": [0, 0]}, {"a": 3.0, "b": 1.0, "ia": [1, 1], "ib": [1, 0]}]
    assert paired(views, "a", "b").tolist() == [1.0, 2.0]
    assert paired(views, "ia", "ib", items=True).tolist() == [1, 2, 0, 1]
    assert paired_effect(views, "ia", "ib", items=True).estimate == pytest.approx(1.0)
    with pytest.raises(BadInput, match="items=True"):
        paired(views, "ia", "ib")


def test_paired_refuses_arms_with_different_items():
    with pytest.raises(BadInput, match="share items"):
        paired([{"a": [1, 2], "b": [1]}], "a", "b", items=True)


def test_child_seed_is_stable_and_separates_keys():
    assert child_seed(0, "data") == child_seed(0, "data")
    assert len({child_seed(s, k) for s in range(20) for k in ("data", "init", 3)}) == 60
    assert 0 <= child_seed(2**40, "x") < 2**32
    assert child_seed(0, 1, 2) != child_seed(0, 2, 1) and child_seed(1, 0) != child_seed(0, 1)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**40), st.lists(st.integers(0, 2**33), max_size=3))
def test_child_seed_and_rng_are_numpys_seed_sequence(seed, keys):
    """The derivation the studies used before (SeedSequence words, default_rng of a list) is kept exactly."""
    assert child_seed(seed, *keys) == int(np.random.SeedSequence([seed, *keys]).generate_state(1)[0])
    assert child_rng(seed, *keys).integers(2**62) == np.random.default_rng([seed, *keys]).integers(2**62)


def test_child_seed_takes_names_and_floats_and_refuses_a_bad_seed():
    assert child_seed(0, "cell", 3, 0.5) == child_seed(0, "cell", 3, 0.5) != child_seed(0, "cell", 3, 0.25)
    assert child_seed(0, "a") == int(np.random.SeedSequence([0, zlib.crc32(b"a")]).generate_state(1)[0])
    for seed in (-1, 1.5, True):
        with pytest.raises(BadInput, match="child_seed"):
            child_seed(seed, "x")


def test_proportion_ci_is_the_normal_approximation_with_a_floor():
    z = scipy_stats.norm.ppf(0.975)
    assert proportion_ci(0.8, 100).half_width == pytest.approx(z * math.sqrt(0.8 * 0.2 / 100))
    assert proportion_ci(1.0, 100).half_width == pytest.approx(z * math.sqrt(0.25 / 100) / math.sqrt(100))
    for share, n in ((1.5, 10), (0.5, 0)):
        with pytest.raises(BadInput, match="proportion_ci"):
            proportion_ci(share, n)


def test_correlation_ci_is_the_t_interval_of_fisher_z_mapped_back():
    rho = [0.9, 0.7, 0.95]
    z = np.arctanh(rho)
    half = scipy_stats.t.ppf(0.975, 2) * z.std(ddof=1) / math.sqrt(3)
    interval = correlation_ci(rho)
    assert interval.estimate == pytest.approx(math.tanh(z.mean()))
    assert (interval.low, interval.high) == pytest.approx((math.tanh(z.mean() - half), math.tanh(z.mean() + half)))
    assert "Fisher z" in interval.method


@given(st.lists(st.floats(-1, 1), min_size=2, max_size=8))
@settings(max_examples=60, deadline=None)
def test_correlation_ci_stays_inside_minus_one_one(rho):
    interval = correlation_ci(rho)
    assert math.isinf(correlation_ci(rho[:1]).low)  # one unit resolves nothing
    assert -1 <= interval.low <= interval.estimate <= interval.high <= 1


def test_correlation_ci_rejects_values_outside_minus_one_one():
    with pytest.raises(BadInput, match=r"\[-1, 1\]"):
        correlation_ci([0.5, 1.2])
