"""From CSP head outputs to person boxes: threshold, decode, greedy NMS (all in torch).

Liu et al., CVPR 2019, §3.4 ("Inference"), as the official
``keras_csp/bbox_process.py::parse_det_offset`` does it (research notes
csp.md §2.4): keep cells with center score > threshold (0.1 CityPersons,
0.01 Caltech), then per cell (i, j)

    h = exp(s) r,  w = aspect h (0.41),
    cx = (j + dx + 0.5) r,  cy = (i + dy + 0.5) r,
    x1 = max(0, cx - w/2),  y1 = max(0, cy - h/2),
    x2 = min(x1 + w, W),    y2 = min(y1 + h, H)

(clipping x1/y1 shifts the box rather than truncating it, as in the code),
and greedy NMS at IoU 0.5 with the code's "+1 pixel" area convention
(``area_offset=1``; 0 gives the continuous IoU).  Unpad: the maps are
cropped to the *original* image size (H, W) and boxes are clipped to it;
boxes left empty by the clipping are dropped (the code would keep them).

:func:`nms` is exact greedy NMS, vectorised: the pairs with IoU above the
threshold are found by a block sweep in x order (blocks that cannot
intersect are skipped), then greedy suppression over that sparse graph is
the Cluster-NMS fixed point (Zheng et al., "Enhancing Geometric Factors in
Model Learning and Inference", 2020, §4), which equals the greedy result.
Memory is O(block^2 + overlapping pairs).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from thoughtlab.csp.model import STRIDE, CSPOutput, pad_to_multiple, unpad
from thoughtlab.errors import BadInput

ASPECT_RATIO = 0.41  # pedestrian width / height (Dollar et al.; CSP bbox_process.py)
SCORE_THRESHOLD = 0.1  # CityPersons test_city.py; Caltech uses 0.01
NMS_IOU = 0.5
NMS_BLOCK = 256


class ImageDetections(NamedTuple):
    """Boxes (k, 4) as (x1, y1, x2, y2) pixels and scores (k,), by descending score."""

    boxes: torch.Tensor
    scores: torch.Tensor

    def xywh(self) -> torch.Tensor:
        """Boxes as (x, y, w, h), the COCO results / evaluator convention."""
        return torch.cat([self.boxes[:, :2], self.boxes[:, 2:] - self.boxes[:, :2]], dim=1)


def box_iou(a: torch.Tensor, b: torch.Tensor, area_offset: float = 1.0) -> torch.Tensor:
    """(n, m) IoU of (x1, y1, x2, y2) boxes; sides are x2 - x1 + area_offset (code's +1 convention)."""
    iw = (torch.minimum(a[:, None, 2], b[None, :, 2]) - torch.maximum(a[:, None, 0], b[None, :, 0]) + area_offset)
    ih = (torch.minimum(a[:, None, 3], b[None, :, 3]) - torch.maximum(a[:, None, 1], b[None, :, 1]) + area_offset)
    inter = iw.clamp_min_(0).mul_(ih.clamp_min_(0))
    area_a = (a[:, 2] - a[:, 0] + area_offset) * (a[:, 3] - a[:, 1] + area_offset)
    area_b = (b[:, 2] - b[:, 0] + area_offset) * (b[:, 3] - b[:, 1] + area_offset)
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def overlap_pairs(boxes: torch.Tensor, iou_threshold: float, area_offset: float, block: int
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """All pairs (i, j), i < j, of rows of ``boxes`` with IoU > ``iou_threshold`` (both (E,) index tensors).

    Boxes are swept in x1 order in blocks; a block is compared only with the
    blocks whose first x1 starts before its right-most x2 (others cannot
    intersect), so the cost follows the number of nearby pairs, not n^2.
    """
    by_x = torch.argsort(boxes[:, 0], stable=True)
    swept = boxes[by_x]
    firsts, seconds = [], []
    for a in range(0, len(swept), block):
        part_a = swept[a:a + block]
        reach = part_a[:, 2].max() + area_offset
        for b in range(a, len(swept), block):
            if swept[b, 0] >= reach:
                break
            hits = box_iou(part_a, swept[b:b + block], area_offset) > iou_threshold
            if a == b:
                hits = torch.triu(hits, diagonal=1)
            i, j = torch.nonzero(hits, as_tuple=True)
            firsts.append(by_x[i + a])
            seconds.append(by_x[j + b])
    if not firsts:
        empty = torch.zeros(0, dtype=torch.long, device=boxes.device)
        return empty, empty
    first, second = torch.cat(firsts), torch.cat(seconds)
    return torch.minimum(first, second), torch.maximum(first, second)


def greedy_keep(count: int, suppressor: torch.Tensor, suppressed: torch.Tensor) -> torch.Tensor:
    """Greedy NMS as a fixed point (Cluster-NMS) on the sparse overlap graph of score-ranked boxes.

    Edge k says box ``suppressor[k]`` (higher rank) removes box ``suppressed[k]``
    if it is kept.  Iterating keep_j = no kept i < j overlaps j from "all kept"
    fixes at least the next undecided box per step, and its fixed point is the
    greedy solution (decided in rank order).
    """
    keep = torch.ones(count, dtype=torch.bool, device=suppressor.device)
    while True:
        removed = torch.zeros_like(keep)
        removed[suppressed[keep[suppressor]]] = True
        if torch.equal(~removed, keep):
            return keep
        keep = ~removed


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float = NMS_IOU, area_offset: float = 1.0,
        block: int = NMS_BLOCK) -> torch.Tensor:
    """Indices of the boxes kept by greedy NMS, by descending score (ties: original order).

    A box is suppressed by a kept, higher-ranked box whose IoU with it is
    strictly greater than ``iou_threshold`` (the official ``py_cpu_nms``).
    """
    if boxes.ndim != 2 or boxes.shape[1] != 4 or scores.shape != boxes.shape[:1]:
        raise BadInput(f"nms needs boxes (n, 4) and scores (n,), got {tuple(boxes.shape)} and {tuple(scores.shape)}")
    if not 0 <= iou_threshold < 1:
        raise BadInput(f"nms iou_threshold must be in [0, 1), got {iou_threshold}")
    order = torch.argsort(scores, descending=True, stable=True)
    suppressor, suppressed = overlap_pairs(boxes[order], iou_threshold, area_offset, block)
    return order[greedy_keep(len(order), suppressor, suppressed)]


def decode_image(center: torch.Tensor, scale: torch.Tensor, offset: torch.Tensor, image_size: tuple[int, int],
                 stride: int = STRIDE, score_threshold: float = SCORE_THRESHOLD, aspect_ratio: float = ASPECT_RATIO,
                 nms_threshold: float | None = NMS_IOU, area_offset: float = 1.0,
                 pre_nms_top_k: int | None = None) -> ImageDetections:
    """Detections of one image from its maps: center *scores* (1,h,w) in [0,1], scale (1,h,w), offset (2,h,w).

    ``image_size`` is the original (H, W) before padding; ``nms_threshold=None`` skips NMS.
    ``pre_nms_top_k`` keeps only the best k cells before NMS (Pedestron uses 1000; the
    official code has no cap, the default).  It bounds the NMS cost of a barely trained
    model at a low threshold (every cell a candidate: 19,200 at 480x640, seconds of NMS).
    """
    if center.ndim != 3 or center.shape[0] != 1 or scale.shape != center.shape \
            or offset.shape != (2, *center.shape[1:]):
        raise BadInput(f"decode needs center (1,h,w), scale (1,h,w), offset (2,h,w); got "
                       f"{tuple(center.shape)}, {tuple(scale.shape)}, {tuple(offset.shape)}")
    height, width = image_size
    center, scale, offset = (unpad(m, image_size, stride) for m in (center, scale, offset))
    rows, cols = torch.nonzero(center[0] > score_threshold, as_tuple=True)
    scores = center[0, rows, cols]
    h = torch.exp(scale[0, rows, cols]) * stride
    w = aspect_ratio * h
    cy = (rows + offset[0, rows, cols] + 0.5) * stride
    cx = (cols + offset[1, rows, cols] + 0.5) * stride
    x1 = (cx - w / 2).clamp_min(0)
    y1 = (cy - h / 2).clamp_min(0)
    boxes = torch.stack([x1, y1, (x1 + w).clamp_max(width), (y1 + h).clamp_max(height)], dim=1)
    nonempty = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    boxes, scores = boxes[nonempty], scores[nonempty]
    if pre_nms_top_k is not None and len(scores) > pre_nms_top_k:
        best = torch.argsort(scores, descending=True, stable=True)[:pre_nms_top_k]
        boxes, scores = boxes[best], scores[best]
    if nms_threshold is None:
        order = torch.argsort(scores, descending=True, stable=True)
    else:
        order = nms(boxes, scores, nms_threshold, area_offset)
    return ImageDetections(boxes[order], scores[order])


def decode(outputs: CSPOutput, image_sizes: list[tuple[int, int]], **options: float | None) -> list[ImageDetections]:
    """Decode a batch of raw head outputs (center logits); one :class:`ImageDetections` per image.

    ``options`` go to :func:`decode_image` (stride, score_threshold, aspect_ratio, nms_threshold,
    area_offset, pre_nms_top_k).
    """
    if len(image_sizes) != outputs.center.shape[0]:
        raise BadInput(f"decode got {len(image_sizes)} image sizes for a batch of {outputs.center.shape[0]}")
    scores = torch.sigmoid(outputs.center)
    return [decode_image(scores[k], outputs.scale[k], outputs.offset[k], size, **options)
            for k, size in enumerate(image_sizes)]


@torch.no_grad()
def detect(model: torch.nn.Module, images: torch.Tensor, **options: float | None) -> list[ImageDetections]:
    """Run a CSP model in eval mode on normalised images (N, 3, H, W): pad to 16, forward, decode, unpad."""
    was_training = model.training
    model.eval()
    try:
        padded, size = pad_to_multiple(images)
        outputs = model(padded)
    finally:
        model.train(was_training)
    return decode(outputs, [size] * images.shape[0], **options)
