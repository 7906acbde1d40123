"""The csp-synthetic study's decision rules on known inputs, its intervals and its benchmark
(the end-to-end run is in tests/test_studies_smoke.py)."""

import fcntl
import json
import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from thoughtlab.csp import benchmark, study
from thoughtlab.csp.anchors import AnchorDesign
from thoughtlab.study import Outcome, judge_claim

CLAIMS = {c.id: c for c in study.CLAIMS}
MR2, GAP = "csp.default.reasonable", "degradation_gap"


def judged(claim_id, outcomes):
    return judge_claim(CLAIMS[claim_id], [Outcome(m) for m in outcomes])


def stored(key, estimate, low, high, at="", n=100, resolved=True):
    """What run() stores for one interval at one budget point."""
    return {f"{key}{at}": estimate, f"{key}.low{at}": low, f"{key}.high{at}": high, f"{key}.n{at}": float(n),
            f"{key}.resolved{at}": float(resolved)}


def with_curve(key, final, at_75, others=0.9):
    """A one-seed outcome with a learning curve: 0.25/0.5 at ``others``, 0.75 at ``at_75``, and the final interval."""
    half = (final[2] - final[1]) / 2
    metrics = stored(key, *final)
    for f, value in ((0.25, others), (0.5, others), (0.75, at_75)):
        metrics |= stored(key, value, value - half, value + half, at=f"@{f:g}")
    return metrics


# ------------------------------------------------------------------ c14: CSP MR⁻² below 20 %, refuted above 40 %

@pytest.mark.parametrize("final, verdict", [
    ((0.15, 0.10, 0.19), "supported"),
    ((0.15, 0.10, 0.20), "inconclusive"),    # the upper end touches 20 %: not below it
    ((0.18, 0.15, 0.21), "inconclusive"),    # straddles 20 %
    ((0.30, 0.21, 0.39), "inconclusive"),    # between the thresholds
    ((0.50, 0.41, 0.60), "inconclusive"),    # above 40 %, but no learning curve
])
def test_miss_rate_one_seed_without_curve(final, verdict):
    record = judged("csp-detects-well", [stored(MR2, *final)])
    assert record["verdict"] == verdict
    assert record["effect"]["method"].startswith("BCa bootstrap over 100 test images")


@pytest.mark.parametrize("at_75, verdict, reason", [
    (0.625, "refuted", "plateaued"),             # |0.75 − 0.625| = 0.125 ≤ half-width 0.25
    (0.5, "refuted", "plateaued"),               # exactly the half-width: still a plateau
    (0.4375, "inconclusive", "still changing"),  # 0.3125 > 0.25
])
def test_miss_rate_refutation_needs_a_plateau(at_75, verdict, reason):
    record = judged("csp-detects-well", [with_curve(MR2, (0.75, 0.5, 1.0), at_75)])
    assert record["verdict"] == verdict and reason in record["reason"]
    assert [p["fraction"] for p in record["curve"]] == [0.25, 0.5, 0.75, 1.0]


def test_unresolved_bootstrap_is_unbounded():
    record = judged("csp-detects-well", [stored(MR2, 0.1, 0.1, 0.1, resolved=False)])
    assert record["verdict"] == "inconclusive" and record["effect"]["low"] is None


@pytest.mark.parametrize("seeds, verdict", [
    ((0.15, 0.12, 0.14), "supported"),
    ((0.15, 0.25, 0.20), "inconclusive"),    # the t interval straddles 20 %
    ((0.45, 0.50, 0.48), "inconclusive"),    # far above, but no learning curve
])
def test_miss_rate_several_seeds_use_the_t_interval(seeds, verdict):
    record = judged("csp-detects-well", [stored(MR2, s, 0.0, 1.0) for s in seeds])
    assert record["verdict"] == verdict and record["effect"]["method"].startswith("Student t over 3 seeds")


# ------------------------------------------------------------------ c15: degradation gap above +0.05, control

def c15(final, redesigned=0.2, **curve):
    metrics = with_curve(GAP, final, **curve) if curve else stored(GAP, *final)
    return metrics | {"anchor_redesigned.shifted.reasonable": redesigned}


@pytest.mark.parametrize("outcome, verdict, reason", [
    (c15((0.2, 0.10, 0.30)), "supported", "supporting side"),
    (c15((0.2, 0.05, 0.30)), "inconclusive", "straddles"),                 # low end on +0.05: not above
    (c15((0.0, -0.04, 0.04)), "inconclusive", "straddles"),
    (c15((0.2, 0.10, 0.30), redesigned=0.45), "inconclusive", "control failed"),
    (c15((0.2, 0.10, 0.30), redesigned=0.40), "inconclusive", "control failed"),   # 40 % is not below 40 %
    (c15((-0.2, -0.30, -0.10)), "inconclusive", "no learning curve"),
    (c15((-0.2, -0.30, -0.10), at_75=-0.15), "refuted", "plateaued"),
    (c15((-0.2, -0.30, -0.10), at_75=-0.35), "inconclusive", "still changing"),
    (c15((-0.2, -0.30, -0.05)), "inconclusive", "straddles"),                # high end on −0.05: not below
    (c15((-0.2, -0.30, -0.10), redesigned=0.5, at_75=-0.2), "inconclusive", "control failed"),
])
def test_anchor_shift_criterion(outcome, verdict, reason):
    record = judged("anchors-must-be-tuned", [outcome])
    assert record["verdict"] == verdict and reason in record["reason"]


def test_anchor_shift_several_seeds():
    seeds = [c15((g, -1.0, 1.0)) for g in (0.20, 0.22, 0.18)]
    assert judged("anchors-must-be-tuned", seeds)["verdict"] == "supported"


def test_degradation_is_relative_to_headroom():
    # Both lose half of their headroom: no gap, although the anchor detector lost more points.
    assert study.relative_degradation(0.2, 0.6) == pytest.approx(0.5)
    assert study.relative_degradation(0.6, 0.8) == pytest.approx(0.5)


class Matches:
    """Stands in for ImageMatches: the 'MR⁻²' of a resample is the mean of per-image values."""

    def __init__(self, values):
        self.values = np.asarray(values, dtype=float)

    def __len__(self):
        return len(self.values)

    def mr2(self, indices):
        return float(self.values[np.asarray(indices)].mean())


def test_gap_statistic_pairs_the_detectors():
    rng = np.random.default_rng(0)
    default, shifted = rng.uniform(0, 0.5, 30), rng.uniform(0.3, 0.9, 40)
    same = {name: {"default": Matches(default), "shifted": Matches(shifted)} for name in ("anchor", "csp")}
    gap = study.gap_statistic(same)
    for _ in range(5):   # identical detectors: zero gap on every resample, only if both see the same images
        assert gap(rng.integers(0, 30, 30), rng.integers(0, 40, 40)) == pytest.approx(0.0)
    worse = {"anchor": {"default": Matches(default), "shifted": Matches(np.minimum(shifted + 0.1, 1))},
             "csp": same["csp"]}
    d, s = np.arange(30), np.arange(40)
    expected = (study.relative_degradation(default.mean(), np.minimum(shifted + 0.1, 1).mean())
                - study.relative_degradation(default.mean(), shifted.mean()))
    assert study.gap_statistic(worse)(d, s) == pytest.approx(expected)


def test_measure_point_stores_what_the_effects_read():
    rng = np.random.default_rng(1)
    matches = {name: {dist: Matches(rng.uniform(0, 1, 20)) for dist in ("default", "shifted")}
               for name in ("csp", "anchor")}
    metrics = {}
    study.measure_point(metrics, matches, 0.5, seed=0)
    study.measure_point(metrics, matches, 1.0, seed=0)
    for fraction, at in ((0.5, "@0.5"), (1.0, "")):
        view = {k.removesuffix(at): v for k, v in metrics.items() if k.endswith(at) and ("@" in k) == bool(at)}
        mr2, gap = study.csp_miss_rate([view]), study.degradation_gap([view])
        assert mr2.estimate == pytest.approx(matches["csp"]["default"].values.mean())
        assert mr2.low < mr2.estimate < mr2.high and mr2.n == 20
        assert gap.low < gap.estimate < gap.high and gap.n == 40
        assert all(math.isfinite(v) for v in metrics.values())


def test_measure_point_without_intervals_stores_the_same_estimates():
    rng = np.random.default_rng(2)
    matches = {name: {dist: Matches(rng.uniform(0, 1, 20)) for dist in ("default", "shifted")}
               for name in ("csp", "anchor")}
    with_ci, without = {}, {}
    study.measure_point(with_ci, matches, 0.5, seed=0)
    study.measure_point(without, matches, 0.5, seed=0, intervals=False)
    assert without == {k: v for k, v in with_ci.items() if k in without}
    assert {"csp.default.reasonable@0.5", "degradation_gap@0.5"} <= set(without)
    assert not any(".low" in k or ".n@" in k for k in without)
    view = {k.removesuffix("@0.5"): v for k, v in without.items()}
    assert study.csp_miss_rate([view]).low == -math.inf      # one seed of a several-seed scale: no interval
    assert study.csp_miss_rate([view, view, view]).method.startswith("Student t")


# ------------------------------------------------------------------ the benchmark

def test_anchor_detector_shares_the_backbone_and_uses_the_design():
    design = AnchorDesign((20.0, 40.0), (0.41,))
    config = benchmark.anchor_detector({"detector": "csp", "backbone": "resnet34", "width": 0.5}, design)
    assert config["detector"] == "anchor" and config["backbone"] == "resnet34" and config["width"] == 0.5
    assert config["anchors"] == design.to_config()


def test_benchmark_splits_and_jobs(tmp_path):
    folders = benchmark.make_benchmark(study.SMOKE, tmp_path)
    for dist in benchmark.DISTRIBUTIONS:
        for split, n in study.SMOKE.sizes.items():
            n = study.SMOKE.shifted_test if (dist, split) == ("shifted", "test") else n
            assert len(json.loads((folders[dist] / f"{split}_gt.json").read_text())["images"]) == n
    before = (folders["default"] / "test_gt.json").stat().st_mtime_ns
    benchmark.make_benchmark(study.SMOKE, tmp_path)   # written once, reused (e.g. when a run resumes)
    assert (folders["default"] / "test_gt.json").stat().st_mtime_ns == before
    design = benchmark.designs(study.SMOKE, folders)
    jobs = benchmark.jobs(study.SMOKE, folders, design, seed=3)
    assert jobs["csp"].tests["shifted"][1] == {"aspect_ratio": design["shifted"].aspects[0]}
    assert jobs["csp"].tests["default"][1] == {} and jobs["anchor"].tests["shifted"][1] == {}
    assert jobs["anchor"].train.detector["anchors"] == design["default"].to_config()
    redesigned = jobs["anchor_redesigned"]
    assert redesigned.train.detector["anchors"] == design["shifted"].to_config()
    assert redesigned.data == folders["shifted"] and set(redesigned.tests) == {"shifted"}
    assert all(job.train.seed == 3 for job in jobs.values())


def test_parallel_training_gives_the_same_detections_as_sequential(tmp_path):
    folders = benchmark.make_benchmark(study.SMOKE, tmp_path / "data")
    job = benchmark.Job(study.SMOKE.train, folders["default"], {"default": (folders["default"], {})})
    serial = benchmark.train_all({"csp": job}, tmp_path / "serial", parallel=1)["csp"]
    spawned = benchmark.train_all({"csp": job}, tmp_path / "spawned", parallel=2)["csp"]
    assert serial["val_history"] == spawned["val_history"]
    assert set(serial["detections"]) == {0.25, 0.5, 0.75, 1.0}
    for fraction, per_dist in serial["detections"].items():
        a, b = per_dist["default"], spawned["detections"][fraction]["default"]
        assert np.array_equal(a.boxes, b.boxes) and np.array_equal(a.scores, b.scores)
    assert all((tmp_path / "serial" / "csp" / f"teacher@{f:g}.pt").is_file() for f in benchmark.FRACTIONS)


def test_seeds_of_a_run_share_one_data_folder_per_data_config(tmp_path):
    run = tmp_path / "run"
    with benchmark.shared_folder(study.SMOKE, run / "seed0") as a:
        pass
    with benchmark.shared_folder(study.SMOKE, run / "seed1") as b:
        pass
    with benchmark.shared_folder(replace(study.SMOKE, data_seed=1), run / "seed0") as other:
        pass
    assert a == b != other and a.parent == other.parent == run


def test_shared_folder_is_held_by_one_seed_at_a_time(tmp_path):
    with benchmark.shared_folder(study.SMOKE, tmp_path / "seed0") as folder:
        with open(folder / ".lock", "w") as other:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(folder / ".lock", "w") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)   # released on exit


def test_hog_runs_once_per_data_folder(tmp_path, monkeypatch):
    calls, found = [], [{"image_id": 1, "category_id": 1, "bbox": [1.0, 2.0, 3.0, 4.0], "score": 0.5}]

    def fake_hog(gt, images, progress):
        calls.append(gt)
        return found

    monkeypatch.setattr(study, "hog_detect_dataset", fake_hog)
    folders = {"default": tmp_path / "default"}
    folders["default"].mkdir()
    ctx = SimpleNamespace(progress=lambda it, desc="": it)
    first, again = study.evaluate_hog(folders, ctx), study.evaluate_hog(folders, ctx)
    assert first == again == {"default": found} and len(calls) == 1
