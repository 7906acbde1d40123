"""The csp-synthetic study's criteria and benchmark (the end-to-end run is in tests/test_studies_smoke.py)."""

import json

import pytest

from thoughtlab.csp import study
from thoughtlab.csp.anchors import AnchorDesign

CLAIMS = {c.id: c for c in study.CLAIMS}


def judge(claim_id, views):
    from thoughtlab.study import Outcome, judge_claim

    return judge_claim(CLAIMS[claim_id], [Outcome(v) for v in views])["verdict"]


@pytest.mark.parametrize("seeds, verdict", [
    ((0.15, 0.12, 0.14), "supported"),
    ((0.15, 0.25, 0.20), "inconclusive"),   # the interval straddles the 20 % target
    ((0.45, 0.50, 0.48), "inconclusive"),   # far above, but no learning curve shows a plateau
    ((0.15,), "inconclusive"),              # one seed resolves nothing
])
def test_miss_rate_criterion(seeds, verdict):
    assert judge("csp-detects-well", [{"csp.default.reasonable": s} for s in seeds]) == verdict


def shift(csp_default, csp_shifted, anchor_default, anchor_shifted):
    return {"csp.default.reasonable": csp_default, "csp.shifted.reasonable": csp_shifted,
            "anchor.default.reasonable": anchor_default, "anchor.shifted.reasonable": anchor_shifted}


def test_degradation_is_relative_to_headroom():
    # Both lose half of their headroom: no gap, although the anchor detector lost more points.
    assert study.relative_degradation(shift(0.2, 0.6, 0.6, 0.8), "csp") == pytest.approx(0.5)
    assert study.relative_degradation(shift(0.2, 0.6, 0.6, 0.8), "anchor") == pytest.approx(0.5)


@pytest.mark.parametrize("views, verdict", [
    ([shift(0.2, 0.3, 0.3, 0.8), shift(0.2, 0.32, 0.3, 0.78), shift(0.21, 0.3, 0.31, 0.8)], "supported"),
    ([shift(0.2, 0.6, 0.6, 0.8), shift(0.2, 0.61, 0.6, 0.8), shift(0.2, 0.6, 0.61, 0.8)], "inconclusive"),
    ([shift(0.2, 0.8, 0.3, 0.35), shift(0.2, 0.8, 0.3, 0.36), shift(0.2, 0.79, 0.3, 0.35)], "inconclusive"),  # no curve
])
def test_anchor_shift_criterion(views, verdict):
    assert judge("anchors-must-be-tuned", views) == verdict


def test_anchor_baseline_shares_the_backbone_and_uses_the_design():
    design = AnchorDesign((20.0, 40.0), (0.41,))
    config = study.anchor_detector({"detector": "csp", "backbone": "resnet34", "width": 0.5}, design)
    assert config["detector"] == "anchor" and config["backbone"] == "resnet34" and config["width"] == 0.5
    assert config["anchors"] == design.to_config()


def test_benchmark_has_default_splits_and_a_shifted_test_split(tmp_path):
    folders = study.make_benchmark(study.SMOKE, tmp_path)
    for split, n in study.SMOKE.sizes.items():
        assert len(json.loads((folders["default"] / f"{split}_gt.json").read_text())["images"]) == n
    shifted = json.loads((folders["shifted"] / "test_gt.json").read_text())
    assert len(shifted["images"]) == study.SMOKE.shifted_test
    assert not (folders["shifted"] / "train_gt.json").exists()
    before = (folders["default"] / "test_gt.json").stat().st_mtime_ns
    study.make_benchmark(study.SMOKE, tmp_path)   # written once, reused (e.g. when a run resumes)
    assert (folders["default"] / "test_gt.json").stat().st_mtime_ns == before


def test_parallel_training_gives_the_same_weights_as_sequential(tmp_path):
    import torch

    from thoughtlab.csp import training

    folders = study.make_benchmark(study.SMOKE, tmp_path / "data")
    jobs = {"csp": study.SMOKE.train}
    serial = study.train_all(jobs, folders["default"], tmp_path / "serial", parallel=1)
    spawned = study.train_all(jobs, folders["default"], tmp_path / "spawned", parallel=2)
    (_, a), (_, b) = training.load_detector(serial["csp"][0]), training.load_detector(spawned["csp"][0])
    assert serial["csp"][1] == spawned["csp"][1]   # validation history
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key]), key
