"""MR⁻² evaluation: hand-computed fixtures for each rule, and a literal loop oracle on random sets."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from thoughtlab.csp.datasets import PedestrianSet, make_image
from thoughtlab.csp.evaluate import (
    FPPI_EXACT,
    FPPI_ROUNDED,
    SUBSETS,
    Detections,
    EvalSettings,
    evaluate_miss_rate,
    log_average_miss_rate,
    recall_at_references,
)
from thoughtlab.errors import BadInput, UnknownName

PERSON = [100.0, 100.0, 41.0, 100.0]   # a Reasonable pedestrian (h 100, fully visible)


def gt_set(per_image: list[list[dict]], n_images: int | None = None) -> PedestrianSet:
    """Images 1..n; per_image[i] lists people as dicts {box, ignore=False, vis=1.0, height=box h}."""
    n_images = n_images or len(per_image)
    images = []
    for i in range(n_images):
        people = per_image[i] if i < len(per_image) else []
        images.append(make_image(
            i + 1, f"{i + 1}.png", 640, 480, [p["box"] for p in people],
            ignore=[p.get("ignore", False) for p in people], visibility=[p.get("vis", 1.0) for p in people],
            heights=[p.get("height", p["box"][3]) for p in people]))
    return PedestrianSet("fixture", images)


def dets(*rows: tuple) -> list[dict]:
    """rows of (image_id, box, score)."""
    return [{"image_id": i, "category_id": 1, "bbox": list(b), "score": s} for i, b, s in rows]


def reasonable(gt: PedestrianSet, detections, **settings) -> object:
    return evaluate_miss_rate(gt, detections, ["Reasonable"], EvalSettings(**settings)).subsets["Reasonable"]


def shifted(box, dx=0.0, dy=0.0, dh=0.0):
    x, y, w, h = box
    return [x + dx, y + dy, w, h + dh]


def test_perfect_detector_scores_zero_and_false_positives_only_score_one():
    gt = gt_set([[{"box": PERSON}], [{"box": shifted(PERSON, 200)}]])
    perfect = dets((1, PERSON, 0.9), (2, shifted(PERSON, 200), 0.8))
    assert reasonable(gt, perfect).mr2 == 0.0
    wrong = dets((1, shifted(PERSON, 300), 0.9), (2, shifted(PERSON, 400), 0.8))
    result = reasonable(gt, wrong)
    assert result.mr2 == 1.0 and result.n_false_positives == 2 and result.n_true_positives == 0


def test_no_detections_at_all_gives_miss_rate_one_everywhere():
    gt = gt_set([[{"box": PERSON}]])
    for empty in ([], Detections.empty()):
        result = reasonable(gt, empty)
        assert result.mr2 == 1.0 and np.all(result.miss_rate_at_references == 1.0)


def test_ignore_region_absorbs_any_number_of_detections_by_intersection_over_detection_area():
    region = [300.0, 100.0, 200.0, 200.0]
    gt = gt_set([[{"box": PERSON}, {"box": region, "ignore": True}]])
    inside = [(1, [310 + 20 * k, 120, 41, 100], 0.9 - 0.01 * k) for k in range(3)]   # IoA 1, IoU tiny
    half_in = (1, [480, 150, 40, 100], 0.85)    # IoA exactly 0.5 -> absorbed (>= 0.5)
    just_out = (1, [481, 150, 40, 100], 0.84)   # IoA 0.475 -> false positive
    result = reasonable(gt, dets(*inside, half_in, just_out, (1, PERSON, 0.5)))
    assert (result.n_ignored_detections, result.n_false_positives, result.n_true_positives) == (4, 1, 1)


def test_two_detections_on_one_person_give_one_true_and_one_false_positive():
    gt = gt_set([[{"box": PERSON}]])
    result = reasonable(gt, dets((1, PERSON, 0.9), (1, shifted(PERSON, 2), 0.8)))
    assert (result.n_true_positives, result.n_false_positives) == (1, 1)


def test_height_filter_uses_the_1_25_expansion_on_both_ends():
    gt = gt_set([[{"box": PERSON}]], n_images=100)
    low = [(1, [400, 10, 16, 40.0], 0.9), (1, [450, 10, 16, 39.99], 0.8)]       # 50/1.25 = 40 kept, 39.99 dropped
    result = reasonable(gt, dets(*low))
    assert result.n_false_positives == 1
    small = evaluate_miss_rate(gt_set([[{"box": [100, 100, 25, 60]}]]),
                     dets((1, [300, 10, 38, 93.74], 0.9), (1, [400, 10, 38, 93.75], 0.8)),   # 75*1.25 = 93.75
                     ["Small"]).subsets["Small"]
    assert small.n_false_positives == 1


def test_person_outside_the_height_range_becomes_an_ignore_region():
    short = {"box": [100, 100, 20, 49.0]}
    gt = gt_set([[short, {"box": PERSON}]])
    result = reasonable(gt, dets((1, [100, 100, 20, 49.0], 0.9), (1, PERSON, 0.8)))
    assert result.n_positives == 1 and result.n_ignored_detections == 1 and result.mr2 == 0.0


def test_visibility_ranges_select_subsets_and_are_read_from_the_vis_ratio_field():
    gt = gt_set([[{"box": PERSON, "vis": 0.64}, {"box": shifted(PERSON, 200), "vis": 0.1},
                  {"box": shifted(PERSON, 400), "vis": 0.95}]])
    ev = evaluate_miss_rate(gt, [], ["Reasonable", "Heavy", "HeavyCSP", "Partial", "Bare", "All"])
    counts = {name: r.n_positives for name, r in ev.subsets.items()}
    assert counts == {"Reasonable": 1, "Heavy": 1, "HeavyCSP": 2, "Partial": 0, "Bare": 1, "All": 2}
    assert ev.mr2("Partial") is None   # no positives: undefined, not -100 %
    table = ev.table().splitlines()
    assert len(table) == 7 and "n/a" in table[4] and "[0.00, 0.65]" in table[3] and "100.00%" in table[1]
    assert evaluate_miss_rate(gt, [], "Bare").mr2("Bare") == 1.0
    summary = json.loads(json.dumps(ev.summary(), allow_nan=False))
    assert summary["subsets"]["Partial"]["mr2"] is None and summary["settings"]["fppi_points"] == "exact"


def test_subset_height_comes_from_the_height_field_not_the_box():
    gt = gt_set([[{"box": PERSON, "height": 45.0}]])
    assert reasonable(gt, []).n_positives == 0


def test_equal_iou_goes_to_the_last_person_in_file_order():
    a, b = [0.0, 0.0, 10.0, 20.0], [2.0, 0.0, 10.0, 20.0]
    gt = gt_set([[{"box": a, "height": 60}, {"box": b, "height": 60}]])
    d1 = (1, [1.0, 0.0, 10.0, 20.0], 0.9)    # IoU 0.818 with both -> takes b
    d2 = (1, [-2.0, 0.0, 10.0, 20.0], 0.8)   # IoU 0.667 with a, 0.43 with b
    result = evaluate_miss_rate(gt, dets(d1, d2), ["Reasonable"], EvalSettings(expand_filter=10)).subsets["Reasonable"]
    assert result.n_true_positives == 2


def test_score_ties_are_broken_by_image_id_then_file_order():
    gt = gt_set([[{"box": PERSON}], [{"box": PERSON}]], n_images=100)
    fp_first = reasonable(gt, dets((2, PERSON, 0.5), (1, shifted(PERSON, 300), 0.5)))
    assert fp_first.miss_rate.tolist() == [1.0, 0.5]           # image 1's false positive comes first
    tp_first = reasonable(gt, dets((1, PERSON, 0.5), (2, shifted(PERSON, 300), 0.5)))
    assert tp_first.miss_rate.tolist() == [0.5, 0.5]
    same_image = reasonable(gt, dets((1, shifted(PERSON, 300), 0.5), (1, PERSON, 0.5)))
    assert same_image.miss_rate.tolist() == [1.0, 0.5]          # file order within an image


def test_images_without_people_count_in_fppi():
    one = reasonable(gt_set([[{"box": PERSON}]], n_images=1), dets((1, shifted(PERSON, 300), 0.9)))
    many = reasonable(gt_set([[{"box": PERSON}]], n_images=50), dets((1, shifted(PERSON, 300), 0.9)))
    assert one.fppi.tolist() == [1.0] and many.fppi.tolist() == [0.02]


def test_sentinel_below_the_first_operating_point_and_the_python_wraparound():
    # 10 images, 2 people; first pooled detection is a FP (FPPI 0.1 > 0.01), then one TP (recall 0.5).
    gt = gt_set([[{"box": PERSON}, {"box": shifted(PERSON, 200)}]], n_images=10)
    detections = dets((2, PERSON, 0.9), (1, PERSON, 0.8))
    sentinel = reasonable(gt, detections)
    assert sentinel.miss_rate_at_references.tolist() == [1.0] * 4 + [0.5] * 5   # refs < 0.1 get recall 0
    assert sentinel.mr2 == pytest.approx(0.5 ** (5 / 9))
    python = reasonable(gt, detections, below_first="python")   # recall[-1] at refs below the first point
    assert python.mr2 == pytest.approx(0.5)


def test_per_image_cap_applies_before_the_height_filter():
    gt = gt_set([[{"box": PERSON}]])
    rows = dets((1, [400, 0, 5, 10], 0.9), (1, [420, 0, 5, 10], 0.8), (1, PERSON, 0.7))   # two tiny boxes first
    assert reasonable(gt, rows, max_detections_per_image=2).mr2 == 1.0
    assert reasonable(gt, rows, max_detections_per_image=None).mr2 == 0.0


def test_detections_on_unknown_images_and_other_categories_are_dropped():
    gt = gt_set([[{"box": PERSON}]])
    rows = dets((1, PERSON, 0.9), (7, PERSON, 0.9)) + [{"image_id": 1, "category_id": 2, "bbox": PERSON,
                                                        "score": 0.99}]
    ev = evaluate_miss_rate(gt, rows, ["Reasonable"])
    assert ev.n_detections_unknown_image == 1 and ev.mr2() == 0.0 and ev.subsets["Reasonable"].n_false_positives == 0


def test_caltech_protocol_bounds_and_aspect():
    person = [110.0, 100.0, 20.0, 100.0]              # resized to w = 41, centre kept -> x 99.5
    border = [2.0, 100.0, 41.0, 100.0]                # crosses x = 5: ignored
    gt = gt_set([[{"box": person}, {"box": border}]])
    rows = dets((1, [99.5, 100, 41, 100], 0.9), (1, border, 0.8))   # IoU 1 resized, 0.49 as annotated
    result = evaluate_miss_rate(gt, rows, ["Reasonable"], EvalSettings.caltech()).subsets["Reasonable"]
    assert (result.n_positives, result.n_true_positives, result.n_ignored_detections) == (1, 1, 1)
    plain = reasonable(gt, rows)
    assert plain.n_positives == 2 and plain.n_true_positives == 1


def test_log_average_on_a_known_step_curve_and_reference_points():
    assert np.allclose(FPPI_EXACT, FPPI_ROUNDED, atol=5e-5) and len(FPPI_EXACT) == 9
    fppi = np.array([0.0, 0.02, 0.05, 0.3, 2.0])
    recall = np.array([0.1, 0.2, 0.4, 0.6, 0.9])
    got = recall_at_references(fppi, recall, FPPI_EXACT)
    assert got.tolist() == [0.1, 0.1, 0.2, 0.4, 0.4, 0.4, 0.6, 0.6, 0.6]
    expected = math.exp(np.mean(np.log(1 - got)))
    assert log_average_miss_rate(1 - got) == pytest.approx(expected)
    assert log_average_miss_rate(np.array([1.0, 0.0, 0.5])) == 0.0


def test_bad_inputs_are_named():
    gt = gt_set([[{"box": PERSON}]])
    with pytest.raises(UnknownName):
        evaluate_miss_rate(gt, [], ["Nope"])
    with pytest.raises(UnknownName):
        EvalSettings(below_first="zero")
    with pytest.raises(BadInput, match=r"\[1\]"):
        evaluate_miss_rate(gt, [{"image_id": 1, "bbox": PERSON, "score": 1}, {"image_id": 1, "bbox": [1, 2], "score": 1}])
    with pytest.raises(BadInput, match="needs image_id"):
        evaluate_miss_rate(gt, [{"image_id": 1, "bbox": PERSON}])


# ---------------------------------------------------------------- a literal oracle of evaluateImg/accumulate

def _oracle(gt: PedestrianSet, rows: list[dict], subset, settings: EvalSettings) -> float | None:
    """Per-detection, per-GT loops as in the official code; MATLAB sentinel or the Python wrap-around."""
    hr = (subset.height[0] / settings.expand_filter, subset.height[1] * settings.expand_filter)
    pooled, n_pos = [], 0
    for image in sorted(gt.images, key=lambda im: im.image_id):
        ign = [bool(image.ignore[k] or not subset.height[0] <= image.heights[k] <= subset.height[1]
                    or not subset.visibility[0] <= image.visibility[k] <= subset.visibility[1])
               for k in range(len(image))]
        order = sorted(range(len(image)), key=lambda k: ign[k])
        n_pos += ign.count(False)
        mine = [r for r in rows if r["image_id"] == image.image_id]
        mine = sorted(mine, key=lambda r: -r["score"])[: settings.max_detections_per_image]
        mine = [r for r in mine if hr[0] <= r["bbox"][3] < hr[1]]
        matched = set()
        for r in mine:
            best_o, best_g, best_m = settings.iou_threshold, None, 0
            for g in order:
                if g in matched:
                    continue
                if best_m != 0 and ign[g]:
                    break
                o = _overlap(r["bbox"], image.boxes[g], ign[g])
                if o < best_o:
                    continue
                best_o, best_g, best_m = o, g, (-1 if ign[g] else 1)
            if best_m == 1:
                matched.add(best_g)
            if best_m != -1:
                pooled.append((r["score"], best_m == 1))
    if n_pos == 0:
        return None
    pooled.sort(key=lambda p: -p[0])
    tp = fp = 0
    curve = []
    for _, is_tp in pooled:
        tp, fp = tp + is_tp, fp + (not is_tp)
        curve.append((fp / len(gt.images), tp / n_pos))
    below = curve[-1][1] if settings.below_first == "python" and curve else 0.0   # recall[-1] vs sentinel
    recalls = [([below] + [rc for f, rc in curve if f <= ref])[-1] for ref in settings.reference_points()]
    with np.errstate(divide="ignore"):
        return float(np.exp(np.mean(np.log(1 - np.array(recalls)))))


def _overlap(d, g, crowd: bool) -> float:
    iw = min(d[0] + d[2], g[0] + g[2]) - max(d[0], g[0])
    ih = min(d[1] + d[3], g[1] + g[3]) - max(d[1], g[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (d[2] * d[3] if crowd else d[2] * d[3] + g[2] * g[3] - inter)


@pytest.mark.parametrize("seed", range(6))
def test_matches_a_literal_oracle_on_random_sets(seed):
    rng = np.random.default_rng(seed)
    people, rows = [], []
    n_images = int(rng.integers(3, 30))
    for i in range(n_images):
        n = int(rng.integers(0, 5))
        h = rng.uniform(30, 120, n)
        boxes = np.stack([rng.uniform(0, 150, n), rng.uniform(0, 50, n), 0.41 * h, h], 1).round()
        people.append([{"box": b.tolist(), "ignore": bool(rng.random() < 0.25), "vis": float(rng.uniform(0.1, 1))}
                       for b in boxes])
        jitter = boxes + rng.normal(0, 4, boxes.shape).round()
        hh = rng.uniform(20, 150, 6)
        noise = np.stack([rng.uniform(0, 150, 6), rng.uniform(0, 50, 6), 0.41 * hh, hh], 1)
        for b in np.concatenate([jitter, jitter[:1], noise]):
            rows.append({"image_id": i + 1, "bbox": b.tolist(), "score": float(rng.integers(0, 8)) / 8})  # ties
    gt = gt_set(people, n_images)
    for settings in (EvalSettings(), EvalSettings(max_detections_per_image=4, below_first="python"),
                     EvalSettings(fppi_points="rounded", iou_threshold=0.7)):
        ev = evaluate_miss_rate(gt, rows, list(SUBSETS), settings)
        for subset in SUBSETS.values():
            want = _oracle(gt, rows, subset, settings)
            got = ev.subsets[subset.name].mr2
            assert (got is None) == (want is None) and (want is None or got == pytest.approx(want, abs=1e-12))


def test_full_val_sized_set_evaluates_in_seconds():
    import time

    rng = np.random.default_rng(0)
    people, ids, boxes_all = [], [], []
    for i in range(500):
        h = rng.uniform(20, 300, 6)
        boxes = np.stack([rng.uniform(0, 2000, 6), rng.uniform(0, 700, 6), 0.41 * h, h], 1)
        people.append([{"box": b.tolist(), "vis": float(rng.uniform(0, 1))} for b in boxes])
        hh = rng.uniform(10, 400, 200)
        noise = np.stack([rng.uniform(0, 2000, 200), rng.uniform(0, 700, 200), 0.41 * hh, hh], 1)
        both = np.concatenate([boxes + rng.normal(0, 3, boxes.shape), noise])
        ids.append(np.full(len(both), i + 1))
        boxes_all.append(both)
    boxes_all = np.concatenate(boxes_all)
    detections = Detections(np.concatenate(ids), boxes_all, rng.random(len(boxes_all)))
    start = time.perf_counter()
    ev = evaluate_miss_rate(gt_set(people), detections)
    assert time.perf_counter() - start < 10.0 and len(detections.scores) > 100_000
    assert 0.0 < ev.mr2("Reasonable") < 1.0
