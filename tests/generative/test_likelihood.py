"""gan-likelihood: the decision rules on known inputs at their thresholds, the AIS control's exact formula, pooling."""


import numpy as np
import pytest
import torch

from thoughtlab.generative import likelihood as lk
from thoughtlab.study import decide

CLAIMS = {claim.id: claim for claim in lk.CLAIMS}


def test_pooled_pixels_are_8_bit_integers_at_the_requested_size():
    images = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    pixels = lk.pooled_pixels(images, 14)
    assert pixels.shape == (3, 1, 14, 14)
    assert torch.equal(pixels, pixels.round()) and pixels.min() >= 0 and pixels.max() <= 255
    assert torch.allclose(pixels[0, 0, 0, 0], torch.tensor(float(np.round(images[0, 0, :2, :2].mean() * 255))))


def test_best_ais_errors_picks_the_setting_with_smallest_mean_absolute_error():
    view = {"ais_err.ml.v0.01.T10": [-3.0, -1.0], "ais_err.ml.v0.001.T10": [0.5, -0.7], "ais_err.adv.v0.01.T10": [9.0]}
    assert np.allclose(lk.best_ais_errors(view, "ml"), [0.5, 0.7])


def test_ais_claim_decides_at_its_thresholds():
    claim = CLAIMS["ais-inaccurate-on-flows"]
    views = lambda error: [{"ais_err.ml.v0.01.T10": [error] * 4, "ais_err.adv.v0.01.T10": [-error] * 4}] * 3
    around = [{"ais_err.ml.v0.01.T10": [0.05, 0.15] * 4, "ais_err.adv.v0.01.T10": [-0.15, 0.05] * 4}] * 3
    assert decide(claim, lk.ais_error(around), None, [])[0] == "inconclusive"  # interval around 0.1
    assert decide(claim, lk.ais_error(views(0.11)), None, [])[0] == "supported"
    assert decide(claim, lk.ais_error(views(0.049)), None, [])[0] == "refuted"
    assert decide(claim, lk.ais_error(views(0.07)), None, [])[0] == "inconclusive"


def test_low_support_claim_decides_at_half():
    claim = CLAIMS["gan-low-support"]
    views = lambda below: [{"below.adv": below}] * 3
    assert decide(claim, lk.adv_below(views([1.0] * 9 + [0.0])), True, [])[0] == "supported"
    assert decide(claim, lk.adv_below(views([1.0] * 1 + [0.0] * 9)), True, [])[0] == "refuted"
    assert decide(claim, lk.adv_below(views([1.0, 0.0] * 5)), True, [])[0] == "inconclusive"


def test_controls_at_their_boundaries():
    assert lk.control_accurate([{"control_err": [0.049, -0.049]}])
    assert not lk.control_accurate([{"control_err": [0.05, -0.05]}])
    assert lk.ml_threshold_meaningful([{"below.ml": [1.0] + [0.0] * 9}])
    assert not lk.ml_threshold_meaningful([{"below.ml": [1.0] * 2 + [0.0] * 8}])
    assert lk.adv_learned([{"fid.adv": 49.0, "fid.mean_image": 100.0}])
    assert not lk.adv_learned([{"fid.adv": 50.0, "fid.mean_image": 100.0}])


def test_linear_control_error_is_small_with_a_long_schedule():
    """The closed-form marginal N(m, (a² + σ²)I) is right: long AIS agrees with it on a small problem."""
    y = torch.rand(3, 4, generator=torch.Generator().manual_seed(0))
    cfg = lk.Config(ais_chains=32, leapfrog=5)
    errors = lk.linear_control(y, 1e-2, 500, cfg, seed=0, nats_to_bpd=1.0)  # in nats
    assert max(abs(e) for e in errors) < 0.5  # a wrong normaliser would be off by several nats


def test_short_schedule_explains_the_failed_quick_control():
    """Why the control failed at quick with T = 50: the HMC step starts at 0.01 and may grow by at most 2 % per
    intermediate distribution (Wu et al.'s adaptation), so after 50 it is ≤ 0.027 and the chains in 196
    dimensions barely move; with T = 200 the same AIS meets the control's 0.05 bits/dim on the exact marginal."""
    g = torch.Generator().manual_seed(0)
    m = 0.3 * torch.rand(1, 196, generator=g)
    y = (m + 0.3 * torch.randn(4, 196, generator=g)).clamp(0, 1)
    cfg = lk.Config()  # quick's chains (4) and leapfrog steps (4)
    bpd = 1.0 / (196 * np.log(2.0))
    short = np.abs(lk.linear_control(y, 0.1, 50, cfg, seed=0, nats_to_bpd=bpd))
    long = np.abs(lk.linear_control(y, 0.1, 200, cfg, seed=0, nats_to_bpd=bpd))
    assert short.mean() > 0.05 > long.mean()


def test_arms_must_include_the_two_the_claims_read():
    assert lk.STUDY.config("quick").arms == ("ml", "adv") and "hybrid" in lk.STUDY.config("full").arms
    for arms in (("ml",), ("adv", "hybrid"), ("ml", "adv", "wgan")):
        with pytest.raises(ValueError, match="arms must include 'ml' and 'adv'"):
            lk.Config(arms=arms)
