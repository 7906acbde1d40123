"""Image-level resampling of MR⁻²: hand-computed values on a tiny set, and the bootstrap interval."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thoughtlab.csp.datasets import PedestrianSet, make_image
from thoughtlab.csp.evaluate import evaluate_miss_rate, image_matches
from thoughtlab.csp.intervals import image_bootstrap, mr2_or_nan
from thoughtlab.errors import BadInput
from thoughtlab.stats import mean_ci

PERSON = [100.0, 100.0, 41.0, 100.0]
ELSEWHERE = [400.0, 100.0, 41.0, 100.0]


def two_images():
    """Image 1: its person found (score 0.9); image 2: its person missed, one false positive (0.8)."""
    gt = PedestrianSet("tiny", [make_image(i, f"{i}.png", 640, 480, [PERSON]) for i in (1, 2)])
    detections = [{"image_id": 1, "bbox": PERSON, "score": 0.9}, {"image_id": 2, "bbox": ELSEWHERE, "score": 0.8}]
    return gt, detections


@pytest.mark.parametrize("indices, expected", [
    ([0, 1], 0.5),        # recall 1/2 at every FPPI reference (the FP arrives at FPPI 0.5 without a TP)
    ([0, 0], 0.0),        # image 1 twice: both people found, recall 1 at every reference
    ([1, 1], 1.0),        # image 2 twice: only false positives, recall 0
    ([0, 1, 1], 2 / 3),   # 3 people, 1 found; FPs at FPPI 1/3 and 2/3 add no recall
])
def test_resampled_mr2_matches_hand_computation(indices, expected):
    matches = image_matches(*two_images())
    assert matches.mr2(indices) == pytest.approx(expected)
    assert matches.result(indices).n_images == len(indices)


def random_set(seed: int, n: int = 30):
    """``n`` images (ids 1..n, in shuffled file order) with people, near-miss detections and false positives."""
    rng = np.random.default_rng(seed)
    images, detections = [], []
    for image_id in rng.permutation(np.arange(1, n + 1)):          # file order is not id order
        people = [[float(rng.uniform(0, 500)), float(rng.uniform(0, 300)), 0, float(rng.uniform(30, 160))]
                  for _ in range(rng.integers(0, 4))]
        for p in people:
            p[2] = 0.41 * p[3]
        vis = rng.uniform(0.1, 1.0, len(people)).tolist()
        images.append(make_image(int(image_id), f"{image_id}.png", 640, 480, people, visibility=vis))
        for p in people:
            if rng.random() < 0.7:
                jitter = rng.normal(0, 5, 4) * [1, 1, 0, 1]
                detections.append({"image_id": int(image_id), "bbox": (np.array(p) + jitter).tolist(),
                                   "score": float(rng.random())})
        for _ in range(rng.integers(0, 3)):
            detections.append({"image_id": int(image_id), "score": float(rng.random()),
                               "bbox": [float(rng.uniform(0, 500)), float(rng.uniform(0, 300)), 30.0, 80.0]})
    return PedestrianSet("random", images), detections


def test_all_images_once_in_order_reproduce_evaluate():
    gt, detections = random_set(3)
    full = evaluate_miss_rate(gt, detections, ["Reasonable", "All"])
    for subset in ("Reasonable", "All"):
        matches = image_matches(gt, detections, subset)
        assert len(matches) == 30
        assert matches.mr2() == full.mr2(subset)
        assert matches.mr2(range(30)) == full.mr2(subset)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**16), st.lists(st.integers(0, 11), min_size=1, max_size=20))
def test_a_resample_is_evaluate_on_the_resampled_set(seed, indices):
    """Oracle: a resample equals evaluate_miss_rate() on a set where each drawn image is a new image (fresh ascending ids)."""
    gt, detections = random_set(seed, 12)
    by_id = sorted(gt.images, key=lambda im: im.image_id)
    copies, copied = [], []
    for new_id, index in enumerate(indices, start=1):
        image = by_id[index]
        copies.append(make_image(new_id, f"{new_id}.png", 640, 480, image.boxes, visibility=image.visibility))
        copied += [{**d, "image_id": new_id} for d in detections if d["image_id"] == image.image_id]
    expected = evaluate_miss_rate(PedestrianSet("copies", copies), copied, ["Reasonable"]).mr2("Reasonable")
    assert image_matches(gt, detections).mr2(indices) == expected


def test_out_of_range_indices_are_refused():
    with pytest.raises(BadInput, match="image indices"):
        image_matches(*two_images()).mr2([2])


def test_resample_without_people_is_nan():
    gt = PedestrianSet("empty", [make_image(1, "1.png", 640, 480, [])])
    assert math.isnan(mr2_or_nan(image_matches(gt, []), np.array([0])))


def test_bootstrap_of_a_mean_agrees_with_the_t_interval():
    values = np.random.default_rng(0).normal(5.0, 2.0, 400)
    interval = image_bootstrap(lambda idx: float(values[idx].mean()), [400], seed=1)
    reference = mean_ci(values)
    assert interval.estimate == pytest.approx(reference.estimate)
    assert interval.half_width == pytest.approx(reference.half_width, rel=0.15)
    assert interval.n == 400 and "BCa" in interval.method


def test_bootstrap_resamples_each_set_independently():
    a, b = np.random.default_rng(0).normal(0, 1, 200), np.random.default_rng(1).normal(3, 1, 300)
    interval = image_bootstrap(lambda i, j: float(b[j].mean() - a[i].mean()), [200, 300], seed=2)
    expected_half = 1.96 * math.sqrt(a.var(ddof=1) / 200 + b.var(ddof=1) / 300)
    assert interval.half_width == pytest.approx(expected_half, rel=0.15)
    assert interval.n == 500


def test_bootstrap_edge_cases():
    constant = image_bootstrap(lambda idx: 0.25, [10], seed=0)
    assert (constant.low, constant.high) == (0.25, 0.25)
    one = image_bootstrap(lambda idx: 0.25, [1], seed=0)
    assert one.low == -math.inf and one.high == math.inf
    assert image_bootstrap(lambda idx: math.nan, [5], seed=0).high == math.inf
    sometimes = image_bootstrap(lambda idx: math.nan if np.sum(idx == 0) > 1 else float(idx.mean()), [5], seed=0)
    assert sometimes.estimate == 2.0 and sometimes.high == math.inf
    with pytest.raises(BadInput, match="at least one image"):
        image_bootstrap(lambda idx: 0.0, [], seed=0)
