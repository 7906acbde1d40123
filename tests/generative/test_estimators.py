"""Gradient estimators on the Bernoulli toy: exact bias and variance against closed forms and Monte Carlo."""

import math

import pytest
import torch

from thoughtlab.errors import BadInput
from thoughtlab.generative import estimators as E

THETA = 0.5


@pytest.fixture(scope="module", params=[0.45, 0.499])
def toy_and_control(request):
    toy = E.Toy(request.param, lam=0.5)
    return toy, E.fit_relax_control(toy, THETA, steps=60, seed=0)


def test_exact_gradient_matches_finite_difference_of_the_loss():
    for t in (0.45, 0.499):
        h = 1e-6
        fd = (E.loss(0.3 + h, t) - E.loss(0.3 - h, t)) / (2 * h)
        assert fd == pytest.approx(E.exact_gradient(t), abs=1e-8)
    assert E.exact_gradient(0.499) == pytest.approx(0.002)


@pytest.mark.parametrize("name", E.UNBIASED)
def test_unbiased_estimators_have_zero_exact_bias_and_mc_bias_within_ci(name, toy_and_control):
    toy, control = toy_and_control
    exact = E.exact_moments(name, toy, THETA, control, nodes=120)
    assert abs(exact.bias) < 1e-5
    mc = E.mc_moments(name, toy, THETA, n=20_000, seed=7, control=control)
    assert abs(mc.bias) <= max(mc.bias_halfwidth, 1e-12) * 1.5  # generous: 1 test in ~200 may sit outside 1.96 se
    assert mc.variance == pytest.approx(exact.variance, rel=0.1)


def test_reinforce_variance_matches_closed_form(toy_and_control):
    toy, _ = toy_and_control
    assert E.exact_moments("reinforce", toy, THETA).variance == pytest.approx(E.reinforce_variance(THETA, toy.t), rel=1e-9)


@pytest.mark.parametrize("name", E.RELAXED)
def test_relaxations_bias_matches_the_closed_form_at_half(name, toy_and_control):
    """At θ = ½, λ = ½ the relaxed mean is (1 − 2t)(4 − π) (the logistic integral 8∫σ'(2z)σ'(z)dz = 4 − π)."""
    toy, _ = toy_and_control
    known_bias = E.exact_gradient(toy.t) * (3 - math.pi)
    exact = E.exact_moments(name, toy, THETA, nodes=120)
    assert exact.bias == pytest.approx(known_bias, rel=1e-6)
    mc = E.mc_moments(name, toy, THETA, n=20_000, seed=3)
    assert abs(mc.bias - known_bias) <= 1.5 * mc.bias_halfwidth


def test_relax_control_lowers_variance_below_rebar():
    toy = E.Toy(0.45)
    control = E.fit_relax_control(toy, THETA, steps=60, seed=1)
    assert E.exact_moments("relax", toy, THETA, control, 80).variance < 0.5 * E.exact_moments("rebar", toy, THETA, None, 80).variance


def test_quadrature_is_converged():
    toy = E.Toy(0.45)
    a, b = (E.exact_moments("rebar", toy, 0.3, nodes=n) for n in (80, 160))
    assert a.mean == pytest.approx(b.mean, abs=1e-9) and a.variance == pytest.approx(b.variance, rel=1e-7)


def test_bias_is_theta_dependent_for_relaxations_only():
    toy = E.Toy(0.45)
    assert abs(E.exact_moments("concrete", toy, 0.2, nodes=120).bias - E.exact_moments("concrete", toy, 0.5, nodes=120).bias) > 1e-3
    assert abs(E.exact_moments("reinforce", toy, 0.2, nodes=120).bias) < 1e-9


@pytest.mark.parametrize("name, theta, control, match", [
    ("bogus", 0.5, None, "unknown estimator"),
    ("reinforce", 1.0, None, "theta"),
    ("reinforce", 0.0, None, "theta"),
    ("relax", 0.5, None, "control"),
])
def test_bad_inputs(name, theta, control, match):
    u, v = E.sample_noise(4, 0)
    with pytest.raises(BadInput, match=match):
        E.estimate(name, E.Toy(0.45), theta, u, v, control)


def test_moment_table_and_plot(figures):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = E.moment_table((E.Toy(0.45), E.Toy(0.499)), THETA, n=500, seed=0, relax_steps=5, nodes=40)
    assert len(rows) == 2 * len(E.ESTIMATORS) and {r["estimator"] for r in rows} == set(E.ESTIMATORS)
    fig, (a, b) = plt.subplots(1, 2)
    E.plot_moments(rows, a, b)
    figures.save("moments", fig, "test")
    assert figures.saved


def test_relax_control_fit_resumes_bit_exactly(tmp_path):
    toy = E.Toy(0.45)
    straight = E.fit_relax_control(toy, THETA, steps=6, batch=16, seed=2)
    E.fit_relax_control(toy, THETA, steps=3, batch=16, seed=2, checkpoint=tmp_path / "r.pt")
    resumed = E.fit_relax_control(toy, THETA, steps=6, batch=16, seed=2, checkpoint=tmp_path / "r.pt")
    assert all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()))
    untrained = E.RelaxControl(toy, seed=2)
    assert not all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(), untrained.state_dict().values()))
