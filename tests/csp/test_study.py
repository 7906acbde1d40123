"""The csp-synthetic study's criteria and benchmark (the end-to-end run is in tests/test_studies_smoke.py)."""

import json

import pytest

from thoughtlab.csp import study
from thoughtlab.csp.anchors import AnchorDesign

CLAIMS = {c.id: c for c in study.CLAIMS}


@pytest.mark.parametrize("csp, hog, verdict", [
    (0.15, 0.50, "supported"),
    (0.30, 0.50, "inconclusive"),   # between the target and twice the target
    (0.45, 0.90, "refuted"),        # far above the target
    (0.15, 0.10, "refuted"),        # low, but HOG is better
    (0.20, 0.20, "refuted"),        # a tie with HOG is not "beats HOG"
])
def test_low_miss_rate_criterion(csp, hog, verdict):
    metrics = {"csp.default.reasonable": csp, "hog.default.reasonable": hog}
    assert CLAIMS["csp-low-miss-rate-without-anchors"].decide(metrics) == verdict


@pytest.mark.parametrize("gap, verdict", [(0.10, "supported"), (0.05, "supported"), (0.0, "inconclusive"),
                                          (-0.049, "inconclusive"), (-0.2, "refuted")])
def test_anchor_shift_criterion(gap, verdict):
    assert CLAIMS["anchors-must-be-tuned"].decide({"degradation_gap": gap}) == verdict


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

    from thoughtlab.csp.detectors import load_detector

    folders = study.make_benchmark(study.SMOKE, tmp_path / "data")
    jobs = {"csp": study.SMOKE.train}
    serial = study.train_all(jobs, folders["default"], tmp_path / "serial", parallel=1)
    spawned = study.train_all(jobs, folders["default"], tmp_path / "spawned", parallel=2)
    (_, a), (_, b) = load_detector(serial["csp"][0]), load_detector(spawned["csp"][0])
    assert serial["csp"][1] == spawned["csp"][1]   # validation history
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key]), key
