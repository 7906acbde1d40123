"""Low-dimensional manifolds through a wide ReLU layer, and scale-free loss measures.

The experiment of MobileNetV2 (Sandler et al., CVPR 2018, arXiv 1801.04381),
§3.2 "Linear Bottlenecks", Fig. 1: points x of a 2-D manifold are lifted by a
random Gaussian T (n×2), passed through an activation and mapped back with the
pseudo-inverse, y = T⁺ act(T x).  Everything here is batched over D draws of T
(tensors shaped (D, N, ·), float64) so a study can average over many draws.

Why scale-free measures: for ReLU, T⁺ReLU(Tx) → x/2 as n grows, so the plain
relative error tends to 0.5, not 0 (research notes A1, "metric warning").  We
therefore measure (1) the fraction of points whose input cannot be recovered,
(2) the R² of the best affine map from y back to x and (3) k-nearest-neighbour
preservation, none of which changes when y is rescaled.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from thoughtlab.errors import BadInput, UnknownName

MANIFOLDS: tuple[str, ...] = ("spiral", "circle", "patch")
ACTIVATIONS: tuple[str, ...] = ("identity", "relu", "relu6", "leaky_relu")
RELU6_CAP = 6.0
SPIRAL_TURNS = 3
# det(G) <= RANK_TOL * trace(G)^2 means the 2×2 Gram matrix G of the active rows is singular.
RANK_TOL = 1e-12


def manifold_points(name: str, num_points: int, seed: int, rms: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Points of a 2-D test manifold and each point's position along it.

    ``spiral``: r = θ over three turns, θ evenly spaced, origin dropped (as in the
    public reproductions of MobileNetV2 Fig. 1).  ``circle``: the unit circle at
    angles drawn uniformly (general position, no distance ties).  ``patch``: the
    square [-1, 1]² filled uniformly, a full 2-D piece of the plane.  Each set is
    rescaled to root-mean-square radius ``rms``: with rms = 1 a Gaussian T gives
    pre-activations of unit variance on average, the scale batch norm produces.

    Returns:
        points (N, 2) float64 and position (N,) in [0, 1] (for colouring).
    """
    if num_points < 3:
        raise BadInput(f"num_points={num_points} is too small; use at least 3 points")
    gen = torch.Generator().manual_seed(seed)
    if name == "spiral":
        theta = torch.linspace(0.0, 2 * math.pi * SPIRAL_TURNS, num_points + 1, dtype=torch.float64)[1:]
        points = torch.stack([theta * torch.cos(theta), theta * torch.sin(theta)], dim=1)
        position = theta / theta[-1]
    elif name == "circle":
        angle = torch.sort(torch.rand(num_points, generator=gen, dtype=torch.float64) * 2 * math.pi).values
        points = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
        position = angle / (2 * math.pi)
    elif name == "patch":
        points = torch.rand(num_points, 2, generator=gen, dtype=torch.float64) * 2 - 1
        position = (torch.atan2(points[:, 1], points[:, 0]) + math.pi) / (2 * math.pi)
    else:
        raise UnknownName("manifold", name, MANIFOLDS)
    points = points * (rms / points.pow(2).sum(1).mean().sqrt())
    return points, position


def gaussian_embeddings(draws: int, n: int, generator: torch.Generator) -> torch.Tensor:
    """``draws`` random lifts T ~ N(0, 1)^{n×2}, shape (D, n, 2) float64 (Fig. 1's T)."""
    if n < 2:
        raise BadInput(f"n={n}: the lifted dimension must be >= 2 so that T (n×2) has a left inverse")
    if draws < 1:
        raise BadInput(f"draws={draws}: draw at least one matrix T")
    return torch.randn(draws, n, 2, generator=generator, dtype=torch.float64)


def activation(name: str, leaky_slope: float = 0.1) -> Callable[[torch.Tensor], torch.Tensor]:
    """The element-wise activation called ``name`` (identity, relu, relu6, leaky_relu)."""
    if name == "identity":
        return lambda z: z
    if name == "relu":
        return torch.relu
    if name == "relu6":
        return lambda z: torch.clamp(z, 0.0, RELU6_CAP)
    if name == "leaky_relu":
        return lambda z: torch.nn.functional.leaky_relu(z, leaky_slope)
    raise UnknownName("activation", name, ACTIVATIONS)


def informative_units(name: str, z: torch.Tensor) -> torch.Tensor:
    """Which units' outputs still determine their pre-activation z (bool, shape of z).

    ReLU: z > 0 (a zero output only says z <= 0).  ReLU6: 0 < z < 6 (the flat
    parts say only an inequality).  Leaky ReLU and identity are invertible, so
    every unit is informative.
    """
    if name == "relu":
        return z > 0
    if name == "relu6":
        return (z > 0) & (z < RELU6_CAP)
    if name in ("identity", "leaky_relu"):
        return torch.ones_like(z, dtype=torch.bool)
    raise UnknownName("activation", name, ACTIVATIONS)


def lift_and_reconstruct(
    x: torch.Tensor, T: torch.Tensor, act: Callable[[torch.Tensor], torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pre-activations z = T x and reconstructions y = T⁺ act(T x) (MobileNetV2 Fig. 1).

    Args:
        x: (N, 2) points; T: (D, n, 2) lifts; act: element-wise activation.
    Returns:
        z (D, N, n) and y (D, N, 2).
    """
    z = torch.einsum("pj,dij->dpi", x, T)
    y = act(z) @ torch.linalg.pinv(T).transpose(1, 2)
    return z, y


def unrecoverable_points(informative: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """Points whose input cannot be recovered: the informative rows of T do not span R².

    A point x is recoverable from act(Tx) exactly when the rows t_i of its
    informative units span R² (then x solves a full-rank linear system).  The
    test is that the Gram matrix G = Σ_{i informative} t_i t_iᵀ is singular,
    det G <= 1e-12 (trace G)², which is scale-free.

    Args:
        informative: (D, N, n) bool; T: (D, n, 2).
    Returns:
        (D, N) bool, True where x is lost.
    """
    outer = (T.unsqueeze(-1) * T.unsqueeze(-2)).flatten(-2)  # (D, n, 4): t_i t_iᵀ
    gram = informative.to(T.dtype) @ outer  # (D, N, 4)
    det = gram[..., 0] * gram[..., 3] - gram[..., 1] * gram[..., 2]
    trace = gram[..., 0] + gram[..., 3]
    return det <= RANK_TOL * trace.pow(2)


def exact_unrecoverable_probability(n: int) -> float:
    """P(fewer than 2 of n ReLU units active) = (n + 1) / 2ⁿ.

    For a fixed x ≠ 0 and Gaussian T each sign of t_i·x is an independent fair
    coin, so the active count is Binomial(n, ½); two or more Gaussian rows span
    R² almost surely (research notes A1, computed table).
    """
    if n < 1:
        raise BadInput(f"n={n}: the number of units must be positive")
    return (n + 1) / 2**n


def affine_r2(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """R² of the best affine map from reconstructions y back to inputs x, per draw.

    Least squares with intercept, x ≈ y B + c; R² = 1 − SSE / SST summed over
    both coordinates.  A collapsed y (all points equal) gives 0; any invertible
    affine image of x gives 1.  Rank-deficient y is handled by a pseudo-inverse.

    Args:
        y: (D, N, 2); x: (N, 2).
    Returns:
        (D,) R² values.
    """
    xc = x - x.mean(0)
    yc = y - y.mean(1, keepdim=True)
    gram = yc.transpose(1, 2) @ yc  # C = Ycᵀ Yc
    cross = yc.transpose(1, 2) @ xc  # M = Ycᵀ Xc
    # The least-squares fit explains tr(Mᵀ C⁺ M) of SST = ‖Xc‖² (M lies in the range of C).
    explained = (cross * (torch.linalg.pinv(gram, rtol=1e-10, hermitian=True) @ cross)).sum((1, 2))
    return explained / xc.pow(2).sum()


def query_indices(num_points: int, queries: int) -> torch.Tensor:
    """Evenly spaced query points for the kNN measure (all points if queries >= N)."""
    if queries >= num_points:
        return torch.arange(num_points)
    return torch.linspace(0, num_points - 1, queries, dtype=torch.float64).round().long().unique()


def _squared_distances(points: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """Squared distances (..., Q, N) in float32 from the query points to all 2-D points; self = inf."""
    planes = points.to(torch.float32).transpose(-1, -2)  # (..., 2, N)
    q = planes[..., queries]
    d0 = q[..., 0, :, None] - planes[..., 0, None, :]
    d1 = q[..., 1, :, None] - planes[..., 1, None, :]
    dist = torch.addcmul(d0.square_(), d1, d1)
    dist[..., torch.arange(len(queries)), queries] = math.inf
    return dist


def input_neighbours(x: torch.Tensor, k: int, queries: torch.Tensor) -> torch.Tensor:
    """Indices (Q, k) of the k nearest input points of each query point (itself excluded)."""
    if not 1 <= k <= len(x) - 2:
        raise BadInput(f"k={k} nearest neighbours needs 1 <= k <= num_points - 2 = {len(x) - 2}")
    return torch.topk(_squared_distances(x, queries), k, dim=-1, largest=False).indices


def knn_preservation(y: torch.Tensor, neighbours: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """Mean share of each query's k input-space neighbours still among its k nearest in y.

    Ties count against preservation: neighbour j of query i is kept only if
    d_y(i, j) is strictly below the (k+1)-th smallest distance from i in y, i.e.
    at most k points are as close as j.  So a manifold collapsed onto one point
    scores 0, an injective affine image of a curve scores 1 and a random
    scramble about k/N.  Scale-free.  Distances are compared in float32.

    Args:
        y: (D, N, 2) reconstructions; neighbours: (Q, k) from :func:`input_neighbours`;
        queries: (Q,) query indices.
    Returns:
        (D,) preservation in [0, 1], float64.
    """
    k = neighbours.shape[1]
    dist = _squared_distances(y, queries)  # (D, Q, N)
    threshold = torch.topk(dist, k + 1, dim=-1, largest=False, sorted=False).values.amax(-1)  # (k+1)-th smallest
    kept = torch.gather(dist, -1, neighbours.expand(len(y), -1, -1)) < threshold.unsqueeze(-1)
    return kept.to(torch.float64).mean((1, 2))


def linear_regime_errors(z: torch.Tensor, a: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Relative errors |y − x| / |x| at the points where act(z) = z for every unit.

    There the layer is the linear map T, so T⁺ act(Tx) = T⁺ T x = x exactly
    (MobileNetV2 §3.2: an output with non-zero volume came through a purely
    linear map; supplement Lemma 1).  Returns a flat tensor, one value per
    such (draw, point) pair.
    """
    regime = (a == z).all(-1)  # (D, N)
    draw, point = regime.nonzero(as_tuple=True)
    return (y[draw, point] - x[point]).norm(dim=-1) / x[point].norm(dim=-1)


def plain_relative_error(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """‖y − x‖ / ‖x‖ per draw: the misleading, scale-dependent measure (→ 0.5 for wide ReLU)."""
    return (y - x).pow(2).sum((1, 2)).sqrt() / x.pow(2).sum().sqrt()
