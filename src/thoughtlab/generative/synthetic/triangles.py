"""The synthetic triangles of Lucic et al. (2018, "Are GANs Created Equal?", §4) with precision, recall and F1.

Generator (compare_gan ``colabs/Convex_Polygons_Dataset.ipynb``, parameters of the paper: 3 vertices,
min segment angle 20°, scale 0.75, 28×28 raster, 8×8 sub-pixels, shift to mean), in our words:

1. vertex i's angle is i·120° + 10° + U(0, 110°) (segments of 120°, half the minimum segment angle
   kept at each side, so consecutive vertices are ≥ 10° of arc apart);
2. the unit-circle points are mapped to [0, 1]², rotated by an angle drawn as U(0, 2π) *degrees*
   (the recipe converts it with ``np.radians``; at most 6.28°), scaled by 28·0.75 = 21 px
   (circumradius 10.5 px), and their centroid is moved to the centre (14, 14);
3. pixel (p, q) is 1 − the fraction of its 8×8 sub-samples at ((8p + k)/8, (8q + l)/8), k, l ∈ −3..4,
   inside the triangle (the window of ``scipy.ndimage.convolve`` with an 8×8 box, read every 8th
   sub-pixel): the triangle is dark on a white background; axis 0 is the first vertex coordinate.

The draws use ``numpy.random.default_rng(seed)`` in a vectorised order, so the images follow the
recipe's distribution, not its exact sequence; the inside test is three half-planes per triangle.

Precision and recall (Lucic et al. §4; their δ and restart count are not reproduced here):

- distance of an image x̂ to the manifold = min over triangles x of ‖x − x̂‖² (pixels in [0, 1]),
  approximated by Adam on the triangle's parameters (three segment positions and the rotation,
  squashed by sigmoids into the recipe's ranges, so every fit stays a valid triangle) against a
  soft rasteriser (a product of three logistic edge functions), from several restarts (the nearest
  of a pool of random valid triangles); the best restart is scored with the exact rasteriser;
- precision = fraction of generated images within δ of the manifold;
- recall = fraction of held-out triangles that G reconstructs within δ: min over z of ‖G(z) − x‖²,
  by Adam on z with G fixed, several restarts;
- δ (:func:`vertex_tolerance`) = the median distance between a held-out triangle and the same
  triangle with each vertex moved 1 px along its circumcircle: "right up to one pixel per vertex".
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from thoughtlab.errors import BadInput

RASTER = 28
SUBPIXEL = 8
SCALE = 0.75
MIN_SEGMENT_ANGLE = 20.0
RADIUS = RASTER * SCALE / 2  # 10.5 px
SEGMENT = 360.0 / 3
MAX_OFFSET = SEGMENT - MIN_SEGMENT_ANGLE / 2  # 110°
MAX_ROTATION = 2 * math.pi  # degrees (see step 2)


def draw_parameters(n: int, seed: int) -> torch.Tensor:
    """(n, 4): the three segment offsets as fractions in [0, 1) and the rotation as a fraction in [0, 1)."""
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.random((n, 4))).float()


def vertices(params: torch.Tensor) -> torch.Tensor:
    """(n, 4) fractions -> (n, 3, 2) vertices in pixels, counter-clockwise, centroid at (14, 14)."""
    degrees = (torch.arange(3, dtype=params.dtype) * SEGMENT + MIN_SEGMENT_ANGLE / 2
               + MAX_OFFSET * params[:, :3] - MAX_ROTATION * params[:, 3:])
    radians = torch.deg2rad(degrees)
    points = RADIUS * torch.stack([torch.cos(radians), torch.sin(radians)], dim=2)
    return points - points.mean(1, keepdim=True) + RASTER / 2


def _sample_axis(subpixel: int) -> torch.Tensor:
    """Sub-sample coordinates (8p + k)/8 for p in 0..27, k in −3..4 (the 8×8 box window), in pixel order."""
    offsets = torch.arange(subpixel) - (subpixel // 2 - 1)
    return ((torch.arange(RASTER)[:, None] * subpixel + offsets[None]).flatten() / subpixel).float()


def _edges(v: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(n, 3, len(x), len(y)) signed edge functions, positive inside a counter-clockwise triangle, in pixels."""
    start, end = v, v.roll(-1, dims=1)
    d = end - start
    length = d.norm(dim=2).clamp_min(1e-6)
    ex = (-d[..., 1:2] / length[..., None])[..., None] * (x[None, None, :, None] - start[..., 0, None, None])
    ey = (d[..., 0:1] / length[..., None])[..., None] * (y[None, None, None, :] - start[..., 1, None, None])
    return ex + ey


def rasterize(v: torch.Tensor, subpixel: int = SUBPIXEL, chunk: int = 32) -> torch.Tensor:
    """(n, 3, 2) counter-clockwise vertices -> (n, 1, 28, 28) images in [0, 1] (1 = background), exact."""
    axis = _sample_axis(subpixel)
    out = []
    for part in v.split(chunk):
        inside = (_edges(part, axis, axis) >= 0).all(dim=1).float()
        cover = inside.view(len(part), RASTER, subpixel, RASTER, subpixel).mean(dim=(2, 4))
        out.append(1.0 - cover)
    return torch.cat(out)[:, None] if out else torch.empty(0, 1, RASTER, RASTER)


def soft_rasterize(v: torch.Tensor, temperature: float = 0.25) -> torch.Tensor:
    """Differentiable (n, 1, 28, 28): 1 − Π σ(edge distance / temperature) at each pixel's window centre."""
    centre = torch.arange(RASTER, dtype=v.dtype) + 1 / (2 * SUBPIXEL)
    inside = torch.sigmoid(_edges(v, centre, centre) / temperature).prod(dim=1)
    return (1.0 - inside)[:, None]


def triangles(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n recipe triangles (n, 1, 28, 28) in [0, 1] and their parameters (n, 4)."""
    params = draw_parameters(n, seed)
    return rasterize(vertices(params)), params


def _check_images(images: torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(images, dtype=torch.float32)
    if x.ndim != 4 or tuple(x.shape[1:]) != (1, RASTER, RASTER):
        raise BadInput(f"triangle images must be (n, 1, 28, 28) in [0, 1]; got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise BadInput("triangle images hold NaN or inf; check the generator")
    return x


def manifold_distance(images: torch.Tensor, restarts: int = 5, steps: int = 150, lr: float = 0.1,
                      seed: int = 0, candidates: int = 512) -> torch.Tensor:
    """(n,) min over valid triangles of ‖raster − image‖², by vertex fitting from ``restarts`` starts.

    The starts are the ``restarts`` best of ``candidates`` random valid triangles (exact rasters);
    Adam then runs on the soft rasteriser with its temperature annealed from 1 px to 0.25 px.
    """
    x = _check_images(images)
    n = len(x)
    gen = torch.Generator().manual_seed(seed)
    pool = torch.rand(candidates, 4, generator=gen).clamp(0.02, 0.98)
    nearest = torch.cdist(x.flatten(1), rasterize(vertices(pool)).flatten(1)).topk(restarts, largest=False).indices
    logits = torch.logit(pool[nearest.flatten()]).requires_grad_(True)
    target = x.repeat_interleave(restarts, dim=0)
    opt = torch.optim.Adam([logits], lr=lr)
    for step in range(steps):
        temperature = max(0.25, 1.0 - 1.5 * step / max(steps, 1))
        loss = (soft_rasterize(vertices(torch.sigmoid(logits)), temperature) - target).pow(2).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        fitted = rasterize(vertices(torch.sigmoid(logits)))
        distance = (fitted - target).pow(2).flatten(1).sum(1)
    return distance.view(n, restarts).amin(1)


def inversion_distance(generator: Callable[[torch.Tensor], torch.Tensor], z_dim: int, images: torch.Tensor,
                       restarts: int = 5, steps: int = 150, lr: float = 0.05, seed: int = 0) -> torch.Tensor:
    """(n,) min over z of ‖G(z) − image‖²: Adam on z from ``restarts`` N(0, I) starts, G fixed.

    ``generator(z)`` must return images in [0, 1] of shape (len(z), 1, 28, 28).
    """
    x = _check_images(images)
    n = len(x)
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n * restarts, z_dim, generator=gen).requires_grad_(True)
    target = x.repeat_interleave(restarts, dim=0)
    opt = torch.optim.Adam([z], lr=lr)
    for _ in range(steps):
        loss = (generator(z) - target).pow(2).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        distance = (generator(z) - target).pow(2).flatten(1).sum(1)
    return distance.view(n, restarts).amin(1)


def vertex_tolerance(params: torch.Tensor, pixels: float = 1.0, seed: int = 0) -> float:
    """δ: median ‖raster(V) − raster(V')‖² where V' moves each vertex ``pixels`` along the circumcircle.

    The direction of each move is random (±); the moved triangle need not respect the recipe's ranges.
    """
    gen = torch.Generator().manual_seed(seed)
    sign = torch.randint(0, 2, (len(params), 3), generator=gen).float() * 2 - 1
    shift = sign * math.degrees(pixels / RADIUS) / MAX_OFFSET
    moved = params.clone()
    moved[:, :3] += shift
    base, other = rasterize(vertices(params)), rasterize(vertices(moved))
    return float((base - other).pow(2).flatten(1).sum(1).median())


def f1(precision: float, recall: float) -> float:
    """Harmonic mean of precision and recall (0 when both are 0)."""
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
