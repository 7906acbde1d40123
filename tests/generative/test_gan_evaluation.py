"""The small GAN and the gan-evaluation study end to end at smoke scale."""

import numpy as np
import pytest
import torch

from thoughtlab.generative import gan
from thoughtlab.generative.gan_evaluation import STUDY
from thoughtlab.runs import LocalContext
from thoughtlab.study import verdicts


def test_gan_snapshots_are_saved_and_reproducible(tmp_path):
    data = np.random.default_rng(0).random((64, 1, 28, 28), dtype=np.float32)
    cfg = gan.GanConfig(steps=4, batch_size=16, snapshots=(0, 2, 4))
    paths_a = gan.train_gan(data, cfg, seed=3, folder=tmp_path / "a")
    paths_b = gan.train_gan(data, cfg, seed=3, folder=tmp_path / "b")
    assert [p.name for p in paths_a] == ["gan_step00000.pt", "gan_step00002.pt", "gan_step00004.pt"]
    for pa, pb in zip(paths_a, paths_b):
        (sa, ga, da), (sb, gb, db) = gan.load_snapshot(pa), gan.load_snapshot(pb)
        assert sa == sb
        assert np.array_equal(gan.sample(ga, 8, 0), gan.sample(gb, 8, 0))
        x = torch.from_numpy(gan.sample(ga, 8, 1))
        assert torch.equal(gan.judge(da)(x), gan.judge(db)(x))
    first, last = gan.load_snapshot(paths_a[0])[1], gan.load_snapshot(paths_a[-1])[1]
    assert not np.array_equal(gan.sample(first, 8, 0), gan.sample(last, 8, 0))
    images = gan.sample(last, 8, 0)
    assert images.shape == (8, 1, 28, 28) and 0 <= images.min() and images.max() <= 1


def test_bad_snapshot_list_is_rejected(tmp_path):
    with pytest.raises(Exception, match="snapshots"):
        gan.train_gan(np.zeros((8, 1, 28, 28), np.float32), gan.GanConfig(steps=3, snapshots=(0, 5)), 0, tmp_path)


@pytest.fixture(scope="module")
def smoke_outcomes(tmp_path_factory):
    cfg = STUDY.config("smoke")
    return [STUDY.run(cfg, LocalContext(seed=0, scale="smoke", run_dir=tmp_path_factory.mktemp(f"run{i}")))
            for i in range(2)]


def test_smoke_run_plots_and_decides_every_claim(smoke_outcomes, figures):
    outcome = smoke_outcomes[0]
    STUDY.plot(STUDY.config("smoke"), [outcome], figures)
    assert set(figures.saved) == {"metric_defect_heatmap", "severity", "skill_vs_fid", "examples", "tournament"}
    records = verdicts(STUDY, [outcome])
    assert [r["id"] for r in records] == [c.id for c in STUDY.claims]
    assert {tuple(r["ledger"]) for r in records} == {("c24",), ("c25",), ("c27",)}
    for record in records:
        assert set(record["measures"]) <= set(outcome.metrics)
        assert record["effect"]["low"] is None  # one seed resolves nothing
    assert all(isinstance(v, float) and np.isfinite(v) for v in outcome.metrics.values())


def test_smoke_run_is_deterministic(smoke_outcomes):
    a, b = smoke_outcomes
    assert a.metrics == b.metrics
    assert a.data["gan"]["ratings"] == b.data["gan"]["ratings"]


def known_view(fid_quality=3.0, fid_diversity=1.2, is_quality=0.3, is_diversity=0.9, precision=(1.0, 0.5),
               recall=(0.5, 1.0), msssim=(1.5, 1.0), gs=(10.0, 1.0), rho=0.8, jitter=0.0):
    """Ratios to ideal per defect; blur matches mode dropping in oracle error, the sweep's blur1 in FID."""
    v = {"mode_drop.lost_share": 0.5, "oracle_error.blur": 0.45, "oracle_error.noise": 0.9, "oracle_error.blur1": 0.1,
         "skill.rho_step": rho + jitter, "skill.rho_neg_fid": rho + jitter, "gan.fid.first": 100.0, "gan.fid.last": 10.0}
    for d in ("mode_drop", "truncation"):
        v |= {f"fid.{d}.rel": fid_diversity, f"is.{d}.rel": is_diversity}
    for d in ("blur", "noise", "blur1"):
        v |= {f"fid.{d}.rel": fid_quality * (1 + jitter), f"is.{d}.rel": is_quality}
    v["fid.blur1.rel"] = fid_diversity * (1 + jitter)  # matched in FID to mode dropping
    for metric, (on_mode_drop, on_quality) in (("precision", precision), ("recall", recall), ("density", precision),
                                               ("coverage", recall), ("gs", gs)):
        v[f"{metric}.mode_drop.rel"] = on_mode_drop
        for d in ("blur", "noise", "blur1"):
            v[f"{metric}.{d}.rel"] = on_quality * (1 + jitter)
    v["msssim.truncation.rel"], v["msssim.blur.rel"] = msssim[0] * (1 + jitter), msssim[1] * (1 + jitter)
    return v


def judge_all(**kw):
    from thoughtlab.study import Outcome

    return {r["id"]: r["verdict"] for r in verdicts(STUDY, [Outcome(known_view(**kw, jitter=0.01 * k)) for k in range(3)])}


def test_decision_rules_support_on_textbook_metrics():
    assert set(judge_all().values()) == {"supported", "refuted"}
    assert judge_all()["msssim-has-problems"] == "refuted"  # blur left MS-SSIM unchanged here
    assert {k: v for k, v in judge_all().items() if k != "msssim-has-problems"} == dict.fromkeys(
        [c.id for c in STUDY.claims if c.id != "msssim-has-problems"], "supported")


def test_decision_rules_refute_when_metrics_swap_roles():
    verdicts_ = judge_all(fid_quality=1.1, fid_diversity=3.0, is_quality=0.95, is_diversity=0.5, precision=(0.5, 1.0),
                          recall=(1.0, 0.5), msssim=(1.0, 1.5), gs=(1.0, 10.0), rho=-0.8)
    assert verdicts_["fid-misses-diversity"] == verdicts_["is-misses-diversity"] == "refuted"
    assert verdicts_["precision-recall-separate"] == verdicts_["density-coverage-separate"] == "refuted"
    assert verdicts_["geometry-score-sees-topology"] == "refuted"
    assert verdicts_["msssim-has-problems"] == "supported"
    assert verdicts_["msssim-detects-lost-diversity"] == "inconclusive"  # negative control: blur reads as lost diversity
    assert verdicts_["skill-tracks-training"] == verdicts_["skill-agrees-with-fid"] == "refuted"


def test_matched_severities():
    from thoughtlab.generative.gan_evaluation import matched_in_fid, matched_quality

    v = known_view()
    assert matched_quality(v, 0.5) == "blur" and matched_in_fid(v) == "blur1"
