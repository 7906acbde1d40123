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
    for record in records:
        assert record["verdict"] in {"supported", "refuted", "inconclusive"}
        assert set(record["measures"]) <= set(outcome.metrics)
    assert all(isinstance(v, float) and np.isfinite(v) for v in outcome.metrics.values())


def test_smoke_run_is_deterministic(smoke_outcomes):
    a, b = smoke_outcomes
    assert a.metrics == b.metrics
    assert a.data["gan"]["ratings"] == b.data["gan"]["ratings"]
