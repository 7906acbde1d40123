"""Dirac-GAN: closed forms of Mescheder et al. (2018), companion matrix vs nonlinear simulation."""

import math

import numpy as np
import pytest

from thoughtlab.errors import BadInput
from thoughtlab.generative.dirac import DiracRun, companion_matrix, measured_growth, predicted_growth, simulate


@pytest.mark.parametrize("h", [0.1, 0.5, 1.0])
def test_undelayed_closed_forms(h):
    a = h * 0.5
    assert predicted_growth(DiracRun(h=h)) == pytest.approx(math.sqrt(1 + a * a))  # simultaneous spirals out
    assert predicted_growth(DiracRun(h=h, alternating=True)) == pytest.approx(1.0)  # alternating circles


def test_companion_matrix_shape_and_history_shift():
    m = companion_matrix(DiracRun(h=0.2, tau=3))
    assert m.shape == (5, 5)
    assert m[0, 4] == pytest.approx(-0.1) and m[1, 0] == pytest.approx(0.1)
    np.testing.assert_array_equal(m[2:, 1:4], np.eye(3))


@pytest.mark.parametrize("tau", [0, 1, 2, 4, 8])
@pytest.mark.parametrize("alternating", [False, True])
def test_simulation_matches_prediction(tau, alternating):
    run = DiracRun(h=0.5, tau=tau, alternating=alternating)
    measured = measured_growth(simulate(run, steps=600))
    assert measured == pytest.approx(predicted_growth(run), abs=5e-4)


def test_staleness_speeds_up_divergence():
    growth = [predicted_growth(DiracRun(h=0.5, tau=t)) for t in (0, 1, 2, 4, 8)]
    assert all(b > a for a, b in zip(growth, growth[1:]))


def test_alternating_with_one_step_delay_equals_simultaneous():
    assert predicted_growth(DiracRun(h=0.3, tau=1, alternating=True)) == pytest.approx(predicted_growth(DiracRun(h=0.3)))


def test_simulation_stops_at_the_ceiling():
    norms = simulate(DiracRun(h=0.5, tau=8), steps=100_000, start=1e-3, ceiling=1e-2)
    assert len(norms) < 100 and norms[-1] > 1e-2


def test_measured_growth_of_a_geometric_sequence():
    assert measured_growth(1.5 ** np.arange(20.0)) == pytest.approx(1.5)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: predicted_growth(DiracRun(h=0.0)), "positive number"),
        (lambda: predicted_growth(DiracRun(h=float("inf"))), "positive number"),
        (lambda: predicted_growth(DiracRun(tau=-1)), "τ must be"),
        (lambda: simulate(DiracRun(), steps=1), "at least 2 steps"),
        (lambda: measured_growth(np.ones(5)), "≥ 8 positive"),
        (lambda: measured_growth(np.zeros(10)), "≥ 8 positive"),
    ],
)
def test_bad_inputs(call, message):
    with pytest.raises(BadInput, match=message):
        call()
