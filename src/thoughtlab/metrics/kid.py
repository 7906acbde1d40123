"""Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs", §4 and Appendix A).

KID is the squared MMD with the cubic polynomial kernel k(x, y) = (xᵀy/d + 1)³,
estimated on random subsets: for each of ``subsets`` draws, ``m`` rows of each set
are taken without replacement and

    MMD² = [Σ_{i≠j} k(xᵢ,xⱼ) + Σ_{i≠j} k(yᵢ,yⱼ)] / (m(m−1)) − 2 Σ_{i,j} k(xᵢ,yⱼ) / m²

(the "unbiased" estimator of the MMD-GAN code, torch-fidelity and clean-fid: the
cross term keeps its diagonal).  The report is the mean and std (ddof=0) over
subsets.  Kernel values are computed in the features' dtype (float32 for float32
features, as in the reference implementations) and summed in float64.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from thoughtlab.metrics.checks import SmallSampleWarning, as_matrix, positive_int, require_samples, same_dim

# The reference protocol draws m = 1000 rows per subset (Bińkowski et al. 2018; clean-fid, torch-fidelity).  The
# estimator's standard error shrinks as 1/√m, so below m = 100 it is over 3x the reference's: warn there.
SMALL_SUBSET = 100


def polynomial_kernel_sums(x: torch.Tensor, y: torch.Tensor, degree: int, gamma: float,
                           coef: float) -> tuple[float, float]:
    """Sum and trace (float64) of the kernel matrix (γ·xᵀy + coef)^degree, built in place in the inputs' dtype."""
    k = torch.mm(x, y.T).mul_(gamma).add_(coef).pow_(degree)
    return float(k.sum(dtype=torch.float64)), float(k.diagonal().sum(dtype=torch.float64))


def mmd2_from_sums(m: int, xx_sum: float, xx_trace: float, yy_sum: float, yy_trace: float, xy_sum: float) -> float:
    """The MMD² estimator above from the kernel sums and traces of two subsets of m rows each."""
    return (xx_sum - xx_trace + yy_sum - yy_trace) / (m * (m - 1)) - 2.0 * xy_sum / (m * m)


def unbiased_mmd2(x: torch.Tensor, y: torch.Tensor, degree: int, gamma: float, coef: float) -> float:
    """The MMD² estimator above for two subsets of m rows each."""
    xx_sum, xx_trace = polynomial_kernel_sums(x, x, degree, gamma, coef)
    yy_sum, yy_trace = polynomial_kernel_sums(y, y, degree, gamma, coef)
    xy_sum, _ = polynomial_kernel_sums(x, y, degree, gamma, coef)
    return mmd2_from_sums(len(x), xx_sum, xx_trace, yy_sum, yy_trace, xy_sum)


def subset_draws(n_real: int, n_fake: int, m: int, subsets: int, seed: int
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Sorted row indices of each subset pair, drawn without replacement from ``default_rng(seed)``, real first."""
    rng = np.random.default_rng(seed)
    return [(np.sort(rng.choice(n_real, m, replace=False)), np.sort(rng.choice(n_fake, m, replace=False)))
            for _ in range(subsets)]


def subset_mmd2(x: torch.Tensor, y: torch.Tensor, draws: list[tuple[np.ndarray, np.ndarray]], degree: int,
                gamma: float, coef: float) -> np.ndarray:
    """The estimator on each drawn subset pair, with each kernel sum computed once where it cannot change.

    When m equals a set's size, every draw of that set is all its rows in order (the indices are
    sorted), so its within-set sums are the same tensor operation on the same data every time:
    they are computed once and reused, as is the cross term when both sets are taken whole.  The
    values are bit-identical to recomputing every subset, and 100 subsets at N = M = m = 1000 cost
    one subset's kernels instead of a hundred.
    """
    m = len(draws[0][0])
    whole_x, whole_y = m == len(x), m == len(y)
    cached_xx = polynomial_kernel_sums(x, x, degree, gamma, coef) if whole_x else None
    cached_yy = polynomial_kernel_sums(y, y, degree, gamma, coef) if whole_y else None
    cached_xy = polynomial_kernel_sums(x, y, degree, gamma, coef)[0] if whole_x and whole_y else None
    values = np.empty(len(draws))
    for index, (real_rows, fake_rows) in enumerate(draws):
        xs = x if whole_x else x[torch.from_numpy(real_rows)]
        ys = y if whole_y else y[torch.from_numpy(fake_rows)]
        xx_sum, xx_trace = cached_xx or polynomial_kernel_sums(xs, xs, degree, gamma, coef)
        yy_sum, yy_trace = cached_yy or polynomial_kernel_sums(ys, ys, degree, gamma, coef)
        xy_sum = cached_xy if cached_xy is not None else polynomial_kernel_sums(xs, ys, degree, gamma, coef)[0]
        values[index] = mmd2_from_sums(m, xx_sum, xx_trace, yy_sum, yy_trace, xy_sum)
    return values


def compute_kid(real: Any, fake: Any, *, subsets: int = 100, subset_size: int = 1000, seed: int = 0,
                degree: int = 3, gamma: float | None = None, coef: float = 1.0) -> dict[str, Any]:
    """KID between real (N, d) and fake (M, d) features.

    Args:
        subsets: number of random subset pairs (100 in torch-fidelity, clean-fid, StyleGAN2-ADA).
        subset_size: rows per subset; ``min(subset_size, N, M)`` is used (as clean-fid and StyleGAN2-ADA).
        seed: seeds ``numpy.random.default_rng`` for the subset draws (real then fake, per subset).
        degree, gamma, coef: the kernel (γ·xᵀy + coef)^degree; ``gamma=None`` means 1/d.

    Returns:
        ``{"value": mean MMD², "std": std over subsets (ddof=0), "protocol": {...}}``.  When
        ``subset_size`` covers both sets (N = M ≤ subset_size) every subset is the whole data:
        ``protocol["subsets_identical"]`` is True, the value is that one estimate and the std is 0.
    """
    x, y = as_matrix(real, "real features"), as_matrix(fake, "fake features")
    same_dim(x, y)
    require_samples(len(x), 2, "KID", "real", "the unbiased estimator needs two per subset")
    require_samples(len(y), 2, "KID", "fake", "the unbiased estimator needs two per subset")
    subsets = positive_int(subsets, "KID subsets")
    m = min(positive_int(subset_size, "KID subset_size", minimum=2), len(x), len(y))
    if m < SMALL_SUBSET:
        warnings.warn(f"KID: subsets of m={m} samples (reference: 1000); the estimate's standard error grows as "
                      f"1/sqrt(m), so it is wide below m={SMALL_SUBSET}: use at least {SMALL_SUBSET} samples per set",
                      SmallSampleWarning, stacklevel=2)
    gamma = 1.0 / x.shape[1] if gamma is None else float(gamma)
    degree = positive_int(degree, "KID degree")
    values = subset_mmd2(torch.from_numpy(x), torch.from_numpy(y), subset_draws(len(x), len(y), m, subsets, seed),
                         degree, gamma, coef)
    protocol = {"subsets": subsets, "subset_size": m, "requested_subset_size": subset_size, "seed": seed,
                "kernel": f"({gamma:g}*x.y + {coef:g})^{degree}", "estimator": "unbiased (cross diagonal kept)",
                "std_ddof": 0, "n_real": len(x), "n_fake": len(y), "dim": x.shape[1],
                "subsets_identical": m == len(x) == len(y)}
    if protocol["subsets_identical"]:  # one value repeated: report it and a zero std, not mean/std rounding noise
        return {"value": float(values[0]), "std": 0.0, "protocol": protocol}
    return {"value": float(values.mean()), "std": float(values.std()), "protocol": protocol}
