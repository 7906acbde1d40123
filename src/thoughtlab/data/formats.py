"""Readers for standard image-dataset file formats, checked as they are parsed.

Every reader returns float32 images (N, C, H, W) scaled to [0, 1] and int64
labels, and raises :class:`~thoughtlab.errors.BadInput` naming the file when
it is missing, truncated or not in the expected format.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from thoughtlab.errors import BadInput

IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions (N, H, W)
IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension (N,)
CIFAR_SIDE = 32
CIFAR_RECORD = 1 + 3 * CIFAR_SIDE * CIFAR_SIDE  # label byte + R, G, B planes
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _read_bytes(path: Path) -> bytes:
    """File contents, transparently un-gzipped when the name ends in ``.gz``."""
    if not path.is_file():
        raise BadInput(f"{path}: no such file; check the path")
    try:
        return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise BadInput(f"{path}: cannot be decompressed ({exc}); re-download the file") from exc


def _read_idx(path: Path, magic: int) -> np.ndarray:
    """One IDX file (LeCun et al., MNIST format): big-endian magic, dims, uint8 data."""
    raw = _read_bytes(path)
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise BadInput(f"{path}: {len(raw)} bytes is shorter than an IDX header; the file is truncated")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise BadInput(f"{path}: IDX magic number {found:#010x}, expected {magic:#010x}; wrong or corrupt file")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    size = int(np.prod(shape))
    if len(raw) - header != size:
        raise BadInput(f"{path}: header says shape {shape} ({size} bytes) but {len(raw) - header} bytes follow; "
                       "the file is truncated or corrupt")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_mnist_idx(images_path: str | Path, labels_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an MNIST-style IDX image/label pair (``.gz`` accepted).

    Returns:
        ``(x, y)``: x float32 (N, 1, H, W) in [0, 1]; y int64 (N,).
    """
    images_path, labels_path = Path(images_path), Path(labels_path)
    images = _read_idx(images_path, IDX_IMAGES_MAGIC)
    labels = _read_idx(labels_path, IDX_LABELS_MAGIC)
    if len(images) != len(labels):
        raise BadInput(f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels; "
                       "pass a matching pair")
    return (images[:, None].astype(np.float32) / 255.0), labels.astype(np.int64)


def load_cifar_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one batch of the CIFAR-10 *binary* version (``data_batch_N.bin``, ``test_batch.bin``).

    Each record is 1 label byte then 3,072 bytes: the 32x32 red, green and blue
    planes, row-major (Krizhevsky 2009, the dataset page's binary format).  The
    *python* version is a pickle, and unpickling can execute arbitrary code, so
    it is deliberately not supported: use the binary files, which are parsed as
    plain bytes.

    Returns:
        ``(x, y)``: x float32 (N, 3, 32, 32) in [0, 1]; y int64 (N,) in 0..9.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if not raw or len(raw) % CIFAR_RECORD:
        raise BadInput(f"{path}: {len(raw)} bytes is not a whole number of {CIFAR_RECORD}-byte CIFAR-10 records; "
                       "the file is truncated or not a CIFAR-10 binary batch")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, CIFAR_RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise BadInput(f"{path}: label {labels.max()} outside 0..9; not a CIFAR-10 binary batch "
                       "(CIFAR-100 has 2 label bytes)")
    images = records[:, 1:].reshape(-1, 3, CIFAR_SIDE, CIFAR_SIDE).astype(np.float32) / 255.0
    return images, labels


def load_image_folder(root: str | Path, mode: str = "RGB") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read ``root/<class>/<image>.png|jpg``: one subfolder per class, all images one size.

    Classes are the subfolder names in sorted order (label = index) and files
    are read in sorted order, so the result is deterministic.

    Args:
        root: folder whose subfolders are the classes.
        mode: Pillow mode to convert every image to, ``"RGB"`` or ``"L"``.
    Returns:
        ``(x, y, classes)``: x float32 (N, C, H, W) in [0, 1]; y int64 (N,);
        classes the subfolder names.
    """
    from PIL import Image, UnidentifiedImageError

    root = Path(root)
    if mode not in ("RGB", "L"):
        raise BadInput(f"mode {mode!r} is not supported; use 'RGB' or 'L'")
    if not root.is_dir():
        raise BadInput(f"{root}: not a folder; pass a folder with one subfolder per class")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    files = [(f, label) for label, name in enumerate(classes)
             for f in sorted((root / name).iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise BadInput(f"{root}: no .png/.jpg images in class subfolders; expected root/<class>/<image>.png")
    images = []
    for f, _ in files:
        try:
            with Image.open(f) as img:
                array = np.asarray(img.convert(mode), dtype=np.uint8)
        except (OSError, UnidentifiedImageError, SyntaxError) as exc:
            raise BadInput(f"{f}: cannot be read as an image ({exc}); remove or replace it") from exc
        if images and array.shape != images[0].shape:
            raise BadInput(f"{f}: size {array.shape[:2]} differs from {images[0].shape[:2]} of {files[0][0]}; "
                           "resize the images to one size")
        images.append(array)
    x = np.stack(images).astype(np.float32) / 255.0
    x = x[:, None] if mode == "L" else x.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x), np.array([label for _, label in files], dtype=np.int64), classes
