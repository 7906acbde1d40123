"""Unpaired image data in the reference layout: ``DATAROOT/trainA``, ``trainB`` and optional ``testA``, ``testB``.

Images of any size and format Pillow reads are loaded once, resized to ``load_size``² (bicubic, the
reference's ``resize_and_crop``) and kept as uint8; each training batch then takes a random
``crop_size``² crop and, unless ``no_flip``, a random horizontal flip (Zhu et al. 2017, §4; reference
options ``--load_size``, ``--crop_size``, ``--no_flip``, ``--max_dataset_size``).  Gray images give
one channel, everything else is converted to RGB; a folder must not mix the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from thoughtlab.errors import BadInput

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
GRAY_MODES = ("1", "L", "I", "I;16", "F")


@dataclass
class Domain:
    """One domain's images, uint8 (N, C, S, S); ``labels`` (N,) when the content is known (digits)."""

    images: torch.Tensor
    names: list[str]
    labels: np.ndarray | None = None

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    def __len__(self) -> int:
        return len(self.images)


@dataclass
class Unpaired:
    """Training domains A and B and, when present, their test sets."""

    train_a: Domain
    train_b: Domain
    test_a: Domain | None = None
    test_b: Domain | None = None


def image_files(folder: Path) -> list[Path]:
    return sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)


def _read_image(path: Path, load_size: int) -> np.ndarray:
    """(C, S, S) uint8: gray stays one channel, all else becomes RGB; resized bicubic to load_size²."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            gray = img.mode in GRAY_MODES
            if img.mode in ("I", "I;16", "F"):  # 16-bit/float gray: scale to 8 bits
                arr = np.asarray(img, dtype=np.float64)
                top = 65535.0 if arr.max() > 255 else 255.0
                img = Image.fromarray(np.clip(arr / top * 255.0, 0, 255).astype(np.uint8))
            img = img.convert("L" if gray else "RGB").resize((load_size, load_size), Image.Resampling.BICUBIC)
            arr = np.asarray(img, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise BadInput(f"{path}: cannot be read as an image ({type(exc).__name__}); remove or replace it") from None
    return arr[None] if gray else arr.transpose(2, 0, 1)


def load_domain(folder: str | Path, load_size: int, channels: int | None = None,
                max_size: int | None = None) -> Domain:
    """Every image of ``folder`` (sorted by name), resized to load_size²; ``channels`` 1 or 3 checks the count."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(f"{folder}: no such folder; CycleGAN data needs DATAROOT/trainA and DATAROOT/trainB")
    files = image_files(folder)[:max_size]
    if not files:
        raise BadInput(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}); put the domain's images there")
    arrays = []
    for f in files:
        if f.stat().st_size == 0:
            raise BadInput(f"{f}: empty file; remove or replace it")
        arr = _read_image(f, load_size)
        if arrays and arr.shape[0] != arrays[0].shape[0]:
            raise BadInput(f"{f}: {arr.shape[0]} channel(s) but {files[0].name} has {arrays[0].shape[0]}; "
                           "convert the folder to all-gray or all-RGB")
        arrays.append(arr)
    found = arrays[0].shape[0]
    if channels is not None and found != channels:
        raise BadInput(f"{folder}: images have {found} channel(s) but the model expects {channels}; "
                       f"pass --{'input' if folder.name.endswith('A') else 'output'}_nc {found} or convert the images")
    return Domain(torch.from_numpy(np.stack(arrays)), [f.name for f in files])


def check_sizes(load_size: int, crop_size: int) -> None:
    if crop_size < 4 or crop_size % 4:
        raise BadInput(f"--crop_size {crop_size} must be a positive multiple of 4 (two stride-2 stages); e.g. 32")
    if crop_size > load_size:
        raise BadInput(f"--crop_size {crop_size} exceeds --load_size {load_size}; use crop_size <= load_size")


def load_dataroot(root: str | Path, load_size: int, crop_size: int, input_nc: int | None = None,
                  output_nc: int | None = None, max_dataset_size: int | None = None) -> Unpaired:
    """trainA/trainB (required) and testA/testB (when both exist); channel counts must agree across splits."""
    root = Path(root)
    check_sizes(load_size, crop_size)
    if not root.is_dir():
        raise BadInput(f"DATAROOT {root} does not exist; pass a folder with trainA/ and trainB/ (or 'digits')")
    for name in ("trainA", "trainB"):
        if not (root / name).is_dir():
            raise BadInput(f"{root} has no {name}/ folder; CycleGAN data needs DATAROOT/trainA and DATAROOT/trainB")
    train_a = load_domain(root / "trainA", load_size, input_nc, max_dataset_size)
    train_b = load_domain(root / "trainB", load_size, output_nc, max_dataset_size)
    if not ((root / "testA").is_dir() and (root / "testB").is_dir()):
        return Unpaired(train_a, train_b)
    return Unpaired(train_a, train_b, load_domain(root / "testA", load_size, train_a.channels),
                    load_domain(root / "testB", load_size, train_b.channels))


def to_model_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return images.float() / 127.5 - 1.0


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255] (rounded)."""
    return ((images.detach().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def crop_and_flip(images: torch.Tensor, crop_size: int, flip: bool, generator: torch.Generator) -> torch.Tensor:
    """Per image: a random crop_size² window and (if ``flip``) a horizontal flip with probability ½."""
    n, _, size, _ = images.shape
    out = []
    for i in range(n):
        top, left = (int(v) for v in torch.randint(size - crop_size + 1, (2,), generator=generator))
        patch = images[i, :, top:top + crop_size, left:left + crop_size]
        if flip and torch.rand((), generator=generator).item() < 0.5:
            patch = patch.flip(-1)
        out.append(patch)
    return torch.stack(out)
