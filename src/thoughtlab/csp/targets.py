"""CSP training targets: center, scale and offset maps at stride r from person boxes.

Liu et al., CVPR 2019, §3.3 ("Ground truth", Fig. 3) as implemented in the
official code, ``keras_csp/data_generators.py::calc_gt_center`` (research
notes csp.md §2.1).  Boxes are (x1, y1, x2, y2) input pixels, divided by r.
Channel layouts are the official ones:

- ``center`` (3, h, w): ch0 the Gaussian map M; ch1 the "valid" mask (1,
  0 inside ignore regions [int(x1), ceil(x2)) x [int(y1), ceil(y2)), set back
  to 1 inside every person's window, since persons are written after ignore
  regions); ch2 the positives, exactly one cell per person at
  (int(cy/r), int(cx/r)).
- The Gaussian of a person spans its cells [ceil(x1), int(x2)) x
  [ceil(y1), int(y2)) with the peak at the window's middle index k // 2 and,
  per axis, the OpenCV ``getGaussianKernel`` sigma for the kernel size k:
  sigma = 0.3 * ((k - 1) / 2 - 1) + 0.8.  Persons combine by element-wise max.
- ``scale`` (2, h, w): ch0 log(h / r) on a (2 radius + 1)^2 = 5x5 window
  around the center, ch1 its mask; later persons overwrite earlier ones.
- ``offset`` (3, h, w): at the center cell, cy/r - c_y - 0.5 and
  cx/r - c_x - 0.5 (in [-0.5, 0.5)), and a mask.

Deviations from the official code, both guards:
- the 5x5 scale window is clipped at the map border (numpy's negative slice
  start makes the official window vanish for centers in the first two rows or
  columns);
- persons shorter than ``min_height`` pixels (default 2 r) become ignore
  regions, so log(h / r) stays >= log 2 and the relative scale loss never
  divides by ~0 (a known NaN source, notes §5).

The area-sized work (Gaussians, masks) is vectorised over persons; the
constant-size writes (5x5 windows, offsets) loop over persons so that "later
persons overwrite earlier ones" holds exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch

from thoughtlab.csp.model import STRIDE
from thoughtlab.errors import BadInput

SCALE_RADIUS = 2  # 5x5 scale window
CHUNK = 64  # persons per vectorised Gaussian chunk (bounds memory to CHUNK x h x w)


class CSPTargets(NamedTuple):
    """Target maps, (C, h, w) for one image or (N, C, h, w) for a batch (see the module docstring)."""

    center: torch.Tensor  # Gaussian M, valid mask, positives
    scale: torch.Tensor  # log(h / r), mask
    offset: torch.Tensor  # dy, dx, mask


def gaussian_sigma(kernel: torch.Tensor | float) -> torch.Tensor | float:
    """OpenCV's default sigma for a Gaussian kernel of size k: 0.3 ((k - 1) / 2 - 1) + 0.8."""
    return 0.3 * ((kernel - 1) * 0.5 - 1) + 0.8


def as_boxes(boxes: object, what: str) -> torch.Tensor:
    """Any (n, 4) array-like of finite (x1, y1, x2, y2) -> float64 tensor; empty input -> (0, 4)."""
    t = torch.as_tensor(boxes if boxes is not None else [], dtype=torch.float64)
    if t.numel() == 0:
        return t.reshape(0, 4)
    if t.ndim != 2 or t.shape[1] != 4:
        raise BadInput(f"{what} must have shape (n, 4) as (x1, y1, x2, y2), got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise BadInput(f"{what} contain NaN or infinite coordinates")
    return t


def axis_windows(lo: torch.Tensor, hi: torch.Tensor, size: int) -> torch.Tensor:
    """(n, size) bool: cell i is in [lo, hi) for each of the n integer windows."""
    cells = torch.arange(size, dtype=lo.dtype)
    return (cells >= lo[:, None]) & (cells < hi[:, None])


def covered(rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """(h, w) bool: the union of the n rectangles rows[k] x cols[k], without an (n, h, w) tensor."""
    return (rows.T.to(torch.float32) @ cols.to(torch.float32)) > 0


def axis_gaussians(lo: torch.Tensor, hi: torch.Tensor, size: int) -> torch.Tensor:
    """(n, size): the 1-D Gaussian of each window [lo, hi) (peak at index (hi-lo)//2), 0 outside."""
    kernel = hi - lo
    sigma = gaussian_sigma(kernel.clamp_min(1))
    d = torch.arange(size, dtype=lo.dtype) - (lo + torch.div(kernel, 2, rounding_mode="floor"))[:, None]
    values = torch.exp(-d.square() / (2 * sigma[:, None] ** 2))
    return values * axis_windows(lo, hi, size)


def make_targets(boxes: object, image_size: tuple[int, int], ignore: object = None, stride: int = STRIDE,
                 radius: int = SCALE_RADIUS, min_height: float | None = None) -> CSPTargets:
    """Target maps for one image.

    Args:
        boxes: persons, (n, 4) (x1, y1, x2, y2) in pixels, inside the image.
        image_size: (H, W) of the (padded) input; both multiples of ``stride``.
        ignore: ignore regions, (m, 4); clipped to the image.
        stride: r, the output stride (4).
        radius: half-size of the scale window (2 -> 5x5).
        min_height: persons shorter than this (pixels; default 2 r) become ignore regions.
    """
    height, width = (int(s) for s in image_size)
    if height <= 0 or width <= 0 or height % stride or width % stride:
        raise BadInput(f"image size must be positive multiples of the stride {stride}, got {height}x{width}")
    boxes = as_boxes(boxes, "person boxes")
    ignore = as_boxes(ignore, "ignore regions")
    if ((boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])).any():
        raise BadInput("person boxes need x2 > x1 and y2 > y1")
    limits = torch.tensor([0.0, 0.0, width, height], dtype=torch.float64)
    if ((boxes[:, :2] < 0) | (boxes[:, 2:] > limits[2:])).any():
        raise BadInput(f"person boxes must lie inside the {height}x{width} image; clip them first")
    short = (boxes[:, 3] - boxes[:, 1]) < (2 * stride if min_height is None else min_height)
    ignore = torch.cat([ignore, boxes[short]])
    boxes = boxes[~short]
    ignore = torch.minimum(torch.maximum(ignore, limits[:2].repeat(2)), limits[2:].repeat(2))
    h, w = height // stride, width // stride
    center = torch.zeros(3, h, w)
    center[1] = 1.0
    scale = torch.zeros(2, h, w)
    offset = torch.zeros(3, h, w)

    ig = ignore / stride
    center[1][covered(axis_windows(ig[:, 1].floor(), ig[:, 3].ceil(), h),
                      axis_windows(ig[:, 0].floor(), ig[:, 2].ceil(), w))] = 0.0
    b = boxes / stride
    x_lo, y_lo, x_hi, y_hi = b[:, 0].ceil(), b[:, 1].ceil(), b[:, 2].floor(), b[:, 3].floor()
    center[1][covered(axis_windows(y_lo, y_hi, h), axis_windows(x_lo, x_hi, w))] = 1.0
    for start in range(0, len(b), CHUNK):
        part = slice(start, start + CHUNK)
        gy = axis_gaussians(y_lo[part], y_hi[part], h)
        gx = axis_gaussians(x_lo[part], x_hi[part], w)
        chunk_max = torch.amax(gy[:, :, None] * gx[:, None, :], dim=0).to(torch.float32)
        center[0] = torch.maximum(center[0], chunk_max)

    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    col, row = cx.floor().long(), cy.floor().long()
    log_h = torch.log(b[:, 3] - b[:, 1])
    for k in range(len(b)):
        i, j = int(row[k]), int(col[k])
        center[2, i, j] = 1.0
        rows = slice(max(0, i - radius), i + radius + 1)
        cols = slice(max(0, j - radius), j + radius + 1)
        scale[0, rows, cols] = float(log_h[k])
        scale[1, rows, cols] = 1.0
        offset[:, i, j] = torch.tensor([float(cy[k]) - i - 0.5, float(cx[k]) - j - 0.5, 1.0])
    return CSPTargets(center, scale, offset)


def stack_targets(targets: Sequence[CSPTargets]) -> CSPTargets:
    """Stack per-image targets (equal sizes) into a batch of (N, C, h, w) maps."""
    if not targets:
        raise BadInput("stack_targets needs at least one image's targets")
    sizes = {t.center.shape for t in targets}
    if len(sizes) != 1:
        raise BadInput(f"all images of a batch need the same size, got map sizes {sorted(sizes)}")
    return CSPTargets(*(torch.stack(maps) for maps in zip(*targets)))

