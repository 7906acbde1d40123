"""residual-depth: helpers on known inputs, one reproducible net, and a smoke-scale run end to end."""

import json
import math

import pytest
import torch

from thoughtlab.collapse import residual_depth as rd
from thoughtlab.runs import LocalContext
from thoughtlab.study import verdicts


def test_steps_to_threshold_and_final_loss():
    # window of 10 holds <= 3 of the 2.0s (mean <= 1.0) first at step index 11
    assert rd.steps_to_threshold([2.0] * 5 + [0.5] * 20) == 12
    assert rd.steps_to_threshold([0.1]) == 1
    assert rd.steps_to_threshold([2.0] * 7) == 8  # never reached: budget + 1
    assert rd.steps_to_threshold([float("nan")] * 3) == 4
    assert rd.final_loss([5.0] * 90 + [1.0] * 10, 10) == pytest.approx(1.0)
    assert rd.final_loss([float("nan")] * 10, 10) == pytest.approx(math.log(10))


def test_early_gradients_reads_the_first_steps():
    pairs = [(2.0, 1.0)] * 10 + [(1.0, 100.0)] * 90
    early = rd.early_gradients(pairs)
    assert early["grad_first"] == 2.0
    assert early["grad_ratio_log10"] == pytest.approx(math.log10(2.0))


def test_run_specs_have_no_repeats():
    cfg = rd.SCALES["quick"]
    specs = rd.run_specs(cfg)
    assert len(specs) == len(set(specs)) == 2 * (4 + 4 + 2)
    assert ("mlp", 16, 64, "plain") in specs


def test_one_net_is_reproducible(tmp_path):
    cfg = rd.SCALES["smoke"]
    ctx = LocalContext(seed=3, scale="smoke", run_dir=tmp_path)
    data = rd.prepare(cfg.mlp, cfg, 3, torch.device("cpu"))
    first, second = (rd.train_one(("mlp", 2, 8, "plain"), cfg.mlp, cfg, data, ctx) for _ in range(2))
    assert first == second
    assert len(first["dead"]) == len(first["steps"]) and len(first["dead"][0]) == 3  # 2 blocks + head ReLU


def test_smoke_run_plot_and_verdicts(tmp_path, figures):
    cfg = rd.STUDY.config("smoke")
    outcome = rd.STUDY.run(cfg, LocalContext(seed=0, scale="smoke", run_dir=tmp_path))
    assert all(isinstance(v, float) and math.isfinite(v) for v in outcome.metrics.values())
    for claim in rd.STUDY.claims:
        assert set(claim.measures) <= set(outcome.metrics)
    json.dumps(outcome.data, allow_nan=False)
    rd.STUDY.plot(cfg, [outcome, outcome], figures)
    assert list(figures.saved) == ["loss_curves", "dead_heatmap", "vs_depth", "layer_gradients", "width_sweep"]
    records = verdicts(rd.STUDY, [outcome])
    assert [r["id"] for r in records] == [c.id for c in rd.STUDY.claims]
    assert [r["ledger"] for r in records] == [["c6"], ["c7"], ["c8"], ["c9"], ["c6"], ["c7"]]
    assert len(records[0]["curve"]) == 4 and len(records[3]["curve"]) == 4


def known_view(dead=(0.3, 0.1), grad=(-1.0, 0.0), steps=(200.0, 100.0), rise=(0.3, 0.0), reached=1.0,
               shallow_loss=0.5, width_dead=(0.2, 0.1), width_grad=(-1.0, -0.5), drift=0.0):
    """One seed's view: (plain, residual) values at the deepest depth, both architectures; ``drift`` at 0.75."""
    v = {}
    for a in rd.ARCHS:
        for i, kind in enumerate(rd.KINDS):
            v[f"{a}.deepest.dead_mean.{kind}"] = dead[i]
            v[f"{a}.deepest.grad_ratio_log10.{kind}"] = grad[i]
            v[f"{a}.loss_rise.{kind}"] = rise[i]
            v[f"{a}.loss_rise.{kind}@0.75"] = rise[i] + (drift if kind == "plain" else 0.0)
            v[f"{a}.deepest.dead_mean.{kind}@0.75"] = dead[i]
            v[f"{a}.shallow.final_loss.{kind}"] = shallow_loss
            v[f"{a}.d16.steps.{kind}"] = steps[i]
            v[f"{a}.d16.reached.{kind}"] = reached
    v |= {"width.narrow.dead_mean": width_dead[0], "width.wide.dead_mean": width_dead[1],
          "width.narrow.grad_ratio_log10": width_grad[0], "width.wide.grad_ratio_log10": width_grad[1]}
    return v


def judge_views(views):
    from thoughtlab.study import Outcome

    return [r["verdict"] for r in verdicts(rd.STUDY, [Outcome(v) for v in views])]


def jitter(view, k):
    """Seeds differ a little (so intervals are finite); flags stay flags."""
    return {key: value if ".reached." in key else value + 0.001 * k * (10 if "steps" in key else 1)
            for key, value in view.items()}


def test_decision_rules_support_on_a_clear_effect():
    assert judge_views([jitter(known_view(), k) for k in range(3)]) == ["supported"] * 6


def test_decision_rules_refute_on_the_opposite_effect():
    view = known_view(dead=(0.1, 0.3), grad=(0.0, -1.0), steps=(100.0, 200.0), rise=(0.0, 0.3),
                      width_dead=(0.1, 0.2), width_grad=(-0.5, -1.0))
    assert judge_views([jitter(view, k) for k in range(3)]) == ["refuted"] * 6


def test_controls_and_the_plateau_rule_block_verdicts():
    censored = [jitter(known_view(reached=0.0), k) for k in range(3)]
    assert judge_views(censored)[2] == "inconclusive"
    unlearned = [jitter(known_view(shallow_loss=2.0), k) for k in range(3)]
    assert judge_views(unlearned)[0] == "inconclusive"
    still_moving = [jitter(known_view(rise=(0.0, 0.3), drift=-0.5), k) for k in range(3)]
    assert judge_views(still_moving)[3] == "inconclusive"


def test_config_without_a_deep_depth_is_rejected():
    from dataclasses import replace

    from thoughtlab.errors import BadInput

    cfg = rd.SCALES["smoke"]
    with pytest.raises(BadInput, match="deep_from"):
        rd.check_config(replace(cfg, deep_from=64))
    with pytest.raises(BadInput, match="width sweep"):
        rd.check_config(replace(cfg, widths=(8,)))
