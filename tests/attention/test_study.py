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


def test_every_claim_decides_a_valid_verdict(outcome):
    for claim in STUDY.claims:
        assert claim.decide(outcome.metrics) in ("supported", "refuted", "inconclusive")


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


@pytest.mark.parametrize("values,verdict", [
    ((0.95, 0.93, 0.90, 0.30), "supported"),
    ((0.95, 0.60, 0.90, 0.30), "refuted"),   # attention itself collapses
    ((0.95, 0.93, 0.95, 0.92), "refuted"),   # mean keeps up with attention
    ((0.95, 0.80, 0.90, 0.30), "inconclusive"),
])
def test_keep_rule(values, verdict):
    keys = ("a_lo", "a_hi", "m_lo", "m_hi")
    assert attention_study.keeps_while_mean_degrades(dict(zip(keys, values)), *keys) == verdict


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
