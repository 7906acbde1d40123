import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from thoughtlab.attention import study as attention_study
from thoughtlab.attention.experiments import SetModel, classifier_model, key_mass, pack, precision_at_1, predict
from thoughtlab.attention.study import STUDY
from thoughtlab.attention.tasks import needle_in_noise
from thoughtlab.errors import UserError
from thoughtlab.runs import LocalContext
from thoughtlab.study import verdicts
from thoughtlab.train import seed_everything


def smoke_outcome(tmp_path, seed=0):
    seed_everything(seed)
    return STUDY.run(STUDY.config("smoke"), LocalContext(seed=seed, scale="smoke", run_dir=tmp_path / f"s{seed}"))


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    return smoke_outcome(tmp_path_factory.mktemp("attention"))


def test_smoke_run_gives_finite_metrics_and_json_data(outcome):
    assert outcome.metrics and all(isinstance(v, float) and math.isfinite(v) for v in outcome.metrics.values())
    assert set(outcome.spread) <= set(outcome.metrics)
    json.dumps(outcome.data, allow_nan=False)
    for claim in STUDY.claims:
        assert set(claim.measures) <= set(outcome.metrics), claim.id


def test_smoke_claims_are_judged_along_the_curve(outcome):
    records = verdicts(STUDY, [outcome])
    assert all(r["ledger"] == ["c10"] for r in records)
    assert [len(r["curve"]) for r in records] == [4, 4, 4, 4, 1]
    n_test = STUDY.config("smoke").adding.test
    assert len(outcome.items["adding_hit_additive_longest@0.5"]) == n_test


def test_plot_draws_every_figure(outcome, figures):
    STUDY.plot(STUDY.config("smoke"), [outcome, outcome], figures)
    assert set(figures.saved) == {"accuracy_vs_noise", "bag_weights", "attention_mass", "se_gates"}


def test_same_seed_same_numbers(outcome, tmp_path):
    again = smoke_outcome(tmp_path)
    assert again.metrics == outcome.metrics
    assert again.data == outcome.data


def test_claims_read_poolings_that_must_be_configured(tmp_path):
    smoke = STUDY.config("smoke")
    cfg = dataclasses.replace(smoke, adding=dataclasses.replace(smoke.adding, poolings=("mean", "additive")))
    with pytest.raises(UserError, match="adding poolings"):
        STUDY.run(cfg, LocalContext(seed=0, scale="smoke", run_dir=tmp_path))


def known_view(att, mean, att_lo=1.0, mean_lo=1.0, drift=0.0, n=100):
    """Per-item results with the given shares correct at the noisiest (longest) and the least noisy setting."""
    def hits(share):
        k = round(share * n)
        return [1.0] * k + [0.0] * (n - k)

    v = {}
    for task, metric, item in (("adding", "success", "hit"), ("needle", "acc", "correct")):
        for p, hi, lo in (("additive", att, att_lo), ("mean", mean, mean_lo)):
            v[f"{task}_{metric}_{p}_shortest"] = lo
            v[f"{task}_{metric}_{p}_longest"] = hi
            v[f"{task}_{item}_{p}_longest"] = hits(hi)
            v[f"{task}_{item}_{p}_longest@0.75"] = hits(min(hi + (drift if p == "mean" else 0.0), 1.0))
    return v


@pytest.mark.parametrize("att, mean, att_lo, mean_lo, drift, verdict", [
    (0.9, 0.3, 1.0, 1.0, 0.0, "supported"),
    (0.5, 0.45, 1.0, 1.0, 0.0, "inconclusive"),  # a real gap, but below the 0.10 margin
    (0.3, 0.6, 1.0, 1.0, 0.0, "refuted"),        # mean beats attention, plateaued
    (0.3, 0.6, 1.0, 1.0, -0.4, "inconclusive"),  # ... but mean pooling was still improving
    (0.9, 0.3, 1.0, 0.2, 0.0, "inconclusive"),   # control: mean cannot learn even the easy setting
])
def test_item_rules_on_known_inputs(att, mean, att_lo, mean_lo, drift, verdict):
    from thoughtlab.study import Outcome, judge_claim

    views = [known_view(att, mean, att_lo, mean_lo, drift) for _ in range(3)]
    for claim in (STUDY.claims[0], STUDY.claims[2]):
        assert judge_claim(claim, [Outcome(v) for v in views])["verdict"] == verdict, claim.id


@pytest.mark.parametrize("values, acc, verdict", [
    ((0.8, 0.85, 0.9), 0.9, "supported"), ((0.1, 0.12, 0.15), 0.9, "refuted"),
    ((0.3, 0.5, 0.7), 0.9, "inconclusive"), ((0.8, 0.85, 0.9), 0.5, "inconclusive"),
])
def test_seed_level_rules_on_known_inputs(values, acc, verdict):
    from thoughtlab.study import Outcome, judge_claim

    concentrate = STUDY.claims[3]
    outcomes = [Outcome({"needle_p1_additive_longest": v, "needle_p1_additive_longest@0.75": v,  # plateaued
                         "needle_acc_additive_longest": acc}) for v in values]
    assert judge_claim(concentrate, outcomes)["verdict"] == verdict


def test_scales_and_seeds():
    assert STUDY.id == "attention-noise"
    assert STUDY.seeds["quick"] >= 3
    assert set(STUDY.scales) == {"smoke", "quick", "full"}


def test_mass_and_precision_helpers():
    weights = np.array([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]])
    key = np.array([[1, -1], [2, 1]])
    np.testing.assert_allclose(key_mass(weights, key), [0.7, 0.5])
    np.testing.assert_array_equal(precision_at_1(weights, key), [1.0, 0.0])


def test_set_model_reads_the_mask_from_the_last_channel():
    torch.manual_seed(0)
    model = classifier_model("additive", inputs=3, hidden=8)
    assert isinstance(model, SetModel)
    sets = needle_in_noise(4, 6, 3, 2.0, np.random.default_rng(0))
    sets.mask[:, 4:] = False
    out, weights = predict(model, sets)
    assert out.shape == (4, 2) and np.all(weights[:, 4:] == 0)
    assert pack(sets).shape == (4, 6, 4)
