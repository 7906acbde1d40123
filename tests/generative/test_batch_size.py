"""Study gan-batch-size: smoke end to end, helpers, and every decision rule on known inputs at its boundaries."""

import dataclasses
import math

import pytest
import torch

from thoughtlab.generative import batch_size as bs
from thoughtlab.generative.synthetic.mog import grid
from thoughtlab.runs import LocalContext
from thoughtlab.study import Outcome, verdicts

IDS = ["larger-batch-better", "larger-batch-better-sqrt-lr", "larger-batch-faster", "noise-scale-predicts-critical-batch",
       "ot-gan-needs-large-batches",
       "dirac-growth-predicted", "snapshots-help-chekhov", "snapshots-help-replay", "snapshots-help-history",
       "snapshots-help-ema", "async-helps-gans"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    ctx = LocalContext(seed=0, scale="smoke", run_dir=tmp_path_factory.mktemp("seed0"))
    return bs.STUDY.run(bs.STUDY.config("smoke"), ctx)


def test_smoke_end_to_end(smoke, figures):
    cfg = bs.STUDY.config("smoke")
    for key, value in smoke.metrics.items():
        assert isinstance(value, float) and math.isfinite(value), key
    for name in ("gan-B8-fixed", "gan-B32-sqrt", "ot-B32", "stale-t2-chekhov", "stale-t2-ema", "stale-t0-replay"):
        assert 0 <= smoke.metrics[f"modes.{name}"] <= 25 and 0 <= smoke.metrics[f"hq.{name}@0.5"] <= 100
        assert 0 <= smoke.metrics[f"rkl.{name}"] <= math.log(25) + 1e-9
    assert {"log10_bsimple_d.gan-B8-fixed", "log10_bsimple_g.gan-B32-fixed@0.25", "acc.cls-t2@0.5",
            "steps_to_target.gan-B16-fixed", "log10_critical_batch", "log10_predicted_batch_g"} <= set(smoke.metrics)
    assert smoke.metrics["dirac_max_error"] < 1e-3
    records = verdicts(bs.STUDY, [smoke])
    assert [r["id"] for r in records] == IDS
    assert all(r["ledger"] in (["c29"], ["c30"]) for r in records)
    bs.STUDY.plot(cfg, [smoke, smoke], figures)
    assert set(figures.saved) == {"batch_sweep", "dirac_growth", "staleness"}


def test_one_arm_is_deterministic(tmp_path):
    cfg = bs.STUDY.config("smoke")
    ctx = LocalContext(seed=5, scale="smoke", run_dir=tmp_path)
    data = torch.from_numpy(grid().sample(500, 0)[0])
    runs = [bs.run_gan(cfg, ctx, data, grid(), "stale-t2-replay", 8, 1e-3, tau=2, method="replay") for _ in range(2)]
    assert runs[0] == runs[1]


def test_full_scale_runs_every_arm(tmp_path):
    """A dry run of ``full`` on CPU: every arm at its full batch and network sizes (Sinkhorn on 2,048 × 2,048
    costs) for 4 steps; only counts are cut (Sinkhorn iterations, Dirac steps, noise-scale examples, data
    points), so a GPU session meets no shape or key surprise the claims could trip on."""
    full = bs.STUDY.config("full")
    cfg = dataclasses.replace(full, steps=4, ot_steps=4, classifier_steps=4, evals=4, ot_iterations=2,
                              dirac_steps=200, noise_examples=64, data_size=10_000)
    out = bs.STUDY.run(cfg, LocalContext(seed=0, scale="full", run_dir=tmp_path))
    gan = [f"gan-B{b}-{r}" for b in full.batches for r in ("fixed", "sqrt") if (b, r) != (64, "sqrt")]
    stale = [f"stale-t{t}-{m}" for t in full.taus for m in ("plain", "chekhov", "replay", "history", "ema")]
    for name in gan + [f"ot-B{b}" for b in full.ot_batches] + stale:
        assert f"modes.{name}" in out.metrics and f"hq.{name}@0.25" in out.metrics, name
    assert {f"acc.cls-t{t}" for t in full.taus} | {f"log10_bsimple_g.gan-B{b}-fixed" for b in full.batches} <= set(
        out.metrics)
    assert all(math.isfinite(v) for v in out.metrics.values())
    assert [r["id"] for r in verdicts(bs.STUDY, [out])] == IDS


def test_lr_rules():
    cfg = bs.Config(lr=1e-3, reference_batch=64)
    assert bs.lr_for(cfg, 256, "fixed") == 1e-3
    assert bs.lr_for(cfg, 256, "sqrt") == pytest.approx(2e-3)
    assert bs.lr_for(cfg, 64, "sqrt") == pytest.approx(1e-3)


def test_steps_to_criterion_censoring_and_collapse():
    cfg = bs.Config(steps=800, evals=4)
    good, bad = (24.0, 91.0, 0.1), (10.0, 50.0, 1.0)
    curve = {"step": [200, 400, 600, 800], "g": [bad, good, bad, (4.0, 10.0, 2.0)], "samples_per_step": 64,
             "budget": 800}
    m = bs.arm_metrics(cfg, "a", curve)
    assert m["steps_to_criterion.a"] == 400 and m["samples_to_criterion.a"] == 400 * 64 and m["reached.a"] == 1.0
    assert m["collapsed.a"] == 1.0  # 4 < 24 / 2
    assert m["modes.a@0.5"] == 24.0 and m["modes.a"] == 4.0
    never = {"step": [200, 400, 600, 800], "g": [bad, (23.0, 99.0, 0.0), (25.0, 89.9, 0.0), (13.0, 50.0, 1.0)],
             "samples_per_step": 8, "budget": 800}
    m = bs.arm_metrics(cfg, "b", never)
    assert m["reached.b"] == 0.0 and m["steps_to_criterion.b"] == 800 + 200 and m["collapsed.b"] == 0.0
    assert m["reached_target.b"] == 1.0 and m["steps_to_target.b"] == 400  # 23 modes at 99 % HQ: the learned level


def test_criterion_reads_eighths_and_target_reads_every_evaluation():
    cfg = bs.Config(steps=1600, evals=16)
    good, learned, bad = (24.0, 91.0, 0.1), (15.0, 10.0, 0.5), (14.0, 50.0, 1.0)
    points = [bad, learned, bad, good] + [bad] * 11 + [good]  # criterion met at 1/4 (an eighth) and at 1/16 × 4
    curve = {"step": [100 * k for k in range(1, 17)], "g": points, "samples_per_step": 16, "budget": 1600}
    m = bs.arm_metrics(cfg, "a", curve)
    assert m["steps_to_criterion.a"] == 400 and m["steps_to_target.a"] == 200
    points[3] = bad  # now met only at the end; an odd sixteenth would not count, the target still does
    points[2] = good
    m = bs.arm_metrics(cfg, "a", curve)
    assert m["steps_to_criterion.a"] == 1600 and m["steps_to_target.a"] == 200
    curve["g"] = [bad] * 16
    m = bs.arm_metrics(cfg, "a", curve)
    assert m["steps_to_criterion.a"] == 1600 + 200 and m["steps_to_target.a"] == 1600 + 100
    assert m["reached_target.a"] == 0.0


def test_critical_batch_metrics_fit_the_fixed_arms_and_average_the_noise_scale():
    cfg = bs.Config(batches=(16, 64, 256), reference_batch=64)
    metrics = {f"steps_to_target.gan-B{b}-fixed": 100.0 * (1 + 64 / b) for b in cfg.batches}
    metrics |= {f"log10_bsimple_{p}.gan-B64-fixed{s}": v for p in "dg" for s, v in
                (("@0.25", 1.0), ("@0.5", 2.0), ("@0.75", 2.0), ("", 3.0))}
    m = bs.critical_batch_metrics(cfg, metrics)
    assert m["critical_batch_inside"] == 1.0 and m["log10_critical_batch"] == pytest.approx(math.log10(64))
    assert m["log10_predicted_batch_g"] == pytest.approx(2.0) and m["predicted_batch_measured_g"] == 1.0
    metrics["log10_bsimple_g.gan-B64-fixed@0.5"] = 9.0  # the cap: |G|² not positive at one measurement
    metrics |= {f"steps_to_target.gan-B{b}-fixed": 500.0 for b in cfg.batches}  # no fall with the batch
    m = bs.critical_batch_metrics(cfg, metrics)
    assert m["predicted_batch_measured_g"] == 0.0 and m["critical_batch_inside"] == 0.0


def test_non_finite_generator_scores_worst():
    g = torch.nn.Linear(8, 2)
    with torch.no_grad():
        g.weight.fill_(float("nan"))
    g.z_dim = 8
    assert bs.scores(grid(), g, 0) == (0.0, 0.0, math.log(25))


def test_noise_metrics_cap_unmeasurable_signal():
    log = [{"d_trace": 10.0, "d_grad_sq": 0.1, "g_trace": 1.0, "g_grad_sq": -1.0}] * 4
    m = bs.noise_metrics("a", log)
    assert m["log10_bsimple_d.a"] == pytest.approx(2.0) and m["log10_bsimple_g.a@0.25"] == pytest.approx(9.0)


# --- decision rules ------------------------------------------------------------------------------

def known(seed: int, gain: float = 0.0, speed: float = 0.0, ot: float = 0.0, snap: float = 0.0,
          contrast: float = 0.0, reached: float = 1.0, base: float = 20.0, acc0: float = 99.0, hq0: float = 60.0,
          dirac: float = 1e-5, drift: float | None = None, crit: float = 0.0, inside: float = 1.0) -> Outcome:
    """Metrics with the given effects; each seed adds ±0.5 of spread (seeds 0, 1, 2 → −0.5, 0, +0.5).

    ``crit``: log10 critical batch − log10 B_simple(G) (its absolute value is the noise-scale claim's effect).
    ``drift``: with a number, the curve also holds the point at 75 % of the budget, where every effect is
    larger by ``drift`` (0: flat, plateaued; large: still changing); ``None``: no curve.
    """
    jitter = (seed - 1) * 0.5

    def arms(shift: float) -> dict[str, float]:
        g, sp, o, sn = gain + jitter + shift, speed + jitter / 100 + shift, ot + jitter + shift, snap + jitter + shift
        lost_gan = contrast + jitter / 100 + shift  # classifier loses nothing: contrast = GAN's loss share
        return {
            "modes.gan-B16-fixed": base, "modes.gan-B1024-fixed": base + g, "modes.gan-B64-fixed": base,
            "modes.gan-B16-sqrt": base, "modes.gan-B1024-sqrt": base + g, "modes.gan-B256-fixed": base,
            "modes.ot-B16": base - 5, "modes.ot-B256": base - 5 + o,
            "modes.stale-t0-plain": base, "modes.stale-t16-plain": base - 25 * lost_gan,
            **{f"modes.stale-t0-{m}": base + sn for m in ("chekhov", "replay", "history", "ema")},
            "steps_to_criterion.gan-B16-fixed": 500 + 1000 * sp, "steps_to_criterion.gan-B1024-fixed": 500.0,
        }

    final = arms(0.0)
    early = {f"{k}@0.75": v for k, v in arms(drift).items()} if drift is not None else {}
    early |= {"acc.cls-t0@0.75": acc0, "acc.cls-t16@0.75": acc0} if drift is not None else {}
    return Outcome({**final, **early, "budget_steps": 1000.0, "reached.gan-B1024-fixed": reached,
                    "hq.stale-t0-plain": hq0,
                    "dirac_max_error": dirac, "acc.cls-t0": acc0, "acc.cls-t16": acc0,
                    "log10_critical_batch": 2.0 + crit + jitter / 10, "log10_predicted_batch_g": 2.0,
                    "critical_batch_inside": inside, "predicted_batch_measured_g": 1.0,
                    "reached_target.gan-B16-fixed": 1.0, "reached_target.gan-B1024-fixed": 1.0})


def judged(**kw) -> dict[str, str]:
    return {r["id"]: r["verdict"] for r in verdicts(bs.STUDY, [known(s, **kw) for s in range(3)])}


def plateaued(**kw) -> dict[str, str]:
    return judged(drift=0.0, **kw)


@pytest.mark.parametrize(
    "kw, claim, expected",
    [
        ({"gain": 4.0}, "larger-batch-better", "supported"),
        ({"gain": 2.0}, "larger-batch-better", "inconclusive"),  # interval straddles the +2 threshold
        ({"gain": 0.0}, "larger-batch-better", "refuted"),
        ({"gain": 4.0, "base": 14.0}, "larger-batch-better", "inconclusive"),  # control: the GAN does not learn
        ({"gain": 4.0, "hq0": 9.9}, "larger-batch-better", "inconclusive"),  # control: modes by chance hits only
        ({"gain": 4.0, "hq0": 10.0}, "larger-batch-better", "supported"),
        ({"gain": 4.0}, "larger-batch-better-sqrt-lr", "supported"),
        ({"gain": -3.0}, "larger-batch-better-sqrt-lr", "refuted"),
        ({"speed": 0.3}, "larger-batch-faster", "supported"),
        ({"speed": 0.125}, "larger-batch-faster", "inconclusive"),
        ({"speed": 0.0}, "larger-batch-faster", "refuted"),
        ({"speed": 0.3, "reached": 0.0}, "larger-batch-faster", "inconclusive"),  # censored: control fails
        ({"ot": 5.0}, "ot-gan-needs-large-batches", "supported"),
        ({"ot": 2.0}, "ot-gan-needs-large-batches", "inconclusive"),
        ({"ot": -1.0}, "ot-gan-needs-large-batches", "refuted"),
        ({"crit": 0.3}, "noise-scale-predicts-critical-batch", "supported"),  # within a factor 10
        ({"crit": -0.5}, "noise-scale-predicts-critical-batch", "supported"),
        ({"crit": 1.0}, "noise-scale-predicts-critical-batch", "inconclusive"),  # straddles a factor 10
        ({"crit": -2.0}, "noise-scale-predicts-critical-batch", "refuted"),  # 100× apart
        ({"crit": 0.3, "inside": 0.0}, "noise-scale-predicts-critical-batch", "inconclusive"),  # fit shows no floor
        ({}, "dirac-growth-predicted", "holds"),
        ({"dirac": 1e-3}, "dirac-growth-predicted", "fails"),
        ({"snap": 4.0}, "snapshots-help-chekhov", "supported"),
        ({"snap": 2.0}, "snapshots-help-replay", "inconclusive"),
        ({"snap": -1.0}, "snapshots-help-ema", "refuted"),
        ({"contrast": -0.3}, "async-helps-gans", "supported"),
        ({"contrast": -0.05}, "async-helps-gans", "inconclusive"),
        ({"contrast": 0.3}, "async-helps-gans", "refuted"),
        ({"contrast": -0.3, "acc0": 80.0}, "async-helps-gans", "inconclusive"),  # control: classifier does not learn
    ],
)
def test_decision_rules_on_known_inputs(kw, claim, expected):
    assert plateaued(**kw)[claim] == expected


def test_refutation_needs_a_plateau():
    verdict = judged(gain=0.0, drift=3.0)  # the gain fell by 3 modes in the last quarter: still changing
    assert verdict["larger-batch-better"] == "inconclusive"
    assert judged(gain=0.0)["larger-batch-better"] == "inconclusive"  # no curve: plateau unknown
    assert plateaued(gain=0.0)["larger-batch-better"] == "refuted"


def test_scores_are_quarter_means_of_the_evaluations():
    """Each reading is the mean of its quarter's evaluations: a hop at one evaluation moves it by a quarter."""
    cfg = bs.Config(steps=1600, evals=16)
    points = [(float(k), 2.0 * k, 0.5) for k in range(16)]
    points[15] = (3.0, 30.0, 0.5)  # one low reading at the end (the old endpoint would have read 3 modes)
    curve = {"step": [100 * k for k in range(1, 17)], "g": points, "samples_per_step": 16, "budget": 1600}
    m = bs.arm_metrics(cfg, "a", curve)
    assert m["modes.a@0.25"] == pytest.approx(1.5) and m["modes.a@0.5"] == pytest.approx(5.5)
    assert m["modes.a@0.75"] == pytest.approx(9.5) and m["modes.a"] == pytest.approx((12 + 13 + 14 + 3) / 4)
    assert m["hq.a"] == pytest.approx((24 + 26 + 28 + 30) / 4) and m["rkl.a"] == pytest.approx(0.5)
    assert bs.quarter_means(points[:4]) == [points[0], points[1], points[2], points[3]]


def test_noise_scale_is_measured_only_on_the_listed_arms(tmp_path):
    cfg = dataclasses.replace(bs.STUDY.config("smoke"), noise_batches=(8,))
    out = bs.STUDY.run(cfg, LocalContext(seed=0, scale="smoke", run_dir=tmp_path))
    assert "log10_bsimple_g.gan-B8-fixed" in out.metrics
    assert not any(k.startswith("log10_bsimple_g.gan-B16") or k.startswith("log10_bsimple_g.gan-B32") for k in out.metrics)
    assert set(out.data["noise"]) == {"gan-B8-fixed"}
