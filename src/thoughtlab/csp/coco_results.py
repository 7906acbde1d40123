"""Detections in the COCO results layout, as the MR⁻² evaluator (:mod:`thoughtlab.csp.evaluate`) reads them.

A results file is a JSON list ``[{image_id, category_id, bbox: [x, y, w, h], score}]`` (the layout of the
CityPersons evaluation code, Zhang et al., CVPR 2017); only category 1 (pedestrian) is evaluated.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thoughtlab.errors import BadInput


@dataclass(frozen=True)
class Detections:
    """Detections in the COCO results layout: parallel arrays, boxes ``[x, y, w, h]``."""

    image_ids: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray

    @classmethod
    def from_coco(cls, results: str | Path | Sequence[dict[str, Any]]) -> Detections:
        """Read a results list (or a json file of one): ``{image_id, bbox, score[, category_id]}``.

        Entries whose ``category_id`` is present and not 1 are dropped (the official code evaluates
        category 1 only).
        """
        source = str(results) if isinstance(results, (str, Path)) else "detections"
        if isinstance(results, (str, Path)):
            try:
                results = json.loads(Path(results).read_text())
            except (OSError, json.JSONDecodeError) as err:
                raise BadInput(f"{source}: cannot read a COCO results json ({err})") from None
        if not isinstance(results, list):
            raise BadInput(f"{source}: a COCO results file must be a JSON list of detections")
        try:
            kept = [d for d in results if d.get("category_id", 1) == 1]
            ids = np.array([d["image_id"] for d in kept], dtype=np.float64).reshape(-1)
            boxes = np.array([d["bbox"] for d in kept], dtype=np.float64).reshape(-1, 4)
            scores = np.array([d["score"] for d in kept], dtype=np.float64).reshape(-1)
            ok = len(ids) == len(boxes) == len(scores) == len(kept)
        except (AttributeError, KeyError, TypeError, ValueError, OverflowError):
            ok = False
        if not ok or not (np.isfinite(boxes).all() and np.isfinite(scores).all() and np.all(ids == np.round(ids))
                          and (np.abs(ids) < 2**63).all() and (boxes[:, 2:] >= 0).all()):
            raise BadInput(f"{source}: {_first_bad_detection(results)}")
        return cls(ids.astype(np.int64), boxes, scores)

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0))


def _first_bad_detection(results: list[Any]) -> str:
    """Name the first malformed entry of a results list (only called once the fast path failed)."""
    for i, det in enumerate(results):
        if not isinstance(det, dict) or not {"image_id", "bbox", "score"} <= det.keys():
            return f"field [{i}] needs image_id, bbox and score"
        if det.get("category_id", 1) != 1:
            continue
        try:
            row = np.array([det["image_id"], *det["bbox"], det["score"]], dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            row = np.zeros(0)
        if row.shape != (6,) or not np.isfinite(row).all() or row[0] != round(row[0]) or abs(row[0]) >= 2**63:
            return f"field [{i}] must have an integer image_id, bbox of 4 finite numbers and a finite score"
        if (row[3:5] < 0).any():
            return f"field [{i}] has a bbox of negative width or height {det['bbox']}; bbox is [x, y, w, h], w, h >= 0"
    return "detections could not be read"
