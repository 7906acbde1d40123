"""Evaluation inputs -> uint8 images, precomputed features or saved FID statistics; and a feature cache.

Accepted sources (:func:`load_source`):

* an image folder, read recursively (png, jpg, jpeg, bmp, gif, tif, tiff, webp) in sorted path order
  with Pillow; an unreadable file is a :class:`BadInput` naming it.  Mixed sizes or channel counts
  follow an explicit policy: ``"error"`` (default) or ``"resize"`` (every image to the most common
  size by PIL bicubic, gray to RGB), recorded in the input record;
* ``.npy`` / ``.npz`` files and numpy arrays or torch tensors: (N, H, W), (N, C, H, W) or (N, H, W, C)
  images; a 2-D array is taken as precomputed features (N, d); an ``.npz`` holding ``mu`` and
  ``sigma`` is saved FID statistics (the pytorch-fid/TTUR format);
* a generator callable ``sample(n) -> images`` (:func:`images_from_generator`), also named as
  ``path/to/file.py:function`` or ``package.module:function`` (:func:`load_generator`; an existing
  path of that spelling is read as a path).

Float images must lie in [0, 1]; they are converted to uint8 by ``round(255·x)`` (policy ``"round"``,
recorded), kept as float32 without quantisation (``"keep"``, for generator outputs evaluated in memory)
or refused (``"error"``).  Every ``np.load`` uses ``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import sys
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.fileio import atomic_writer
from thoughtlab.metrics.extractors import Extractor
from thoughtlab.metrics.fid import FidStats, load_stats
from thoughtlab.train import distributed

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MIXED_POLICIES = ("error", "resize")
FLOAT_POLICIES = ("round", "error", "keep")
GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")
CACHE_ENV = "THOUGHTLAB_CACHE"


@dataclass
class Images:
    """Images (N, C, H, W), uint8 (float32 in [0, 1] under float policy "keep"), and a JSON-able record of
    where they came from and how they were converted."""

    pixels: np.ndarray
    record: dict[str, Any] = field(default_factory=dict)


@dataclass
class Features:
    """Features (N, d), optional logits (N, classes) and the protocol (input record + extractor description)."""

    features: np.ndarray
    logits: np.ndarray | None
    protocol: dict[str, Any]


def _policy(value: str, kind: str, known: tuple[str, ...]) -> str:
    if value not in known:
        raise UnknownName(kind, value, known)
    return value


def to_nchw(arr: np.ndarray, name: str) -> np.ndarray:
    """(N, H, W) -> (N, 1, H, W); (N, H, W, C) with C in {1, 3} -> (N, C, H, W); (N, C, H, W) kept."""
    if arr.ndim == 3:
        return arr[:, None]
    if arr.ndim == 4 and arr.shape[1] in (1, 3):
        return arr
    if arr.ndim == 4 and arr.shape[-1] in (1, 3):
        return np.ascontiguousarray(arr.transpose(0, 3, 1, 2))
    raise BadInput(f"{name}: shape {arr.shape} is not images (N, H, W), (N, C, H, W) or (N, H, W, C) with 1 or 3 "
                   "channels, nor features (N, d); reshape it to one of these")


def to_pixels(arr: np.ndarray, name: str, float_policy: str = "round") -> tuple[np.ndarray, str]:
    """uint8 pixels (float32 ones under ``"keep"``) and the conversion applied, e.g. "float [0,1] -> round(255x)"."""
    _policy(float_policy, "float policy", FLOAT_POLICIES)
    if arr.dtype == np.uint8:
        return arr, "none"
    if arr.dtype.kind in "iu":
        low, high = int(arr.min()), int(arr.max())
        if low < 0 or high > 255:
            raise BadInput(f"{name}: integer pixels span [{low}, {high}], outside 0-255; rescale to uint8")
        return arr.astype(np.uint8), f"{arr.dtype} -> uint8 (values already 0-255)"
    if arr.dtype.kind != "f":
        raise BadInput(f"{name}: dtype {arr.dtype} is not an image type; pass uint8 or float in [0, 1]")
    if float_policy == "error":
        raise BadInput(f"{name}: float images given where uint8 is expected; convert them or use --float-policy round")
    if not np.isfinite(arr).all():
        raise BadInput(f"{name}: images contain NaN or Inf; fix the generator output")
    low, high = float(arr.min()), float(arr.max())
    if low < 0 or high > 1:
        raise BadInput(f"{name}: float images must lie in [0, 1], got [{low:.3g}, {high:.3g}]; divide 0-255 data by "
                       "255 or map [-1, 1] by (x+1)/2")
    if float_policy == "keep":
        return arr.astype(np.float32), "float [0,1] kept as float32 (no quantisation)"
    return np.rint(arr * 255).astype(np.uint8), "float [0,1] -> uint8 by round(255x)"


def images_from_array(data: Any, name: str = "array", float_policy: str = "round") -> Images:
    """NCHW :class:`Images` (uint8, or float32 under ``"keep"``) from a numpy array or torch tensor of images."""
    arr = data.detach().cpu().numpy() if torch.is_tensor(data) else np.asarray(data)
    if len(arr) == 0:
        raise BadInput(f"{name}: no images (empty array)")
    pixels, conversion = to_pixels(to_nchw(arr, name), name, float_policy)
    return Images(pixels, {"source": name, "n": len(pixels), "dtype": str(arr.dtype), "conversion": conversion})


def _generator_batch(sample: Callable[[int], Any], want: int, float_policy: str) -> tuple[np.ndarray, str]:
    """uint8 pixels of one ``sample(want)`` call and the conversion; BadInput unless it returns ``want`` images."""
    try:
        out = sample(want)
    except Exception as exc:  # the user's code failed: report it as their input, with its message
        message = str(exc).splitlines()[0] if str(exc) else ""
        raise BadInput(f"the generator failed on sample({want}): {type(exc).__name__}: {message}; fix the generator "
                       "(call it alone to see the traceback)") from exc
    if not (torch.is_tensor(out) or isinstance(out, np.ndarray)):
        raise BadInput(f"sample({want}) returned a {type(out).__name__}; it must return a numpy array or torch "
                       "tensor of images (N, H, W), (N, C, H, W) or (N, H, W, C)")
    if out.ndim not in (3, 4):
        raise BadInput(f"sample({want}) returned shape {tuple(out.shape)}; it must return images (N, H, W), "
                       "(N, C, H, W) or (N, H, W, C)")
    batch = images_from_array(out, "generator output", float_policy)
    if len(batch.pixels) != want:
        raise BadInput(f"sample({want}) returned {len(batch.pixels)} images; it must return exactly n")
    return batch.pixels, batch.record["conversion"]


def _chw(pixels: np.ndarray) -> str:
    return "x".join(map(str, pixels.shape[1:]))


def images_from_generator(sample: Callable[[int], Any], n: int, batch_size: int = 500,
                          float_policy: str = "round", name: str | None = None) -> Images:
    """Call ``sample(k)`` until ``n`` images are collected (the generator seeds itself)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise BadInput(f"the generator must be asked for at least one sample, got n={n!r}; pass --samples N")
    parts, conversions, have = [], set(), 0
    while have < n:
        pixels, conversion = _generator_batch(sample, min(batch_size, n - have), float_policy)
        if parts and pixels.shape[1:] != parts[0].shape[1:]:
            raise BadInput(f"the generator's batches change shape: {_chw(parts[0])} images, then {_chw(pixels)} "
                           f"after {have} samples; every sample(n) call must return images of one size")
        parts.append(pixels)
        conversions.add(conversion)
        have += len(pixels)
    name = name or f"generator {getattr(sample, '__qualname__', type(sample).__name__)}"
    return Images(np.concatenate(parts), {"source": name, "n": n, "conversion": sorted(conversions)})


def generator_spec(source: str) -> tuple[str, str] | None:
    """(module or ``.py`` file, function) when ``source`` reads ``file.py:function`` or ``pkg.module:function``."""
    target, sep, attr = source.rpartition(":")
    if not sep or not attr.isidentifier():
        return None
    if target.endswith(".py") or all(part.isidentifier() for part in target.split(".")):
        return target, attr
    return None


def names_generator(source: Any) -> bool:
    """True when ``source`` is a generator spec and no file or folder of that name exists (paths win)."""
    return isinstance(source, str) and generator_spec(source) is not None and not Path(source).exists()


def _import_target(target: str, source: str) -> Any:
    """The module named by a generator spec: a ``.py`` file (run as a fresh module) or an importable module."""
    where = str(Path(target).resolve().parent) if target.endswith(".py") else os.getcwd()
    added = where not in sys.path
    if added:
        sys.path.insert(0, where)  # sibling imports of the file / modules in the working folder, for the import only
    try:
        if not target.endswith(".py"):
            return importlib.import_module(target)
        path = Path(target)
        if not path.is_file():
            raise BadInput(f"{source}: generator file {path} not found; give path/to/file.py:function")
        key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
        spec = importlib.util.spec_from_file_location(f"thoughtlab_generator_{key}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    except BadInput:
        raise
    except ModuleNotFoundError as exc:
        raise BadInput(f"{source}: cannot import module {target!r} ({exc}); give path/to/file.py:function or an "
                       "importable package.module:function") from exc
    except Exception as exc:
        raise BadInput(f"{source}: importing {target} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        if added:
            sys.path.remove(where)


def load_generator(source: str) -> Callable[[int], Any]:
    """The callable ``sample(n) -> images`` named by ``file.py:function`` or ``package.module:function``."""
    spec = generator_spec(source)
    if spec is None:
        raise BadInput(f"{source}: not a generator; write path/to/file.py:function or package.module:function")
    target, attr = spec
    module = _import_target(target, source)
    if not hasattr(module, attr):
        raise BadInput(f"{source}: {target} has no attribute {attr!r}; define def {attr}(n) returning n images there")
    sample = getattr(module, attr)
    if not callable(sample):
        raise BadInput(f"{source}: {attr} is a {type(sample).__name__}, not a callable sample(n) -> images")
    return sample


def image_files(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursive, sorted by relative path); BadInput when there are none."""
    if not folder.is_dir():
        raise BadInput(f"{folder}: not a folder")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise BadInput(f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)}) found, recursively")
    return files


def read_image(path: Path) -> Image.Image:
    """A decoded image in mode L or RGB; BadInput naming the file if it cannot be decoded."""
    try:
        with Image.open(path) as img:
            img.load()
            return img.convert("L" if img.mode in GRAY_MODES else "RGB") if img.mode not in ("L", "RGB") else img.copy()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise BadInput(f"{path}: cannot be read as an image ({exc}); delete or replace the file") from exc


def _common_shape(images: list[Image.Image], files: list[Path], folder: Path, mixed: str) -> tuple[str, tuple]:
    """The (mode, size) all images will have; BadInput under policy "error" when they differ."""
    shapes = Counter((img.mode, img.size) for img in images)
    if len(shapes) == 1:
        return next(iter(shapes))
    if mixed == "error":
        (a, _), (b, _) = shapes.most_common(2)
        first = {shape: files[i] for i, shape in reversed(list(enumerate((im.mode, im.size) for im in images)))}
        raise BadInput(f"{folder}: images differ in size or channels ({a[0]} {a[1][0]}x{a[1][1]} e.g. {first[a].name}, "
                       f"{b[0]} {b[1][0]}x{b[1][1]} e.g. {first[b].name}); pass --mixed resize to convert all to the "
                       "most common size (PIL bicubic) and RGB")
    mode = "RGB" if any(img.mode == "RGB" for img in images) else "L"
    return mode, Counter(img.size for img in images).most_common(1)[0][0]


def load_folder(folder: str | Path, mixed: str = "error") -> Images:
    """All images under ``folder`` as uint8 (N, C, H, W); mixed shapes per ``mixed`` (MIXED_POLICIES)."""
    _policy(mixed, "mixed-image policy", MIXED_POLICIES)
    folder = Path(folder)
    files = image_files(folder)
    images = [read_image(path) for path in files]
    mode, size = _common_shape(images, files, folder, mixed)
    resized = sum(img.size != size for img in images)
    converted = sum(img.mode != mode for img in images)
    images = [img.convert(mode) if img.mode != mode else img for img in images]
    images = [img.resize(size, Image.Resampling.BICUBIC) if img.size != size else img for img in images]
    pixels = to_nchw(np.stack([np.asarray(img, dtype=np.uint8) for img in images]), str(folder))
    record = {"source": str(folder), "n": len(files), "dtype": "uint8", "conversion": "none", "mixed": mixed}
    if resized or converted:
        record.update(mixed_target=[3 if mode == "RGB" else 1, size[1], size[0]], resized_files=resized,
                      channel_converted_files=converted, mixed_resize="PIL bicubic on uint8")
    return Images(pixels, record)


def _array_from_npz(path: Path, data: Any) -> np.ndarray:
    keys = list(data.files)
    for key in ("images", "x", "features", "arr_0"):
        if key in keys:
            return data[key]
    if len(keys) == 1:
        return data[keys[0]]
    raise BadInput(f"{path}: holds {keys}; store one array, or name it 'images' (or 'features'), or save mu/sigma")


def load_array_file(path: Path) -> np.ndarray | FidStats:
    """The array in a ``.npy``/``.npz`` file, or :class:`FidStats` when the ``.npz`` holds ``mu`` and ``sigma``.

    The content decides, not the suffix (a zip saved as ``.npy`` is read as an archive); a truncated,
    foreign or pickle-holding file is a :class:`BadInput` naming it.
    """
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            return loaded
        with loaded as data:
            if {"mu", "sigma"} <= set(data.files):
                return load_stats(path)
            return _array_from_npz(path, data)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise BadInput(f"{path}: not a readable {path.suffix} file without pickled objects ({type(exc).__name__}); "
                       "save it with np.save / np.savez") from None


def load_source(source: Any, *, mixed: str = "error", float_policy: str = "round", samples: int | None = None,
                batch_size: int = 500) -> Images | Features | FidStats:
    """Images, precomputed :class:`Features` (2-D arrays) or :class:`FidStats` from a path, array or tensor,
    or ``samples`` images from a generator: a callable ``sample(n)`` or ``file.py:function`` /
    ``package.module:function``.

    An existing path always wins over the generator reading (a folder named ``a:b`` is a folder);
    ``samples`` is required for a generator and ignored for other sources.
    """
    if isinstance(source, (FidStats, Images, Features)):
        return source
    if callable(source):
        if samples is None:
            raise BadInput("a generator source needs samples=N: how many images to draw from it")
        return images_from_generator(source, samples, batch_size, float_policy)
    name = "array"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            return load_folder(path, mixed)
        if names_generator(source):
            if samples is None:
                raise BadInput(f"{source} is a generator; pass --samples N (samples=N) to say how many images to draw")
            return images_from_generator(load_generator(source), samples, batch_size, float_policy,
                                         name=f"generator {source}")
        if not path.exists():
            raise BadInput(f"{path}: no such file or folder")
        if path.suffix not in (".npy", ".npz"):
            raise BadInput(f"{path}: expected an image folder, a .npy/.npz array or a .npz of FID statistics")
        source, name = load_array_file(path), str(path)
        if isinstance(source, FidStats):
            return source
    arr = source.detach().cpu().numpy() if torch.is_tensor(source) else np.asarray(source)
    if arr.ndim == 2:
        if arr.dtype.kind not in "fiu":
            raise BadInput(f"{name}: features of dtype {arr.dtype}; pass numeric (N, d) features")
        return Features(arr, None, {"source": name, "n": len(arr), "extractor": "none (precomputed features)"})
    return images_from_array(arr, name, float_policy)


def default_cache_dir() -> Path:
    """THOUGHTLAB_CACHE/features, else ~/.cache/thoughtlab/features."""
    root = os.environ.get(CACHE_ENV)
    return Path(root) / "features" if root else Path.home() / ".cache" / "thoughtlab" / "features"


def content_hash(pixels: np.ndarray) -> str:
    """sha256 of the pixels and their shape (and dtype, when not uint8)."""
    key = pixels.shape if pixels.dtype == np.uint8 else (pixels.shape, str(pixels.dtype))
    digest = hashlib.sha256(str(key).encode())
    digest.update(np.ascontiguousarray(pixels).tobytes())
    return digest.hexdigest()[:32]


class FeatureCache:
    """Features on disk keyed by image content hash and extractor key; atomic writes, ``allow_pickle=False`` reads."""

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder is not None else default_cache_dir()

    def path(self, pixels: np.ndarray, extractor: Extractor) -> Path:
        return self.folder / f"{content_hash(pixels)}-{extractor.cache_key()}.npz"

    def get(self, path: Path) -> tuple[np.ndarray, np.ndarray | None] | None:
        """Cached (features, logits), or None when absent or unreadable (then it is recomputed)."""
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                return data["features"], (data["logits"] if "logits" in data.files else None)
        except (OSError, ValueError, KeyError, EOFError):
            return None

    def put(self, path: Path, features: np.ndarray, logits: np.ndarray | None) -> None:
        """Store an entry; a cache that cannot be written only warns (the features are still returned)."""
        arrays = {"features": features} if logits is None else {"features": features, "logits": logits}
        try:
            with atomic_writer(path) as handle:
                np.savez(handle, **arrays)
        except OSError as exc:
            warnings.warn(f"feature cache {self.folder} is not writable ({exc.strerror or exc}); features were not "
                          f"cached: pass --cache-dir DIR, set {CACHE_ENV} or --no-cache", RuntimeWarning, stacklevel=2)


def extract_features(images: Images, extractor: Extractor, *, cache: FeatureCache | None = None,
                     batch_size: int = 256, device: str | torch.device = "cpu") -> Features:
    """Features (and logits) of ``images`` by ``extractor``, read from / written to ``cache`` when given.

    Under ``torchrun`` the ranks share the extraction (:meth:`Extractor.extract`), use the cache only
    when every rank finds the entry, and rank 0 alone writes it.
    """
    protocol = {**images.record, **extractor.describe(images.pixels.shape)}
    path = cache.path(images.pixels, extractor) if cache is not None else None
    hit = cache.get(path) if cache is not None else None
    if distributed.all_reduce_mean(float(hit is not None)) == 1.0:  # under torchrun: every rank hit, or all compute
        return Features(hit[0], hit[1], {**protocol, "cache": "hit"})
    features, logits = extractor.extract(images.pixels, batch_size=batch_size, device=device)
    if cache is not None and distributed.is_main():
        cache.put(path, features, logits)
    distributed.barrier()
    return Features(features, logits, {**protocol, "cache": "stored" if cache is not None else "off"})


def protocol_json(protocol: dict[str, Any]) -> str:
    """The protocol as compact JSON (stored next to statistics)."""
    return json.dumps(protocol, sort_keys=True, default=str)
