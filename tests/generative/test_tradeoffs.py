"""gan-tradeoffs: the decision rules on known inputs, at and around their thresholds, and the measurement helpers."""

import math

import numpy as np
import pytest
import torch

from thoughtlab.generative import tradeoffs as tr
from thoughtlab.study import decide

CLAIMS = {claim.id: claim for claim in tr.CLAIMS}


def view_with_curves(fid: dict[str, list[float]], cpu: list[float]) -> dict[str, float]:
    view = {}
    for family, values in fid.items():
        for index, value in enumerate(values):
            view[f"curve.fid.{family}.{index}"], view[f"curve.cpu.{family}.{index}"] = value, cpu[index]
        view[f"fid.{family}"] = values[-1]
    return view


def test_time_to_quality_takes_the_first_point_at_or_below_the_target():
    cpu, fid = np.array([1.0, 2.0, 3.0]), np.array([50.0, 20.0, 10.0])
    assert tr.time_to_quality(cpu, fid, 20.0) == 2.0
    assert tr.time_to_quality(cpu, fid, 19.99) == 3.0
    assert tr.time_to_quality(cpu, fid, 5.0) == math.inf


def test_ml_cost_ratio_uses_the_faster_ml_family_and_the_worse_final_fid():
    view = view_with_curves({"gan": [40, 20, 10, 8], "flow": [90, 70, 50, 30], "ar": [80, 60, 40, 20]}, [1, 2, 3, 4])
    # q* = max(FID_gan 8, min(30, 20)) = 20: the GAN reaches it at 2 s, the PixelCNN at 4 s
    assert math.isclose(tr.ml_cost_ratio(view), math.log(4 / 2))


def test_efficiency_ratios_on_known_inputs():
    view = view_with_curves({"gan": [40, 20, 10], "flow": [90, 50, 30], "ar": [80, 20, 15]}, [1, 2, 3])
    for family, params, draw_s in (("gan", 1e5, 0.1), ("flow", 4e5, 0.2), ("ar", 2e5, 10.0)):
        view.update({f"params.{family}": params, f"cpu_s.{family}": 3.0, f"draw_s.{family}": draw_s})
    ratios = tr.efficiency(view)
    assert math.isclose(ratios["quality_per_mparam.gan"], (1 / 10) / 0.1)
    assert math.isclose(ratios["quality_per_train_s.flow"], (1 / 30) / 3.0)
    assert math.isclose(ratios["ratio.params.flow_gan"], 4.0)
    # flow vs GAN: the worse best FID is 30 (flow's); the flow reaches it at 3 s, the GAN (20 ≤ 30) at 2 s
    assert math.isclose(ratios["ratio.train_s_to_quality.flow_gan"], 3 / 2)
    # AR vs GAN: target max(15, 10) = 15; AR at 3 s, GAN at 3 s
    assert math.isclose(ratios["ratio.train_s_to_quality.ar_gan"], 1.0)
    assert math.isclose(ratios["ratio.quality_per_param.gan_flow"], (1 / 10 / 0.1) / (1 / 30 / 0.4))
    assert math.isclose(ratios["ratio.quality_per_train_s.gan_ar"], 15 / 10)
    assert math.isclose(ratios["ratio.draw_s.ar_gan"], 100.0)


def test_flow_quality_gap_decides_at_its_thresholds():
    claim = CLAIMS["flows-cost-more"]
    views = lambda ratio: [{"fid.flow": ratio * g, "fid.gan": g} for g in (10.0, 20.0, 40.0)]
    at_threshold = tr.flow_quality_gap(views(1.5))  # zero spread: the interval is the point log 1.5
    assert math.isclose(at_threshold.low, math.log(1.5))
    assert decide(claim, at_threshold, True, [])[0] == "inconclusive"  # strictly above is needed
    assert decide(claim, tr.flow_quality_gap(views(1.51)), True, [])[0] == "supported"
    assert decide(claim, tr.flow_quality_gap(views(0.99)), True, [])[0] == "refuted"
    assert decide(claim, tr.flow_quality_gap(views(0.99)), False, [])[0] == "inconclusive"  # still improving


def timings(ar_exponent: float, flow_exponent: float) -> dict[str, float]:
    view = {}
    for side in (8, 16, 28):
        pixels = side ** 2
        view[f"sample_s.ar.s{side}"], view[f"eval_s.ar.s{side}"] = 1e-3 * pixels ** ar_exponent, 1e-3
        view[f"sample_s.flow.s{side}"], view[f"eval_s.flow.s{side}"] = 2e-3 * pixels ** flow_exponent, 1e-3
    return view


def test_slope_gap_recovers_known_exponents_and_decides():
    assert math.isclose(tr.log_log_slope(timings(1.0, 0.0), "ar"), 1.0)
    claim = CLAIMS["ar-sampling-grows-with-pixels"]
    supported = tr.sequential_slope_gap([timings(1.0, 0.0), timings(0.9, 0.1), timings(0.95, 0.0)])
    assert decide(claim, supported, None, [])[0] == "supported"
    refuted = tr.sequential_slope_gap([timings(0.1, 0.0), timings(0.12, 0.0), timings(0.08, 0.0)])
    assert decide(claim, refuted, None, [])[0] == "refuted"
    between = tr.sequential_slope_gap([timings(0.3, 0.0)] * 3)
    assert decide(claim, between, None, [])[0] == "inconclusive"


def test_sequential_count_check():
    claim = CLAIMS["ar-sampling-sequential-count"]
    counts = {"seq_evals.ar.s8": 64.0, "seq_evals.ar.s28": 784.0, "seq_evals.flow.s8": 1.0, "seq_evals.flow.s28": 1.0}
    assert decide(claim, tr.sequential_evaluations([counts]), None, [])[0] == "holds"
    assert decide(claim, tr.sequential_evaluations([{**counts, "seq_evals.flow.s28": 2.0}]), None, [])[0] == "fails"
    assert decide(claim, tr.sequential_evaluations([{**counts, "seq_evals.ar.s28": 783.0}]), None, [])[0] == "fails"


def test_controls():
    good = {"fid.gan": 49.0, "fid.gan.init": 100.0, "bpd.flow": 3.0, "bpd.ar": 2.0, "fid.flow": 90.0,
            "fid.flow.init": 100.0, "fid.ar": 80.0, "fid.ar.init": 100.0}
    assert tr.gan_learns([good]) and tr.ml_families_learn([good])
    assert not tr.gan_learns([{**good, "fid.gan": 50.0}])
    assert not tr.ml_families_learn([{**good, "bpd.ar": 8.0}])
    assert not tr.ml_families_learn([{**good, "fid.flow": 100.0}])


def test_count_calls_counts_forwards_and_methods():
    layer = torch.nn.Linear(2, 2)
    assert tr.count_calls(layer, lambda: [layer(torch.zeros(1, 2)) for _ in range(3)]) == 3

    class Flowish(torch.nn.Module):
        def inverse(self, z):
            return z

    module = Flowish()
    assert tr.count_calls(module, lambda: module.inverse(1) + module.inverse(2), "inverse") == 2
    assert "inverse" not in vars(module)


def test_published_ratios_match_the_notes_arithmetic():
    assert tr.PUBLISHED["gpu_days_ratio"] == pytest.approx(40 * 14 / (8 * 4))
    assert tr.PUBLISHED["gpu_days_ratio_one_week"] == pytest.approx(40 * 7 / (8 * 4))
    assert tr.PUBLISHED["pixels_ratio"] == (1024 / 256) ** 2



class Context:
    """The parts of a RunContext that the measurement helpers use."""

    def __init__(self, run_dir, seed: int = 0):
        self.seed, self.scale, self.device, self.run_dir = seed, "smoke", torch.device("cpu"), run_dir

    def log(self, step=None, **scalars):
        pass


def test_made_replication_learns_below_the_uniform_nll_and_reports_a_curve(tmp_path):
    cfg = tr.STUDY.config("smoke")
    rng = np.random.default_rng(0)
    strokes = (rng.random((1, 1, 28, 28)) < 0.2).astype(np.float32)  # one shared digit-like pattern + noise
    images = np.clip(strokes + 0.05 * rng.random((120, 1, 28, 28), dtype=np.float32), 0, 1)
    metrics = tr.made_replication(cfg, Context(tmp_path), images[:100], images[100:])
    uniform = 784 * math.log(2.0)  # nats of the untrained model's p = 1/2 per pixel
    assert {"made_nll_nats@0.25", "made_nll_nats@0.5", "made_nll_nats@0.75", "made_nll_nats"} <= set(metrics)
    assert metrics["made_nll_nats"] < 0.8 * uniform
    assert metrics["made_steps"] > 0 and metrics["made_params"] > 0
    again = tr.made_replication(cfg, Context(tmp_path), images[:100], images[100:])  # resumes from its checkpoint
    assert again["made_nll_nats"] == metrics["made_nll_nats"]
