"""Inference: batched prediction, MR⁻² of a model on an image set, and detection on image files.

:func:`predict` and :func:`evaluate_model` serve training (validation) and any detector spec;
:func:`detect_files` is what ``thoughtlab csp detect`` does.

Images are read with Pillow (PNG/JPG), run through a trained detector (weights from ``thoughtlab csp
train``: the EMA teacher), and written as PNGs with the boxes drawn plus ``detections.json`` in the COCO
results format ``[{image_id, category_id: 1, bbox: [x, y, w, h], score}]`` that
``thoughtlab csp evaluate`` reads.

``image_id``: with a ground-truth json (``--gt``: CityPersons/COCO style, ``images`` with ``id`` and
``file_name`` or ``im_name``) each file takes the id of the entry with its file name; otherwise it is the
1-based position of the file in sorted order.  ``image_ids.json`` records the mapping either way.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import nn

from thoughtlab.csp import evaluate as mr
from thoughtlab.csp.decode import ImageDetections
from thoughtlab.csp.detectors import load_detector
from thoughtlab.csp.model import normalize_images, pad_to_multiple
from thoughtlab.csp.spec import DetectorSpec
from thoughtlab.csp.training_data import ImageSet, read_image
from thoughtlab import validate
from thoughtlab.errors import BadInput
from thoughtlab.fileio import atomic_write_bytes, atomic_write_json

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
PREDICT_BATCH = 8


@torch.no_grad()
def predict(spec: DetectorSpec, model: nn.Module, images: Sequence[np.ndarray], score_threshold: float,
            batch_size: int = PREDICT_BATCH) -> list[ImageDetections]:
    """Detections of uint8 (H, W, 3) images (consecutive equal sizes are batched), model in eval mode."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    results: list[ImageDetections] = []
    try:
        start = 0
        while start < len(images):
            size = images[start].shape[:2]
            stop = start + 1
            while stop < len(images) and stop - start < batch_size and images[stop].shape[:2] == size:
                stop += 1
            batch = torch.stack([torch.from_numpy(np.ascontiguousarray(im)).permute(2, 0, 1) for im in images[start:stop]])
            padded, hw = pad_to_multiple(normalize_images(batch.to(device)))
            outputs = model(padded)
            results.extend(ImageDetections(d.boxes.cpu(), d.scores.cpu())
                           for d in spec.decode(outputs, [hw] * (stop - start), score_threshold))
            start = stop
    finally:
        model.train(was_training)
    return results


def to_eval_detections(image_ids: Sequence[int], detections: Sequence[ImageDetections]) -> mr.Detections:
    """Per-image detections -> the evaluator's parallel arrays (boxes as x, y, w, h)."""
    ids = np.concatenate([np.full(len(d.scores), i, np.int64) for i, d in zip(image_ids, detections)] or [np.zeros(0, np.int64)])
    boxes = np.concatenate([d.xywh().double().numpy() for d in detections] or [np.zeros((0, 4))]).reshape(-1, 4)
    scores = np.concatenate([d.scores.double().numpy() for d in detections] or [np.zeros(0)])
    return mr.Detections(ids, boxes, scores)


def evaluate_model(spec: DetectorSpec, model: nn.Module, data: ImageSet, score_threshold: float,
                   max_images: int | None = None, subsets: Sequence[str] = ("Reasonable",)) -> mr.Evaluation:
    """MR⁻² (official protocol, :func:`thoughtlab.csp.evaluate.evaluate`) of ``model`` on ``data``'s raw annotations."""
    data = data.subset(max_images)
    detections = predict(spec, model, [data.image(i) for i in range(len(data))], score_threshold)
    return mr.evaluate_miss_rate(data.annotations, to_eval_detections(data.annotations.image_ids(), detections), subsets)


def list_images(source: str | Path) -> list[Path]:
    """One image file, or the PNG/JPG files of a folder (sorted by name); BadInput when there are none."""
    source = Path(source)
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise BadInput(f"{source} does not exist; give an image file or a folder of images")
    files = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise BadInput(f"{source} holds no .png/.jpg images")
    return files


def image_ids(files: list[Path], gt: str | Path | None = None) -> list[int]:
    """1-based sorted position, or the id that the ground-truth json gives each file name."""
    if gt is None:
        return list(range(1, len(files) + 1))
    try:
        entries = json.loads(Path(gt).read_text())["images"]
        by_name = {str(e.get("file_name", e.get("im_name"))): int(e["id"]) for e in entries}
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise BadInput(f"{gt}: cannot read images[].id/file_name from a COCO-style json ({type(err).__name__})") from None
    missing = [f.name for f in files if f.name not in by_name]
    if missing:
        raise BadInput(f"{gt} has no image entry named {missing[0]}; use the matching ground truth or drop --gt")
    return [by_name[f.name] for f in files]


def coco_results(image_id: int, detections: ImageDetections) -> list[dict[str, Any]]:
    """COCO results entries of one image (bbox as x, y, w, h; rounded to 0.01 px)."""
    return [{"image_id": int(image_id), "category_id": 1, "bbox": [round(float(v), 2) for v in box],
             "score": round(float(score), 5)} for box, score in zip(detections.xywh().tolist(), detections.scores.tolist())]


def draw_detections(image: np.ndarray, detections: ImageDetections) -> bytes:
    """PNG bytes of ``image`` with each box drawn (green) and its score."""
    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    for (x1, y1, x2, y2), score in zip(detections.boxes.tolist(), detections.scores.tolist()):
        draw.rectangle([x1, y1, x2, y2], outline=(0, 255, 0), width=2)
        draw.text((x1 + 2, max(0.0, y1 - 11)), f"{score:.2f}", fill=(0, 255, 0))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


def detect_files(weights: str | Path, source: str | Path, out: str | Path, score_threshold: float = 0.1,
                 aspect_ratio: float | None = None, gt: str | Path | None = None) -> list[dict[str, Any]]:
    """Detect people in ``source`` (file or folder) and write ``out``/<name>.png, detections.json, image_ids.json.

    ``aspect_ratio`` overrides the detector's saved width/height ratio (CSP: 0.41).  Returns the results list.
    """
    score_threshold = validate.number(score_threshold, "--score-threshold", low=0, high=1)
    if aspect_ratio is not None:
        aspect_ratio = validate.number(aspect_ratio, "--aspect (box width / height)", low=0, low_open=True, high=100)
    files = list_images(source)
    ids = image_ids(files, gt)
    overrides = {} if aspect_ratio is None else {"aspect_ratio": aspect_ratio}
    spec, model = load_detector(weights, overrides)
    out = Path(out)
    if out.resolve() in {f.parent.resolve() for f in files}:
        raise BadInput(f"--out {out} is the image folder; choose another folder so that no input is overwritten")
    validate.output_dir(out, "--out")
    for path in files:  # every input decodes before anything is written: no half-finished output folder
        read_image(path)
    results: list[dict[str, Any]] = []
    for path, image_id in zip(files, ids):
        image = read_image(path)
        (detections,) = predict(spec, model, [image], score_threshold)
        results.extend(coco_results(image_id, detections))
        atomic_write_bytes(out / f"{path.stem}.png", draw_detections(image, detections))
    atomic_write_json(out / "detections.json", results)
    atomic_write_json(out / "image_ids.json", {f.name: i for f, i in zip(files, ids)})
    return results
