"""Geometry Score: RLT known answers, the pruned witness table, the circle-vs-disc toy, seeding, workers, bad input."""

import numpy as np
import pytest

from thoughtlab.errors import BadInput
from thoughtlab.metrics import (
    compute_geometry_score,
    compute_rlts,
    evaluate,
    geometry_score_from_rlts,
)
from thoughtlab.metrics.geometry import (
    bootstrap_geometry_scores,
    landmark_distances,
    relative_living_times,
    usable_table,
    witness_persistence,
)

TOY = {"landmarks": 32, "gamma": 1 / 8, "i_max": 10}  # the reference notebook's circle-vs-disc settings


def _circle(n, rng):
    angle = rng.uniform(0, 2 * np.pi, n)
    return np.c_[np.cos(angle), np.sin(angle)]


def _disc(n, rng):
    angle, radius = rng.uniform(0, 2 * np.pi, n), np.sqrt(rng.uniform(0, 1, n))
    return np.c_[radius * np.cos(angle), radius * np.sin(angle)]


def test_relative_living_times_known_answers():
    assert relative_living_times(np.empty((0, 2)), 1.0, 4).tolist() == [1, 0, 0, 0]
    one = relative_living_times(np.array([[0.25, 0.75]]), 1.0, 4)
    assert one.tolist() == [0.5, 0.5, 0, 0]
    overlapping = relative_living_times(np.array([[0.0, 0.5], [0.25, np.inf]]), 1.0, 4)
    assert overlapping.tolist() == [0, 0.75, 0.25, 0]  # [0,.25): 1, [.25,.5): 2, [.5,1]: 1 (infinite death -> α_max)
    assert relative_living_times(np.array([[0.0, 1.0]] * 3), 1.0, 2).tolist() == [0, 0]  # beyond i_max: not counted


def test_pruned_table_gives_the_same_persistence_as_the_full_table():
    rng = np.random.default_rng(0)
    for dim in (2, 3, 8):
        x = rng.standard_normal((300, dim))
        dist = landmark_distances(x, (x * x).sum(axis=1), rng.integers(0, 300, 24))
        order = np.argsort(dist, axis=1, kind="stable")
        full = [list(zip(o.tolist(), d.tolist())) for o, d in zip(order, np.take_along_axis(dist, order, 1))]
        for gamma in (1 / 128, 1 / 8, 0.5):
            alpha_max = gamma * dist.max()
            assert np.array_equal(witness_persistence(usable_table(dist, alpha_max), alpha_max),
                                  witness_persistence(full, alpha_max))


def test_circle_has_one_hole_and_differs_from_a_disc():
    rng = np.random.default_rng(1)
    circle_a, circle_b, disc = _circle(300, rng), _circle(300, rng), _disc(300, rng)
    same = compute_geometry_score(circle_a, circle_b, iterations=20, **TOY)
    different = compute_geometry_score(circle_a, disc, iterations=20, **TOY)
    assert same["mrlt_real"][1] > 0.8 and same["mrlt_fake"][1] > 0.8  # one long-lived H1 class
    assert different["mrlt_fake"][0] > 0.5
    assert same["value"] < 0.05 and different["value"] > 1.0  # notebook: 1.83 at n = 100 iterations
    rlts = compute_rlts(circle_a, iterations=5, **TOY)
    assert geometry_score_from_rlts(rlts, rlts) == 0.0


def test_seeds_bit_for_bit_for_any_number_of_workers():
    rng = np.random.default_rng(2)
    x = _disc(200, rng).astype(np.float32)
    one = compute_rlts(x, iterations=6, seed=4, **TOY)
    assert np.array_equal(one, compute_rlts(x, iterations=6, seed=4, **TOY))
    assert np.array_equal(one, compute_rlts(x, iterations=6, seed=4, workers=2, **TOY))
    assert not np.array_equal(one, compute_rlts(x, iterations=6, seed=5, **TOY))


def test_gamma_policy_is_recorded_and_evaluate_dispatches():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((100, 5)), rng.standard_normal((80, 5))
    result = compute_geometry_score(x, y, landmarks=16, iterations=3)
    assert result["protocol"]["gamma_policy"] == "reference: N/(128*5000)"
    assert result["protocol"]["gamma"] == {"real": 100 / 640000, "fake": 80 / 640000}
    assert len(result["mrlt_real"]) == 100
    via_evaluate = evaluate(x, y, metrics=["gs"], gs_landmarks=16, gs_iterations=3)
    assert via_evaluate["gs"] == result and "std" in result
    fewer = evaluate(x, y, metrics=["gs"], gs_landmarks=16, gs_iterations=3, gs_bootstrap=20)
    assert fewer["gs"]["protocol"]["bootstrap"] == 20 and fewer["gs"]["value"] == result["value"]


def test_spread_shrinks_with_iterations_and_is_seeded():
    rng = np.random.default_rng(5)
    circle, disc = _circle(200, rng), _disc(200, rng)
    toy = {**TOY, "landmarks": 16}
    few, many = (compute_geometry_score(circle, disc, iterations=n, seed=3, **toy) for n in (8, 128))
    assert 0 < many["std"] < 0.5 * few["std"]  # Monte Carlo error of the MRLT: about 1/sqrt(iterations)
    assert many["protocol"]["bootstrap"] == 200 and many["protocol"]["bootstrap_seed"] == 5
    assert "bootstrap" in many["protocol"]["spread_kind"]
    assert few == compute_geometry_score(circle, disc, iterations=8, seed=3, **toy)
    rlts_real, rlts_fake = compute_rlts(circle, iterations=8, **toy), compute_rlts(disc, iterations=8, seed=1, **toy)
    draws = [bootstrap_geometry_scores(rlts_real, rlts_fake, 50, np.random.default_rng(s)) for s in (0, 0, 1)]
    assert np.array_equal(draws[0], draws[1]) and not np.array_equal(draws[0], draws[2])
    no_spread = compute_geometry_score(circle, disc, iterations=8, seed=3, bootstrap=0, **toy)
    assert "std" not in no_spread and "bootstrap" not in no_spread["protocol"]
    assert no_spread["value"] == few["value"]


def test_spread_is_zero_only_when_every_iteration_agrees():
    point = np.ones((40, 3))  # all samples equal: α_max = 0, every iteration's RLT is e0
    result = compute_geometry_score(point, point.copy(), landmarks=8, iterations=5)
    assert result["value"] == 0.0 and result["std"] == 0.0
    rng = np.random.default_rng(6)
    against_a_disc = compute_geometry_score(point[:, :2], _disc(100, rng), iterations=10, **TOY)
    assert against_a_disc["std"] > 0  # the disc's iterations differ, so resampling them moves GS


def test_geometry_bad_inputs():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((50, 3))
    bad = x.copy()
    bad[7, 1] = np.nan
    with pytest.raises(BadInput, match="NaN or Inf"):
        compute_geometry_score(x, bad)
    with pytest.raises(BadInput, match="3 dimensions but fake features have 2"):
        compute_geometry_score(x, x[:, :2])
    with pytest.raises(BadInput, match="at least 32 fake samples \\(32 landmarks\\), got 10"):
        compute_geometry_score(x, x[:10], landmarks=32)
    with pytest.raises(BadInput, match="gamma must be > 0"):
        compute_rlts(x, landmarks=8, gamma=0.0)
    with pytest.raises(BadInput, match="2-D array"):
        compute_rlts(x[:, 0])
    with pytest.raises(BadInput, match="workers must be an integer"):
        compute_rlts(x, landmarks=8, workers=0)
    with pytest.raises(BadInput, match="bootstrap must be an integer >= 0"):
        compute_geometry_score(x, x, landmarks=8, bootstrap=-1)
    with pytest.raises(BadInput, match="spread needs bootstrap >= 2 and iterations >= 2.*bootstrap=0"):
        compute_geometry_score(x, x, landmarks=8, bootstrap=1)
    with pytest.raises(BadInput, match="iterations=1\\); raise them"):
        compute_geometry_score(x, x, landmarks=8, iterations=1)
    assert "std" not in compute_geometry_score(x, x, landmarks=8, iterations=1, bootstrap=0)
