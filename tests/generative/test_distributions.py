"""gan-distributions: decision rules at their boundaries on known inputs, and the study end to end at smoke scale."""

import math

import numpy as np
import pytest

from thoughtlab.generative import distributions as study
from thoughtlab.generative import distributions_experiments as ex
from thoughtlab.generative.synthetic import mog
from thoughtlab.runs import LocalContext
from thoughtlab.study import decide, verdicts


def coverage(modes, hq):
    return mog.Coverage(modes, hq, 0.0, ())


@pytest.mark.parametrize("modes,hq,expected", [(9, 50.0, 1.0), (8, 99.0, 0.0), (10, 49.99, 0.0), (10, 100.0, 1.0)])
def test_success_rule_at_its_boundaries(modes, hq, expected):
    assert ex.learnt(coverage(modes, hq), 10) == expected  # >= 90 % of 10 modes and >= 50 % HQ


def cell_views(success_of, seeds=4, em=None):
    """Views of a 3 x 3 x 2 map whose GAN success is ``success_of(k, ratio, dim, seed)``."""
    cells = [(k, r, d) for k in (4, 16, 64) for r in (4.0, 16.0, 64.0) for d in (2, 16)]
    return [{"map.k": [c[0] for c in cells], "map.ratio": [c[1] for c in cells], "map.dim": [c[2] for c in cells],
             "map.gan_success": [float(success_of(*c, s)) for c in cells],
             "map.em_success": [float(em(*c, s)) if em else 1.0 for c in cells],
             "map.true_success": [1.0] * len(cells)} for s in range(seeds)]


def judge(claim_id, views):
    claim = next(c for c in study.CLAIMS if c.id == claim_id)
    failed = [c.name for c in claim.controls if not c.passed(views)]
    return decide(claim, claim.effect(views), True, failed)[0]


def test_c19_supported_when_k_decides_success():
    views = cell_views(lambda k, r, d, s: k <= 16)
    effect = study.strongest_predictor(views)
    assert effect.low > 0 and judge("property-predicts-failure", views) == "supported"
    intervals = ex.coefficient_intervals(views)
    assert intervals[0].high < 0 and abs(intervals[0].estimate) > max(abs(iv.estimate) for iv in intervals[1:])


def test_c19_refuted_when_success_is_a_coin_flip_unrelated_to_the_properties():
    rng = np.random.default_rng(0)
    flips = {key: rng.random() < 0.5 for key in np.ndindex(3, 3, 2, 40)}
    index = {4: 0, 16: 1, 64: 2, 4.0: 0, 16.0: 1, 64.0: 2, 2: 0}
    views = cell_views(lambda k, r, d, s: flips[(index[k], index[r], 0 if d == 2 else 1, s)], seeds=40)
    effect = study.strongest_predictor(views)
    assert effect.high < study.NO_EFFECT and judge("property-predicts-failure", views) == "refuted"


@pytest.mark.parametrize("rate,passes", [(0.1, True), (0.9, True), (0.0, False), (1.0, False)])
def test_informative_control_boundaries(rate, passes):
    n = 10
    views = [{"map.k": [4] * n, "map.ratio": [4.0] * n, "map.dim": [2] * n,
              "map.gan_success": [1.0] * round(rate * n) + [0.0] * (n - round(rate * n))}]
    assert study.map_is_informative(views) == passes


def test_c20_on_known_differences():
    hard_for_gan = cell_views(lambda k, r, d, s: r < 64 or s == 0)  # fails most 64-ratio cells, EM never fails
    assert study.em_minus_gan(hard_for_gan).estimate == pytest.approx(100 * 6 * 3 / (18 * 4))
    assert judge("gan-hard-beyond-likelihood", hard_for_gan) == "supported"
    same = cell_views(lambda k, r, d, s: r < 64, em=lambda k, r, d, s: r < 64)
    assert study.em_minus_gan(same).high == 0.0
    assert judge("gan-hard-beyond-likelihood", same) == "inconclusive"  # 0 is not below the refute threshold 0
    gan_better = cell_views(lambda k, r, d, s: not (k == 4 and r == 64), em=lambda k, r, d, s: k == 4 or r == 4)
    assert study.em_minus_gan(gan_better).estimate == pytest.approx(-100 * 6 / 18)
    assert judge("gan-hard-beyond-likelihood", gan_better) == "refuted"


def test_em_control_needs_every_smallest_k_cell():
    views = cell_views(lambda k, r, d, s: r < 64, em=lambda k, r, d, s: not (k == 4 and r == 64 and s == 3))
    assert not study.em_learns_smallest_k(views)
    assert study.em_learns_smallest_k(cell_views(lambda k, r, d, s: True, em=lambda k, r, d, s: k == 4))


def test_metric_keys_do_not_depend_on_the_seed():
    """Every seed reports the same metric keys (the runner tabulates them across seeds)."""
    cfg = ex.ReplicationConfig(datasets=("ring",), packs=(1,), steps=4, train_points=200, eval_samples=50)
    keys = [set(ex.run_replication(cfg, seed)[0]) for seed in (0, 1)]
    assert keys[0] == keys[1] == {f"rep.ring.pack1.{m}{at}" for m in ("modes", "hq")
                                  for at in ("@0.25", "@0.5", "@0.75", "")}


def test_published_rows_are_pacgan_table_1():
    from thoughtlab.generative.distributions_figures import PUBLISHED
    assert PUBLISHED[("ring", 1)][0] == (6.3, 0.5) and PUBLISHED[("grid", 4)][2] == (0.04, 0.01)


@pytest.fixture(scope="module")
def smoke_outcome(tmp_path_factory):
    cfg = study.STUDY.config("smoke")
    return study.STUDY.run(cfg, LocalContext(seed=0, scale="smoke", run_dir=tmp_path_factory.mktemp("run")))


def test_smoke_run_measures_every_part(smoke_outcome):
    cfg = study.STUDY.config("smoke")
    m, items = smoke_outcome.metrics, smoke_outcome.items
    assert {"rep.ring.pack1.modes", "rep.ring.pack2.hq@0.5", "tri.gan.f1", "tri.memoriser.recall", "tri.delta"} <= set(m)
    assert len(items["map.gan_success"]) == len(items["map.gan_success@0.5"]) == len(cfg.map.cells())
    assert items["map.true_success"] == [1.0] * len(cfg.map.cells())
    assert not any("rkl" in key for key in m)  # undefined for some seeds: kept in data, never a metric
    assert set(smoke_outcome.data["reverse_kl"]) <= {"rep.ring.pack1.rkl", "rep.ring.pack2.rkl"}
    assert 0 <= m["tri.mean.precision"] <= 1 and math.isfinite(m["tri.fit_floor"])
    assert 0 <= m["tri.gan.fit_beats_nearest_train"] <= 1 and m["tri.memoriser.distance_median"] < m["tri.delta"]
    assert len(smoke_outcome.data["triangle_distances"]) == cfg.triangles.samples
    assert set(smoke_outcome.data["cpu_seconds"]) == {"replication", "map", "triangles"}
    records = verdicts(study.STUDY, [smoke_outcome])
    assert [r["id"] for r in records] == ["property-predicts-failure", "gan-hard-beyond-likelihood"]
    assert all(r["verdict"] in ("supported", "refuted", "inconclusive") for r in records)


def test_smoke_figures(smoke_outcome, tmp_path):
    saved = []

    class Sink:
        def save(self, name, fig, caption):
            saved.append(name)
            assert caption

    study.STUDY.plot(study.STUDY.config("smoke"), [smoke_outcome], Sink())
    assert saved == ["replication_table", "learnability_map", "logistic_fit", "triangles"]


def test_logistic_fit_matches_sklearn_and_handles_one_class():
    from sklearn.linear_model import LogisticRegression
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3))
    y = (x[:, 1] + 0.5 * rng.normal(size=80) > 0).astype(float)
    ours = ex.logistic_coefficients(x, y)
    theirs = LogisticRegression(C=1.0, tol=1e-10, max_iter=1000).fit(x, y).coef_[0]
    assert np.allclose(ours, theirs, atol=1e-6)
    assert np.array_equal(ex.logistic_coefficients(x, np.ones(80)), np.zeros(3))
