"""Anchor-based baseline: anchors, design, assignment, encoding, loss, overfit, DetectorSpec fit."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from thoughtlab.csp.anchors import (
    IGNORED,
    NEGATIVE,
    POSITIVE,
    AnchorDesign,
    anchor_loss,
    anchor_spec,
    assign,
    decode_anchor_outputs,
    decode_boxes,
    design_anchors,
    encode,
    feature_size,
    make_anchor_targets,
    make_anchors,
    stack_targets,
)
from thoughtlab.csp.anchors_model import AnchorNet, AnchorOutput
from thoughtlab.csp.decode import box_iou
from thoughtlab.csp.model import normalize_images
from thoughtlab.errors import BadInput

DESIGN = AnchorDesign(heights=(20.0, 40.0), aspects=(0.5,))


def test_anchor_grid_shapes_and_positions():
    assert feature_size((32, 48)) == (4, 6)
    assert feature_size((30, 40)) == (4, 6)            # padded to 32 x 48 first
    anchors = make_anchors((4, 6), DESIGN)
    assert anchors.shape == (4 * 6 * 2, 4)
    grid = anchors.view(4, 6, 2, 4)                    # (row, column, anchor) order
    centres = (grid[..., :2] + grid[..., 2:]) / 2
    assert torch.allclose(centres[1, 2, 0], torch.tensor([2 * 8 + 4.0, 1 * 8 + 4.0]))
    assert torch.allclose(centres[3, 5, 1], torch.tensor([44.0, 28.0]))
    sizes = grid[..., 2:] - grid[..., :2]
    assert torch.allclose(sizes[0, 0], torch.tensor([[10.0, 20.0], [20.0, 40.0]]))
    assert DESIGN.shapes == [(10.0, 20.0), (20.0, 40.0)]


def test_assignment_positive_negative_band_and_ignore_regions():
    anchors = torch.tensor([
        [0, 0, 10, 10],          # 0: IoU 1 with person 0 -> positive
        [0, 0, 10, 12.5],        # 1: IoU 0.8 -> positive
        [0, 0, 10, 22.2],        # 2: IoU 0.45, in the [0.4, 0.5) band -> ignored
        [50, 50, 60, 60],        # 3: no overlap -> negative
        [110, 110, 120, 120],    # 4: inside the ignore region -> ignored
        [190, 190, 230, 230],    # 5: mostly outside the ignore region (IoA 1/16) -> negative
        [150, 150, 160, 160],    # 6: inside the ignore region but equal to person 1 -> positive
        [300, 300, 320, 320],    # 7: best anchor of person 2 but IoU 0.25 -> positive only with low-quality matches
    ], dtype=torch.float32)
    persons = np.array([[0, 0, 10, 10], [150, 150, 160, 160], [300, 300, 340, 340]], dtype=float)
    ignore = np.array([[100, 100, 200, 200]], dtype=float)
    labels, matched = assign(anchors, persons, ignore)
    assert labels.tolist() == [POSITIVE, POSITIVE, IGNORED, NEGATIVE, IGNORED, NEGATIVE, POSITIVE, POSITIVE]
    assert matched[[0, 1, 6, 7]].tolist() == [0, 0, 1, 2]
    strict, _ = assign(anchors, persons, ignore, low_quality=False)
    assert strict[7] == NEGATIVE
    none, _ = assign(anchors, None, None)
    assert torch.all(none == NEGATIVE)
    with pytest.raises(BadInput):
        assign(anchors, np.array([[5, 5, 1, 1]]))


def test_encode_decode_round_trip():
    anchors = torch.tensor([[0, 0, 10, 20], [5, 5, 45, 105]], dtype=torch.float32)
    boxes = torch.tensor([[2, -3, 14, 25], [10, 0, 40, 60]], dtype=torch.float32)
    deltas = encode(anchors, boxes)
    assert torch.allclose(deltas[0], torch.tensor([3 / 10, 1 / 20, math.log(1.2), math.log(1.4)]), atol=1e-6)
    assert torch.allclose(decode_boxes(anchors, deltas), boxes, atol=1e-4)
    assert torch.isfinite(decode_boxes(anchors, torch.full((2, 4), 50.0))).all()   # clamped, no overflow


def test_designed_anchors_follow_the_training_statistics():
    rng = np.random.default_rng(0)
    heights = np.exp(rng.uniform(np.log(20), np.log(300), 2000))
    design = design_anchors(heights, np.full(2000, 0.41), n_heights=5)
    expected = np.quantile(heights, [0.1, 0.3, 0.5, 0.7, 0.9])
    np.testing.assert_allclose(design.heights, expected, atol=0.05)
    assert design.aspects == (0.41,)                   # a constant aspect gives one anchor aspect
    shifted = design_anchors(np.exp(rng.uniform(np.log(60), np.log(400), 2000)),
                             rng.uniform(0.45, 0.7, 2000), n_heights=5, n_aspects=2)
    assert min(shifted.heights) > min(design.heights) and max(shifted.heights) > max(design.heights)
    assert len(shifted.aspects) == 2 and all(0.45 < a < 0.7 for a in shifted.aspects)
    with pytest.raises(BadInput):
        design_anchors([], [])
    with pytest.raises(BadInput):
        design_anchors([10.0, -1.0], [0.4, 0.4])


def test_targets_and_loss_without_positives_are_finite():
    targets = make_anchor_targets(np.zeros((0, 4)), np.array([[0, 0, 16, 16]]), (32, 32), DESIGN)
    assert targets["labels"].shape == (4 * 4 * 2,) and targets["deltas"].shape == (32, 4)
    assert (targets["labels"] == POSITIVE).sum() == 0 and (targets["labels"] == IGNORED).sum() > 0
    batch = stack_targets([targets, targets])
    logits = torch.zeros(2, 2, 4, 4, requires_grad=True)
    deltas = torch.zeros(2, 8, 4, 4, requires_grad=True)
    total, parts = anchor_loss(AnchorOutput(logits, deltas), batch)
    assert torch.isfinite(total) and parts["box"] == 0.0 and parts["positives"] == 0.0
    n_negative = int((batch["labels"] == NEGATIVE).sum())
    assert parts["cls"] == pytest.approx(n_negative * 0.75 * 0.25 * math.log(2), rel=1e-5)  # p = 0.5, normaliser 1
    total.backward()
    assert torch.isfinite(logits.grad).all()


def one_person_image():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 60, (64, 96, 3)).astype(np.uint8)
    image[8:56, 36:56] = (220, 60, 60)
    return image, np.array([[36.0, 8.0, 56.0, 56.0]])


def test_overfits_one_image_and_finds_the_box():
    torch.manual_seed(0)
    image, box = one_person_image()
    design = design_anchors([32.0, 48.0, 64.0], [20 / 48] * 3, n_heights=3)
    net = AnchorNet(len(design.shapes), "resnet18", width=0.25, head_convs=1)
    batch = stack_targets([make_anchor_targets(box, None, (64, 96), design)])
    x = normalize_images(torch.from_numpy(image).permute(2, 0, 1)[None].contiguous())
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    losses = []
    for _ in range(30):
        loss, _ = anchor_loss(net(x), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.1 * losses[0]
    net.eval()
    with torch.no_grad():
        dets = decode_anchor_outputs(net(x), [(64, 96)], 0.3, design)[0]
    assert len(dets.scores) >= 1 and dets.scores[0] > 0.5
    assert float(box_iou(dets.boxes[:1], torch.tensor(box, dtype=torch.float32), 0.0)) > 0.7


def test_spec_fits_the_training_interface(tmp_path):
    from thoughtlab.csp.detectors import DETECTORS, build_detector
    from thoughtlab.csp.inference import predict
    from thoughtlab.csp.synth import preset, write_split
    from thoughtlab.csp.train_config import TrainConfig
    from thoughtlab.csp.training import train_detector
    from thoughtlab.csp.training_data import ImageSet

    assert DETECTORS["anchor"] is anchor_spec  # known by name, with no registration step
    config = {"detector": "anchor", "backbone": "resnet18", "width": 0.125, "head_convs": 1,
              "anchors": AnchorDesign((16.0, 24.0, 40.0), (0.41,)).to_config()}
    spec = build_detector(config)
    assert spec.name == "anchor" and spec.config["anchors"]["heights"] == [16.0, 24.0, 40.0]
    rebuilt = build_detector(spec.config)
    assert rebuilt.config == spec.config
    for split, n in (("train", 4), ("val", 2)):
        write_split(tmp_path, split, n, seed=1, config=preset("default", 96, 64))
    cfg = replace(TrainConfig.preset("smoke"), detector=config, steps=2, checkpoint_every=2, val_every=2)
    result = train_detector(spec, ImageSet.from_split(tmp_path, "train"), cfg, tmp_path / "run",
                            val=ImageSet.from_split(tmp_path, "val"), progress=False)
    assert result.steps == 2 and all(np.isfinite(result.losses))
    dets = predict(spec, result.model, [np.zeros((64, 96, 3), np.uint8)], score_threshold=0.0)
    assert len(dets) == 1 and dets[0].boxes.shape[1] == 4 and len(dets[0].scores) <= 100


def test_bad_spec_configs_raise():
    with pytest.raises(BadInput):
        anchor_spec({"detector": "anchor", "backbone": "resnet18"})            # no anchor design
    with pytest.raises(BadInput):
        anchor_spec({"anchors": DESIGN.to_config(), "colour": "red"})
