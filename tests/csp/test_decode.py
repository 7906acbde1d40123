"""CSP decoding and NMS: brute-force agreement, round trip through the targets, unpad, bad inputs."""

import math

import pytest
import torch

from thoughtlab.csp.decode import ImageDetections, decode, decode_image, detect, nms
from thoughtlab.csp.model import CSP, CSPOutput
from thoughtlab.csp.targets import make_targets
from thoughtlab.errors import BadInput


def brute_force_nms(boxes: list[list[float]], scores: list[float], thr: float, off: float) -> list[int]:
    """Textbook greedy NMS in plain Python (py_cpu_nms): sorted by score, ties by index."""
    def iou(a, b):
        iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + off)
        ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + off)
        inter = iw * ih
        area = lambda r: (r[2] - r[0] + off) * (r[3] - r[1] + off)
        return inter / (area(a) + area(b) - inter)
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    keep: list[int] = []
    for i in order:
        if all(iou(boxes[k], boxes[i]) <= thr for k in keep):
            keep.append(i)
    return keep


def random_boxes(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    centers = torch.rand(n, 2, generator=g, dtype=torch.float64) * 120
    sizes = 5 + torch.rand(n, 2, generator=g, dtype=torch.float64) * 40
    boxes = torch.cat([centers - sizes / 2, centers + sizes / 2], dim=1)
    return boxes, torch.rand(n, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("n, seed, block", [(1, 0, 512), (30, 1, 512), (300, 2, 512), (300, 3, 16), (700, 4, 64)])
@pytest.mark.parametrize("thr, off", [(0.5, 1.0), (0.5, 0.0), (0.3, 1.0)])
def test_nms_equals_brute_force(n, seed, block, thr, off):
    boxes, scores = random_boxes(n, seed)
    kept = nms(boxes, scores, thr, off, block=block).tolist()
    assert kept == brute_force_nms(boxes.tolist(), scores.tolist(), thr, off)
    assert 0 < len(kept) <= n


def test_nms_ties_empty_and_chain():
    boxes = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 10], [100, 100, 110, 110]])
    assert nms(boxes, torch.tensor([0.5, 0.5, 0.5])).tolist() == [0, 2]
    assert nms(torch.zeros(0, 4), torch.zeros(0)).tolist() == []
    # a chain: 0 suppresses 1, so 1 cannot suppress 2 (the case Fast-NMS gets wrong)
    chain = torch.tensor([[0.0, 0, 10, 10], [3, 0, 13, 10], [6, 0, 16, 10]])
    assert nms(chain, torch.tensor([0.9, 0.8, 0.7]), area_offset=0).tolist() == [0, 2]
    with pytest.raises(BadInput):
        nms(torch.zeros(3, 5), torch.zeros(3))
    with pytest.raises(BadInput, match="iou_threshold"):
        nms(boxes, torch.zeros(3), iou_threshold=1.0)


def perfect_outputs(boxes: list[list[float]], size: tuple[int, int]) -> CSPOutput:
    """Head outputs that reproduce the targets: logit +8 at positives, -8 elsewhere."""
    t = make_targets(boxes, size)
    return CSPOutput(center=(16 * t.center[2:3] - 8)[None], scale=t.scale[:1][None], offset=t.offset[:2][None])


def test_round_trip_targets_to_boxes_within_a_pixel():
    heights = [40.0, 64.0, 90.0, 130.0]
    boxes = [[20.0 + 60 * k + 0.3 * k, 12.0 + 7 * k, 0.0, 0.0] for k in range(4)]
    for b, h in zip(boxes, heights):
        b[2], b[3] = b[0] + 0.41 * h, b[1] + h
    dets = decode(perfect_outputs(boxes, (192, 256)), [(192, 256)])[0]
    assert len(dets.boxes) == 4
    for b in boxes:
        err = (dets.boxes - torch.tensor(b)).abs().amax(dim=1).min()
        assert err < 1.0
    assert torch.all(dets.scores > 0.99) and torch.all(dets.scores[:-1] >= dets.scores[1:])
    xywh = dets.xywh()
    torch.testing.assert_close(xywh[:, 2] / xywh[:, 3], torch.full((4,), 0.41))


def test_aspect_ratio_threshold_and_no_nms_options():
    box = [[40.0, 20.0, 60.5, 70.0]]
    out = perfect_outputs(box, (96, 96))
    wide = decode(out, [(96, 96)], aspect_ratio=1.0)[0]
    assert wide.boxes[0, 2] - wide.boxes[0, 0] == pytest.approx(50.0, abs=1e-4)
    assert len(decode(out, [(96, 96)], score_threshold=0.9999)[0].boxes) == 0
    low = decode(out, [(96, 96)], score_threshold=1e-4, nms_threshold=None)[0]
    assert len(low.boxes) == 24 * 24  # every cell, unsuppressed
    assert len(decode(out, [(96, 96)], score_threshold=1e-4)[0].boxes) < len(low.boxes)
    capped = decode(out, [(96, 96)], score_threshold=1e-4, nms_threshold=None, pre_nms_top_k=10)[0]
    torch.testing.assert_close(capped.scores, low.scores[:10])


def test_unpad_crops_maps_and_clips_boxes():
    out = perfect_outputs([[2.0, 30.0, 22.5, 80.0], [74.0, 40.0, 94.5, 90.0]], (96, 96))
    # original image 70x70 padded to 96x96: the second person's center (cell 16, 21) lies in the padding
    dets = decode(out, [(70, 70)])[0]
    assert len(dets.boxes) == 1
    assert dets.boxes[0, 3] <= 70 and dets.boxes[0, 2] <= 70 and dets.boxes[0, 0] >= 0


def test_boxes_clipped_at_top_left_are_shifted_not_cut():
    center = torch.full((1, 4, 4), 0.0)
    center[0, 0, 0] = 1.0
    scale = torch.full((1, 4, 4), math.log(10.0))  # h = 40 px, w = 16.4 px, centered at (2, 2)
    dets = decode_image(center, scale, torch.zeros(2, 4, 4), (16, 16))
    torch.testing.assert_close(dets.boxes[0], torch.tensor([0.0, 0.0, 16.0, 16.0]))
    torch.testing.assert_close(
        decode_image(center, scale, torch.zeros(2, 4, 4), (64, 64)).boxes[0], torch.tensor([0.0, 0.0, 16.4, 40.0]))


def test_detect_runs_a_model_on_an_unpadded_image():
    torch.manual_seed(0)
    model = CSP("resnet18", width=0.125).train()
    dets = detect(model, torch.randn(2, 3, 50, 70), score_threshold=0.0)
    assert model.training and len(dets) == 2 and isinstance(dets[0], ImageDetections)
    for d in dets:
        assert len(d.boxes) > 0 and d.boxes[:, 2].max() <= 70 and d.boxes[:, 3].max() <= 50


def test_decode_bad_inputs():
    out = perfect_outputs([[40.0, 20.0, 60.5, 70.0]], (96, 96))
    with pytest.raises(BadInput, match="image sizes"):
        decode(out, [(96, 96), (96, 96)])
    with pytest.raises(BadInput, match="center"):
        decode_image(out.center[0], out.scale[0], out.offset[0, :1], (96, 96))
