"""CSP training augmentation: brightness, horizontal flip, random rescale, crop around a person or pave.

Liu et al., CVPR 2019, §4.1 ("data augmentation ... random brightness, horizontal flip, random scale
[0.4, 1.5], crop or pave to the training size"), as the official ``keras_csp/data_augment.py`` applies it
(research notes csp.md §2.3), in this order:

1. brightness (probability 0.5): the HSV value channel times U(0.5, 2), clipped at 255.  With hue and
   saturation unchanged this is RGB times min(f, 255 / max(R, G, B)) per pixel, which we compute directly
   (no uint8 HSV round trip, the only difference from the code);
2. horizontal flip (probability 0.5);
3. rescale by s ~ U(0.4, 1.5) (bilinear, anti-aliased when shrinking);
4. per axis: if the image is at least the crop size, crop it centred on a randomly chosen person's centre
   (a random place without persons), shifted to stay inside; otherwise "pave": paste it at a random place
   on a canvas of the image's mean colour.  The code decides on the height alone (its crops and images
   share an aspect ratio); per-axis handles any shape and is the same in that case;
5. persons are clipped to the crop and kept if at least ``min_box_width`` (16) pixels wide and at least
   ``min_kept_area`` (50 %) of their area remains; ignore regions are clipped and kept if both sides are at
   least ``min_ignore_side`` (8) pixels.  The code lets dropped persons vanish; ``dropped_to_ignore=True``
   turns them into ignore regions instead (Pedestron's option).

All randomness comes from the ``torch.Generator`` passed in; images are float (3, H, W) on the 0-255 scale,
boxes float64 numpy (n, 4) as (x1, y1, x2, y2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from thoughtlab.errors import BadInput


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation parameters (defaults: the official code's)."""

    brightness_prob: float = 0.5
    brightness_range: tuple[float, float] = (0.5, 2.0)
    flip_prob: float = 0.5
    scale_range: tuple[float, float] = (0.4, 1.5)
    min_box_width: float = 16.0
    min_kept_area: float = 0.5
    min_ignore_side: float = 8.0
    dropped_to_ignore: bool = False

    def validate(self) -> AugmentConfig:
        lo, hi = self.scale_range
        if not 0 < lo <= hi:
            raise BadInput(f"augment scale_range {self.scale_range} must satisfy 0 < low <= high")
        if not 0 < self.brightness_range[0] <= self.brightness_range[1]:
            raise BadInput(f"augment brightness_range {self.brightness_range} must satisfy 0 < low <= high")
        for name in ("brightness_prob", "flip_prob", "min_kept_area"):
            if not 0 <= getattr(self, name) <= 1:
                raise BadInput(f"augment {name} must be in [0, 1], got {getattr(self, name)}")
        return self


def uniform(generator: torch.Generator, lo: float, hi: float) -> float:
    """One draw from U(lo, hi)."""
    return lo + (hi - lo) * float(torch.rand((), generator=generator))


def adjust_brightness(image: torch.Tensor, factor: float) -> torch.Tensor:
    """HSV value x ``factor`` clipped at 255, hue and saturation kept: RGB x min(f, 255 / max channel)."""
    peak = image.amax(dim=0, keepdim=True)
    return image * torch.minimum(torch.full_like(peak, factor), 255.0 / peak.clamp_min(1e-6))


def hflip(image: torch.Tensor, boxes: np.ndarray, ignore: np.ndarray) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Mirror the image left-right; x1' = W - x2, x2' = W - x1."""
    width = image.shape[-1]

    def mirror(b: np.ndarray) -> np.ndarray:
        return np.stack([width - b[:, 2], b[:, 1], width - b[:, 0], b[:, 3]], axis=1) if len(b) else b

    return image.flip(-1), mirror(boxes), mirror(ignore)


def rescale(image: torch.Tensor, boxes: np.ndarray, ignore: np.ndarray, factor: float
            ) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Resize by ``factor`` (bilinear; anti-aliased when shrinking); boxes follow the exact size ratios."""
    height, width = image.shape[-2:]
    new_h, new_w = max(1, round(height * factor)), max(1, round(width * factor))
    resized = F.interpolate(image[None], size=(new_h, new_w), mode="bilinear", align_corners=False,
                            antialias=factor < 1)[0].clamp_(0, 255)
    ratio = np.array([new_w / width, new_h / height, new_w / width, new_h / height])
    return resized, boxes * ratio, ignore * ratio


def _axis_offset(size: int, crop: int, centre: float | None, generator: torch.Generator) -> int:
    """Crop start (size >= crop: centred on ``centre``, kept inside) or paste start (size < crop: random), >= 0."""
    if size >= crop:
        if centre is None:
            return int(torch.randint(0, size - crop + 1, (), generator=generator))
        return int(min(max(int(centre) - crop // 2, 0), size - crop))
    return int(torch.randint(0, crop - size + 1, (), generator=generator))


def crop_or_pave(image: torch.Tensor, boxes: np.ndarray, ignore: np.ndarray, crop: tuple[int, int],
                 generator: torch.Generator) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Bring the image to ``crop`` = (H, W): crop around a random person's centre, or pave with the mean colour.

    Returns the (3, H, W) crop and the boxes shifted into it (not yet clipped or filtered).
    """
    height, width = image.shape[-2:]
    crop_h, crop_w = crop
    centre_x = centre_y = None
    if len(boxes):
        k = int(torch.randint(0, len(boxes), (), generator=generator))
        centre_x, centre_y = (boxes[k, 0] + boxes[k, 2]) / 2, (boxes[k, 1] + boxes[k, 3]) / 2
    oy = _axis_offset(height, crop_h, centre_y, generator)
    ox = _axis_offset(width, crop_w, centre_x, generator)
    canvas = image.mean(dim=(1, 2), keepdim=True).expand(3, crop_h, crop_w).clone()
    # Along a cropped axis the source window starts at o; along a paved axis the target starts at o.
    sy, ty = (oy, 0) if height >= crop_h else (0, oy)
    sx, tx = (ox, 0) if width >= crop_w else (0, ox)
    h, w = min(height, crop_h), min(width, crop_w)
    canvas[:, ty:ty + h, tx:tx + w] = image[:, sy:sy + h, sx:sx + w]
    shift = np.array([tx - sx, ty - sy, tx - sx, ty - sy], dtype=np.float64)
    return canvas, boxes + shift, ignore + shift


def clip_boxes(boxes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Clip (x1, y1, x2, y2) boxes to an (H, W) image."""
    height, width = size
    return np.clip(boxes, 0, [width, height, width, height]) if len(boxes) else boxes


def filter_boxes(boxes: np.ndarray, ignore: np.ndarray, size: tuple[int, int], cfg: AugmentConfig
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Clip to the crop; keep persons >= min width and >= min area share, ignores with both sides >= 8."""
    clipped = clip_boxes(boxes, size)
    if len(boxes):
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        kept_area = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
        keep = ((clipped[:, 2] - clipped[:, 0]) >= cfg.min_box_width) & (kept_area >= cfg.min_kept_area * area)
    else:
        keep = np.zeros(0, dtype=bool)
    ignore = clip_boxes(ignore, size)
    if cfg.dropped_to_ignore:
        ignore = np.concatenate([ignore.reshape(-1, 4), clipped[~keep].reshape(-1, 4)])
    if len(ignore):
        ignore = ignore[((ignore[:, 2] - ignore[:, 0]) >= cfg.min_ignore_side)
                        & ((ignore[:, 3] - ignore[:, 1]) >= cfg.min_ignore_side)]
    return clipped[keep].reshape(-1, 4), ignore.reshape(-1, 4)


def augment(image: np.ndarray, boxes: np.ndarray, ignore: np.ndarray, crop: tuple[int, int],
            cfg: AugmentConfig, generator: torch.Generator) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """The full training augmentation of one uint8 (H, W, 3) image -> float (3, crop H, crop W), persons, ignores."""
    tensor = torch.tensor(image).permute(2, 0, 1).float()
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    ignore = np.asarray(ignore, dtype=np.float64).reshape(-1, 4)
    if float(torch.rand((), generator=generator)) < cfg.brightness_prob:
        tensor = adjust_brightness(tensor, uniform(generator, *cfg.brightness_range))
    if float(torch.rand((), generator=generator)) < cfg.flip_prob:
        tensor, boxes, ignore = hflip(tensor, boxes, ignore)
    tensor, boxes, ignore = rescale(tensor, boxes, ignore, uniform(generator, *cfg.scale_range))
    tensor, boxes, ignore = crop_or_pave(tensor, boxes, ignore, crop, generator)
    boxes, ignore = filter_boxes(boxes, ignore, crop, cfg)
    return tensor, boxes, ignore
