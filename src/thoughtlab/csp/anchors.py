"""Anchor-based baseline (RetinaNet, Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017).

The point of this baseline in the ``csp-synthetic`` study is that its anchors are *designed for one
scene distribution*: :func:`design_anchors` picks anchor heights and aspect ratios from the training
set's statistics, and the network is then tied to them.  The parts:

- **Anchors** (§4 "Anchors"): at every cell (i, j) of the stride-8 map, centred at
  ((j + 0.5) 8, (i + 0.5) 8), one box per designed (height, aspect) pair, ordered (row, column, anchor).
  RetinaNet tiles 3 scales x 3 aspects per pyramid level; with one level the heights come from
  quantiles of the training heights instead (see :func:`design_anchors`).
- **Assignment** (§4 "Anchors"): IoU >= 0.5 with a person -> positive (its best person); max IoU < 0.4
  -> negative; in between -> ignored.  As Detectron's RetinaNet (and torchvision's
  ``allow_low_quality_matches``), each person's best anchors are positive too, so no person goes
  without one.  Non-positive anchors lying in an ignore region (intersection over the anchor's area
  >= 0.5, the evaluator's rule) are ignored; persons override ignore regions, as in CSP's targets.
- **Box encoding** (Girshick et al., R-CNN / Faster R-CNN, weights 1 as RetinaNet):
  dx = (x - xa) / wa, dy = (y - ya) / ha, dw = log(w / wa), dh = log(h / ha) on box centres/sizes.
- **Loss** (§3, §4.1): sigmoid focal loss (alpha 0.25, gamma 2) summed over non-ignored anchors plus
  smooth-L1 (beta 0.11, Detectron's ``BBOX_REG_BETA``) on the positives' deltas, both divided by the
  number of positive anchors in the batch (at least 1).
- **Inference** (§4.1): scores > threshold, the best 1000 before NMS, decode (dw, dh clamped at
  log(1000 / 16)), clip to the image, greedy NMS at 0.5 with the same "+1 pixel" IoU as CSP's
  decoding (:func:`thoughtlab.csp.decode.nms`), keep the best 100.

The network is in :mod:`thoughtlab.csp.anchors_model`; :func:`anchor_spec` wraps everything in the
detector-agnostic ``DetectorSpec`` of :mod:`thoughtlab.csp.spec`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from thoughtlab.csp.anchors_model import ANCHOR_STRIDE, AnchorNet, AnchorOutput
from thoughtlab.csp.decode import NMS_IOU, ImageDetections, box_iou, nms
from thoughtlab.csp.model import PAD_MULTIPLE
from thoughtlab.csp.spec import DetectorSpec
from thoughtlab.errors import BadInput

POSITIVE_IOU = 0.5
NEGATIVE_IOU = 0.4
IGNORE_IOA = 0.5
FOCAL_ALPHA = 0.25
FOCAL_GAMMA = 2.0
SMOOTH_L1_BETA = 0.11
DELTA_CLAMP = math.log(1000.0 / 16)
PRE_NMS_TOP_K = 1000
MAX_DETECTIONS = 100
POSITIVE, NEGATIVE, IGNORED = 1.0, 0.0, -1.0


@dataclass(frozen=True)
class AnchorDesign:
    """Anchor shapes per cell: every (height, aspect = width / height) pair, heights in input pixels."""

    heights: tuple[float, ...]
    aspects: tuple[float, ...]

    @property
    def shapes(self) -> list[tuple[float, float]]:
        """(width, height) of the A = len(heights) x len(aspects) anchors, height-major."""
        return [(a * h, h) for h in self.heights for a in self.aspects]

    def to_config(self) -> dict[str, list[float]]:
        return {"heights": list(self.heights), "aspects": list(self.aspects)}


def _quantiles(values: np.ndarray, count: int, decimals: int) -> tuple[float, ...]:
    """``count`` evenly spread quantiles (probabilities (k + 0.5) / count), rounded, duplicates dropped."""
    probs = (np.arange(count) + 0.5) / count
    return tuple(float(v) for v in np.unique(np.round(np.quantile(values, probs), decimals)))


def design_anchors(heights: Any, aspects: Any, n_heights: int = 6, n_aspects: int = 1) -> AnchorDesign:
    """Anchors fitted to one training distribution: quantiles of its person heights and aspect ratios.

    ``heights`` / ``aspects`` are the training persons' box heights (px) and width / height ratios.
    Heights: ``n_heights`` quantiles at probabilities (k + 0.5) / n, so each anchor covers an equal share
    of the training people (for a log-uniform 20-300 px range, neighbours ~1.6x apart, so every height
    is within IoU >= 0.5 of an anchor of the same centre and aspect).  Aspects: ``n_aspects`` quantiles
    (the median by default; 0.41 for the study's default scenes, the usual single pedestrian aspect).
    Identical quantiles (a constant aspect) are merged.
    """
    h = np.asarray(heights, dtype=np.float64).reshape(-1)
    a = np.asarray(aspects, dtype=np.float64).reshape(-1)
    if h.size == 0 or h.size != a.size:
        raise BadInput(f"design_anchors needs one height and one aspect per training person, got {h.size} and {a.size}")
    if not (np.isfinite(h).all() and np.isfinite(a).all() and (h > 0).all() and (a > 0).all()):
        raise BadInput("design_anchors needs positive, finite person heights and aspect ratios")
    if n_heights < 1 or n_aspects < 1:
        raise BadInput(f"design_anchors needs n_heights, n_aspects >= 1, got {n_heights}, {n_aspects}")
    return AnchorDesign(_quantiles(h, n_heights, 1), _quantiles(a, n_aspects, 3))


def design_for_dataset(data: Any, n_heights: int = 6, n_aspects: int = 1) -> AnchorDesign:
    """:func:`design_anchors` from the training persons of ``data`` (an ``ImageSet``: ``len`` and ``boxes(i)``).

    Uses the persons the detector trains on (``boxes(i)[0]``, after the set's ``min_height`` policy).
    """
    persons = [data.boxes(i)[0] for i in range(len(data))]
    boxes = np.concatenate(persons) if persons else np.zeros((0, 4))
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return design_anchors(h, w / np.maximum(h, 1e-9), n_heights, n_aspects)


def feature_size(image_size: tuple[int, int], stride: int = ANCHOR_STRIDE) -> tuple[int, int]:
    """(h, w) of the stride-8 map of an input (H, W) once padded at the bottom/right to multiples of 16."""
    height, width = (int(s) for s in image_size)
    if height <= 0 or width <= 0:
        raise BadInput(f"input size must be positive, got {height}x{width}")
    return (-(-height // PAD_MULTIPLE) * PAD_MULTIPLE // stride, -(-width // PAD_MULTIPLE) * PAD_MULTIPLE // stride)


def make_anchors(map_size: tuple[int, int], design: AnchorDesign, stride: int = ANCHOR_STRIDE) -> torch.Tensor:
    """All anchors of an (h, w) map as (h w A, 4) (x1, y1, x2, y2), ordered (row, column, anchor)."""
    h, w = map_size
    shapes = torch.tensor(design.shapes, dtype=torch.float32)  # (A, 2) as (width, height)
    cy = (torch.arange(h, dtype=torch.float32) + 0.5) * stride
    cx = (torch.arange(w, dtype=torch.float32) + 0.5) * stride
    centres = torch.stack(torch.meshgrid(cx, cy, indexing="xy"), dim=-1).reshape(-1, 1, 2)  # (h w, 1, 2) as (x, y)
    half = shapes[None] / 2
    return torch.cat([centres - half, centres + half], dim=-1).reshape(-1, 4)


def _as_boxes(boxes: Any, what: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(boxes if boxes is not None else [], dtype=np.float64), dtype=torch.float32)
    t = t.reshape(-1, 4) if t.numel() == 0 else t
    if t.ndim != 2 or t.shape[1] != 4:
        raise BadInput(f"{what} must have shape (n, 4) as (x1, y1, x2, y2), got {tuple(t.shape)}")
    if not torch.isfinite(t).all() or ((t[:, 2] <= t[:, 0]) | (t[:, 3] <= t[:, 1])).any():
        raise BadInput(f"{what} need finite coordinates with x2 > x1 and y2 > y1")
    return t


def intersection_over_first(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(n, m) area(a_i & b_j) / area(a_i) of (x1, y1, x2, y2) boxes (continuous areas)."""
    iw = (torch.minimum(a[:, None, 2], b[None, :, 2]) - torch.maximum(a[:, None, 0], b[None, :, 0])).clamp_min(0)
    ih = (torch.minimum(a[:, None, 3], b[None, :, 3]) - torch.maximum(a[:, None, 1], b[None, :, 1])).clamp_min(0)
    return iw * ih / ((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]))[:, None]


def assign(anchors: torch.Tensor, persons: Any, ignore: Any = None, low_quality: bool = True
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Label each anchor 1 (positive) / 0 (negative) / -1 (ignored) and give its matched person index.

    Returns ``labels`` (K,) float32 and ``matched`` (K,) long (the best person; 0 where there is none).
    """
    persons = _as_boxes(persons, "person boxes")
    ignore = _as_boxes(ignore, "ignore regions")
    labels = torch.full((len(anchors),), NEGATIVE)
    matched = torch.zeros(len(anchors), dtype=torch.long)
    if len(ignore):
        labels[(intersection_over_first(anchors, ignore) >= IGNORE_IOA).any(dim=1)] = IGNORED
    if len(persons):
        iou = box_iou(anchors, persons, area_offset=0.0)  # (K, n)
        best_iou, matched = iou.max(dim=1)
        labels[(best_iou >= NEGATIVE_IOU) & (best_iou < POSITIVE_IOU)] = IGNORED
        labels[best_iou >= POSITIVE_IOU] = POSITIVE
        if low_quality:
            per_person = iou.max(dim=0).values  # each person's best IoU
            rows, cols = torch.nonzero((iou == per_person[None]) & (per_person[None] > 0), as_tuple=True)
            labels[rows] = POSITIVE
            matched[rows] = cols
    return labels, matched


def encode(anchors: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """(dx, dy, dw, dh) of ``boxes`` relative to ``anchors`` (both (K, 4) xyxy)."""
    wa, ha = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    dx = ((boxes[:, 0] + boxes[:, 2]) - (anchors[:, 0] + anchors[:, 2])) / (2 * wa)
    dy = ((boxes[:, 1] + boxes[:, 3]) - (anchors[:, 1] + anchors[:, 3])) / (2 * ha)
    return torch.stack([dx, dy, torch.log(w / wa), torch.log(h / ha)], dim=1)


def decode_boxes(anchors: torch.Tensor, deltas: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`encode`; dw and dh are clamped at log(1000 / 16) (Detectron) against overflow."""
    wa, ha = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    cx = (anchors[:, 0] + anchors[:, 2]) / 2 + deltas[:, 0] * wa
    cy = (anchors[:, 1] + anchors[:, 3]) / 2 + deltas[:, 1] * ha
    w = wa * torch.exp(deltas[:, 2].clamp(max=DELTA_CLAMP))
    h = ha * torch.exp(deltas[:, 3].clamp(max=DELTA_CLAMP))
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=1)


def make_anchor_targets(persons: Any, ignore: Any, image_size: tuple[int, int], design: AnchorDesign,
                        low_quality: bool = True) -> dict[str, torch.Tensor]:
    """Targets of one input (H, W) (padded to 16 by the trainer): ``labels`` (K,) in {1, 0, -1}, ``deltas`` (K, 4)."""
    anchors = make_anchors(feature_size(image_size), design)
    persons = _as_boxes(persons, "person boxes")
    labels, matched = assign(anchors, persons, ignore, low_quality)
    deltas = torch.zeros(len(anchors), 4)
    positive = labels == POSITIVE
    if positive.any():
        deltas[positive] = encode(anchors[positive], persons[matched[positive]])
    return {"labels": labels, "deltas": deltas}


def flatten_outputs(outputs: AnchorOutput) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (N, K) and deltas (N, K, 4) in the (row, column, anchor) order of :func:`make_anchors`."""
    n, a, h, w = outputs.logits.shape
    logits = outputs.logits.permute(0, 2, 3, 1).reshape(n, h * w * a)
    deltas = outputs.deltas.view(n, a, 4, h, w).permute(0, 3, 4, 1, 2).reshape(n, h * w * a, 4)
    return logits, deltas


def focal_loss(logits: torch.Tensor, labels: torch.Tensor, alpha: float = FOCAL_ALPHA,
               gamma: float = FOCAL_GAMMA) -> torch.Tensor:
    """Sum of FL(p_t) = -alpha_t (1 - p_t)^gamma log(p_t) over anchors with label 0 or 1 (Lin et al. eq. 5)."""
    valid = labels != IGNORED
    x, y = logits[valid], labels[valid]
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = torch.exp(-ce)
    alpha_t = alpha * y + (1 - alpha) * (1 - y)
    return (alpha_t * (1 - p_t).pow(gamma) * ce).sum()


def anchor_loss(outputs: AnchorOutput, targets: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Focal classification + smooth-L1 regression, each normalised by the batch's positive anchors."""
    logits, deltas = flatten_outputs(outputs)
    labels, target_deltas = targets["labels"].to(logits.device), targets["deltas"].to(logits.device)
    if labels.shape != logits.shape or target_deltas.shape != deltas.shape:
        raise BadInput(f"anchor targets {tuple(labels.shape)} do not match the outputs {tuple(logits.shape)}; "
                       f"make targets for the padded input size")
    positive = labels == POSITIVE
    normaliser = positive.sum().clamp_min(1).float()
    cls = focal_loss(logits, labels) / normaliser
    box = F.smooth_l1_loss(deltas[positive], target_deltas[positive], beta=SMOOTH_L1_BETA, reduction="sum") / normaliser
    total = cls + box
    return total, {"cls": float(cls.detach()), "box": float(box.detach()), "positives": float(positive.sum())}


def decode_anchor_outputs(outputs: AnchorOutput, image_sizes: list[tuple[int, int]], score_threshold: float,
                          design: AnchorDesign, nms_iou: float = NMS_IOU, pre_nms_top_k: int = PRE_NMS_TOP_K,
                          max_detections: int = MAX_DETECTIONS) -> list[ImageDetections]:
    """One :class:`ImageDetections` per image: threshold, top-k, decode, clip to the unpadded (H, W), NMS, keep 100."""
    if len(image_sizes) != outputs.logits.shape[0]:
        raise BadInput(f"decode got {len(image_sizes)} image sizes for a batch of {outputs.logits.shape[0]}")
    logits, deltas = flatten_outputs(outputs)
    anchors = make_anchors(tuple(outputs.logits.shape[-2:]), design).to(logits.device)
    results = []
    for k, (height, width) in enumerate(image_sizes):
        scores = torch.sigmoid(logits[k].detach().float())
        keep = torch.nonzero(scores > score_threshold).squeeze(1)
        keep = keep[torch.argsort(scores[keep], descending=True, stable=True)[:pre_nms_top_k]]
        boxes = decode_boxes(anchors[keep], deltas[k, keep].detach().float())
        limits = torch.tensor([width, height, width, height], dtype=boxes.dtype, device=boxes.device)
        boxes = torch.minimum(boxes.clamp_min(0), limits)
        nonempty = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        boxes, kept_scores = boxes[nonempty], scores[keep][nonempty]
        order = nms(boxes, kept_scores, nms_iou)[:max_detections]
        results.append(ImageDetections(boxes[order].cpu(), kept_scores[order].cpu()))
    return results


def stack_targets(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Batch per-image target dicts (same input size) by stacking each key."""
    if not items:
        raise BadInput("a batch needs at least one image's targets")
    sizes = {tuple(item["labels"].shape) for item in items}
    if len(sizes) != 1:
        raise BadInput(f"all images of a batch need the same input size, got anchor counts {sorted(sizes)}")
    return {key: torch.stack([item[key] for item in items]) for key in items[0]}


DEFAULT_CONFIG: dict[str, Any] = {"detector": "anchor", "backbone": "resnet50", "width": 1.0, "channels": None,
                                  "head_convs": 2, "backbone_weights": None, "low_quality_matches": True,
                                  "nms_iou": NMS_IOU, "pre_nms_top_k": PRE_NMS_TOP_K,
                                  "max_detections": MAX_DETECTIONS}


def anchor_spec(config: dict[str, Any]) -> DetectorSpec:
    """The anchor baseline as a ``DetectorSpec``; ``config["anchors"]`` = ``AnchorDesign.to_config()`` is required.

    Other keys (defaults in ``DEFAULT_CONFIG``): backbone, width, channels, head_convs, backbone_weights,
    low_quality_matches, nms_iou, pre_nms_top_k, max_detections.
    """
    unknown = sorted(set(config) - set(DEFAULT_CONFIG) - {"anchors"})
    if unknown:
        raise BadInput(f"unknown anchor detector option(s) {unknown}; known: {sorted([*DEFAULT_CONFIG, 'anchors'])}")
    anchors = config.get("anchors")
    if not isinstance(anchors, dict) or not anchors.get("heights") or not anchors.get("aspects"):
        raise BadInput("the anchor detector needs config['anchors'] = {'heights': [...], 'aspects': [...]}; "
                       "get it from design_anchors(...).to_config()")
    cfg = {**DEFAULT_CONFIG, **config, "detector": "anchor"}
    design = AnchorDesign(tuple(float(h) for h in anchors["heights"]), tuple(float(a) for a in anchors["aspects"]))
    model = AnchorNet(len(design.shapes), cfg["backbone"], cfg["width"], cfg["channels"], cfg["head_convs"],
                      cfg["backbone_weights"])
    return DetectorSpec(
        name="anchor", config=cfg, model=model,
        targets=lambda persons, ignore, size: make_anchor_targets(persons, ignore, size, design,
                                                                  cfg["low_quality_matches"]),
        collate=stack_targets, loss=anchor_loss,
        decode=lambda outputs, sizes, threshold: decode_anchor_outputs(
            outputs, sizes, threshold, design, cfg["nms_iou"], cfg["pre_nms_top_k"], cfg["max_detections"]))
