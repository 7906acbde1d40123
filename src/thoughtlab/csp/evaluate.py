"""Log-average miss rate (MR⁻²) of pedestrian detections, as the official CityPersons and Caltech code computes it.

Protocol (Dollár et al., PAMI 2012; CityPersons ``eval_MR_multisetup.py``; Caltech ``bbGt.m`` / ``dbEval.m``;
research notes csp.md §3 and its addendum):

1. Per subset, a GT is *ignored* if it carries an ignore flag or its ``height`` / ``visibility`` lies
   outside the subset's closed ranges.  Ignored GTs are ignore regions.
2. Per image, detections are stably sorted by score (descending), capped at 1000 (CityPersons Python;
   MATLAB has no cap), then only those with height h ∈ [h_lo/1.25, h_hi·1.25) are kept.
3. Greedy matching in score order: a detection takes the still-unmatched non-ignored GT of highest
   IoU ≥ 0.5 (ties: the last in file order); failing that, it is absorbed by any ignore region whose
   intersection over the *detection's* area is ≥ 0.5 (a region absorbs any number of detections).
   Matched: true positive; absorbed: dropped; otherwise: false positive.
4. All surviving detections are pooled and stably sorted by score (ties: image id ascending, then file
   order); FPPI = cumulative FP / number of images (all of them, empty ones too), recall = cumulative
   TP / number of non-ignored GTs.
5. At each of the 9 references 10^(−2:0.25:0), the recall of the last operating point with FPPI ≤ the
   reference; MR⁻² = exp(mean(log(1 − recall))).  It is exactly 0 once any reference reaches recall 1
   (neither official implementation floors the logarithm).

Matching is per image, so :func:`image_matches` prepares it once and :class:`ImageMatches` re-runs steps 4–5 on
any multiset of the images (image-level bootstrap intervals, :mod:`thoughtlab.csp.intervals`).

Where the codes differ from each other or from the paper, this module follows the code and says so:

* *Below the first operating point* (the first pooled detection is a false positive and 1/N > 0.01,
  i.e. fewer than 100 images): MATLAB ``compRoc`` puts a sentinel (FPPI −∞, recall 0) in front of the
  curve, so such a reference gets recall 0.  The Python evaluator indexes ``recall[-1]`` there, i.e.
  the *last* (highest) recall, a latent bug.  Default ``below_first="sentinel"`` (MATLAB);
  ``"python"`` reproduces the bug for cross-checks.
* *Reference points*: MATLAB uses the exact powers 10^(−2:0.25:0) (default ``"exact"``, the paper's
  definition); the Python code a 4-decimal rounded list (``"rounded"``).  They agree on the official
  500-image CityPersons val and 4,024-image Caltech test sets.
* *Subset membership* reads the file's ``height`` / ``vis_ratio`` fields (carried by
  :class:`~thoughtlab.csp.datasets.AnnotatedImage`), not values recomputed from the boxes.
* *CSP's Heavy* is visibility [0, 0.65] (CSP's ``eval_MR_multisetup.py``), not the official
  [0.2, 0.65]; both are offered (``HeavyCSP``, ``Heavy``).  CSP's Bare/Partial/Heavy also need h ≥ 50.
* Bugs of the official Python not copied: GT id 0 counted as unmatched, duplicate GT ids, ignore flags
  leaking between subsets; no detections at all gives MR = 1 at every reference instead of a crash;
  a subset without positives gives ``mr2=None`` instead of −100 %.
* *Caltech* (``dbEval.m``): non-ignored GTs crossing the bounds [5 5 635 475] become ignored, then the
  remaining non-ignored GTs are resized to aspect 0.41 (height and centre kept) per subset; detections
  are not resized.  :meth:`EvalSettings.caltech` switches this on (and drops the per-image cap).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from thoughtlab.csp.coco_results import Detections
from thoughtlab.csp.datasets import AnnotatedImage, PedestrianSet, load_annotations
from thoughtlab.errors import BadInput, UnknownName

FPPI_EXACT = 10.0 ** np.arange(-2.0, 0.001, 0.25)
FPPI_ROUNDED = np.array([0.0100, 0.0178, 0.0316, 0.0562, 0.1000, 0.1778, 0.3162, 0.5623, 1.0000])
_BIG = 1e5 ** 2  # the official "no upper bound" (kept so that the 1.25 expansion is computed identically)


@dataclass(frozen=True)
class Subset:
    """An evaluation setup: closed ranges of GT height (px) and visible fraction."""

    name: str
    height: tuple[float, float]
    visibility: tuple[float, float]


SUBSETS: dict[str, Subset] = {s.name: s for s in (
    Subset("Reasonable", (50, _BIG), (0.65, _BIG)),
    Subset("Small", (50, 75), (0.65, _BIG)),
    Subset("Medium", (75, 100), (0.65, _BIG)),
    Subset("Large", (100, _BIG), (0.65, _BIG)),
    Subset("Heavy", (50, _BIG), (0.2, 0.65)),        # official CityPersons "Reasonable_occ=heavy"
    Subset("HeavyCSP", (50, _BIG), (0.0, 0.65)),     # CSP paper's Heavy
    Subset("Partial", (50, _BIG), (0.65, 0.9)),
    Subset("Bare", (50, _BIG), (0.9, _BIG)),
    Subset("All", (20, _BIG), (0.2, _BIG)),
)}
DEFAULT_SUBSETS = ("Reasonable", "Small", "Heavy", "HeavyCSP", "Partial", "Bare", "All")


@dataclass(frozen=True)
class EvalSettings:
    """Knobs of the protocol; the defaults are the CityPersons code with MATLAB's sentinel and exact points."""

    iou_threshold: float = 0.5
    expand_filter: float = 1.25
    max_detections_per_image: int | None = 1000
    fppi_points: str = "exact"
    below_first: str = "sentinel"
    gt_bounds: tuple[float, float, float, float] | None = None
    gt_aspect: float | None = None

    def __post_init__(self) -> None:
        if self.fppi_points not in ("exact", "rounded"):
            raise UnknownName("fppi_points", self.fppi_points, ["exact", "rounded"])
        if self.below_first not in ("sentinel", "python"):
            raise UnknownName("below_first", self.below_first, ["sentinel", "python"])

    @classmethod
    def caltech(cls, **overrides: Any) -> EvalSettings:
        """dbEval's Caltech protocol: bounds [5 5 635 475], GT aspect 0.41, no per-image cap."""
        return cls(**{"max_detections_per_image": None, "gt_bounds": (5, 5, 635, 475), "gt_aspect": 0.41,
                      **overrides})

    def reference_points(self) -> np.ndarray:
        return FPPI_EXACT if self.fppi_points == "exact" else FPPI_ROUNDED


@dataclass
class SubsetResult:
    """MR⁻² of one subset with its miss-rate-vs-FPPI curve (``mr2`` is None when there is no positive)."""

    subset: Subset
    mr2: float | None
    reference_fppi: np.ndarray
    miss_rate_at_references: np.ndarray
    fppi: np.ndarray
    miss_rate: np.ndarray
    n_images: int
    n_positives: int
    n_true_positives: int
    n_false_positives: int
    n_ignored_detections: int

    def summary(self) -> dict[str, Any]:
        """JSON-able numbers (no curve)."""
        return {"subset": self.subset.name, "mr2": self.mr2, "height": list(self.subset.height),
                "visibility": list(self.subset.visibility),
                "miss_rate_at_references": self.miss_rate_at_references.tolist(),
                "n_images": self.n_images, "n_positives": self.n_positives,
                "n_true_positives": self.n_true_positives, "n_false_positives": self.n_false_positives,
                "n_ignored_detections": self.n_ignored_detections}


@dataclass
class Evaluation:
    """Results of every requested subset, the settings used and detections on unknown images."""

    subsets: dict[str, SubsetResult]
    settings: EvalSettings
    n_detections_unknown_image: int = 0
    notes: list[str] = field(default_factory=list)

    def mr2(self, subset: str = "Reasonable") -> float | None:
        return self.subsets[subset].mr2

    def table(self) -> str:
        """Plain-text table: subset, ranges, MR⁻² in % (``n/a`` without positives), people, TP, FP."""
        lines = [f"{'subset':<11} {'height':>11} {'visibility':>11} {'MR-2':>8} {'people':>7} {'TP':>6} {'FP':>7}"]
        for r in self.subsets.values():
            (h_lo, h_hi), (v_lo, v_hi) = r.subset.height, r.subset.visibility
            mr = "n/a" if r.mr2 is None else f"{100 * r.mr2:.2f}%"
            lines.append(f"{r.subset.name:<11} {_range(h_lo, h_hi, '.0f'):>11} {_range(v_lo, v_hi, '.2f'):>11} "
                         f"{mr:>8} {r.n_positives:>7} {r.n_true_positives:>6} {r.n_false_positives:>7}")
        return "\n".join(lines)

    def summary(self) -> dict[str, Any]:
        return {"settings": asdict(self.settings), "n_detections_unknown_image": self.n_detections_unknown_image,
                "subsets": {name: r.summary() for name, r in self.subsets.items()}}


def _range(lo: float, hi: float, fmt: str) -> str:
    return f"[{lo:{fmt}}, {'inf' if hi >= _BIG else format(hi, fmt)}]"


# ---------------------------------------------------------------- overlaps and per-image matching

def overlaps(dets: np.ndarray, gts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IoU and intersection-over-detection-area, both (D, G), for ``[x, y, w, h]`` boxes (official convention,
    no +1; a zero-area detection overlaps nothing)."""
    iw = np.minimum(dets[:, None, 0] + dets[:, None, 2], gts[None, :, 0] + gts[None, :, 2]) \
        - np.maximum(dets[:, None, 0], gts[None, :, 0])
    ih = np.minimum(dets[:, None, 1] + dets[:, None, 3], gts[None, :, 1] + gts[None, :, 3]) \
        - np.maximum(dets[:, None, 1], gts[None, :, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    d_area = (dets[:, 2] * dets[:, 3])[:, None]
    union = d_area + (gts[:, 2] * gts[:, 3])[None, :] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=inter > 0)
    ioa = np.divide(inter, np.broadcast_to(d_area, inter.shape), out=np.zeros_like(inter), where=inter > 0)
    return iou, ioa


def match_image(iou: np.ndarray, ioa: np.ndarray, gt_ignored: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Greedy matching of score-sorted detections (rows) to GTs (columns): 1 TP, 0 FP, −1 absorbed.

    Equivalent to ``evaluateImg`` / ``evalRes``: only detections overlapping some non-ignored GT at
    ≥ ``threshold`` need the sequential loop; the others are absorbed or false positives at once.
    """
    n_det = iou.shape[0]
    state = np.zeros(n_det, np.int8)
    if n_det == 0 or iou.shape[1] == 0:
        return state
    normal = ~gt_ignored
    absorbed = (ioa[:, gt_ignored] >= threshold).any(axis=1) if gt_ignored.any() else np.zeros(n_det, bool)
    state[absorbed] = -1
    cand_iou = iou[:, normal]
    free = np.ones(cand_iou.shape[1], bool)
    for d in np.flatnonzero((cand_iou >= threshold).any(axis=1)):
        ok = free & (cand_iou[d] >= threshold)
        if not ok.any():
            continue
        values = np.where(ok, cand_iou[d], -1.0)
        best = len(values) - 1 - int(np.argmax(values[::-1]))   # ties: the last GT in file order wins
        free[best] = False
        state[d] = 1
    return state


# ---------------------------------------------------------------- the log-average miss rate

def recall_at_references(fppi: np.ndarray, recall: np.ndarray, references: np.ndarray,
                         below_first: str = "sentinel") -> np.ndarray:
    """Recall of the last operating point with FPPI ≤ each reference.

    ``"sentinel"`` (MATLAB ``compRoc``): a reference below the first point gets recall 0.
    ``"python"`` (CityPersons ``accumulate``): it gets ``recall[-1]``, the last recall (the official bug).
    With no operating point at all, recall is 0 everywhere in both.
    """
    if len(recall) == 0:
        return np.zeros(len(references))
    idx = np.searchsorted(fppi, references, side="right") - 1
    if below_first == "python":
        return recall[idx]
    return np.where(idx >= 0, recall[np.maximum(idx, 0)], 0.0)


def log_average_miss_rate(miss_rates: np.ndarray) -> float:
    """exp(mean(log m)); exactly 0 when any miss rate is 0, as in both official codes."""
    with np.errstate(divide="ignore"):
        return float(np.exp(np.mean(np.log(miss_rates))))


# ---------------------------------------------------------------- evaluation

@dataclass
class _ImageWork:
    """One image's subset-independent data: sorted, capped detections and their overlaps with the GTs."""

    image: AnnotatedImage
    det_heights: np.ndarray
    det_scores: np.ndarray
    iou: np.ndarray
    ioa: np.ndarray
    det_boxes: np.ndarray


def evaluate_miss_rate(ground_truth: PedestrianSet | str | Path, detections: Detections | str | Path | Sequence[dict],
             subsets: Iterable[str | Subset] = DEFAULT_SUBSETS, settings: EvalSettings | None = None) -> Evaluation:
    """MR⁻² of ``detections`` on ``ground_truth`` for each subset (see the module docstring for the rules)."""
    settings = settings or EvalSettings()
    gt = ground_truth if isinstance(ground_truth, PedestrianSet) else load_annotations(ground_truth)
    dets = detections if isinstance(detections, Detections) else Detections.from_coco(detections)
    chosen = [_subset(s) for s in ([subsets] if isinstance(subsets, (str, Subset)) else subsets)]
    _check_unique_ids(gt)
    work, unknown = _prepare(gt, dets, settings)
    results = {s.name: _evaluate_subset(work, s, settings) for s in chosen}
    return Evaluation(results, settings, unknown)


def _subset(s: str | Subset) -> Subset:
    if isinstance(s, Subset):
        return s
    if s not in SUBSETS:
        raise UnknownName("subset", s, list(SUBSETS))
    return SUBSETS[s]


def _check_unique_ids(gt: PedestrianSet) -> None:
    ids = gt.image_ids()
    if len(set(ids)) != len(ids):
        raise BadInput(f"ground truth {gt.name!r}: image ids repeat; each image needs its own id")


def _prepare(gt: PedestrianSet, dets: Detections, settings: EvalSettings) -> tuple[list[_ImageWork], int]:
    images = sorted(gt.images, key=lambda im: im.image_id)
    ids = np.array([im.image_id for im in images], dtype=np.int64)
    order = np.argsort(dets.image_ids, kind="stable")
    sorted_ids = dets.image_ids[order]
    starts = np.searchsorted(sorted_ids, ids, side="left")
    stops = np.searchsorted(sorted_ids, ids, side="right")
    unknown = len(dets.image_ids) - int(np.sum(stops - starts))
    work = []
    for image, a, b in zip(images, starts, stops):
        rows = order[a:b]                                          # file order within the image
        rows = rows[np.argsort(-dets.scores[rows], kind="stable")]  # score order, ties by file order
        if settings.max_detections_per_image is not None:
            rows = rows[: settings.max_detections_per_image]
        boxes = dets.boxes[rows]
        work.append(_ImageWork(image, boxes[:, 3], dets.scores[rows], *_empty_or_overlaps(boxes, image.boxes),
                               det_boxes=boxes))
    return work, unknown


def _empty_or_overlaps(dets: np.ndarray, gts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return overlaps(dets, gts) if len(dets) and len(gts) else (np.zeros((len(dets), len(gts))),) * 2


def subset_ignored(image: AnnotatedImage, subset: Subset) -> np.ndarray:
    """GTs that are ignore regions for ``subset``: flagged, or height/visibility outside the closed ranges."""
    (h_lo, h_hi), (v_lo, v_hi) = subset.height, subset.visibility
    return (image.ignore | (image.heights < h_lo) | (image.heights > h_hi)
            | (image.visibility < v_lo) | (image.visibility > v_hi))


def _caltech_gt(work: _ImageWork, ignored: np.ndarray, settings: EvalSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply dbEval's bounds and 0.41 aspect to this subset's GTs; returns (ignored, iou, ioa)."""
    boxes = work.image.boxes.copy()
    if settings.gt_bounds is not None:
        x1, y1, x2, y2 = settings.gt_bounds
        ignored = ignored | (boxes[:, 0] < x1) | (boxes[:, 1] < y1) \
            | (boxes[:, 0] + boxes[:, 2] > x2) | (boxes[:, 1] + boxes[:, 3] > y2)
    if settings.gt_aspect is not None:
        keep = ~ignored
        new_w = boxes[keep, 3] * settings.gt_aspect
        boxes[keep, 0] += (boxes[keep, 2] - new_w) / 2
        boxes[keep, 2] = new_w
    iou, ioa = _empty_or_overlaps(work.det_boxes, boxes)
    return ignored, iou, ioa


@dataclass(frozen=True)
class ImageMatches:
    """One subset's matching, image by image (image-id order): what MR⁻² accumulates, ready for resampling.

    Matching is per image, so MR⁻² of any multiset of the images is the official accumulation (step 4–5)
    over their rows; :meth:`mr2` serves image-level bootstrap intervals.
    """

    subset: Subset
    settings: EvalSettings
    scores: tuple[np.ndarray, ...]
    states: tuple[np.ndarray, ...]
    positives: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)

    def result(self, indices: Sequence[int] | np.ndarray | None = None) -> SubsetResult:
        """The subset's result on the images at ``indices`` (positions in image-id order, default all).

        A repeated index is another image (its detections and people count again, and it adds to the
        FPPI denominator); pooled ties keep the order of ``indices``.
        """
        idx = np.arange(len(self)) if indices is None else np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise BadInput(f"image indices must lie in [0, {len(self)}), got {idx.min()}..{idx.max()}")
        scores = np.concatenate([np.zeros(0)] + [self.scores[i] for i in idx])
        states = np.concatenate([np.zeros(0, np.int8)] + [self.states[i] for i in idx])
        return _accumulate(self.subset, scores, states, int(self.positives[idx].sum()), int(idx.size), self.settings)

    def mr2(self, indices: Sequence[int] | np.ndarray | None = None) -> float | None:
        """MR⁻² of the images at ``indices`` (see :meth:`result`); None without positives."""
        return self.result(indices).mr2


def image_matches(ground_truth: PedestrianSet | str | Path, detections: Detections | str | Path | Sequence[dict],
                  subset: str | Subset = "Reasonable", settings: EvalSettings | None = None) -> ImageMatches:
    """Prepare ``detections`` on ``ground_truth`` once for MR⁻² of resampled image sets (:class:`ImageMatches`)."""
    settings = settings or EvalSettings()
    gt = ground_truth if isinstance(ground_truth, PedestrianSet) else load_annotations(ground_truth)
    dets = detections if isinstance(detections, Detections) else Detections.from_coco(detections)
    _check_unique_ids(gt)
    work, _ = _prepare(gt, dets, settings)
    return _match_images(work, _subset(subset), settings)


def _match_images(work: list[_ImageWork], subset: Subset, settings: EvalSettings) -> ImageMatches:
    h_lo = subset.height[0] / settings.expand_filter
    h_hi = subset.height[1] * settings.expand_filter
    scores, states, positives = [], [], []
    for item in work:
        ignored = subset_ignored(item.image, subset)
        iou, ioa = item.iou, item.ioa
        if settings.gt_bounds is not None or settings.gt_aspect is not None:
            ignored, iou, ioa = _caltech_gt(item, ignored, settings)
        positives.append(int(np.count_nonzero(~ignored)))
        keep = (item.det_heights >= h_lo) & (item.det_heights < h_hi)
        states.append(match_image(iou[keep], ioa[keep], ignored, settings.iou_threshold))
        scores.append(item.det_scores[keep])
    return ImageMatches(subset, settings, tuple(scores), tuple(states), np.array(positives, dtype=np.int64))


def _evaluate_subset(work: list[_ImageWork], subset: Subset, settings: EvalSettings) -> SubsetResult:
    return _match_images(work, subset, settings).result()


def _accumulate(subset: Subset, scores: np.ndarray, states: np.ndarray, n_pos: int, n_images: int,
                settings: EvalSettings) -> SubsetResult:
    order = np.argsort(-scores, kind="stable")     # ties: image id ascending, then per-image order
    kept = states[order]
    n_ignored = int(np.count_nonzero(kept == -1))
    kept = kept[kept != -1]
    tp = np.cumsum(kept == 1)
    fp = np.cumsum(kept == 0)
    refs = settings.reference_points()
    fppi = fp / max(n_images, 1)
    if n_pos == 0:
        mr2, at_refs, recall = None, np.ones(len(refs)), np.zeros(len(kept))
    else:
        recall = tp / n_pos
        at_refs = 1.0 - recall_at_references(fppi, recall, refs, settings.below_first)
        mr2 = log_average_miss_rate(at_refs)
    return SubsetResult(subset, mr2, refs, at_refs, fppi, 1.0 - recall, n_images, n_pos,
                        int(tp[-1]) if len(tp) else 0, int(fp[-1]) if len(fp) else 0, n_ignored)
