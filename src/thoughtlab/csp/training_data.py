"""Training data for pedestrian detectors: annotated image folders and seeded hybrid batches.

:class:`ImageSet` pairs a :class:`~thoughtlab.csp.datasets.PedestrianSet` with its image folder (PNG/JPG
through Pillow).  :class:`HybridSampler` draws the global batch of a step: the official Caltech recipe
(``keras_csp/data_generators.py::get_data_hybrid``, research notes csp.md §2.3) fills every batch with a
fixed share of images *with* people and the rest from images *without* any, each pool walked in its own
shuffled order.  Everything depends only on (seed, step), so a resumed or distributed run draws exactly the
batches of an uninterrupted single-process run.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from thoughtlab.csp.datasets import PedestrianSet, load_annotations
from thoughtlab.errors import BadInput


def keyed_generator(*keys: int | str) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded from a stable hash of ``keys`` (e.g. seed, "augment", step, slot)."""
    digest = hashlib.blake2b(repr(keys).encode(), digest_size=8).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest, "little") & (2**63 - 1))


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1)


def read_image(path: str | Path) -> np.ndarray:
    """An RGB uint8 (H, W, 3) array from a PNG/JPG file; BadInput naming the file if missing or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"image {path} does not exist; check the image folder")
    try:
        with Image.open(path) as img:
            return np.array(img.convert("RGB"))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise BadInput(f"image {path} is corrupt or not an image ({type(err).__name__}); replace or remove it") from None


class ImageSet:
    """Annotated images on disk: ``annotations.images[i].file_name`` under ``image_dir``.

    ``min_height`` is the training policy (CSP's ``train_h50``): people shorter than it become ignore
    regions in :meth:`boxes`; the raw ``annotations`` (used for evaluation) are left untouched.
    With ``cache=True`` decoded images stay in memory after their first use.
    """

    def __init__(self, annotations: PedestrianSet, image_dir: str | Path, min_height: float = 0.0,
                 cache: bool = False):
        if not annotations.images:
            raise BadInput(f"annotation set {annotations.name!r} has no images")
        self.annotations = annotations
        self.image_dir = Path(image_dir)
        self.min_height = float(min_height)
        self.cache = cache
        self._images: dict[int, np.ndarray] = {}

    @classmethod
    def from_split(cls, root: str | Path, split: str, min_height: float = 0.0, cache: bool = False) -> ImageSet:
        """The layout :func:`thoughtlab.csp.synth.write_split` writes: ``root/<split>_gt.json``, ``root/images/<split>/``."""
        root = Path(root)
        gt = root / f"{split}_gt.json"
        if not gt.is_file():
            raise BadInput(f"{gt} does not exist; a dataset folder needs <split>_gt.json and images/<split>/")
        return cls(load_annotations(gt, split), root / "images" / split, min_height, cache)

    def __len__(self) -> int:
        return len(self.annotations.images)

    def path(self, i: int) -> Path:
        return self.image_dir / self.annotations.images[i].file_name

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` as uint8 (H, W, 3); checks its size against the annotation's width/height when given."""
        if i in self._images:
            return self._images[i]
        info = self.annotations.images[i]
        image = read_image(self.path(i))
        if info.width and info.height and image.shape[:2] != (info.height, info.width):
            raise BadInput(f"image {self.path(i)} is {image.shape[1]}x{image.shape[0]} but its annotation says "
                           f"{info.width}x{info.height}; fix the annotation file")
        if self.cache:
            self._images[i] = image
        return image

    def boxes(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(persons, ignore regions) of image ``i`` as float64 (n, 4) (x1, y1, x2, y2), after ``min_height``."""
        info = self.annotations.images[i]
        boxes = xywh_to_xyxy(info.boxes)
        ignored = np.asarray(info.ignore, dtype=bool) | (np.asarray(info.boxes).reshape(-1, 4)[:, 3] < self.min_height)
        return boxes[~ignored], boxes[ignored]

    def has_people(self, i: int) -> bool:
        return len(self.boxes(i)[0]) > 0

    def subset(self, count: int | None) -> ImageSet:
        """The first ``count`` images (all when None), sharing the cache policy."""
        if count is None or count >= len(self):
            return self
        return ImageSet(PedestrianSet(self.annotations.name, self.annotations.images[:count]),
                        self.image_dir, self.min_height, self.cache)


class HybridSampler:
    """Global batches of image indices: ``round(ratio x batch)`` with people, the rest without.

    With ``ratio=None``, or when either pool is empty, batches come uniformly from all images.
    Each pool is walked in seeded per-epoch permutations, so step ``t`` takes pool positions
    ``t x share ... (t + 1) x share - 1`` -- a pure function of (seed, step).
    """

    def __init__(self, data: ImageSet, batch_size: int, ratio: float | None, seed: int):
        if batch_size < 1:
            raise BadInput(f"batch size must be >= 1, got {batch_size}")
        if ratio is not None and not 0 <= ratio <= 1:
            raise BadInput(f"hybrid ratio must be in [0, 1] (share of images with people), got {ratio}")
        people = [i for i in range(len(data)) if data.has_people(i)]
        empty = [i for i in range(len(data)) if not data.has_people(i)]
        self.seed = seed
        self._orders: dict[tuple[str, int], torch.Tensor] = {}
        if ratio is None or not people or not empty:
            self.pools = [("all", list(range(len(data))), batch_size)]
        else:
            n_people = round(ratio * batch_size)
            self.pools = [("people", people, n_people), ("empty", empty, batch_size - n_people)]

    def _position(self, name: str, pool: list[int], k: int) -> int:
        epoch, offset = divmod(k, len(pool))
        if (name, epoch) not in self._orders:
            if len(self._orders) > 4:
                self._orders.clear()
            self._orders[name, epoch] = torch.randperm(len(pool), generator=keyed_generator(self.seed, "pool", name, epoch))
        order = self._orders[name, epoch]
        return pool[int(order[offset])]

    def batch(self, step: int) -> list[int]:
        """The global batch of ``step`` (people first, then empty images)."""
        return [self._position(name, pool, step * share + j)
                for name, pool, share in self.pools for j in range(share)]
