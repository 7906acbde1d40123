"""Fréchet Inception Distance (Heusel et al. 2017, "GANs trained by a two time-scale update rule...", Eq. 6).

FID = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^{1/2}, the Fréchet (2-Wasserstein)
distance between two Gaussians (Dowson & Landau 1982).  μ is the sample mean and
Σ the N−1 sample covariance (as ``np.cov``).

The covariance is the costly part (N·d² multiply-adds per set, against ~d³ for the
square root).  μ is summed in float64; each chunk of rows is centred *before* the
product (Inception pool features are ReLU averages with a mean larger than their
spread, so the raw-moment form Σxxᵀ − Nμμᵀ would cancel), and the chunk's scatter
XcᵀXc comes from one symmetric rank-k update (BLAS ``?syrk``, half the flops of a
GEMM) in float32 by default, added to a float64 total.  Measured against float64
``np.cov`` (pytorch-fid's statistics) on 50k × 2048 ReLU-like features with
FID 3.57 and tr Σ ≈ 339: covariance error 6e-8 (relative Frobenius), FID error
4e-9 relative; on 3000 × 64 features (float32 sums over all rows of one chunk)
5e-7.  ``precision="float64"`` reproduces ``np.cov`` at twice the product cost.

The trace term uses the symmetric formulation (as TF-GAN's ``trace_sqrt_product``):
the eigenvalues of Σ₁Σ₂ equal those of the symmetric PSD matrix RᵀΣ₂R for any
R Rᵀ = Σ₁ (Cholesky, or Σ₁^{1/2} by ``eigh`` when Σ₁ is singular), so
tr (Σ₁Σ₂)^{1/2} = Σᵢ √λᵢ with λ from ``eigvalsh`` clipped at 0.  No complex
numbers and no ``scipy.linalg.sqrtm`` (whose imaginary-part failures and API
changes broke pytorch-fid and clean-fid), and the value stays finite when N < d.
A value a hair below 0 for identical statistics is rounding, reported as is.

Statistics files are ``.npz`` with ``mu`` (d,) and ``sigma`` (d, d), the format
pytorch-fid (``--save-stats``) and TTUR read and write.

Threads: the metric runs on the caller's torch and BLAS thread settings; ``threads=k`` limits both
to k for the call and restores them after.  Timings of these choices are in ``benchmarks/metrics.py``
and the README.
"""

from __future__ import annotations

import warnings
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.linalg
import torch
from threadpoolctl import threadpool_limits

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.fileio import atomic_writer
from thoughtlab.metrics.checks import (SmallSampleWarning, as_matrix, positive_int, require_covariance, require_finite,
                                       require_samples)

CHUNK_ROWS = 8192
PRECISIONS = ("float32", "float64")


@dataclass(frozen=True)
class FidStats:
    """Gaussian statistics of a feature set: mean ``mu`` (d,), covariance ``sigma`` (d, d), sample count ``n``.

    ``covariance`` says how ``sigma`` was computed (``None`` when unknown, e.g. read from a file).
    """

    mu: np.ndarray
    sigma: np.ndarray
    n: int | None = None
    covariance: str | None = None


def column_mean(x: np.ndarray) -> np.ndarray:
    """Column means of ``x`` (N, d), summed in float64 chunk by chunk."""
    mu = np.zeros(x.shape[1])
    for start in range(0, len(x), CHUNK_ROWS):
        mu += x[start:start + CHUNK_ROWS].sum(axis=0, dtype=np.float64)
    return mu / len(x)


def _rows_scatter(x: np.ndarray, centre: np.ndarray, work: np.dtype) -> np.ndarray:
    """Σ (xᵢ − c)(xᵢ − c)ᵀ over the rows of ``x``, one ``?syrk`` per chunk, float64 total (F-ordered).

    ``syrk`` writes the upper triangle only, so the strict lower triangle of the result stays 0.
    """
    syrk = scipy.linalg.get_blas_funcs("syrk", dtype=work)
    rows = np.empty((min(CHUNK_ROWS, len(x)), x.shape[1]), dtype=work)
    chunk_scatter = np.zeros((x.shape[1], x.shape[1]), dtype=work, order="F")
    total = np.zeros((x.shape[1], x.shape[1]), order="F")   # syrk writes column-major: add like for like
    for start in range(0, len(x), CHUNK_ROWS):
        chunk = x[start:start + CHUNK_ROWS]
        centred = rows[:len(chunk)]
        np.subtract(chunk, centre, out=centred, casting="same_kind")
        # centred.T is a Fortran-ordered (d, k) view, so syrk's A·Aᵀ is XcᵀXc without a copy
        chunk_scatter = syrk(1.0, centred.T, beta=0.0, c=chunk_scatter, overwrite_c=1)
        total += chunk_scatter
    return total


def scatter_matrix(x: np.ndarray, mu: np.ndarray, precision: str = "float32") -> np.ndarray:
    """S = Σᵢ (xᵢ − μ)(xᵢ − μ)ᵀ (float64, d × d) by symmetric rank-k updates over row chunks.

    Each chunk is centred first, then ``?syrk`` forms the upper triangle of XcᵀXc in
    ``precision`` and the chunk result is added to a float64 total, so float32 rounding
    accumulates over at most ``CHUNK_ROWS`` rows.  Float32 input is centred in float32 on
    c = fl32(μ), each centred value rounded once; the exact shift identity
    Σ(x − c)(x − c)ᵀ = S + N(μ − c)(μ − c)ᵀ then removes the offset μ − c.

    The chunks form one stream and BLAS threads each ``syrk`` (faster than splitting the chunks
    over Python threads of single-threaded BLAS; README, Benchmarks).
    """
    work = np.dtype(precision)
    centre = mu.astype(np.result_type(x.dtype, work))
    upper = _rows_scatter(x, centre, work)
    offset = mu - centre
    if offset.any():
        rank_one_update = scipy.linalg.get_blas_funcs("syr", dtype=np.float64)
        upper = rank_one_update(-float(len(x)), offset, a=upper, lower=0, overwrite_a=1)   # upper triangle, in place
    full = upper + upper.T   # mirror the upper triangle (the strict lower one is 0)
    np.fill_diagonal(full, upper.diagonal())
    return full


def covariance_method(precision: str) -> str:
    """The protocol line for covariances from :func:`feature_stats` at ``precision``."""
    return (f"N-1; float64 mean, rows centred before the product; {precision} syrk over {CHUNK_ROWS}-row chunks, "
            "float64 accumulation")


def feature_stats(features: Any, name: str = "features", *, precision: str = "float32") -> FidStats:
    """Mean and N−1 covariance of ``features`` (N, d); see :func:`scatter_matrix`.

    Args:
        precision: ``"float32"`` (default; ~1e-7 relative covariance error on Inception-like
            features, measured) or ``"float64"`` (the ``np.cov`` product, twice the time).
    """
    if precision not in PRECISIONS:
        raise UnknownName("FID covariance precision", str(precision), PRECISIONS)
    x = as_matrix(features, name)
    require_samples(len(x), 2, "FID", name, "a covariance needs two samples")
    mu = column_mean(x)
    sigma = scatter_matrix(x, mu, precision)
    sigma /= len(x) - 1
    return FidStats(mu=mu, sigma=sigma, n=len(x), covariance=covariance_method(precision))


def save_stats(stats: FidStats, path: str | Path) -> Path:
    """Write ``mu`` and ``sigma`` (float64) atomically to an ``.npz`` readable by pytorch-fid and TTUR; ``n`` rides along."""
    path = Path(path)
    extra = {} if stats.n is None else {"n": np.int64(stats.n)}
    with atomic_writer(path) as handle:  # a crash leaves the previous file, never a torn one
        np.savez(handle, mu=stats.mu, sigma=stats.sigma, **extra)
    return path


def load_stats(path: str | Path) -> FidStats:
    """Read an ``.npz`` with ``mu`` (d,) and ``sigma`` (d, d); ``n`` is optional (absent in pytorch-fid files).

    ``sigma`` must be a covariance (symmetric PSD to a tolerance, :func:`require_covariance`) and every
    value finite; anything else is a :class:`BadInput` naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: no such statistics file; check the path")
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = set(data.files)
            if not {"mu", "sigma"} <= keys:
                raise BadInput(f"{path}: holds {sorted(keys)}, not 'mu' and 'sigma'; save statistics with save_stats")
            mu, sigma = _numeric(data["mu"], path, "mu"), _numeric(data["sigma"], path, "sigma")
            n = _sample_count(data["n"], path) if "n" in keys else None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise BadInput(f"{path}: not a readable .npz file ({type(exc).__name__}); rewrite it with save_stats or "
                       "thoughtlab eval stats") from None
    if mu.ndim != 1 or sigma.shape != (mu.size, mu.size) or mu.size == 0:
        raise BadInput(f"{path}: mu has shape {mu.shape} and sigma {sigma.shape}; expected (d,) and (d, d), d >= 1")
    require_finite(sigma, f"{path}: sigma")
    require_finite(mu[None], f"{path}: mu")
    require_covariance(sigma, f"{path}: sigma")
    return FidStats(mu=mu, sigma=sigma, n=n)


def _numeric(arr: np.ndarray, path: Path, key: str) -> np.ndarray:
    """A stored real array as float64; other dtypes (strings, complex, objects) are a BadInput."""
    if arr.dtype.kind not in "fiu":
        raise BadInput(f"{path}: {key} has dtype {arr.dtype}; statistics must be real numbers (save_stats writes float64)")
    return arr.astype(np.float64)


def _sample_count(arr: np.ndarray, path: Path) -> int:
    """The stored sample count: one integer >= 2 (a covariance needs two samples)."""
    if arr.shape != () or arr.dtype.kind not in "iu" or int(arr) < 2:
        raise BadInput(f"{path}: n must be one integer >= 2 (the sample count), got {arr!r}; drop it or store the count")
    return int(arr)


@contextmanager
def linalg_threads(count: int | None) -> Iterator[None]:
    """Run torch (MKL/OpenMP) and numpy/scipy BLAS on ``count`` threads, restoring both settings after;
    ``None`` changes nothing."""
    if count is None:
        yield
        return
    count = positive_int(count, "threads")
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        with threadpool_limits(limits=count, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(previous)


def symmetric_factor(sigma: torch.Tensor) -> torch.Tensor:
    """R with R Rᵀ = Σ: Cholesky when Σ is positive definite, else V·diag(√w) from ``eigh`` (w clipped at 0)."""
    factor, info = torch.linalg.cholesky_ex(sigma)
    if int(info) == 0:
        return factor
    w, v = torch.linalg.eigh(sigma)
    return v * w.clamp_min(0.0).sqrt()


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray, threads: int | None = None) -> float:
    """tr (Σ₁Σ₂)^{1/2} from one symmetric eigenvalue problem (no complex arithmetic).

    With R Rᵀ = Σ₁, C = RᵀΣ₂R is symmetric PSD and similar to Σ₂RRᵀ = Σ₂Σ₁, so it has the
    eigenvalues of Σ₁Σ₂ and the trace is Σᵢ √λᵢ(C), λ clipped at 0.  float64 throughout, via
    torch's ``eigvalsh``.  One Cholesky and two products, cheaper than the nuclear norm of R₂ᵀR₁
    (a second Cholesky and a third product).  ``threads``: see :func:`linalg_threads`.
    """
    with linalg_threads(threads):
        s1 = torch.tensor(np.asarray(sigma1, dtype=np.float64))  # a copy: inputs may be read-only
        s2 = torch.tensor(np.asarray(sigma2, dtype=np.float64))
        factor = symmetric_factor(s1)
        eigenvalues = torch.linalg.eigvalsh(factor.T @ s2 @ factor)
    return float(eigenvalues.clamp_min(0.0).sqrt().sum())


def frechet_distance(stats1: FidStats, stats2: FidStats, threads: int | None = None) -> float:
    """FID between two sets of Gaussian statistics; warns when either covariance came from N < d samples.

    ``threads``: torch/BLAS threads for the square root, restored after (None: the caller's settings).
    """
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
    trace_term = trace_sqrt_product(stats1.sigma, stats2.sigma, threads)
    return float(diff @ diff + np.trace(stats1.sigma) + np.trace(stats2.sigma) - 2.0 * trace_term)


def _stats_of(x: Any, name: str) -> FidStats:
    """``x`` itself when it is already :class:`FidStats`, else the statistics of the feature array ``x``."""
    return x if isinstance(x, FidStats) else feature_stats(x, name)


def _covariance_protocol(real: FidStats, fake: FidStats) -> str:
    """One line for the protocol: how both covariances were computed ("unknown" for statistics read from files)."""
    unknown = "unknown (given statistics)"
    real_method, fake_method = real.covariance or unknown, fake.covariance or unknown
    return real_method if real_method == fake_method else f"real: {real_method}; fake: {fake_method}"


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
                seed: int = 0, threads: int | None = None) -> dict[str, Any]:
    """FID between real and fake features (arrays or :class:`FidStats`).

    Args:
        repeats: also report the mean and std (ddof=0) of FID over this many seeded
            random subsets of ``subset_size`` rows per set (drawn without replacement).
        subset_size: rows per subset; default ``min(N, M) // 2``.  FID is biased
            upwards at small N, so the subset mean exceeds the full-set value.
        seed: seeds the subset draws.
        threads: torch and BLAS threads for the whole call, restored after; ``None`` (default)
            runs on the caller's settings and changes none.

    Returns:
        ``{"value", "protocol"}``, plus ``"mean"`` and ``"std"`` when ``repeats`` is given.
    """
    with linalg_threads(threads):
        return _fid(real, fake, repeats, subset_size, seed)


def _fid(real: Any, fake: Any, repeats: int | None, subset_size: int | None, seed: int) -> dict[str, Any]:
    real_stats, fake_stats = _stats_of(real, "real features"), _stats_of(fake, "fake features")
    value = frechet_distance(real_stats, fake_stats)
    protocol: dict[str, Any] = {"n_real": real_stats.n, "n_fake": fake_stats.n, "dim": int(real_stats.mu.size),
                                "covariance": _covariance_protocol(real_stats, fake_stats),
                                "sqrt": "eigvalsh of RᵀΣ₂R with RRᵀ = Σ₁ (Cholesky), float64"}
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
