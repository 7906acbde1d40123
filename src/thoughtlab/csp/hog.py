"""Classic baseline: OpenCV's HOG + linear SVM people detector (Dalal & Triggs, CVPR 2005).

The detector is OpenCV's ``HOGDescriptor`` with ``getDefaultPeopleDetector()``: a 64x128 window,
16x16 blocks of 8x8 cells with stride 8, 9 orientation bins (3,780 features + bias), trained on
INRIA Person (Dalal & Triggs 2005, §6 and Fig. 1); gradients of a colour image are taken per channel
and the largest norm wins (§6.2), so RGB vs BGR does not matter.  Needs ``opencv-python-headless<5``
(5.x has no ``HOGDescriptor``; research notes csp.md §6).

Choices, each a fixed design decision (none tuned on results):

* **Upscaling.**  The window holds a person about 96 px tall ("about 16 pixels of margin around the
  person on all four sides", §6), so nobody shorter than ~96 px can be found at scale 1.  By default
  the image is enlarged by ``96 / 50 = 1.92`` (bilinear), so a 50 px person -- the smallest of the
  Reasonable subset -- fills the window; the image pyramid (``scale_step``, 1.05 as in OpenCV's
  ``peopledetect.py``) then covers all taller people.  Boxes are divided by the factor afterwards.
* **Padding.**  ``detectMultiScale`` crashes (heap corruption) on images smaller than the window
  (notes §6), so after upscaling the image is padded at the bottom/right (edge replication, which
  adds no gradient) to at least 128x64; coordinates are unchanged and boxes are clipped to the
  original image.  ``padding=(16, 16)`` lets windows hang 16 px (the margin) over the border.
* **Window -> person box.**  The tight full-body box keeps the window centre, has height
  ``96/128 = 0.75`` of the window's and width ``0.41 x`` its height (the study's aspect ratio).
* **Scores and grouping.**  Scores are the SVM margins w.x + b.  OpenCV's rectangle grouping
  (and the paper's mean-shift fusion, §7) are replaced by raw windows + the same greedy NMS at
  IoU 0.5 that the other detectors of the study use (:func:`thoughtlab.csp.decode.nms`).
* **Hit threshold** -0.5 (OpenCV: 0): low-margin windows only extend the miss-rate curve towards
  higher FPPI -- greedy NMS and greedy matching treat boxes in score order, so lower-scored boxes
  never change what happens to higher-scored ones -- and the MR⁻² needs the curve up to FPPI 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from thoughtlab.csp.datasets import PedestrianSet, load_annotations
from thoughtlab.csp.decode import ASPECT_RATIO, NMS_IOU, ImageDetections, nms
from thoughtlab.errors import BadInput, UserError

WINDOW = (64, 128)  # (width, height) of the default people detector's window
WINDOW_PERSON_HEIGHT = 96.0  # person height inside the window (16 px margins, Dalal & Triggs §6)
PERSON_FRACTION = WINDOW_PERSON_HEIGHT / WINDOW[1]  # 0.75: tight-box height / window height
REASONABLE_MIN_HEIGHT = 50.0  # smallest person of the Reasonable subset
DEFAULT_UPSCALE = WINDOW_PERSON_HEIGHT / REASONABLE_MIN_HEIGHT  # 1.92
HIT_THRESHOLD = -0.5
SCALE_STEP = 1.05
WIN_STRIDE = (8, 8)
BORDER_PADDING = (16, 16)


def _cv2() -> Any:
    """Import OpenCV, with a one-line fix when it is missing or is a 5.x without HOG."""
    try:
        import cv2
    except ImportError:
        raise UserError("the HOG baseline needs OpenCV: pip install 'opencv-python-headless<5'") from None
    if not hasattr(cv2, "HOGDescriptor"):
        raise UserError(f"OpenCV {cv2.__version__} has no HOGDescriptor; pip install 'opencv-python-headless<5'")
    return cv2


_DESCRIPTOR: Any = None


def people_detector() -> Any:
    """The (cached) OpenCV HOG descriptor with the default INRIA people SVM."""
    global _DESCRIPTOR
    if _DESCRIPTOR is None:
        cv2 = _cv2()
        hog = cv2.HOGDescriptor()
        hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        _DESCRIPTOR = hog
    return _DESCRIPTOR


def check_image(image: Any) -> np.ndarray:
    """An RGB uint8 array (H, W, 3), C-contiguous; anything else raises BadInput."""
    if not isinstance(image, np.ndarray):
        raise BadInput(f"HOG needs a numpy image, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise BadInput(f"HOG needs a uint8 image (0-255), got dtype {image.dtype}; convert with .astype(np.uint8)")
    if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
        raise BadInput(f"HOG needs a colour image (H, W, 3), got shape {image.shape}; stack grey images to 3 channels")
    return np.ascontiguousarray(image)


def pad_to_window(image: np.ndarray, min_size: tuple[int, int] = (WINDOW[1], WINDOW[0])) -> np.ndarray:
    """Pad (H, W, 3) at the bottom/right by edge replication to at least ``min_size`` = (rows, cols)."""
    pad_rows = max(0, min_size[0] - image.shape[0])
    pad_cols = max(0, min_size[1] - image.shape[1])
    if not pad_rows and not pad_cols:
        return image
    return np.pad(image, ((0, pad_rows), (0, pad_cols), (0, 0)), mode="edge")


def windows_to_person_boxes(windows: np.ndarray, upscale: tuple[float, float], image_size: tuple[int, int],
                            aspect_ratio: float = ASPECT_RATIO) -> np.ndarray:
    """HOG windows (n, 4) as (x, y, w, h) in the upscaled image -> tight (x1, y1, x2, y2) boxes in the original.

    ``upscale`` = (x factor, y factor) of the upscaled image.  The box keeps the window centre, is
    ``PERSON_FRACTION`` of its height and ``aspect_ratio`` x as wide as tall, and is clipped to
    ``image_size`` = (H, W).
    """
    fx, fy = upscale
    windows = np.asarray(windows, dtype=np.float64).reshape(-1, 4) / np.array([fx, fy, fx, fy])
    cx = windows[:, 0] + windows[:, 2] / 2
    cy = windows[:, 1] + windows[:, 3] / 2
    h = PERSON_FRACTION * windows[:, 3]
    w = aspect_ratio * h
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    height, width = image_size
    return np.clip(boxes, 0.0, np.array([width, height, width, height], dtype=np.float64))


def hog_detect(image: np.ndarray, upscale: float = DEFAULT_UPSCALE, hit_threshold: float = HIT_THRESHOLD,
               scale_step: float = SCALE_STEP, nms_threshold: float = NMS_IOU) -> ImageDetections:
    """Detect people in one RGB uint8 image (H, W, 3); boxes in its pixels, scores = SVM margins.

    See the module docstring for the upscaling, padding, box conversion and NMS choices.
    """
    image = check_image(image)
    if not upscale > 0:
        raise BadInput(f"HOG upscale must be > 0, got {upscale}")
    if not scale_step > 1:
        raise BadInput(f"HOG scale_step must be > 1, got {scale_step}")
    cv2 = _cv2()
    height, width = image.shape[:2]
    work = image if upscale == 1 else cv2.resize(
        image, (max(1, round(width * upscale)), max(1, round(height * upscale))), interpolation=cv2.INTER_LINEAR)
    windows, margins = people_detector().detectMultiScale(
        pad_to_window(work), hitThreshold=float(hit_threshold), winStride=WIN_STRIDE, padding=BORDER_PADDING,
        scale=float(scale_step), groupThreshold=0)
    windows = np.asarray(windows, dtype=np.float64).reshape(-1, 4)
    margins = np.asarray(margins, dtype=np.float64).reshape(-1)
    canonical = np.lexsort(windows.T[::-1])  # OpenCV's threads append windows in any order; fix it
    factors = (work.shape[1] / width, work.shape[0] / height)  # exact, after rounding the upscaled size
    boxes = torch.from_numpy(windows_to_person_boxes(windows[canonical], factors, (height, width)))
    scores = torch.from_numpy(margins[canonical])
    nonempty = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    boxes, scores = boxes[nonempty].float(), scores[nonempty].float()
    order = nms(boxes, scores, nms_threshold) if len(scores) else torch.zeros(0, dtype=torch.long)
    return ImageDetections(boxes[order], scores[order])


def read_rgb(path: Path) -> np.ndarray:
    """An image file as an RGB uint8 array; a missing or unreadable file raises BadInput naming it."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read image {path} ({exc.__class__.__name__}); check the image folder") from None


def detections_to_coco(image_id: int, detections: ImageDetections) -> list[dict[str, Any]]:
    """One image's detections as COCO results entries ``{image_id, category_id 1, bbox [x,y,w,h], score}``."""
    return [{"image_id": int(image_id), "category_id": 1, "bbox": [round(float(v), 2) for v in box],
             "score": round(float(score), 5)}
            for box, score in zip(detections.xywh().tolist(), detections.scores.tolist())]


def hog_detect_dataset(dataset: PedestrianSet | str | Path, image_root: str | Path,
                       progress: Any = None, **options: float) -> list[dict[str, Any]]:
    """Run :func:`hog_detect` on every image of ``dataset`` (a PedestrianSet or an annotation file).

    Images are read from ``image_root / file_name``; ``options`` go to :func:`hog_detect`;
    ``progress`` optionally wraps the image iterable (e.g. ``ctx.progress``).  Returns a COCO
    results list that :func:`thoughtlab.csp.evaluate.evaluate` reads.
    """
    gt = dataset if isinstance(dataset, PedestrianSet) else load_annotations(dataset)
    root = Path(image_root)
    if not root.is_dir():
        raise BadInput(f"image folder {root} does not exist; give the folder that holds the dataset's images")
    images: Iterable = gt.images if progress is None else progress(gt.images)
    results: list[dict[str, Any]] = []
    for entry in images:
        results += detections_to_coco(entry.image_id, hog_detect(read_rgb(root / entry.file_name), **options))
    return results
