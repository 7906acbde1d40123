"""Interval estimates for verdicts, and one rule for sub-seeds.

Claims are judged on an effect size with a 95 % interval, never on a point score (Agarwal et al. 2021,
"Deep RL at the edge of the statistical precipice": interval estimates over runs instead of point
estimates).  Two estimators cover the studies:

* :func:`mean_ci` — Student-t interval of a mean over independent units (seeds): exact for normal
  data, and honest with few seeds (the t quantile widens the interval; one unit gives an unbounded one).
* :func:`bootstrap_ci` — ``scipy.stats.bootstrap`` (BCa) over many units, e.g. the (seed, test item)
  pairs of a paired comparison.

:func:`paired` builds the paired differences of two arms from per-seed views, and :func:`child_seed`
(:func:`child_rng` for a NumPy generator) derives every sub-seed from the run's seed and a few keys.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

from thoughtlab.errors import BadInput

LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided interval.

    Attributes:
        estimate: the effect's point estimate.
        low, high: the interval's ends (``-inf``/``inf`` when it cannot be resolved, e.g. one seed).
        n: the number of units the interval is computed over.
        method: how it was computed (shown in the report).
    """

    estimate: float
    low: float
    high: float
    n: int
    method: str

    @property
    def half_width(self) -> float:
        """Half the interval's width: the smallest effect this interval can resolve."""
        return (self.high - self.low) / 2

    def to_json(self) -> dict[str, Any]:
        """JSON numbers (non-finite ends as ``None``)."""
        return {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in asdict(self).items()}


def _finite_array(values: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if array.size == 0:
        raise BadInput(f"{what}: no values to estimate from; the study must measure at least one unit")
    if not np.all(np.isfinite(array)):
        raise BadInput(f"{what}: non-finite values {array[~np.isfinite(array)][:3].tolist()}; the study must report defined numbers")
    return array


def mean_ci(values: Sequence[float] | np.ndarray, level: float = LEVEL) -> Interval:
    """Mean of independent units with its Student-t interval: x̄ ± t_{(1+level)/2, n−1} · s/√n.

    One unit gives an unbounded interval (nothing can be resolved from one seed).
    """
    x = _finite_array(values, "mean_ci")
    n, mean = x.size, float(x.mean())
    if n == 1:
        return Interval(mean, -math.inf, math.inf, 1, "one unit: no interval")
    half = float(scipy_stats.t.ppf((1 + level) / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n, f"Student t over {n} units")


MAX_ABS_CORRELATION = 0.9999  # |ρ| = 1 has an infinite Fisher z; clipped so a perfect seed still counts


def correlation_ci(values: Sequence[float] | np.ndarray, level: float = LEVEL) -> Interval:
    """Mean correlation over independent units via Fisher's z (Fisher 1915): the Student-t interval of
    z = atanh(ρ) over units, mapped back by tanh, so the interval stays inside [−1, 1] and is skewed
    toward 0 near ±1 as a correlation's sampling distribution is. The estimate is tanh(mean z).
    """
    rho = _finite_array(values, "correlation_ci")
    if np.any(np.abs(rho) > 1):
        raise BadInput(f"correlation_ci: correlations must lie in [-1, 1], got {rho[np.abs(rho) > 1][0]:g}")
    z = mean_ci(np.arctanh(np.clip(rho, -MAX_ABS_CORRELATION, MAX_ABS_CORRELATION)), level)
    low, high = (math.tanh(b) if math.isfinite(b) else b for b in (z.low, z.high))  # one unit: unbounded
    return Interval(math.tanh(z.estimate), low, high, z.n, f"Fisher z, {z.method}")


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], float] = np.mean,
    level: float = LEVEL,
    n_resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """``statistic`` of the units with a BCa bootstrap interval (``scipy.stats.bootstrap``).

    Constant data (zero spread) gives a zero-width interval at the value; fewer than 3 units fall back
    to :func:`mean_ci` when the statistic is the mean, else an unbounded interval.
    """
    x = _finite_array(values, "bootstrap_ci")
    estimate = float(statistic(x))
    if x.size < 3:
        if statistic is np.mean:
            return mean_ci(x, level)
        return Interval(estimate, -math.inf, math.inf, x.size, "fewer than 3 units: no interval")
    if np.ptp(x) == 0:
        return Interval(estimate, estimate, estimate, x.size, f"constant over {x.size} units")
    for method in ("BCa", "percentile"):  # BCa degenerates (non-finite ends) on near-constant data
        result = scipy_stats.bootstrap(
            (x,), lambda s, axis: np.apply_along_axis(statistic, axis, s), confidence_level=level,
            n_resamples=n_resamples, method=method, random_state=np.random.default_rng(seed), vectorized=True,
        )
        low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
        if math.isfinite(low) and math.isfinite(high):
            break
    return Interval(estimate, low, high, x.size, f"{method} bootstrap over {x.size} units")


def proportion_ci(share: float, n: int, level: float = LEVEL) -> Interval:
    """A share of ``n`` independent trials (an accuracy on a test set) with its normal-approximation interval
    p ± z·√(v/n), v = max(p(1 − p), 1/(4n)): the variance floor keeps a width at p = 0 or 1 instead of none.
    """
    if not (0.0 <= share <= 1.0) or n < 1:
        raise BadInput(f"proportion_ci: share {share} of n={n} trials; pass a share in [0, 1] and n >= 1")
    half = float(scipy_stats.norm.ppf((1 + level) / 2) * math.sqrt(max(share * (1 - share), 0.25 / n) / n))
    return Interval(share, share - half, share + half, n, f"normal approximation over {n} trials")


def paired(views: Sequence[Mapping[str, Any]], key_a: str, key_b: str, items: bool = False) -> np.ndarray:
    """Differences ``a − b`` of two arms that share seed (and test items).

    With ``items=False`` each view (one seed) holds scalars ``key_a``, ``key_b``: one difference per
    seed.  With ``items=True`` each view holds equal-length lists (the same test items in the same
    order): one difference per (seed, item) pair.
    """
    diffs = []
    for view in views:
        a, b = np.asarray(view[key_a], dtype=float), np.asarray(view[key_b], dtype=float)
        if a.shape != b.shape:
            raise BadInput(f"paired: {key_a!r} has shape {a.shape} but {key_b!r} has {b.shape}; arms must share items")
        if items != (a.ndim == 1):
            raise BadInput(f"paired: {key_a!r} is {'a list' if a.ndim else 'a scalar'}; pass items={a.ndim == 1}")
        diffs.append(np.atleast_1d(a - b))
    return np.concatenate(diffs)


def paired_effect(views: Sequence[Mapping[str, Any]], key_a: str, key_b: str, items: bool = False) -> Interval:
    """Mean paired difference ``a − b``: t interval over seeds, or BCa bootstrap over (seed, item) pairs."""
    diffs = paired(views, key_a, key_b, items)
    return bootstrap_ci(diffs) if items else mean_ci(diffs)


def _entropy(seed: int, keys: tuple[Any, ...]) -> np.random.SeedSequence:
    """``SeedSequence((seed, *keys))``: a non-negative int key enters as itself, any other key (a name, a
    float such as a ratio) as the CRC-32 of its ``str``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise BadInput(f"child_seed: seed {seed!r} must be a non-negative integer")
    words = [int(seed)]
    for key in keys:
        plain = isinstance(key, (int, np.integer)) and not isinstance(key, bool) and key >= 0
        words.append(int(key) if plain else zlib.crc32(str(key).encode()))
    return np.random.SeedSequence(words)


def child_seed(seed: int, *keys: Any) -> int:
    """A sub-seed in [0, 2³²) derived from ``seed`` and ``keys``: NumPy's ``SeedSequence((seed, *keys))``
    hashed to one 32-bit word (stable across runs, machines and NumPy versions; keys other than non-negative
    ints enter as the CRC-32 of their ``str``).

    Use it for every sub-seed (``torch.Generator().manual_seed``, ``fit(seed=...)``); arithmetic such as
    ``seed + 1`` or ``1000 * seed + i`` makes the streams of neighbouring seeds and indices collide.
    """
    return int(_entropy(seed, keys).generate_state(1)[0])


def child_rng(seed: int, *keys: Any) -> np.random.Generator:
    """A NumPy generator on the stream ``SeedSequence((seed, *keys))`` (as ``np.random.default_rng([seed, *keys])``)."""
    return np.random.default_rng(_entropy(seed, keys))


def exact(value: float, method: str) -> Interval:
    """A value with no sampling uncertainty (an algebraic check, a worst case over all draws)."""
    return Interval(float(value), float(value), float(value), 1, method)
