"""Input validation shared by the metrics: one clear error for each kind of bad input.

Every check raises :class:`~thoughtlab.errors.BadInput` (or
:class:`~thoughtlab.errors.UnknownName` for an unknown option value) with one
line saying what was wrong and how to fix it.  Warnings that do not stop a
computation use :class:`SmallSampleWarning`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from thoughtlab.errors import BadInput, UnknownName

COMPARISONS = ("<", "<=")


class SmallSampleWarning(UserWarning):
    """A metric is defined but statistically weak at this sample size (e.g. FID with N < d)."""


def to_numpy(x: Any, name: str) -> np.ndarray:
    """``x`` (numpy array, torch tensor or nested sequence) as a numpy array, without copying when possible."""
    if torch.is_tensor(x):
        x = x.detach().cpu()
        if x.dtype in (torch.float16, torch.bfloat16):
            x = x.float()
        return x.numpy()
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"{name}: cannot be read as an array ({exc}); pass a numpy array or a torch tensor") from exc


def as_matrix(x: Any, name: str) -> np.ndarray:
    """A finite 2-D float array (rows = samples); float32 stays float32, anything else becomes float64."""
    arr = to_numpy(x, name)
    if arr.ndim != 2:
        raise BadInput(f"{name}: expected a 2-D array (samples, features), got shape {arr.shape}; "
                       "flatten each sample to one row")
    if arr.dtype.kind not in "fiu":
        raise BadInput(f"{name}: dtype {arr.dtype} is not numeric; pass float features")
    if 0 in arr.shape:
        raise BadInput(f"{name}: shape {arr.shape} holds no values; pass at least one sample of at least one feature")
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64)
    require_finite(arr, name)
    return arr


def require_finite(arr: np.ndarray, name: str) -> None:
    """Raise naming the first row that holds NaN or Inf."""
    bad_rows = np.flatnonzero(~np.isfinite(arr).all(axis=tuple(range(1, arr.ndim))))
    if bad_rows.size:
        raise BadInput(f"{name}: {bad_rows.size} row(s) contain NaN or Inf (first: row {int(bad_rows[0])}); "
                       "drop or recompute those samples")


def same_dim(real: np.ndarray, fake: np.ndarray) -> None:
    """Raise when the two feature sets have different dimensions."""
    if real.shape[1] != fake.shape[1]:
        raise BadInput(f"real features have {real.shape[1]} dimensions but fake features have {fake.shape[1]}; "
                       "extract both with the same feature extractor")


def require_samples(n: int, needed: int, metric: str, name: str, why: str = "") -> None:
    """Raise when a set has fewer than ``needed`` samples for ``metric``."""
    if n < needed:
        reason = f" ({why})" if why else ""
        raise BadInput(f"{metric} needs at least {needed} {name} samples{reason}, got {n}; pass more samples")


def positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``; bool and non-integral values are rejected."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise BadInput(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def choice(value: Any, kind: str, known: Sequence[str]) -> str:
    """``value`` if it is one of ``known``, else :class:`UnknownName`."""
    if value not in known:
        raise UnknownName(kind, str(value), tuple(known))
    return value


def strict_of(comparison: str, name: str) -> bool:
    """True for ``"<"``, False for ``"<="``; anything else is an :class:`UnknownName`."""
    return choice(comparison, f"comparison for {name}", COMPARISONS) == "<"


SYMMETRY_TOLERANCE = 1e-6  # relative to max |Σ|: float32 storage of an exactly symmetric Σ keeps it exactly symmetric
PSD_TOLERANCE = 1e-6       # eigenvalues down to −1e-6·max Σᵢᵢ are rounding (float32 storage moves them ~1e-7·‖Σ‖)


def require_covariance(sigma: np.ndarray, name: str) -> None:
    """Raise unless ``sigma`` is a symmetric positive semi-definite matrix, both to a tolerance.

    Symmetry: max |Σ − Σᵀ| ≤ 1e-6 · max |Σ|.  PSD: Σ + τI has a Cholesky factor with
    τ = 1e-6 · max(max Σᵢᵢ, tiny), i.e. no eigenvalue below −τ (a Cholesky is ~6× cheaper than
    ``eigvalsh``).  A covariance that fails either is not a covariance: FID from it is meaningless
    (a negative-definite Σ can even give FID 0).
    """
    scale = float(np.abs(sigma).max()) if sigma.size else 0.0
    if float(np.abs(sigma - sigma.T).max(initial=0.0)) > SYMMETRY_TOLERANCE * scale:
        raise BadInput(f"{name} is not symmetric, so it is not a covariance matrix; recompute the statistics "
                       "(thoughtlab eval stats, or np.cov of the features)")
    diagonal = np.diag(sigma)
    tau = PSD_TOLERANCE * max(float(diagonal.max(initial=0.0)), np.finfo(np.float64).tiny)
    if diagonal.size and (diagonal.min() < -tau or int(torch.linalg.cholesky_ex(
            torch.from_numpy(np.asarray(sigma, dtype=np.float64)) + tau * torch.eye(len(sigma), dtype=torch.float64)
    )[1]) != 0):
        raise BadInput(f"{name} has negative eigenvalues, so it is not a covariance matrix; recompute the "
                       "statistics (thoughtlab eval stats, or np.cov of the features)")
