"""Geometry Score (Khrulkov & Oseledets 2018, "Geometry Score: A Method For Comparing Generative
Adversarial Networks", ICML; Algorithm 1 and §4).

For one iteration on a sample set X (N points):
  1. draw L₀ landmarks uniformly *with replacement* (as the reference code; duplicates allowed);
  2. the witnesses are all N points; tabulate each witness's landmarks sorted by Euclidean
     (not squared) distance;
  3. α_max = γ · (largest witness–landmark distance);
  4. build the (relaxed, weak) witness complex up to triangles with filtration ≤ α_max (gudhi)
     and its H₁ persistence over GF(2); infinite deaths end at α_max;
  5. RLT(i) = |{α ∈ [0, α_max] : exactly i H₁ intervals alive}| / α_max for i < i_max (eq. 2);
     with no H₁ interval RLT = e₀.
MRLT is the mean RLT over iterations (eq. 3) and the score is the squared L2 distance between
the two MRLTs, GS = Σᵢ (MRLT₁(i) − MRLT₂(i))² (eq. 4; piq reports it × 1000, this module does not).

γ policy (explicit, recorded): ``gamma=None`` is the reference rule γ = (1/128)·N/5000; a float fixes γ.

Iterations are independent: iteration k draws its landmarks from ``SeedSequence(seed).spawn(n)[k]``,
so results are bit-identical for any number of worker processes.  Only the table entries a
witness can use are handed to gudhi (see :func:`usable_table`), which gives the same complex faster.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from itertools import pairwise
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from thoughtlab.errors import BadInput, UserError
from thoughtlab.metrics.checks import as_matrix, positive_int, require_samples, same_dim

_WORKER_DATA: dict[str, np.ndarray] = {}


def _gudhi() -> Any:
    """The gudhi module (imported on first use, so the other metrics work without it)."""
    try:
        import gudhi
    except ImportError as exc:
        raise UserError("the geometry score needs gudhi: pip install gudhi==3.13.0") from exc
    return gudhi


def reference_gamma(n: int) -> float:
    """γ of the reference implementation: 1/128 at N = 5000, proportional to N."""
    return n / (128.0 * 5000.0)


def landmark_distances(x: np.ndarray, sq_norms: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(N, L) Euclidean witness–landmark distances in float64 (‖x‖² − 2x·l + ‖l‖², clamped at 0)."""
    sq = sq_norms[:, None] - 2.0 * (x @ x[landmarks].T) + sq_norms[landmarks][None, :]
    return np.sqrt(np.maximum(sq, 0.0))


def usable_table(dist: np.ndarray, alpha_max: float) -> list[list[tuple[int, float]]]:
    """Each witness's usable landmarks as gudhi's nearest-landmark table, sorted by distance (ties: landmark id).

    In gudhi's weak witness complex a landmark at sorted position p ≥ 4 joins a simplex of ≤ 3
    vertices only if its distance is ≤ (3rd-nearest distance) + α_max, so later entries cannot
    change the complex up to triangles (checked against the full table in the tests).
    """
    third = np.partition(dist, min(2, dist.shape[1] - 1), axis=1)[:, min(2, dist.shape[1] - 1)]
    rows, cols = np.nonzero(dist <= third[:, None] + alpha_max * (1 + 1e-9))
    values = dist[rows, cols]
    order = np.lexsort((cols, values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    bounds = np.searchsorted(rows, np.arange(len(dist) + 1)).tolist()
    pairs = list(zip(cols.tolist(), values.tolist()))
    return [pairs[start:stop] for start, stop in pairwise(bounds)]


def witness_persistence(table: list[list[tuple[int, float]]], alpha_max: float) -> np.ndarray:
    """H₁ persistence intervals (k, 2) of the witness complex with filtration ≤ ``alpha_max`` (gudhi, GF(2))."""
    tree = _gudhi().WitnessComplex(nearest_landmark_table=table).create_simplex_tree(
        max_alpha_square=alpha_max, limit_dimension=2)
    tree.persistence(homology_coeff_field=2)
    return np.asarray(tree.persistence_intervals_in_dimension(1), dtype=np.float64).reshape(-1, 2)


def relative_living_times(intervals: np.ndarray, alpha_max: float, i_max: int) -> np.ndarray:
    """RLT(i) for i < i_max: fraction of [0, α_max] during which exactly i intervals are alive."""
    rlt = np.zeros(i_max)
    if len(intervals) == 0 or alpha_max <= 0:
        rlt[0] = 1.0
        return rlt
    births = np.clip(intervals[:, 0], 0.0, alpha_max)
    deaths = np.clip(np.where(np.isinf(intervals[:, 1]), alpha_max, intervals[:, 1]), 0.0, alpha_max)
    cuts = np.unique(np.concatenate(([0.0, alpha_max], births, deaths)))
    middles = (cuts[:-1] + cuts[1:]) / 2
    alive = ((births[None, :] <= middles[:, None]) & (deaths[None, :] > middles[:, None])).sum(axis=1)
    counted = alive < i_max
    np.add.at(rlt, alive[counted], np.diff(cuts)[counted])
    return rlt / alpha_max


def one_rlt(x: np.ndarray, sq_norms: np.ndarray, seed: np.random.SeedSequence, n_landmarks: int,
            gamma: float, i_max: int) -> np.ndarray:
    """The RLT of one iteration (Algorithm 1, steps 1–5) with landmarks drawn from ``seed``."""
    landmarks = np.random.default_rng(seed).integers(0, len(x), size=n_landmarks)
    dist = landmark_distances(x, sq_norms, landmarks)
    alpha_max = gamma * float(dist.max())
    if alpha_max <= 0:
        return relative_living_times(np.empty((0, 2)), alpha_max, i_max)
    return relative_living_times(witness_persistence(usable_table(dist, alpha_max), alpha_max), alpha_max, i_max)


def _init_worker(x: np.ndarray) -> None:
    """Keep the data set (and its squared norms) in the worker; one BLAS thread per process."""
    threadpool_limits(1)
    _WORKER_DATA["x"], _WORKER_DATA["sq"] = x, (x * x).sum(axis=1)


def _worker_rlt(args: tuple[np.random.SeedSequence, int, float, int]) -> np.ndarray:
    return one_rlt(_WORKER_DATA["x"], _WORKER_DATA["sq"], *args)


def compute_rlts(samples: Any, *, landmarks: int = 64, gamma: float | None = None, i_max: int = 100,
                 iterations: int = 100, seed: int = 0, workers: int = 1, name: str = "input") -> np.ndarray:
    """RLTs of ``iterations`` landmark draws on (N, d) ``samples``: an (iterations, i_max) array.

    ``workers`` > 1 spreads iterations over processes; the result does not depend on it.
    """
    x = np.ascontiguousarray(as_matrix(samples, f"{name} samples"), dtype=np.float64)
    landmarks = positive_int(landmarks, "geometry-score landmarks", minimum=2)
    require_samples(len(x), landmarks, "the geometry score", name, f"{landmarks} landmarks")
    i_max, iterations = positive_int(i_max, "i_max"), positive_int(iterations, "geometry-score iterations")
    workers = positive_int(workers, "workers")
    gamma = reference_gamma(len(x)) if gamma is None else float(gamma)
    if not gamma > 0:
        raise BadInput(f"geometry-score gamma must be > 0, got {gamma}")
    jobs = [(stream, landmarks, gamma, i_max) for stream in np.random.SeedSequence(seed).spawn(iterations)]
    if workers == 1:
        sq_norms = (x * x).sum(axis=1)
        return np.stack([one_rlt(x, sq_norms, *job) for job in jobs])
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(x,)) as pool:
        return np.stack(list(pool.map(_worker_rlt, jobs, chunksize=max(1, iterations // (4 * workers)))))


def geometry_score_from_rlts(rlts_real: np.ndarray, rlts_fake: np.ndarray) -> float:
    """GS = Σᵢ (MRLT_real(i) − MRLT_fake(i))² (eq. 4)."""
    if rlts_real.shape[1] != rlts_fake.shape[1]:
        raise BadInput(f"RLTs have different i_max ({rlts_real.shape[1]} vs {rlts_fake.shape[1]}); "
                       "compute both with the same i_max")
    return float(((rlts_real.mean(axis=0) - rlts_fake.mean(axis=0)) ** 2).sum())


def bootstrap_geometry_scores(rlts_real: np.ndarray, rlts_fake: np.ndarray, draws: int,
                              rng: np.random.Generator) -> np.ndarray:
    """GS (eq. 4) recomputed ``draws`` times from MRLTs of iterations resampled with replacement on each side.

    The spread of these values measures the Monte Carlo error that comes from the finite number of
    landmark draws (the MRLT of eq. 3 is a mean over iterations); it says nothing about the
    variability of the sample sets themselves, which stay fixed.
    """
    means = []
    for rlts in (rlts_real, rlts_fake):
        n = len(rlts)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=draws)  # (draws, n) resampling counts
        means.append(counts @ rlts / n)
    return ((means[0] - means[1]) ** 2).sum(axis=1)


def compute_geometry_score(real: Any, fake: Any, *, landmarks: int = 64, gamma: float | None = None,
                           i_max: int = 100, iterations: int = 100, seed: int = 0,
                           workers: int = 1, bootstrap: int = 200) -> dict[str, Any]:
    """Geometry Score between real (N, d) and fake (M, d) samples (features or flattened images).

    Args:
        landmarks: L₀ landmarks per iteration (64, the reference default).
        gamma: None for the reference rule γ = N/(128·5000) per set, or a fixed γ for both.
        i_max: RLT length (100).  iterations: landmark draws per set (reference: 1000; paper: 10⁴).
        seed: real and fake use the streams ``seed`` and ``seed + 1``, the bootstrap ``seed + 2``.
        workers: processes.
        bootstrap: resamples for the spread (0: no spread).  The paper reports GS without one; here
            "std" is the std (ddof=0) of GS over ``bootstrap`` resamplings, with replacement, of the
            per-iteration RLTs of each set (:func:`bootstrap_geometry_scores`): the Monte Carlo error
            of the landmark draws, shrinking like 1/√iterations.  It is 0 only when every iteration
            gives the same RLT on each side.

    Returns:
        ``{"value": GS, "std": bootstrap std (when bootstrap > 0), "mrlt_real": [...],
        "mrlt_fake": [...], "protocol": {...}}``.
    """
    x, y = as_matrix(real, "real samples"), as_matrix(fake, "fake samples")
    same_dim(x, y)
    bootstrap = positive_int(bootstrap, "geometry-score bootstrap", minimum=0)
    if bootstrap == 1 or (bootstrap and iterations == 1):
        raise BadInput(f"the geometry-score spread needs bootstrap >= 2 and iterations >= 2 (got "
                       f"bootstrap={bootstrap}, iterations={iterations}); raise them, or pass bootstrap=0 for no spread")
    common = {"landmarks": landmarks, "i_max": i_max, "iterations": iterations, "workers": workers}
    rlts_real = compute_rlts(x, gamma=gamma, seed=seed, name="real", **common)
    rlts_fake = compute_rlts(y, gamma=gamma, seed=seed + 1, name="fake", **common)
    protocol = {"landmarks": landmarks, "landmark_draw": "uniform with replacement", "i_max": i_max,
                "iterations": iterations, "seed": seed, "seeds": {"real": seed, "fake": seed + 1},
                "gamma_policy": "reference: N/(128*5000)" if gamma is None else "fixed",
                "gamma": {"real": reference_gamma(len(x)) if gamma is None else float(gamma),
                          "fake": reference_gamma(len(y)) if gamma is None else float(gamma)},
                "distance": "euclidean", "complex": "gudhi witness complex, dim <= 2", "homology": "H1 over GF(2)",
                "score": "sum of squared MRLT differences (not x1000)", "n_real": len(x), "n_fake": len(y),
                "dim": x.shape[1], "gudhi": _gudhi().__version__}
    result: dict[str, Any] = {"value": geometry_score_from_rlts(rlts_real, rlts_fake)}
    if bootstrap:
        scores = bootstrap_geometry_scores(rlts_real, rlts_fake, bootstrap, np.random.default_rng(seed + 2))
        result["std"] = float(scores.std())
        protocol.update(spread_kind="std of GS over bootstrap resamples of the iterations (landmark-draw Monte Carlo "
                                    "error, not data variability)", bootstrap=bootstrap, bootstrap_seed=seed + 2,
                        std_ddof=0)
    return {**result, "mrlt_real": rlts_real.mean(axis=0).tolist(), "mrlt_fake": rlts_fake.mean(axis=0).tolist(),
            "protocol": protocol}
