"""Digits → K tints: the exact tint and content scores, the coded generator, the diversity metrics on known
generators, and the c12 tint claims' decision rules at their boundaries."""

import numpy as np
import pytest
import torch

from thoughtlab.cyclegan.digits import PALETTE, nearest_tint
from thoughtlab.cyclegan.one_to_many import build, coverage, distinct_modes, measure, train_and_measure
from thoughtlab.cyclegan.study import CLAIMS
from thoughtlab.cyclegan.tints import CodedGenerator, TintsConfig, TintsTask
from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.study import Outcome, judge_claim

SMALL = TintsConfig(train_per_domain=40, n_test=16, ngf=4, ndf=4, width=8, steps=4, batch=4, z_samples=8)
CLAIM = {c.id: c for c in CLAIMS}


@pytest.fixture(scope="module")
def task():
    return TintsTask(SMALL)


def test_palette_tints_are_far_apart_and_far_from_grey():
    chroma = torch.tensor(PALETTE[:4]) / torch.tensor(PALETTE[:4]).amax(1, keepdim=True)
    gaps = torch.cdist(chroma, chroma) + 9 * torch.eye(4)
    assert gaps.min() > 0.8 > 4 * SMALL.tint_tolerance - 0.01
    assert torch.cdist(torch.ones(1, 3), chroma).min() > 0.7 > SMALL.tint_tolerance


def test_tint_of_real_b_is_exact_and_grey_or_empty_images_are_not_high_quality(task):
    test = task.test_set(0)
    tint, good = task.modes(test.b)
    assert torch.equal(tint, test.style) and good.all() and set(test.style.tolist()) == {0, 1, 2, 3}
    assert not task.modes(test.a)[1].any()  # grey ink is no tint
    assert not task.modes(-torch.ones(3, 3, 32, 32))[1].any()  # nor is a black image


@pytest.mark.parametrize("tints", [0, len(PALETTE) + 1])
def test_nearest_tint_rejects_a_tint_count_outside_the_palette(tints):
    with pytest.raises(BadInput, match="tints="):
        nearest_tint(torch.zeros(1, 3, 8, 8), tints)


def test_content_is_the_digit_classifiers_label(task):
    test = task.test_set(0)
    kept = task.content_kept(test.a[:, None], test)
    assert kept.shape == (16, 1) and kept.float().mean() > 0.8  # real digits keep their class ...
    shifted = task.content_kept(test.a.roll(1, 0)[:, None], test)
    assert shifted.float().mean() < 0.4  # ... and other digits do not


def test_coded_generator_reads_its_code_and_the_plain_one_has_none():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    coded, plain = CodedGenerator(3, 4, 4, 1), CodedGenerator(3, 0, 4, 1)
    out = coded(x, torch.randn(2, 4))
    assert out.shape == x.shape and out.abs().max() <= 1
    assert not torch.allclose(out, coded(x, torch.randn(2, 4)))
    assert torch.equal(plain(x, torch.randn(2, 0)), plain(x, torch.empty(2, 0)))
    assert sum(p.numel() for p in plain.parameters()) < sum(p.numel() for p in coded.parameters())


def test_build_rejects_an_unknown_model(task):
    with pytest.raises(UnknownName, match="stoch"):
        build(task, "stoch", seed=0)


def test_distinct_modes_and_coverage_count_only_good_outputs():
    nearest = torch.tensor([[0, 1, 1], [2, 2, 2], [3, 0, 1]])
    good = torch.tensor([[True, True, False], [True, True, True], [False, False, False]])
    assert distinct_modes(nearest, good) == [2.0, 1.0, 0.0]
    assert coverage(nearest[:, 0], good[:, 0], K=4) == 0.5  # modes 0 and 2 hit, mode 3's output is not good


class Painter(torch.nn.Module):
    """Paints a's ink in a palette tint: tint 0 always, or the quartile of z's first coordinate."""

    def __init__(self, by_code: bool):
        super().__init__()
        self.by_code = by_code

    def forward(self, x, z):
        ink = (x[:, :1] + 1) / 2 / 0.8
        tint = torch.bucketize(z[:, 0].contiguous(), torch.tensor([-0.674, 0.0, 0.674])) if self.by_code else torch.zeros(len(x), dtype=torch.long)
        colour = torch.tensor(PALETTE[:4])[tint][:, :, None, None]
        return ink * colour * 2 - 1


@pytest.mark.parametrize("by_code, modes, cover", [(False, 1.0, 0.25), (True, 3.0, 1.0)])
def test_measure_counts_the_tints_a_generator_reaches_per_digit(task, by_code, modes, cover):
    state = build(task, "noise", seed=0)
    state.models["G_AB"] = Painter(by_code)
    metrics, items = measure(task, "noise", state, seed=0)
    assert metrics["high_quality"] == 1.0 and metrics["coverage"] == cover
    assert metrics["content"] > 0.8  # thin ink painted: the classifier still reads the digit
    assert (np.mean(items["modes_per_input"]) == 1.0) if not by_code else (np.mean(items["modes_per_input"]) > modes)
    assert len(items["cycle_A"]) == len(items["style_lost_nu0.2"]) == 16


def test_training_on_tints_gives_learning_curve_points(task):
    result = train_and_measure(task, "augmented", seed=0)
    assert {"modes_per_input@0.25", "modes_per_input@0.5", "modes_per_input@0.75", "modes_per_input"} <= set(result["items"])
    assert 0 <= result["metrics"]["coverage"] <= 1


def _outcome(noise: float, augmented: float, cyclegan: float = 1.0, quality: float = 1.0, content: float = 1.0,
             early_noise: float | None = None) -> Outcome:
    """One seed whose 16 digits all have the given tint counts; the same values at 0.75 unless ``early_noise``."""
    items, metrics = {}, {}
    for suffix, value in (("", noise), ("@0.75", noise if early_noise is None else early_noise)):
        items[f"tints_noise_modes_per_input{suffix}"] = [value] * 16
        items[f"tints_augmented_modes_per_input{suffix}"] = [augmented] * 16
        items[f"tints_cyclegan_modes_per_input{suffix}"] = [cyclegan] * 16
    for model in ("cyclegan", "noise", "augmented"):
        metrics[f"tints_{model}_high_quality"] = quality
        items[f"tints_{model}_content"] = [content] * 16
    return Outcome(metrics=metrics, items=items)


@pytest.mark.parametrize("noise, augmented, verdict", [
    (1.0, 3.0, "supported"), (1.49, 3.0, "supported"), (1.5, 3.0, "inconclusive"),
    (2.5, 3.0, "inconclusive"), (2.51, 3.0, "refuted"),
    (1.0, 1.9, "inconclusive"),  # Augmented CycleGAN below 2 tints per digit: diversity not shown learnable
])
def test_noise_ignored_rule_at_its_thresholds(noise, augmented, verdict):
    record = judge_claim(CLAIM["tints-noise-ignored"], [_outcome(noise, augmented) for _ in range(3)])
    assert record["verdict"] == verdict, record["reason"]


def test_noise_ignored_is_not_refuted_while_still_changing():
    record = judge_claim(CLAIM["tints-noise-ignored"], [_outcome(3.0, 3.0, early_noise=2.0) for _ in range(3)])
    assert record["verdict"] == "inconclusive" and "still changing" in record["reason"]


@pytest.mark.parametrize("noise, augmented, quality, content, verdict", [
    (1.5, 2.01, 1.0, 1.0, "supported"), (1.5, 2.0, 1.0, 1.0, "inconclusive"), (2.0, 2.1, 1.0, 1.0, "inconclusive"),
    (2.0, 2.09, 1.0, 1.0, "refuted"), (1.0, 3.0, 0.49, 1.0, "inconclusive"), (1.0, 3.0, 1.0, 0.49, "inconclusive"),
    (1.0, 1.09, 1.0, 1.0, "inconclusive"),  # an Augmented arm that did not learn diversity cannot refute
])
def test_augmented_more_diverse_rule_at_its_thresholds_and_control(noise, augmented, quality, content, verdict):
    record = judge_claim(CLAIM["tints-augmented-more-diverse"],
                         [_outcome(noise, augmented, quality=quality, content=content) for _ in range(3)])
    assert record["verdict"] == verdict, record["reason"]


@pytest.mark.parametrize("cyclegan, verdict", [(1.0, "holds"), (2.0, "fails")])
def test_deterministic_tint_check(cyclegan, verdict):
    record = judge_claim(CLAIM["tints-deterministic-one-tint"], [_outcome(1.0, 3.0, cyclegan=cyclegan)])
    assert record["verdict"] == verdict
