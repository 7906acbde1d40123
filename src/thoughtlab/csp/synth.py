"""Synthetic pedestrian benchmark (the embedded default dataset of the CSP study), written as CityPersons.

Scenes come from :mod:`thoughtlab.csp.synth_scene` (drawn people, crowds, groups, occluders, distractors)
and are saved as PNG images plus one COCO-style json per split in the layout of CityPersons'
``val_gt.json`` (research notes csp.md §3.3): ``images`` {id, im_name, file_name, width, height},
``annotations`` {id, image_id, category_id 1, bbox [x, y, w, h], vis_bbox, height, vis_ratio, ignore,
iscrowd 0, label} and the six CityPersons ``categories``. Dense groups are ignore annotations with
vis_bbox [0, 0, 0, 0], as CityPersons writes groups. ``vis_ratio`` is the unoccluded share of the
person's drawn mask (exact), not area(vis_bbox) / area(bbox).

Layout under ``root``::

    <split>_gt.json            # one per split
    images/<split>/<split>_000000.png

Image ``i`` of a split depends only on (seed, split name, i, config), so splits are reproducible and a
larger split extends a smaller one with the same images.
"""

from __future__ import annotations

import io
import itertools
import os
import re
from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from thoughtlab.csp.synth_scene import PRESETS, Annotation, Scene, SceneConfig, generate_scene, preset
from thoughtlab.csp.synth_scene import preset as _named_preset
from thoughtlab.errors import BadInput, UserError
from thoughtlab.fileio import atomic_write_bytes, atomic_write_json
from thoughtlab.stats import child_rng

__all__ = ["SceneConfig", "PRESETS", "preset", "Annotation", "Scene", "generate_scene", "scene_rng",
           "write_split", "make_dataset", "draw_annotations", "split_statistics", "DEFAULT_SIZES"]

CATEGORIES = [{"id": i, "name": name} for i, name in
              enumerate(("ignore", "pedestrian", "rider", "sitting person", "person (other)", "person group"))]
DEFAULT_SIZES = {"train": 400, "val": 100, "test": 100}
_SPLIT_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def scene_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of image ``index`` of ``split``: independent of the split's size."""
    return child_rng(seed, split, index)


def _annotation_json(ann: Annotation, ann_id: int, image_id: int) -> dict:
    r = lambda v: [round(float(c), 2) for c in v]
    return {"id": ann_id, "image_id": image_id, "category_id": 1, "bbox": r(ann.box), "vis_bbox": r(ann.vis_box),
            "height": round(float(ann.box[3]), 2), "vis_ratio": round(float(ann.visibility), 4),
            "ignore": int(ann.ignore), "iscrowd": 0,
            "label": "person group" if ann.kind == "group" else "pedestrian"}


def _png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _check_writable(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create dataset folder {root}: {exc.strerror}; choose a writable folder") from None
    if not root.is_dir() or not os.access(root, os.W_OK | os.X_OK):
        raise UserError(f"dataset folder {root} is not writable; choose a writable folder")


def write_split(root: str | Path, split: str, n: int, seed: int = 0,
                config: SceneConfig | str = "default") -> Path:
    """Render ``n`` scenes of ``config`` (a SceneConfig or a preset name) and write PNGs + the split json.

    Returns the path of ``<root>/<split>_gt.json``. Every file is written atomically.
    """
    if not _SPLIT_NAME.match(split):
        raise BadInput(f"split name {split!r} must use only letters, digits, '_' and '-' (e.g. 'train')")
    if n < 0:
        raise BadInput(f"number of images {n} must be >= 0")
    config = _named_preset(config) if isinstance(config, str) else config.validate()
    root = Path(root)
    image_dir = root / "images" / split
    _check_writable(root)
    images, annotations = [], []
    try:
        for index in range(n):
            scene = generate_scene(scene_rng(seed, split, index), config)
            name = f"{split}_{index:06d}.png"
            atomic_write_bytes(image_dir / name, _png_bytes(scene.image))
            images.append({"id": index + 1, "im_name": name, "file_name": name,
                           "width": config.width, "height": config.height})
            for ann in scene.annotations:
                annotations.append(_annotation_json(ann, len(annotations) + 1, index + 1))
        path = root / f"{split}_gt.json"
        atomic_write_json(path, {
            "info": {"description": "thoughtlab synthetic pedestrian scenes (CityPersons val_gt.json layout)",
                     "split": split, "seed": int(seed), "image_dir": f"images/{split}", "config": asdict(config)},
            "images": images, "annotations": annotations, "categories": CATEGORIES})
    except PermissionError as exc:
        raise UserError(f"cannot write into {root}: {exc.strerror}; choose a writable folder") from None
    return path


def make_dataset(root: str | Path, sizes: dict[str, int] | None = None, seed: int = 0, preset: str = "default",
                 width: int | None = None, height: int | None = None) -> dict[str, Path]:
    """Write the train/val/test splits (``sizes``, default 400/100/100) of a preset; returns split -> json path."""
    config = _named_preset(preset, width, height)
    return {split: write_split(root, split, n, seed, config) for split, n in (sizes or DEFAULT_SIZES).items()}


def draw_annotations(image: np.ndarray, annotations: list[Annotation]) -> np.ndarray:
    """A copy of ``image`` with full boxes (red; ignore: yellow), visible boxes (green) and visibility."""
    canvas = Image.fromarray(image.copy())
    draw = ImageDraw.Draw(canvas)
    for ann in annotations:
        x, y, w, h = ann.box
        draw.rectangle([x, y, x + w, y + h], outline=(255, 230, 0) if ann.ignore else (255, 0, 0))
        if ann.kind == "person":
            vx, vy, vw, vh = ann.vis_box
            draw.rectangle([vx, vy, vx + vw, vy + vh], outline=(0, 255, 0))
            draw.text((x, max(0.0, y - 11)), f"{ann.visibility:.2f}", fill=(255, 255, 255))
    return np.asarray(canvas)


def split_statistics(scenes: list[Scene]) -> dict[str, object]:
    """Height quantiles, aspect range, visibility histogram and people per image of non-ignored people."""
    people = [a for s in scenes for a in s.annotations if a.kind == "person" and not a.ignore]
    heights = np.array([a.box[3] for a in people], dtype=float)
    aspects = np.array([a.box[2] / a.box[3] for a in people], dtype=float)
    vis = np.array([a.visibility for a in people], dtype=float)
    counts = np.array([sum(a.kind == "person" and not a.ignore for a in s.annotations) for s in scenes])
    edges = [0.0, 0.2, 0.4, 0.65, 0.9, 1.0001]
    return {
        "images": len(scenes), "people": int(heights.size),
        "height_quantiles": dict(zip(("q05", "q25", "q50", "q75", "q95"),
                                     np.quantile(heights, [0.05, 0.25, 0.5, 0.75, 0.95]).round(1).tolist()))
        if heights.size else {},
        "aspect_mean": float(aspects.mean()) if aspects.size else 0.0,
        "visibility_histogram": {f"[{lo:.2f},{min(hi, 1.0):.2f}{']' if hi > 1 else ')'}": int(((vis >= lo) & (vis < hi)).sum())
                                 for lo, hi in itertools.pairwise(edges)},
        "people_per_image_mean": float(counts.mean()) if counts.size else 0.0,
        "people_per_image_max": int(counts.max()) if counts.size else 0,
        "ignore_regions": int(sum(a.ignore for s in scenes for a in s.annotations)),
        "images_without_people": int((counts == 0).sum()),
    }
