"""k-NN manifold metrics in one blocked pass: precision, recall, density, coverage and the realism score.

- Improved precision and recall (Kynkäänniemi et al. 2019, "Improved precision and
  recall metric for assessing generative models", Eqs. 1-3): each real sample φ
  spans a ball of radius r_k(φ), the distance to its k-th nearest real neighbour
  (itself excluded; k=3).  Precision is the share of fakes inside the union of
  real balls; recall swaps the roles.  The reference uses ``<=``.
- Density and coverage (Naeem et al. 2020, "Reliable fidelity and diversity
  metrics for generative models", Eqs. 5-6; k=5, strict ``<`` as in prdc):
  density = (1/kM) Σ_j Σ_i 1[fake_j in ball_i], coverage = share of real balls
  that hold at least one fake.
- Realism score (Kynkäänniemi et al. 2019, Eq. 4): max_i r_i / ‖fake − φ_i‖ with
  real radii above the ``realism_percentile`` (50 in the paper) set to 0.  The
  reference code forms the ratio on squared distances with eps 1e-5 added to the
  denominator; this returns its square root, i.e. the paper's Euclidean ratio.

Computation: features are centred by the real mean (float64, then cast to
``dtype``) and squared distances come from ‖a‖² + ‖b‖² − 2aᵀb in blocks of
``block_size`` rows; each block is reduced at once (per-row top-k for the radii,
any/count/min/max for the metrics), so memory is O(block² + N·k), never N×N.
The real-real and fake-fake passes visit each block pair once and reduce it
along both axes.  Comparisons on squared distances equal those on distances.

Degenerate-input contract (cf. prdc issue #7): a radius is 0 when a sample has
at least k exact duplicates in its own set.  With ``"<"`` a zero-radius ball is
empty; with ``"<="`` it holds the exact duplicates of its centre.  So for sets
of one repeated point, ``"<"`` gives P = R = D = C = 0 and ``"<="`` gives
P = R = C = 1 and D = N/k.  Zero radii are counted in the protocol and warned
about.  In float32 a duplicate pair's computed distance is exactly 0 only when
the points equal the real mean (as in all-equal sets); otherwise it is within
rounding of 0 — pass ``dtype="float64"`` when ties at radius 0 matter.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from thoughtlab.errors import BadInput
from thoughtlab.metrics.checks import (SmallSampleWarning, as_matrix, choice, positive_int, require_samples,
                                       same_dim, strict_of)

MEASURES = ("precision", "recall", "density", "coverage", "realism")
DTYPES = {"float32": (np.float32, torch.float32), "float64": (np.float64, torch.float64)}
REALISM_EPS = 1e-5  # added to squared distances, as in the reference code
CHUNK_ROWS = 4096


def _centred(x: np.ndarray, mean: np.ndarray, dtype: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``x − mean`` cast to ``dtype`` and its squared row norms (computed in float64 from the cast values)."""
    np_dtype, torch_dtype = DTYPES[dtype]
    out = np.empty(x.shape, dtype=np_dtype)
    norms = np.empty(len(x))
    for start in range(0, len(x), CHUNK_ROWS):
        out[start:start + CHUNK_ROWS] = x[start:start + CHUNK_ROWS] - mean
        chunk = out[start:start + CHUNK_ROWS].astype(np.float64)
        norms[start:start + CHUNK_ROWS] = np.einsum("ij,ij->i", chunk, chunk)
    return torch.from_numpy(out), torch.from_numpy(norms).to(torch_dtype)


def _sq_distances(a: torch.Tensor, a_norms: torch.Tensor, b: torch.Tensor, b_norms: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances (‖a‖² + ‖b‖²) − 2aᵀb between the rows of ``a`` and ``b``, clamped at 0.

    The norms are added first (a commutative operation), so a pair gets the same
    rounding whichever side it sits on as long as the GEMM is symmetric.
    """
    d = torch.addmm(a_norms[:, None] + b_norms[None, :], a, b.T, alpha=-2.0)
    return d.clamp_(min=0.0)


def _blocks(n: int, block_size: int) -> list[slice]:
    """Row slices of near-equal length, at most ``block_size`` (no small ragged last block)."""
    count = -(-n // block_size)
    bounds = [index * n // count for index in range(count + 1)]
    return [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]


def _merge_smallest(current: torch.Tensor, block: torch.Tensor, k: int) -> torch.Tensor:
    """The k smallest values per row among ``current`` (rows, k) and the block (rows, any), ascending."""
    candidates = torch.topk(block, min(k, block.shape[1]), dim=1, largest=False).values
    return torch.topk(torch.cat([current, candidates], dim=1), k, dim=1, largest=False, sorted=True).values


def nearest_sq_distances(x: torch.Tensor, norms: torch.Tensor, k: int, block_size: int) -> torch.Tensor:
    """(N, k) ascending squared distances from each row to its k nearest other rows.

    Each block pair (I, J ≥ I) is computed once and reduced along rows for block I
    and along columns (a transposed copy) for block J; a row's own distance is excluded.
    """
    n = len(x)
    best = torch.full((n, k), float("inf"), dtype=x.dtype)
    blocks = _blocks(n, block_size)
    for i, rows in enumerate(blocks):
        for j, cols in enumerate(blocks[i:], start=i):
            d = _sq_distances(x[rows], norms[rows], x[cols], norms[cols])
            if i == j:
                d.fill_diagonal_(float("inf"))
            best[rows] = _merge_smallest(best[rows], d, k)
            if j > i:
                best[cols] = _merge_smallest(best[cols], d.T.contiguous(), k)
    return best


class _CrossState:
    """Running reductions of the fake-real distance blocks."""

    def __init__(self, n_real: int, n_fake: int, dtype: torch.dtype):
        self.precision_hit = torch.zeros(n_fake, dtype=torch.bool)
        self.density_count = torch.zeros(n_fake, dtype=torch.int64)
        self.realism_sq = torch.zeros(n_fake, dtype=torch.float64)
        self.recall_hit = torch.zeros(n_real, dtype=torch.bool)
        self.nearest_fake = torch.full((n_real,), float("inf"), dtype=dtype)


def _cross_pass(real: torch.Tensor, real_norms: torch.Tensor, fake: torch.Tensor, fake_norms: torch.Tensor,
                radii: dict[str, torch.Tensor], want: set[str], strict: dict[str, bool],
                block_size: int) -> _CrossState:
    """One sweep over fake-real blocks updating every requested reduction."""
    state = _CrossState(len(real), len(fake), real.dtype)
    pr_cmp = torch.lt if strict["pr"] else torch.le
    dc_cmp = torch.lt if strict["dc"] else torch.le
    for fr in _blocks(len(fake), block_size):
        for rr in _blocks(len(real), block_size):
            d = _sq_distances(fake[fr], fake_norms[fr], real[rr], real_norms[rr])
            if "precision" in want:
                state.precision_hit[fr] |= pr_cmp(d, radii["real_pr"][None, rr]).any(dim=1)
            if "density" in want:
                state.density_count[fr] += dc_cmp(d, radii["real_dc"][None, rr]).sum(dim=1, dtype=torch.int32)
            if "realism" in want:
                ratio = torch.div(radii["realism"][None, rr], d + REALISM_EPS).amax(dim=1).double()
                torch.maximum(state.realism_sq[fr], ratio, out=state.realism_sq[fr])
            if "recall" in want:
                state.recall_hit[rr] |= pr_cmp(d, radii["fake_pr"][fr, None]).any(dim=0)
            if "coverage" in want:
                torch.minimum(state.nearest_fake[rr], d.amin(dim=0), out=state.nearest_fake[rr])
    return state


def _realism_radii(real_pr: torch.Tensor, percentile: float | None) -> torch.Tensor:
    """Real radii with those above the given percentile set to 0 (the reference's ``clamp_to_percentile``)."""
    if percentile is None:
        return real_pr
    if not 0.0 < float(percentile) <= 100.0:
        raise BadInput(f"realism_percentile must be in (0, 100] or None, got {percentile!r}")
    threshold = np.percentile(real_pr.numpy(), float(percentile))
    return torch.where(real_pr > threshold, torch.zeros_like(real_pr), real_pr)


def _warn_zero_radii(counts: dict[str, int]) -> None:
    nonzero = {name: count for name, count in counts.items() if count}
    if nonzero:
        warnings.warn(f"k-NN metrics: zero radii (samples with >= k exact duplicates) {nonzero}; with '<' their balls "
                      "are empty, with '<=' they hold only duplicates (see thoughtlab.metrics.knn)",
                      SmallSampleWarning, stacklevel=3)


SMALL_FACTOR = 10  # the same margin as the Inception Score's N >= 10 x splits rule (research notes, gan-metrics §8)


def _warn_small(n_real: int, n_fake: int, pr_k: int, dc_k: int) -> None:
    """Warn when a set has fewer than 10·k samples: each k-NN ball then spans a tenth of its set or more,
    so precision/recall/density/coverage describe the sample more than the distribution."""
    k = max(pr_k, dc_k)
    if min(n_real, n_fake) < SMALL_FACTOR * k:
        warnings.warn(f"k-NN metrics: N_real={n_real}, N_fake={n_fake} < {SMALL_FACTOR} x k={k}; each k-NN ball "
                      f"covers a large share of its set and the values mean little: use at least {SMALL_FACTOR * k} "
                      "samples per set", SmallSampleWarning, stacklevel=3)


def _check_sizes(n_real: int, n_fake: int, want: set[str], pr_k: int, dc_k: int) -> None:
    """Each radius needs k neighbours besides the sample itself."""
    real_ks = ([pr_k] if want & {"precision", "realism"} else []) + ([dc_k] if want & {"density", "coverage"} else [])
    if real_ks:
        require_samples(n_real, max(real_ks) + 1, "k-NN metrics", "real", f"k={max(real_ks)} neighbours besides itself")
    require_samples(n_fake, 1, "k-NN metrics", "fake")
    if "recall" in want:
        require_samples(n_fake, pr_k + 1, "recall", "fake", f"k={pr_k} neighbours besides itself")
        require_samples(n_real, 1, "recall", "real")


def _radii(real: tuple[torch.Tensor, torch.Tensor], fake: tuple[torch.Tensor, torch.Tensor], want: set[str],
           pr_k: int, dc_k: int, realism_percentile: float | None,
           block_size: int) -> tuple[dict[str, torch.Tensor], dict[str, int]]:
    """Squared k-NN radii needed by ``want`` (real for P/D/C/realism, fake for recall) and their zero counts."""
    radii: dict[str, torch.Tensor] = {}
    needs = {"real_pr": (pr_k, {"precision", "realism"}), "real_dc": (dc_k, {"density", "coverage"})}
    real_ks = [k for k, members in needs.values() if want & members]
    if real_ks:
        real_nn = nearest_sq_distances(*real, max(real_ks), block_size)
        radii.update({key: real_nn[:, k - 1] for key, (k, members) in needs.items() if want & members})
    if "realism" in want:
        radii["realism"] = _realism_radii(radii["real_pr"], realism_percentile)
    if "recall" in want:
        radii["fake_pr"] = nearest_sq_distances(*fake, pr_k, block_size)[:, pr_k - 1]
    zero_counts = {key: int((radii[key] == 0).sum()) for key in ("real_pr", "real_dc", "fake_pr") if key in radii}
    return radii, zero_counts


def compute_knn(real: Any, fake: Any, *, measures: Iterable[str] = ("precision", "recall", "density", "coverage"),
                pr_k: int = 3, dc_k: int = 5, pr_comparison: str = "<=", dc_comparison: str = "<",
                realism_percentile: float | None = 50.0, dtype: str = "float32",
                block_size: int = 4096) -> dict[str, dict[str, Any]]:
    """Precision/recall (k=``pr_k``, ``pr_comparison``), density/coverage (k=``dc_k``, ``dc_comparison``)
    and per-fake realism scores, all from one set of blocked distance computations.

    Args:
        measures: any of ``MEASURES``; only what they need is computed (recall alone needs the fake-fake pass).
        dtype: ``"float32"`` (fast, default) or ``"float64"`` (for exact parity and ties) for the distance blocks.
        block_size: rows per block; memory is about 3 × block_size² × itemsize.

    Returns:
        ``{measure: {"value": float, "protocol": {...}}}``; realism gives ``"values"``, one per fake sample.
    """
    want = {choice(m, "k-NN measure", MEASURES) for m in measures}
    if not want:
        raise BadInput("compute_knn: no measure requested; pass some of " + ", ".join(MEASURES))
    pr_k, dc_k = positive_int(pr_k, "pr_k"), positive_int(dc_k, "dc_k")
    strict = {"pr": strict_of(pr_comparison, "precision/recall"), "dc": strict_of(dc_comparison, "density/coverage")}
    dtype = choice(dtype, "distance dtype", tuple(DTYPES))
    block_size = positive_int(block_size, "block_size")
    x, y = as_matrix(real, "real features"), as_matrix(fake, "fake features")
    same_dim(x, y)
    _check_sizes(len(x), len(y), want, pr_k, dc_k)
    _warn_small(len(x), len(y), pr_k if want & {"precision", "recall", "realism"} else 0,
                dc_k if want & {"density", "coverage"} else 0)

    mean = x.mean(axis=0, dtype=np.float64)
    real_t, fake_t = _centred(x, mean, dtype), _centred(y, mean, dtype)
    radii, zero_counts = _radii(real_t, fake_t, want, pr_k, dc_k, realism_percentile, block_size)
    _warn_zero_radii(zero_counts)
    state = _cross_pass(*real_t, *fake_t, radii, want, strict, block_size)

    common = {"n_real": len(x), "n_fake": len(y), "dim": x.shape[1], "dtype": dtype, "block_size": block_size,
              "distance": "squared Euclidean from the GEMM identity on real-mean-centred features",
              "zero_radii": zero_counts}
    pr_protocol = {"k": pr_k, "comparison": pr_comparison, **common}
    dc_protocol = {"k": dc_k, "comparison": dc_comparison, **common}
    values = {
        "precision": lambda: float(state.precision_hit.double().mean()),
        "recall": lambda: float(state.recall_hit.double().mean()),
        "density": lambda: float(state.density_count.sum()) / (dc_k * len(y)),
        "coverage": lambda: float((torch.lt if strict["dc"] else torch.le)(state.nearest_fake, radii["real_dc"])
                                  .double().mean()),
    }
    results: dict[str, dict[str, Any]] = {
        name: {"value": values[name](), "protocol": pr_protocol if name in ("precision", "recall") else dc_protocol}
        for name in MEASURES if name in want and name != "realism"}
    if "realism" in want:
        results["realism"] = {"values": torch.sqrt(state.realism_sq).tolist(),
                              "protocol": {"k": pr_k, "percentile": realism_percentile, "eps": REALISM_EPS,
                                           "form": "max_i r_i / d(fake, real_i), Euclidean", **common}}
    return results
