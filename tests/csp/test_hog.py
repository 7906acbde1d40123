"""HOG baseline: detection of a drawn person, padding, coordinate mapping, input checks, dataset runner."""

import numpy as np
import pytest
import torch

from thoughtlab.csp.decode import box_iou
from thoughtlab.csp.evaluate import evaluate_miss_rate
from thoughtlab.csp.hog import (
    DEFAULT_UPSCALE,
    PERSON_FRACTION,
    check_image,
    hog_detect,
    hog_detect_dataset,
    pad_to_window,
    windows_to_person_boxes,
)
from thoughtlab.csp.synth import write_split
from thoughtlab.csp.synth_people import Pose, render_person
from thoughtlab.errors import BadInput

STANDING = Pose(side_view=False, facing=1, stride=0.05, arm_swing=0.0, arm_out=0.15, crouch=0.0)


def person_image(height: float, size=(200, 160), top_left=(50, 40), seed=0):
    """A grey image with one standing drawn person; returns the image and its (1, 4) xyxy box."""
    sprite = render_person(np.random.default_rng(seed), height, 0.41, STANDING)
    image = np.full((*size, 3), 128, np.uint8)
    x0, y0 = top_left
    h, w = sprite.sprite.mask.shape
    image[y0:y0 + h, x0:x0 + w][sprite.sprite.mask] = sprite.sprite.rgb[sprite.sprite.mask]
    bx, by, bw, bh = sprite.box
    return image, torch.tensor([[x0 + bx, y0 + by, x0 + bx + bw, y0 + by + bh]], dtype=torch.float32)


def best_iou(detections, gt):
    assert len(detections.scores) > 0
    return float(box_iou(detections.boxes[:1], gt, area_offset=0.0))


def test_finds_a_large_person_with_a_tight_box():
    image, gt = person_image(110.0)
    dets = hog_detect(image, upscale=1.0)
    assert best_iou(dets, gt) >= 0.7          # the top detection is the person, converted to a tight box
    assert torch.all(dets.scores[:-1] >= dets.scores[1:])


def test_upscaling_finds_a_person_shorter_than_the_window_and_maps_back():
    image, gt = person_image(60.0, size=(120, 100), top_left=(30, 25))
    small = hog_detect(image, upscale=1.0)
    assert all(float(box_iou(b[None], gt, 0.0)) < 0.5 for b in small.boxes)   # 60 px < the window's 96 px
    dets = hog_detect(image, upscale=2.0)
    assert best_iou(dets, gt) >= 0.5
    assert dets.boxes[:, [0, 2]].max() <= 100 and dets.boxes[:, [1, 3]].max() <= 120


def test_window_to_person_box_mapping():
    # A 64x128 window at (20, 40) in an image upscaled x2 is (10, 20, 32, 64) in the original.
    box = windows_to_person_boxes(np.array([[20, 40, 64, 128]]), (2.0, 2.0), (1000, 1000))[0]
    h = PERSON_FRACTION * 64
    np.testing.assert_allclose(box, [26 - 0.41 * h / 2, 52 - h / 2, 26 + 0.41 * h / 2, 52 + h / 2])
    assert PERSON_FRACTION == pytest.approx(0.75) and DEFAULT_UPSCALE == pytest.approx(1.92)
    clipped = windows_to_person_boxes(np.array([[-30, -30, 64, 128]]), (1.0, 1.0), (50, 40))[0]
    assert clipped.min() >= 0 and clipped[2] <= 40 and clipped[3] <= 50


def test_tiny_images_are_padded_not_crashed():
    tiny = np.arange(25 * 14 * 3, dtype=np.uint8).reshape(25, 14, 3)
    padded = pad_to_window(tiny)
    assert padded.shape == (128, 64, 3)
    np.testing.assert_array_equal(padded[:25, :14], tiny)
    np.testing.assert_array_equal(padded[127, 63], tiny[24, 13])   # edge replication
    assert pad_to_window(np.zeros((200, 100, 3), np.uint8)).shape == (200, 100, 3)
    dets = hog_detect(tiny, upscale=1.0)      # OpenCV itself crashes on images smaller than the window
    assert dets.boxes.shape[1] == 4
    if len(dets.scores):
        assert dets.boxes[:, 2].max() <= 14 and dets.boxes[:, 3].max() <= 25


@pytest.mark.parametrize("bad", [np.zeros((64, 64), np.uint8), np.zeros((64, 64, 1), np.uint8),
                                 np.zeros((64, 64, 3), np.float32), [[0, 0, 0]], np.zeros((0, 5, 3), np.uint8)])
def test_bad_images_raise(bad):
    with pytest.raises(BadInput):
        check_image(bad)
    with pytest.raises(BadInput):
        hog_detect(bad)


def test_bad_options_raise():
    image = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(BadInput):
        hog_detect(image, upscale=0)
    with pytest.raises(BadInput):
        hog_detect(image, scale_step=1.0)


def test_dataset_runner_writes_coco_results_the_evaluator_reads(tmp_path):
    gt_path = write_split(tmp_path, "test", 2, seed=3, config="default")
    results = hog_detect_dataset(gt_path, tmp_path / "images" / "test", upscale=1.0)
    assert all(set(r) == {"image_id", "category_id", "bbox", "score"} for r in results)
    assert {r["image_id"] for r in results} <= {1, 2}
    assert evaluate_miss_rate(gt_path, results, subsets=("All",)).subsets["All"].n_images == 2
    with pytest.raises(BadInput):
        hog_detect_dataset(gt_path, tmp_path / "missing")


def test_results_do_not_depend_on_opencv_threads():
    cv2 = pytest.importorskip("cv2")
    image, _ = person_image(70.0, size=(120, 100), top_left=(30, 25))
    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(1)
        one = hog_detect(image)
        cv2.setNumThreads(2)
        two = hog_detect(image)
    finally:
        cv2.setNumThreads(before)
    assert torch.equal(one.boxes, two.boxes) and torch.equal(one.scores, two.scores)
