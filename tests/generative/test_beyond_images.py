"""The gan-beyond-images study: decision rules at their boundaries and a smoke run end to end."""

import math

import pytest

from thoughtlab.generative import beyond_images as B
from thoughtlab.runs import LocalContext
from thoughtlab.study import verdicts


@pytest.mark.parametrize("low, high, direction, plateau, control, expected", [
    (0.051, 0.2, "greater", True, True, "supported"),  # just above support
    (0.05, 0.2, "greater", True, True, "inconclusive"),  # exactly at the threshold is not above it
    (-0.2, 0.049, "greater", True, True, "refuted"),
    (-0.2, 0.049, "greater", False, True, "inconclusive"),  # refutation needs a plateau
    (0.051, 0.2, "greater", True, False, "inconclusive"),  # failed control
    (-0.2, 0.049, "less", True, True, "supported"),
    (0.051, 0.2, "less", False, True, "inconclusive"),
    (0.051, 0.2, "less", True, True, "refuted"),
    (0.0, 0.1, "less", True, True, "inconclusive"),  # straddles the threshold
])
def test_interval_verdict_boundaries(low, high, direction, plateau, control, expected):
    assert B.interval_verdict(low, high, 0.05, 0.05, direction, plateau, control) == expected


def test_plateau_and_gap_fraction_and_interval():
    assert B.plateaued(1.0, 1.1, 0.8, 1.4) and not B.plateaued(0.5, 1.1, 0.8, 1.4)
    assert B.gap_fraction(10.0, 2.0, 2.0, log=False) == 1.0 and B.gap_fraction(10.0, 2.0, 10.0, log=False) == 0.0
    assert B.gap_fraction(1.0, 0.01, 0.1, log=True) == pytest.approx(0.5)
    assert B.gap_fraction(1.0, 0.01, 100.0, log=True) == -1.0  # clipped
    mean, low, high = B.t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and high - mean == pytest.approx(4.302652729911275 / math.sqrt(3), rel=1e-9)


def _metrics(**over):
    base = {"c21_gap_gumbel": 0.0, "c21_gap_gumbel@0.75": 0.0, "c21_gap_gumbel_low": -0.1, "c21_gap_gumbel_high": 0.01,
            "c21_gap_seqgan": 0.0, "c21_gap_seqgan@0.75": 0.0, "c21_gap_seqgan_low": -0.1, "c21_gap_seqgan_high": 0.01,
            "text_mle_score_low": 0.5}
    return base | over


def test_c21_rule_with_known_inputs():
    assert B.decide_c21(_metrics()) == "supported"
    assert B.decide_c21(_metrics(c21_gap_seqgan_low=0.06, c21_gap_seqgan_high=0.2, c21_gap_seqgan=0.13,
                                 **{"c21_gap_seqgan@0.75": 0.12})) == "refuted"
    assert B.decide_c21(_metrics(c21_gap_seqgan_high=0.06)) == "inconclusive"
    assert B.decide_c21(_metrics(text_mle_score_low=0.2)) == "inconclusive"


def test_c23_rule_with_known_inputs():
    good = {"audio_floor_precision": 1.0, "audio_noise_precision": 0.0, "audio_best_precision": 0.5}
    for key in ("c23_audio_minus_text", "c23_audio_minus_graph"):
        good |= {key: 0.3, f"{key}@0.75": 0.3, f"{key}_low": 0.01, f"{key}_high": 0.6}
    assert B.decide_c23(good) == "supported"
    assert B.decide_c23(good | {"c23_audio_minus_text_low": -0.01}) == "inconclusive"
    assert B.decide_c23(good | {"c23_audio_minus_graph_low": -0.6, "c23_audio_minus_graph_high": -0.01,
                                "c23_audio_minus_graph": -0.3, "c23_audio_minus_graph@0.75": -0.3}) == "refuted"
    assert B.decide_c23(good | {"audio_best_precision": 0.1}) == "inconclusive"


def test_child_seeds_differ_and_repeat():
    assert B.child_seed(0, 1, 2) == B.child_seed(0, 1, 2) != B.child_seed(0, 2, 1)


@pytest.fixture(scope="module")
def smoke_outcome(tmp_path_factory):
    return B.STUDY.run(B.STUDY.config("smoke"), LocalContext(seed=0, scale="smoke", run_dir=tmp_path_factory.mktemp("run")))


def test_smoke_run_decides_every_claim_and_plots(smoke_outcome, figures):
    B.STUDY.plot(B.STUDY.config("smoke"), [smoke_outcome], figures)
    assert set(figures.saved) == {"estimator_toy", "text_quality_diversity", "graph_mmds", "audio_curves", "common_scale"}
    records = verdicts(B.STUDY, [smoke_outcome])
    assert [r["id"] for r in records] == [c.id for c in B.STUDY.claims]
    assert all(set(r["measures"]) <= set(smoke_outcome.metrics) for r in records)
    assert all(math.isfinite(v) for v in smoke_outcome.metrics.values())
    assert records[1]["verdict"] == "supported"  # the exact toy holds at any scale
    assert {"c21_gap_seqgan@0.25", "c21_gap_seqgan@0.5", "c21_gap_seqgan@0.75"} <= set(smoke_outcome.metrics)
