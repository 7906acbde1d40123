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

from typing import Any

import numpy as np
import torch

from thoughtlab.metrics.checks import as_matrix, positive_int, require_samples, same_dim


def polynomial_kernel_sums(x: torch.Tensor, y: torch.Tensor, degree: int, gamma: float,
                           coef: float) -> tuple[float, float]:
    """Sum and trace (float64) of the kernel matrix (γ·xᵀy + coef)^degree, built in place in the inputs' dtype."""
    k = torch.mm(x, y.T).mul_(gamma).add_(coef).pow_(degree)
    return float(k.sum(dtype=torch.float64)), float(k.diagonal().sum(dtype=torch.float64))


def unbiased_mmd2(x: torch.Tensor, y: torch.Tensor, degree: int, gamma: float, coef: float) -> float:
    """The MMD² estimator above for two subsets of m rows each."""
    m = len(x)
    xx_sum, xx_trace = polynomial_kernel_sums(x, x, degree, gamma, coef)
    yy_sum, yy_trace = polynomial_kernel_sums(y, y, degree, gamma, coef)
    xy_sum, _ = polynomial_kernel_sums(x, y, degree, gamma, coef)
    return (xx_sum - xx_trace + yy_sum - yy_trace) / (m * (m - 1)) - 2.0 * xy_sum / (m * m)


def compute_kid(real: Any, fake: Any, *, subsets: int = 100, subset_size: int = 1000, seed: int = 0,
                degree: int = 3, gamma: float | None = None, coef: float = 1.0) -> dict[str, Any]:
    """KID between real (N, d) and fake (M, d) features.

    Args:
        subsets: number of random subset pairs (100 in torch-fidelity, clean-fid, StyleGAN2-ADA).
        subset_size: rows per subset; ``min(subset_size, N, M)`` is used (as clean-fid and StyleGAN2-ADA).
        seed: seeds ``numpy.random.default_rng`` for the subset draws (real then fake, per subset).
        degree, gamma, coef: the kernel (γ·xᵀy + coef)^degree; ``gamma=None`` means 1/d.

    Returns:
        ``{"value": mean MMD², "std": std over subsets (ddof=0), "protocol": {...}}``.
    """
    x, y = as_matrix(real, "real features"), as_matrix(fake, "fake features")
    same_dim(x, y)
    require_samples(len(x), 2, "KID", "real", "the unbiased estimator needs two per subset")
    require_samples(len(y), 2, "KID", "fake", "the unbiased estimator needs two per subset")
    subsets = positive_int(subsets, "KID subsets")
    m = min(positive_int(subset_size, "KID subset_size", minimum=2), len(x), len(y))
    gamma = 1.0 / x.shape[1] if gamma is None else float(gamma)
    degree = positive_int(degree, "KID degree")
    rng = np.random.default_rng(seed)
    values = np.empty(subsets)
    x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)
    for index in range(subsets):
        real_rows = torch.from_numpy(np.sort(rng.choice(len(x), m, replace=False)))
        fake_rows = torch.from_numpy(np.sort(rng.choice(len(y), m, replace=False)))
        values[index] = unbiased_mmd2(x_t[real_rows], y_t[fake_rows], degree, gamma, coef)
    protocol = {"subsets": subsets, "subset_size": m, "requested_subset_size": subset_size, "seed": seed,
                "kernel": f"({gamma:g}*x.y + {coef:g})^{degree}", "estimator": "unbiased (cross diagonal kept)",
                "std_ddof": 0, "n_real": len(x), "n_fake": len(y), "dim": x.shape[1]}
    return {"value": float(values.mean()), "std": float(values.std()), "protocol": protocol}
