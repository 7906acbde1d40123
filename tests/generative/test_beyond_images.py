"""The gan-beyond-images study: its scores, effects and controls at their boundaries, and a smoke run."""

import math

import pytest

from thoughtlab.generative import beyond_images as B
from thoughtlab.runs import LocalContext
from thoughtlab.stats import Interval
from thoughtlab.study import decide, verdicts

CLAIMS = {c.id: c for c in B.STUDY.claims}


def iv(low, high):
    return Interval((low + high) / 2, low, high, 3, "test")


@pytest.mark.parametrize("claim_id, low, high, plateau, expected", [
    ("graphs-limited-for-all", 0.0, 0.2499, True, "supported"),
    ("graphs-limited-for-all", 0.0, 0.25, True, "inconclusive"),  # touching the margin is not below it
    ("graphs-limited-for-all", 0.2501, 0.6, True, "refuted"),
    ("graphs-limited-for-all", 0.2501, 0.6, False, "inconclusive"),  # refutation needs a plateau
    ("text-estimator-vs-curve", -0.3, 0.0499, True, "supported"),
    ("text-estimator-vs-curve", 0.0501, 0.3, True, "refuted"),
    ("text-relaxation-vs-curve", 0.0, 0.1, True, "inconclusive"),
    ("audio-beats-text", 0.001, 0.5, True, "supported"),
    ("audio-beats-graphs", -0.5, -0.001, True, "refuted"),
    ("audio-beats-graphs", -0.5, 0.0, True, "inconclusive"),
])
def test_thresholds_at_their_boundaries(claim_id, low, high, plateau, expected):
    assert decide(CLAIMS[claim_id], iv(low, high), plateau, [])[0] == expected


def test_checks_hold_or_fail_on_known_biases():
    relaxed, unbiased = CLAIMS["relaxations-biased"], CLAIMS["estimators-unbiased"]
    assert decide(relaxed, relaxed.effect([{"toy_min_relaxed_bias": 2e-4}]), None, [])[0] == "holds"
    assert decide(relaxed, relaxed.effect([{"toy_min_relaxed_bias": 1e-4}]), None, [])[0] == "fails"
    assert decide(unbiased, unbiased.effect([{"toy_max_unbiased_bias": 9e-6}]), None, [])[0] == "holds"
    assert decide(unbiased, unbiased.effect([{"toy_max_unbiased_bias": 1e-5}, {"toy_max_unbiased_bias": 0.0}]), None, [])[0] == "fails"


def test_controls_at_their_boundaries():
    assert B.MLE_LEARNS.passed([{"text_mle_score": 0.3}] * 3)  # zero spread: low = 0.3
    assert not B.MLE_LEARNS.passed([{"text_mle_score": 0.25}] * 3)
    assert not B.MADE_LEARNS.passed([{"graph_made_score": 0.9}])  # one seed: no interval, no pass
    views = [{"audio_floor_precision": 0.95, "audio_noise_precision": 0.05, "audio_best_precision": 0.2}]
    assert B.PITCH_METRIC.passed(views) and B.AUDIO_LEARNS.passed(views)
    assert not B.PITCH_METRIC.passed([views[0] | {"audio_floor_precision": 0.94}])
    assert not B.AUDIO_LEARNS.passed([views[0] | {"audio_best_precision": 0.19}])


def test_effect_is_the_mean_over_seeds_with_a_t_interval():
    effect = B.over_seeds("x")([{"x": 1.0}, {"x": 2.0}, {"x": 3.0}])
    assert effect.estimate == 2.0 and effect.high - 2.0 == pytest.approx(4.302652729911275 / math.sqrt(3))


def test_gap_fraction():
    assert B.gap_fraction(10.0, 2.0, 2.0, log=False) == 1.0 and B.gap_fraction(10.0, 2.0, 10.0, log=False) == 0.0
    assert B.gap_fraction(1.0, 0.01, 0.1, log=True) == pytest.approx(0.5)
    assert B.gap_fraction(1.0, 0.01, 100.0, log=True) == -1.0  # clipped
    assert B.gap_fraction(1.0, 1.0, 0.5, log=False) == 0.0  # no gap to close


@pytest.fixture(scope="module")
def smoke_outcome(tmp_path_factory):
    return B.STUDY.run(B.STUDY.config("smoke"), LocalContext(seed=0, scale="smoke", run_dir=tmp_path_factory.mktemp("run")))


def test_smoke_run_decides_every_claim_and_plots(smoke_outcome, figures):
    B.STUDY.plot(B.STUDY.config("smoke"), [smoke_outcome], figures)
    assert set(figures.saved) == {"estimator_toy", "text_quality_diversity", "graph_mmds", "audio_curves", "common_scale"}
    records = {r["id"]: r for r in verdicts(B.STUDY, [smoke_outcome])}
    assert list(records) == list(CLAIMS)
    assert all(math.isfinite(v) for v in smoke_outcome.metrics.values())
    assert records["relaxations-biased"]["verdict"] == records["estimators-unbiased"]["verdict"] == "holds"
    assert [p["fraction"] for p in records["text-estimator-vs-curve"]["curve"]] == [0.25, 0.5, 0.75, 1.0]
    assert all(records[c]["verdict"] == "inconclusive" for c in CLAIMS if CLAIMS[c].kind == "empirical")  # one seed


def test_smoke_run_is_deterministic(smoke_outcome, tmp_path):
    again = B.STUDY.run(B.STUDY.config("smoke"), LocalContext(seed=0, scale="smoke", run_dir=tmp_path))
    assert again.metrics == smoke_outcome.metrics
