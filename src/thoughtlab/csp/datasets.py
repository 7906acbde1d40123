"""Pedestrian annotations: CityPersons and Caltech loaders, one in-memory structure, a COCO-style writer.

Formats (research notes csp.md §3.3, §4):

* CityPersons COCO-style val json (``val_gt.json``): ``images`` {id, im_name, width, height} and
  ``annotations`` {id, image_id, category_id, bbox [x,y,w,h], vis_bbox, height, vis_ratio, ignore}.
* Cityscapes ``gtBboxCityPersons`` json, one per image: {imgWidth, imgHeight, objects: [{label,
  bbox, bboxVis, instanceId}]}; older files say ``amodal`` / ``modal`` instead of ``bbox`` / ``bboxVis``.
* CityPersons ``anno_{train,val}.mat``: cells {cityname, im_name, bbs (n, 10)}.
* Caltech "bbGt version=3" text, one file per image: ``lbl l t w h occ lv tv wv hv ign ang``.

Every loader returns a :class:`PedestrianSet`, which :func:`thoughtlab.csp.evaluate.evaluate` reads and
:func:`write_coco` saves, so any loaded set can be evaluated by the same code.  A malformed file raises
:class:`~thoughtlab.errors.BadInput` naming the file and the field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from thoughtlab.errors import BadInput
from thoughtlab.fileio import atomic_write_json

CITYPERSONS_SUFFIX = "_gtBboxCityPersons.json"
#: CityPersons labels (cityscapesScripts ``labels_cityPersons.py``); only ``pedestrian`` is a positive in val_gt.json.
CITYPERSONS_LABELS = ("ignore", "pedestrian", "rider", "sitting person", "person (other)", "person group")
PEDESTRIAN_CATEGORY = 1


@dataclass
class AnnotatedImage:
    """One image and its annotated people (and ignore regions).

    Boxes are ``[x, y, w, h]`` in pixels, float64, shape (n, 4).  ``vis_boxes`` holds the visible part
    (the full box where the file gives none).  ``heights`` and ``visibility`` are what the evaluation subsets read: the
    file's own ``height`` / ``vis_ratio`` fields where it has them (the official evaluator reads those,
    not values recomputed from the boxes), otherwise bbox h and area(vis)/area(full).  ``ignore`` marks
    regions that are never positives (crowds, riders, posters, the ``ign`` flag...).
    """

    image_id: int
    file_name: str
    width: int
    height: int
    boxes: np.ndarray
    vis_boxes: np.ndarray
    heights: np.ndarray
    visibility: np.ndarray
    ignore: np.ndarray
    labels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.boxes)


@dataclass
class PedestrianSet:
    """A named list of annotated images with unique integer ids."""

    name: str
    images: list[AnnotatedImage]

    def image_ids(self) -> list[int]:
        return [image.image_id for image in self.images]


def make_image(image_id: int, file_name: str, width: int, height: int, boxes: Any,
               vis_boxes: Any = None, ignore: Any = None, labels: Sequence[str] | None = None,
               heights: Any = None, visibility: Any = None) -> AnnotatedImage:
    """Build an :class:`AnnotatedImage`, filling heights/visibility from the boxes where not given.

    Without visible boxes a person counts as fully visible (visible box = full box).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    n = len(boxes)
    vis = boxes.copy() if vis_boxes is None else np.asarray(vis_boxes, dtype=np.float64).reshape(n, 4)
    return AnnotatedImage(
        image_id=int(image_id), file_name=file_name, width=int(width), height=int(height), boxes=boxes,
        vis_boxes=vis,
        heights=boxes[:, 3].copy() if heights is None else np.asarray(heights, dtype=np.float64).reshape(n),
        visibility=visible_fraction(boxes, vis) if visibility is None
        else np.asarray(visibility, dtype=np.float64).reshape(n),
        ignore=np.zeros(n, bool) if ignore is None else np.asarray(ignore, dtype=bool).reshape(n),
        labels=tuple(labels) if labels is not None else ("pedestrian",) * n)


def visible_fraction(boxes: np.ndarray, vis_boxes: np.ndarray) -> np.ndarray:
    """area(visible box) / area(full box), clipped to [0, 1]; 0 for degenerate full boxes."""
    full = boxes[:, 2] * boxes[:, 3]
    vis = np.clip(vis_boxes[:, 2], 0, None) * np.clip(vis_boxes[:, 3], 0, None)
    out = np.divide(vis, full, out=np.zeros(len(boxes)), where=full > 0)
    return np.clip(out, 0.0, 1.0)


# ---------------------------------------------------------------- field checks (one-line BadInput errors)

def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BadInput(f"{path}: not valid JSON ({err})") from None


def _field(obj: Any, key: str, path: Path, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise BadInput(f"{path}: field {where}.{key} is missing")
    return obj[key]


def _box(value: Any, path: Path, where: str) -> list[float]:
    ok = isinstance(value, (list, tuple)) and len(value) == 4 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)  # "41" is a string, not a number
    box = [float(v) for v in value] if ok else []
    if not ok or not all(math.isfinite(v) for v in box):
        raise BadInput(f"{path}: field {where} must be 4 finite numbers [x, y, w, h], got {value!r}")
    return box


def _number(value: Any, path: Path, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadInput(f"{path}: field {where} must be a finite number, got {value!r}")
    return float(value)


# ---------------------------------------------------------------- CityPersons COCO-style json

def load_citypersons_coco(path: str | Path, name: str | None = None) -> PedestrianSet:
    """Read a CityPersons ``val_gt.json``-style file.

    Only ``category_id`` 1 is kept: the official evaluator drops other categories entirely (they are
    not ignore regions; research notes, addendum rule 5).  ``ignore`` defaults to 0 and ``iscrowd`` is
    not read, as in the official code.  ``height`` / ``vis_ratio`` are used when present; without them,
    bbox h and area(vis_bbox)/area(bbox) (fully visible when ``vis_bbox`` is absent too).
    """
    path = Path(path)
    data = _read_json(path)
    images_raw = _field(data, "images", path, "<root>")
    anns_raw = _field(data, "annotations", path, "<root>")
    if not isinstance(images_raw, list) or not isinstance(anns_raw, list):
        raise BadInput(f"{path}: fields images and annotations must be lists")
    images: dict[int, dict[str, Any]] = {}
    for i, img in enumerate(images_raw):
        image_id = _integer(_field(img, "id", path, f"images[{i}]"), path, f"images[{i}].id")
        if image_id in images:
            raise BadInput(f"{path}: field images[{i}].id repeats image id {image_id}")
        file_name = img.get("file_name", img.get("im_name", f"{image_id}"))
        images[image_id] = {"file_name": str(file_name), "width": img.get("width", 0),
                             "height": img.get("height", 0), "rows": []}
    for i, ann in enumerate(anns_raw):
        where = f"annotations[{i}]"
        image_id = _integer(_field(ann, "image_id", path, where), path, f"{where}.image_id")
        if image_id not in images:
            raise BadInput(f"{path}: field {where}.image_id={image_id} names no entry of images")
        if ann.get("category_id", PEDESTRIAN_CATEGORY) != PEDESTRIAN_CATEGORY:
            continue
        box = _box(_field(ann, "bbox", path, where), path, f"{where}.bbox")
        vis = _box(ann["vis_bbox"], path, f"{where}.vis_bbox") if "vis_bbox" in ann else box   # unknown: visible
        height = _number(ann["height"], path, f"{where}.height") if "height" in ann else box[3]
        ratio = (_number(ann["vis_ratio"], path, f"{where}.vis_ratio") if "vis_ratio" in ann
                 else float(visible_fraction(np.array([box]), np.array([vis]))[0]))
        ignore = bool(_number(ann.get("ignore", 0), path, f"{where}.ignore"))
        label = str(ann.get("label", "ignore" if ignore else "pedestrian"))
        images[image_id]["rows"].append((box, vis, height, ratio, ignore, label))
    return PedestrianSet(name or path.stem, [_image_from_rows(image_id, info) for image_id, info in images.items()])


def _integer(value: Any, path: Path, where: str) -> int:
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            or value != int(value) or not -2**63 <= value < 2**63):  # image ids are stored as int64
        raise BadInput(f"{path}: field {where} must be an integer, got {value!r}; write a whole number")
    return int(value)


def _image_from_rows(image_id: int, info: dict[str, Any]) -> AnnotatedImage:
    rows = info["rows"]
    return make_image(image_id, info["file_name"], info["width"], info["height"],
                      boxes=[r[0] for r in rows], vis_boxes=[r[1] for r in rows], heights=[r[2] for r in rows],
                      visibility=[r[3] for r in rows], ignore=[r[4] for r in rows], labels=[r[5] for r in rows])


# ---------------------------------------------------------------- Cityscapes gtBboxCityPersons json

def load_citypersons_json(path: str | Path, name: str | None = None) -> PedestrianSet:
    """Read one ``*_gtBboxCityPersons.json`` file or every such file under a folder (sorted paths).

    Ids are 1, 2, ... in sorted path order (the ``anno_val.mat`` order of the official val set).
    ``pedestrian`` is the only positive label; every other CityPersons label becomes an ignore region,
    exactly as in the official ``val_gt.json``.  The image name is the matching ``_leftImg8bit.png``,
    relative to the folder.
    """
    path = Path(path)
    files = sorted(path.rglob(f"*{CITYPERSONS_SUFFIX}")) if path.is_dir() else [path]
    if not files:
        raise BadInput(f"{path}: no *{CITYPERSONS_SUFFIX} files in this folder")
    root = path if path.is_dir() else path.parent
    images = [_read_cityscapes_file(f, i + 1, root) for i, f in enumerate(files)]
    return PedestrianSet(name or path.stem, images)


def _read_cityscapes_file(path: Path, image_id: int, root: Path) -> AnnotatedImage:
    data = _read_json(path)
    width = _number(_field(data, "imgWidth", path, "<root>"), path, "imgWidth")
    height = _number(_field(data, "imgHeight", path, "<root>"), path, "imgHeight")
    objects = _field(data, "objects", path, "<root>")
    if not isinstance(objects, list):
        raise BadInput(f"{path}: field objects must be a list")
    boxes, vis, labels = [], [], []
    for i, obj in enumerate(objects):
        where = f"objects[{i}]"
        label = _field(obj, "label", path, where)
        if label not in CITYPERSONS_LABELS:
            raise BadInput(f"{path}: field {where}.label={label!r} is not one of {', '.join(CITYPERSONS_LABELS)}")
        full_key = "amodal" if "bbox" not in obj and "amodal" in obj else "bbox"   # older files: amodal/modal
        vis_key = "modal" if "bboxVis" not in obj and "modal" in obj else "bboxVis"
        boxes.append(_box(_field(obj, full_key, path, where), path, f"{where}.{full_key}"))
        vis.append(_box(_field(obj, vis_key, path, where), path, f"{where}.{vis_key}"))
        labels.append(label)
    name = path.relative_to(root).as_posix().replace(CITYPERSONS_SUFFIX, "_leftImg8bit.png")
    return make_image(image_id, name, int(width), int(height), boxes, vis,
                      ignore=[label != "pedestrian" for label in labels], labels=labels)


# ---------------------------------------------------------------- CityPersons anno_{train,val}.mat

def load_citypersons_mat(path: str | Path, name: str | None = None, width: int = 2048,
                         height: int = 1024) -> PedestrianSet:
    """Read the official ``anno_train.mat`` / ``anno_val.mat`` (what CSP's cache scripts read).

    The single ``anno_*`` variable is a (1, N) cell array of structs {cityname, im_name, bbs}, bbs an
    (n, 10) array ``[class_label, x1, y1, w, h, instance_id, x1_vis, y1_vis, w_vis, h_vis]``.  The
    class label (not the instance id, notes §4.1) decides: 1 pedestrian is positive, 0/2/3/4/5 are ignore
    regions, as in val_gt.json.  Ids are 1..N in file order; images are 2048x1024.
    """
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    path = Path(path)
    try:
        data = loadmat(path, squeeze_me=True, struct_as_record=False)
    except (OSError, ValueError, TypeError, MatReadError) as err:
        raise BadInput(f"{path}: not a readable MATLAB .mat file ({err})") from None
    keys = [k for k in data if k.startswith("anno_")]
    if len(keys) != 1:
        raise BadInput(f"{path}: field anno_*: expected one variable such as anno_val_aligned, found {keys}")
    cells = np.atleast_1d(data[keys[0]])
    images = [_mat_image(cell, i, path, keys[0], width, height) for i, cell in enumerate(cells)]
    return PedestrianSet(name or path.stem, images)


def _mat_image(cell: Any, index: int, path: Path, key: str, width: int, height: int) -> AnnotatedImage:
    where = f"{key}[{index}]"
    for attr in ("cityname", "im_name", "bbs"):
        if not hasattr(cell, attr):
            raise BadInput(f"{path}: field {where}.{attr} is missing")
    bbs = np.asarray(cell.bbs, dtype=np.float64)
    if bbs.size % 10 or not np.isfinite(bbs).all():
        raise BadInput(f"{path}: field {where}.bbs must be an (n, 10) numeric array, got shape {bbs.shape}")
    bbs = bbs.reshape(-1, 10)
    labels = bbs[:, 0].astype(int)
    if np.any((labels < 0) | (labels >= len(CITYPERSONS_LABELS))):
        raise BadInput(f"{path}: field {where}.bbs[:, 0] holds class labels outside 0..5")
    return make_image(index + 1, f"{cell.cityname}/{cell.im_name}", width, height, bbs[:, 1:5], bbs[:, 6:10],
                      ignore=labels != 1, labels=[CITYPERSONS_LABELS[k] for k in labels])


# ---------------------------------------------------------------- Caltech bbGt v3 text

def load_caltech_txt(path: str | Path, name: str | None = None, width: int = 640, height: int = 480) -> PedestrianSet:
    """Read Caltech ``bbGt version=3`` text annotations: one file, or every ``*.txt`` under a folder.

    Fields per line: ``lbl l t w h occ lv tv wv hv ign [ang]``.  A box is an ignore region when its
    ``ign`` flag (0-based field 10) is non-zero or its label is ``ignore`` (dbEval's ``ilbls``).
    Visibility follows ``bbGt.bbLoad``: 1 if not occluded or the visible box is all zero, 0 if the
    visible box equals the full box, otherwise area(visible)/area(full).  Image names drop ``.txt``
    (``set06_V000_I00029.jpg.txt`` -> ``set06_V000_I00029.jpg``) and get ``.jpg`` if they have no
    extension; ids are 1, 2, ... in sorted path order.  Caltech frames are 640x480.
    """
    path = Path(path)
    files = sorted(path.rglob("*.txt")) if path.is_dir() else [path]
    if not files:
        raise BadInput(f"{path}: no *.txt annotation files in this folder")
    images = [_read_caltech_file(f, i + 1, width, height) for i, f in enumerate(files)]
    return PedestrianSet(name or path.stem, images)


def _read_caltech_file(path: Path, image_id: int, width: int, height: int) -> AnnotatedImage:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found") from None
    except UnicodeDecodeError as err:
        raise BadInput(f"{path}: not a text file ({err})") from None
    if not lines or not lines[0].startswith("% bbGt"):
        raise BadInput(f"{path}: field header: first line must be '% bbGt version=3'")
    boxes, vis, occluded, ignore, labels = [], [], [], [], []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 11:
            raise BadInput(f"{path}: line {number} has {len(fields)} fields; expected 'lbl l t w h occ lv tv wv hv ign ang'")
        try:
            values = [float(v) for v in fields[1:11]]
        except ValueError:
            raise BadInput(f"{path}: line {number}: fields 1-10 (box, occ, visible box, ign) must be numbers") from None
        labels.append(fields[0])
        boxes.append(values[0:4])
        occluded.append(values[4] != 0)
        vis.append(values[5:9])
        ignore.append(values[9] != 0 or fields[0] == "ignore")
    boxes_a = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    vis_a = np.array(vis, dtype=np.float64).reshape(-1, 4)
    stem = path.name[: -len(".txt")]
    file_name = stem if Path(stem).suffix else stem + ".jpg"
    return make_image(image_id, file_name, width, height, boxes_a, vis_a, ignore=ignore, labels=labels,
                      visibility=caltech_visibility(boxes_a, vis_a, np.array(occluded, bool)))


def caltech_visibility(boxes: np.ndarray, vis_boxes: np.ndarray, occluded: np.ndarray) -> np.ndarray:
    """Visible fraction by the rule of the Caltech toolbox (``bbGt.m`` bbLoad, vRng filter)."""
    v = visible_fraction(boxes, vis_boxes)
    v[np.all(vis_boxes == boxes, axis=1)] = 0.0
    v[~occluded | np.all(vis_boxes == 0, axis=1)] = 1.0
    return v


# ---------------------------------------------------------------- any format, writer, training policy

def load_annotations(path: str | Path, name: str | None = None) -> PedestrianSet:
    """Load by content: COCO-style json, gtBboxCityPersons json (or a folder), anno_*.mat, Caltech txt.

    The set must hold at least one image, and no box may have a negative width or height.
    """
    return _checked(_load_any(Path(path), name), Path(path))


def _load_any(path: Path, name: str | None) -> PedestrianSet:
    if not path.exists():
        raise BadInput(f"{path}: no such file or folder")
    if path.is_dir():
        if next(path.rglob(f"*{CITYPERSONS_SUFFIX}"), None) is not None:
            return load_citypersons_json(path, name)
        return load_caltech_txt(path, name)
    if path.suffix == ".txt":
        return load_caltech_txt(path, name)
    if path.suffix == ".mat":
        return load_citypersons_mat(path, name)
    data = _read_json(path)
    if isinstance(data, dict) and "objects" in data:
        return load_citypersons_json(path, name)
    return load_citypersons_coco(path, name)


def _checked(dataset: PedestrianSet, path: Path) -> PedestrianSet:
    """BadInput for a set without images (nothing to evaluate) or a box of negative width or height."""
    if not dataset.images:
        raise BadInput(f"{path}: holds no images, so there is nothing to evaluate; give the ground truth of the "
                       "images the detections are for")
    for image in dataset.images:
        bad = np.flatnonzero((image.boxes[:, 2:] < 0).any(axis=1))
        if bad.size:
            raise BadInput(f"{path}: image {image.image_id} ({image.file_name}) box {int(bad[0])} has negative "
                           f"width or height {image.boxes[bad[0]].tolist()}; boxes are [x, y, w, h] with w, h >= 0")
    return dataset


def write_coco(dataset: PedestrianSet, path: str | Path) -> None:
    """Write ``dataset`` atomically in the CityPersons ``val_gt.json`` layout.

    Annotation ids start at 1: the official evaluator mistakes a match to GT id 0 for no match.
    """
    images, annotations = [], []
    for image in dataset.images:
        images.append({"id": image.image_id, "file_name": image.file_name, "im_name": image.file_name,
                       "width": image.width, "height": image.height})
        for k in range(len(image)):
            annotations.append({
                "id": len(annotations) + 1, "image_id": image.image_id, "category_id": PEDESTRIAN_CATEGORY,
                "bbox": image.boxes[k].tolist(), "vis_bbox": image.vis_boxes[k].tolist(),
                "height": float(image.heights[k]), "vis_ratio": float(image.visibility[k]),
                "ignore": int(image.ignore[k]), "iscrowd": 0, "label": image.labels[k]})
    atomic_write_json(path, {"images": images, "annotations": annotations,
                             "categories": [{"id": PEDESTRIAN_CATEGORY, "name": "pedestrian"}]})


def with_min_height(dataset: PedestrianSet, min_height: float = 50.0) -> PedestrianSet:
    """CSP's training policy (``train_h50``): positives shorter than ``min_height`` become ignore regions."""
    images = [replace(image, ignore=image.ignore | (image.boxes[:, 3] < min_height)) for image in dataset.images]
    return PedestrianSet(dataset.name, images)
