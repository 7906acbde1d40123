"""The critical-batch fit (McCandlish et al. 2018, eq. 2.11) on exact and noisy S(B) curves, and its bad inputs."""

import math

import numpy as np
import pytest

from thoughtlab.errors import BadInput
from thoughtlab.generative.critical_batch import fit_critical_batch

BATCHES = (16, 32, 64, 128, 256, 512)


@pytest.mark.parametrize("b_crit", [8.0, 100.0, 2000.0])
def test_recovers_the_model_exactly(b_crit):
    steps = [1000.0 * (1 + b_crit / b) for b in BATCHES]
    fit = fit_critical_batch(BATCHES, steps)
    assert fit.b_crit == pytest.approx(b_crit) and fit.s_min == pytest.approx(1000.0)
    assert fit.inside == (16 / 4 <= b_crit <= 512 * 4)


def test_noisy_steps_stay_within_a_factor_two():
    rng = np.random.default_rng(0)
    steps = [500.0 * (1 + 128 / b) * rng.uniform(0.9, 1.1) for b in BATCHES]
    assert 64 < fit_critical_batch(BATCHES, steps).b_crit < 256


def test_outside_the_sweep():
    far = fit_critical_batch((16, 64, 256), [1e4 * (1 + 1e5 / b) for b in (16, 64, 256)])
    assert far.inside is False and far.b_crit > 256 * 4  # fitted, but beyond 4× the largest batch
    flat = fit_critical_batch((16, 64, 256), [500.0, 520.0, 540.0])  # larger batches do not help: no fall
    assert math.isnan(flat.b_crit) and not flat.inside
    linear = fit_critical_batch((16, 64, 256), [6400.0 / b - 10 for b in (16, 64, 256)])  # no floor (S_min < 0)
    assert math.isnan(linear.b_crit) and not linear.inside


@pytest.mark.parametrize("batches, steps, message", [
    ((16, 64), (10.0, 5.0), "≥ 3 distinct batches"),
    ((16, 16, 64), (10.0, 9.0, 5.0), "≥ 3 distinct batches"),
    ((16, 64, 256), (10.0, 5.0), "≥ 3 distinct batches"),
    ((0, 64, 256), (10.0, 5.0, 4.0), "positive and finite"),
    ((16, 64, 256), (10.0, math.inf, 4.0), "positive and finite"),
])
def test_bad_inputs(batches, steps, message):
    with pytest.raises(BadInput, match=message):
        fit_critical_batch(batches, steps)
