"""Precision and recall for distributions (PRD; Sajjadi et al. 2018, "Assessing generative models via
precision and recall", Theorem 2 / Eq. 3 and §4).

The eval (fake) and reference (real) embeddings are pooled and clustered with
``sklearn.cluster.MiniBatchKMeans(n_clusters=20, n_init=10)`` as in the reference
code, here seeded; the cluster histograms P (eval) and Q (ref) give, for
λ = tan θ over ``num_angles`` angles θ ∈ [ε, π/2 − ε]:

    α(λ) = Σ_k min(λ·Q_k, P_k)   ("precision"),   β(λ) = α(λ)/λ   ("recall"),

both clipped to [0, 1].  Curves are averaged over ``num_runs`` clusterings, and the
summary is (max F_β, max F_{1/β}) with F_β = (1+β²)·PR/(β²P + R + 1e-10), β = 8:
F_8 tracks recall and F_{1/8} precision.  The clustering depends on the seed and
on the scikit-learn version, which the protocol records.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thoughtlab.errors import BadInput
from thoughtlab.metrics.checks import as_matrix, positive_int, require_samples, same_dim

F_EPSILON = 1e-10


def compute_prd(eval_dist: Any, ref_dist: Any, num_angles: int = 1001,
                epsilon: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """PRD curve (precision α, recall β), each of length ``num_angles``, of two histograms (Theorem 2)."""
    if not 0 < epsilon < 0.1:
        raise BadInput(f"PRD epsilon must be in (0, 0.1), got {epsilon!r}")
    if isinstance(num_angles, bool) or not isinstance(num_angles, (int, np.integer)) or not 3 <= num_angles <= 1e6:
        raise BadInput(f"PRD num_angles must be an integer in [3, 1e6], got {num_angles!r}")
    eval_dist, ref_dist = np.asarray(eval_dist, dtype=np.float64), np.asarray(ref_dist, dtype=np.float64)
    if eval_dist.shape != ref_dist.shape or eval_dist.ndim != 1:
        raise BadInput(f"PRD histograms must be 1-D of equal length, got {eval_dist.shape} and {ref_dist.shape}")
    slopes = np.tan(np.linspace(epsilon, np.pi / 2 - epsilon, num=num_angles))
    precision = np.minimum(ref_dist[None, :] * slopes[:, None], eval_dist[None, :]).sum(axis=1)
    recall = precision / slopes
    if max(precision.max(), recall.max()) > 1.001:
        raise BadInput("PRD: precision or recall above 1.001; the histograms must each sum to 1")
    return np.clip(precision, 0.0, 1.0), np.clip(recall, 0.0, 1.0)


def f_beta(precision: np.ndarray, recall: np.ndarray, beta: float) -> np.ndarray:
    """F_β = (1+β²)·PR / (β²P + R + 1e-10), elementwise (Sajjadi et al. 2018, §4)."""
    precision, recall = np.asarray(precision, dtype=np.float64), np.asarray(recall, dtype=np.float64)
    if beta <= 0:
        raise BadInput(f"F_beta needs beta > 0, got {beta!r}")
    for name, values in (("precision", precision), ("recall", recall)):
        if values.size and not ((values >= 0).all() and (values <= 1).all()):
            raise BadInput(f"F_beta: all {name} values must lie in [0, 1]")
    return (1 + beta ** 2) * precision * recall / (beta ** 2 * precision + recall + F_EPSILON)


def prd_to_max_f_beta_pair(precision: np.ndarray, recall: np.ndarray, beta: float = 8) -> tuple[float, float]:
    """(max F_β, max F_{1/β}) over the curve."""
    return float(f_beta(precision, recall, beta).max()), float(f_beta(precision, recall, 1 / beta).max())


def cluster_histograms(eval_data: np.ndarray, ref_data: np.ndarray, num_clusters: int,
                       random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Histograms (each summing to 1) of the pooled mini-batch k-means labels of the two sets."""
    pooled = np.vstack([eval_data, ref_data])
    from sklearn.cluster import MiniBatchKMeans  # imported here: scikit-learn costs seconds at import time

    labels = MiniBatchKMeans(n_clusters=num_clusters, n_init=10, random_state=random_state).fit(pooled).labels_
    eval_hist = np.bincount(labels[:len(eval_data)], minlength=num_clusters) / len(eval_data)
    ref_hist = np.bincount(labels[len(eval_data):], minlength=num_clusters) / len(ref_data)
    return eval_hist, ref_hist


def compute_prd_from_features(real: Any, fake: Any, *, num_clusters: int = 20, num_angles: int = 1001,
                              num_runs: int = 10, enforce_balance: bool = True, beta: float = 8,
                              seed: int = 0) -> dict[str, dict[str, Any]]:
    """PRD of fake (eval) against real (reference) features.

    Returns:
        ``{"prd_f_beta": {...}, "prd_f_inv_beta": {...}, "prd_curve": {"precision": [...], "recall": [...], ...}}``
        (F_8 and F_{1/8} with the default ``beta=8``).
        F values come from the run-averaged curve (as the reference); ``"std"`` is the
        spread (ddof=0) of the per-run F values over the ``num_runs`` clusterings.
    """
    x, y = as_matrix(real, "real features"), as_matrix(fake, "fake features")
    same_dim(x, y)
    num_clusters = positive_int(num_clusters, "PRD num_clusters", minimum=2)
    num_runs = positive_int(num_runs, "PRD num_runs")
    if enforce_balance and len(x) != len(y):
        raise BadInput(f"PRD with enforce_balance needs equal set sizes, got {len(x)} real and {len(y)} fake; "
                       "subsample the larger set or pass enforce_balance=False")
    require_samples(len(x) + len(y), num_clusters, "PRD", "pooled", f"one per cluster, num_clusters={num_clusters}")
    seeds = np.random.default_rng(seed).integers(0, 2 ** 31 - 1, size=num_runs)
    curves, pairs = [], []
    for run_seed in seeds:
        eval_hist, ref_hist = cluster_histograms(y, x, num_clusters, int(run_seed))
        curve = compute_prd(eval_hist, ref_hist, num_angles)
        curves.append(curve)
        pairs.append(prd_to_max_f_beta_pair(*curve, beta=beta))
    precision, recall = np.mean([c[0] for c in curves], axis=0), np.mean([c[1] for c in curves], axis=0)
    f_value, f_inverse = prd_to_max_f_beta_pair(precision, recall, beta=beta)
    spread = np.std(np.asarray(pairs), axis=0)
    protocol = {"num_clusters": num_clusters, "num_angles": num_angles, "num_runs": num_runs, "beta": beta,
                "seed": seed, "clustering": "MiniBatchKMeans(n_init=10) on pooled features",
                "sklearn": _sklearn_version(), "std": "over runs of per-run F, ddof=0",
                "n_real": len(x), "n_fake": len(y)}
    return {"prd_f_beta": {"value": f_value, "std": float(spread[0]), "protocol": protocol},
            "prd_f_inv_beta": {"value": f_inverse, "std": float(spread[1]), "protocol": protocol},
            "prd_curve": {"precision": precision.tolist(), "recall": recall.tolist(), "protocol": protocol}}


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__
