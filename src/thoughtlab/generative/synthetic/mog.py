"""Mixtures of Gaussians with exact ground truth, and the mode-coverage metrics of VEEGAN and PacGAN.

Benchmarks (PacGAN code ``fjxmlzn/PacGAN`` ``synthetic_data_experiments/*/config.py``, following
VEEGAN, Srivastava et al. 2017, §5.1):

- **ring**: 8 modes on the unit circle at angles k·45°, σ = 0.01;
- **grid**: 25 modes at {−4, −2, 0, 2, 4}², σ = 0.05.

The parametrised family (Odena 2019, Problem 2's "synthetic datasets parameterized by quantities
of interest"): K modes on a ⌈√K⌉-column grid with nearest-neighbour spacing 2 and σ = 2 / ratio,
so ``ratio`` = separation/σ (small: touching modes, large: disconnected ones); then the plane is
mapped into R^dim by a random matrix with orthonormal columns (seeded), which keeps every
distance, so only the ambient dimension changes.  The noise lies in that plane.

Metrics (VEEGAN §5.1 text; PacGAN ``MetricLogger``), on samples from a model:

1. assign each sample to its nearest mode by Mahalanobis distance with the mode's σ;
2. a sample is **high quality** (HQ) if that distance is at most 3 (3σ);
3. **modes captured** = modes that are the nearest mode of at least one HQ sample;
4. **% HQ** = 100 · HQ samples / all samples;
5. **reverse KL** = KL(histogram of HQ samples over modes ‖ uniform) = log K − entropy (nats);
   undefined (NaN) when no sample is HQ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from thoughtlab.errors import BadInput

EVAL_SAMPLES = 2500  # VEEGAN/PacGAN evaluate on 2,500 generated samples
HQ_SIGMAS = 3.0


@dataclass(frozen=True)
class Mixture:
    """An equal-weight isotropic mixture whose modes lie in a plane of R^dim.

    Attributes:
        name: a label for tables.
        plane_means: (K, 2) mode centres in the plane.
        sigma: the standard deviation of every mode (in the plane).
        basis: (dim, 2) orthonormal columns embedding the plane (the identity for dim 2).
    """

    name: str
    plane_means: np.ndarray
    sigma: float
    basis: np.ndarray

    @property
    def k(self) -> int:
        return len(self.plane_means)

    @property
    def dim(self) -> int:
        return self.basis.shape[0]

    @property
    def means(self) -> np.ndarray:
        """(K, dim) mode centres in the ambient space."""
        return self.plane_means @ self.basis.T

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """n samples (n, dim) float32 and their mode labels (n,), from ``seed``."""
        rng = np.random.default_rng(seed)
        labels = rng.integers(self.k, size=n)
        plane = self.plane_means[labels] + self.sigma * rng.standard_normal((n, 2))
        return (plane @ self.basis.T).astype(np.float32), labels


def ring(k: int = 8, radius: float = 1.0, sigma: float = 0.01) -> Mixture:
    """PacGAN's ring: ``k`` modes at angles 2πi/k on a circle of ``radius``, σ = 0.01."""
    angles = 2 * np.pi * np.arange(k) / k
    return Mixture("ring", radius * np.stack([np.cos(angles), np.sin(angles)], 1), sigma, np.eye(2))


def grid(side: int = 5, spacing: float = 2.0, sigma: float = 0.05) -> Mixture:
    """PacGAN's grid: ``side``² modes at {−4, −2, 0, 2, 4}² (spacing 2, centred), σ = 0.05."""
    axis = spacing * (np.arange(side) - (side - 1) / 2)
    xx, yy = np.meshgrid(axis, axis, indexing="ij")
    return Mixture("grid", np.stack([xx.ravel(), yy.ravel()], 1), sigma, np.eye(2))


def family(k: int, ratio: float, dim: int, seed: int, spacing: float = 2.0) -> Mixture:
    """K modes on a ⌈√K⌉-column grid (spacing 2, centred), σ = spacing/ratio, embedded in R^dim (seeded).

    Raises:
        BadInput: k < 1, ratio <= 0 or dim < 2.
    """
    if k < 1 or not ratio > 0 or dim < 2:
        raise BadInput(f"mixture family needs k >= 1, ratio > 0 and dim >= 2; got k={k}, ratio={ratio}, dim={dim}")
    cols = math.ceil(math.sqrt(k))
    cells = np.array([(i % cols, i // cols) for i in range(k)], dtype=np.float64) * spacing
    basis = np.eye(2) if dim == 2 else _orthonormal(dim, seed)
    return Mixture(f"K={k} sep/σ={ratio:g} d={dim}", cells - cells.mean(0), spacing / ratio, basis)


def _orthonormal(dim: int, seed: int) -> np.ndarray:
    """(dim, 2) with orthonormal columns: QR of a seeded Gaussian matrix, signs fixed by R's diagonal."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, 2)))
    return q * np.sign(np.diag(r))


@dataclass(frozen=True)
class Coverage:
    """The VEEGAN/PacGAN scores of one sample set.

    Attributes:
        modes: modes captured (0..K).
        hq_percent: % of samples within 3σ of their nearest mode.
        reverse_kl: KL(HQ histogram ‖ uniform) in nats; NaN when no sample is HQ.
        histogram: HQ samples per mode (K,).
    """

    modes: int
    hq_percent: float
    reverse_kl: float
    histogram: tuple[int, ...]


def coverage(mixture: Mixture, samples: np.ndarray, hq_sigmas: float = HQ_SIGMAS) -> Coverage:
    """Modes captured, % high quality and reverse KL of ``samples`` (n, dim) under ``mixture``.

    Raises:
        BadInput: samples are not (n >= 1, dim) or hold NaN/inf.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != mixture.dim or len(x) == 0:
        raise BadInput(f"samples must be (n >= 1, {mixture.dim}) for {mixture.name}; got {x.shape}")
    if not np.isfinite(x).all():
        raise BadInput("samples hold NaN or inf; check the generator (a diverged run?)")
    means = mixture.means
    sq = (x * x).sum(1)[:, None] - 2 * x @ means.T + (means * means).sum(1)[None, :]
    nearest = sq.argmin(1)
    distance = np.sqrt(np.maximum(sq[np.arange(len(x)), nearest], 0.0)) / mixture.sigma
    hq = distance <= hq_sigmas
    histogram = np.bincount(nearest[hq], minlength=mixture.k)
    return Coverage(int((histogram > 0).sum()), float(100.0 * hq.mean()), reverse_kl(histogram),
                    tuple(int(c) for c in histogram))


def reverse_kl(histogram: np.ndarray) -> float:
    """KL(p ‖ uniform) = log K − H(p) for the normalised ``histogram`` (nats); NaN for an empty one."""
    counts = np.asarray(histogram, dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return math.nan
    p = counts[counts > 0] / total
    return float(math.log(len(counts)) + (p * np.log(p)).sum())
