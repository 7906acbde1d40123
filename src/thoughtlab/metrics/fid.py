"""Fréchet Inception Distance (Heusel et al. 2017, "GANs trained by a two time-scale update rule...", Eq. 6).

FID = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^{1/2}, the Fréchet (2-Wasserstein)
distance between two Gaussians (Dowson & Landau 1982).  μ is the sample mean and
Σ the N−1 sample covariance (as ``np.cov``), both accumulated in float64.

The trace term uses the symmetric formulation (as TF-GAN's ``trace_sqrt_product``):
the eigenvalues of Σ₁Σ₂ equal those of the symmetric PSD matrix RᵀΣ₂R for any
R Rᵀ = Σ₁ (Cholesky, or Σ₁^{1/2} by ``eigh`` when Σ₁ is singular), so
tr (Σ₁Σ₂)^{1/2} = Σᵢ √λᵢ with λ from ``eigvalsh`` clipped at 0.  No complex
numbers and no ``scipy.linalg.sqrtm`` (whose imaginary-part failures and API
changes broke pytorch-fid and clean-fid), and the value stays finite when N < d.
A value a hair below 0 for identical statistics is rounding, reported as is.

Statistics files are ``.npz`` with ``mu`` (d,) and ``sigma`` (d, d), the format
pytorch-fid (``--save-stats``) and TTUR read and write.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from thoughtlab.errors import BadInput
from thoughtlab.metrics.checks import SmallSampleWarning, as_matrix, positive_int, require_finite, require_samples

CHUNK_ROWS = 4096
LINALG_BLAS_THREADS = 1


@dataclass(frozen=True)
class FidStats:
    """Gaussian statistics of a feature set: mean ``mu`` (d,), covariance ``sigma`` (d, d), sample count ``n``."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int | None = None


def feature_stats(features: Any, name: str = "features") -> FidStats:
    """Mean and N−1 covariance of ``features`` (N, d), accumulated in float64 chunk by chunk."""
    x = as_matrix(features, name)
    require_samples(len(x), 2, "FID", name, "a covariance needs two samples")
    mu = np.zeros(x.shape[1])
    for start in range(0, len(x), CHUNK_ROWS):
        mu += x[start:start + CHUNK_ROWS].sum(axis=0, dtype=np.float64)
    mu /= len(x)
    scatter = np.zeros((x.shape[1], x.shape[1]))
    for start in range(0, len(x), CHUNK_ROWS):
        centred = x[start:start + CHUNK_ROWS].astype(np.float64) - mu
        scatter += centred.T @ centred
    return FidStats(mu=mu, sigma=scatter / (len(x) - 1), n=len(x))


def save_stats(stats: FidStats, path: str | Path) -> Path:
    """Write ``mu`` and ``sigma`` (float64) to an ``.npz`` readable by pytorch-fid and TTUR; ``n`` rides along."""
    path = Path(path)
    extra = {} if stats.n is None else {"n": np.int64(stats.n)}
    with path.open("wb") as handle:
        np.savez(handle, mu=stats.mu, sigma=stats.sigma, **extra)
    return path


def load_stats(path: str | Path) -> FidStats:
    """Read an ``.npz`` with ``mu`` (d,) and ``sigma`` (d, d); ``n`` is optional (absent in pytorch-fid files)."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: no such statistics file; check the path")
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = set(data.files)
            if not {"mu", "sigma"} <= keys:
                raise BadInput(f"{path}: holds {sorted(keys)}, not 'mu' and 'sigma'; save statistics with save_stats")
            mu, sigma = data["mu"].astype(np.float64), data["sigma"].astype(np.float64)
            n = int(data["n"]) if "n" in keys else None
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path}: not a readable .npz file ({exc})") from exc
    if mu.ndim != 1 or sigma.shape != (mu.size, mu.size):
        raise BadInput(f"{path}: mu has shape {mu.shape} and sigma {sigma.shape}; expected (d,) and (d, d)")
    require_finite(sigma, f"{path}: sigma")
    require_finite(mu[None], f"{path}: mu")
    return FidStats(mu=mu, sigma=sigma, n=n)


def symmetric_factor(sigma: np.ndarray) -> np.ndarray:
    """R with R Rᵀ = Σ: Cholesky when Σ is positive definite, else V·diag(√w) from ``eigh`` (w clipped at 0)."""
    try:
        return np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(sigma)
        return v * np.sqrt(np.clip(w, 0.0, None))


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr (Σ₁Σ₂)^{1/2} from one symmetric eigenvalue problem (no complex arithmetic).

    With R Rᵀ = Σ₁, the symmetric PSD matrix RᵀΣ₂R has the eigenvalues of Σ₂RRᵀ = Σ₂Σ₁,
    i.e. of Σ₁Σ₂ (for R = V·diag(√w) it is orthogonally similar to Σ₁^{1/2}Σ₂Σ₁^{1/2}).
    Eigenvalues are clipped at 0 before the square root.  Runs on one BLAS thread: the
    factorisations gain little from threads and stall when cores are oversubscribed
    (measured at d=2048 on a busy 2-core machine: eigh 2 s on one thread, 22 s on two).
    """
    with threadpool_limits(limits=LINALG_BLAS_THREADS, user_api="blas"):
        root = symmetric_factor(sigma1)
        inner = root.T @ sigma2 @ root
        eigenvalues = np.linalg.eigvalsh((inner + inner.T) / 2.0)
    return float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())


def frechet_distance(stats1: FidStats, stats2: FidStats) -> float:
    """FID between two sets of Gaussian statistics; warns when either covariance came from N < d samples."""
    if stats1.mu.shape != stats2.mu.shape:
        raise BadInput(f"statistics have dimensions {stats1.mu.size} and {stats2.mu.size}; "
                       "compute both with the same feature extractor")
    dim = stats1.mu.size
    for label, stats in (("first", stats1), ("second", stats2)):
        if stats.n is not None and stats.n < dim:
            warnings.warn(f"FID: the {label} set has N={stats.n} < d={dim} samples, so its covariance is singular; "
                          "the value is finite but strongly biased upwards: use N >= d", SmallSampleWarning,
                          stacklevel=3)
    diff = stats1.mu - stats2.mu
    trace_term = trace_sqrt_product(stats1.sigma, stats2.sigma)
    return float(diff @ diff + np.trace(stats1.sigma) + np.trace(stats2.sigma) - 2.0 * trace_term)


def _stats_of(x: Any, name: str) -> FidStats:
    return x if isinstance(x, FidStats) else feature_stats(x, name)


def _repeat_values(real: np.ndarray, fake: np.ndarray, repeats: int, size: int, seed: int) -> np.ndarray:
    """FID of ``repeats`` seeded random subsets (without replacement) of ``size`` rows from each set."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(repeats):
        sub_real = real[np.sort(rng.choice(len(real), size, replace=False))]
        sub_fake = fake[np.sort(rng.choice(len(fake), size, replace=False))]
        values.append(frechet_distance(feature_stats(sub_real, "real subset"), feature_stats(sub_fake, "fake subset")))
    return np.asarray(values)


def compute_fid(real: Any, fake: Any, *, repeats: int | None = None, subset_size: int | None = None,
                seed: int = 0) -> dict[str, Any]:
    """FID between real and fake features (arrays or :class:`FidStats`).

    Args:
        repeats: also report the mean and std (ddof=0) of FID over this many seeded
            random subsets of ``subset_size`` rows per set (drawn without replacement).
        subset_size: rows per subset; default ``min(N, M) // 2``.  FID is biased
            upwards at small N, so the subset mean exceeds the full-set value.
        seed: seeds the subset draws.

    Returns:
        ``{"value", "protocol"}``, plus ``"mean"`` and ``"std"`` when ``repeats`` is given.
    """
    real_stats, fake_stats = _stats_of(real, "real features"), _stats_of(fake, "fake features")
    value = frechet_distance(real_stats, fake_stats)
    protocol: dict[str, Any] = {"n_real": real_stats.n, "n_fake": fake_stats.n, "dim": int(real_stats.mu.size),
                                "covariance": "N-1, float64", "sqrt": "symmetric eigh"}
    result: dict[str, Any] = {"value": value, "protocol": protocol}
    if repeats is None:
        return result
    repeats = positive_int(repeats, "FID repeats")
    if isinstance(real, FidStats) or isinstance(fake, FidStats):
        raise BadInput("FID repeats need the feature arrays, not saved statistics; pass features or drop repeats")
    real_x, fake_x = as_matrix(real, "real features"), as_matrix(fake, "fake features")
    largest = min(len(real_x), len(fake_x))
    size = positive_int(largest // 2 if subset_size is None else subset_size, "FID subset_size", minimum=2)
    if size > largest:
        raise BadInput(f"FID subset_size {size} exceeds the smaller set ({largest} samples); pass at most {largest}")
    values = _repeat_values(real_x, fake_x, repeats, size, seed)
    result.update(mean=float(values.mean()), std=float(values.std()))
    protocol.update(repeats=repeats, subset_size=size, seed=seed, std_ddof=0, subsets="without replacement")
    return result
