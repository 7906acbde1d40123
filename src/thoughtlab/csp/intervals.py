"""Image-level bootstrap intervals of MR⁻² and of statistics built from several MR⁻² values.

MR⁻² is not a mean over images (it pools every image's detections before reading the miss rate at nine
FPPI references), so its interval resamples *test images* and re-runs the official accumulation on each
resample (:class:`thoughtlab.csp.evaluate.ImageMatches`); a resample that draws an image twice counts it
twice.  ``scipy.stats.bootstrap`` (BCa, Efron 1987) draws the resamples: one index sample per test set,
resampled independently, and every detector evaluated on a test set sees the *same* resampled images
(paired).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats as scipy_stats

from thoughtlab.csp.evaluate import ImageMatches
from thoughtlab.errors import BadInput
from thoughtlab.stats import LEVEL, Interval

N_RESAMPLES = 1000


def mr2_or_nan(matches: ImageMatches, indices: np.ndarray) -> float:
    """MR⁻² of the images at ``indices``; NaN when the resample holds no person of the subset."""
    value = matches.mr2(indices)
    return math.nan if value is None else float(value)


def image_bootstrap(statistic: Callable[..., float], sizes: Sequence[int], seed: int,
                    n_resamples: int = N_RESAMPLES, level: float = LEVEL) -> Interval:
    """``statistic(idx_1, idx_2, ...)`` of one index array per test set, with its BCa bootstrap interval.

    ``sizes`` are the test sets' image counts; each index array is resampled independently with
    replacement.  The estimate is the statistic on all images in order.  Fewer than 2 images in some set,
    or a statistic that is undefined on some resample (NaN), gives an unbounded interval.
    """
    if not sizes or min(sizes) < 1:
        raise BadInput(f"image_bootstrap needs at least one image per test set, got sizes {list(sizes)}")
    samples = tuple(np.arange(n) for n in sizes)
    estimate = float(statistic(*samples))
    method = f"BCa bootstrap over test images ({' + '.join(map(str, sizes))}, {n_resamples} resamples)"
    if min(sizes) < 2 or not math.isfinite(estimate):
        return Interval(estimate, -math.inf, math.inf, int(sum(sizes)), "too few images: no interval")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy_stats.DegenerateDataWarning)
        result = scipy_stats.bootstrap(samples, lambda *idx: statistic(*idx), n_resamples=n_resamples,
                                       vectorized=False, paired=False, confidence_level=level, method="BCa",
                                       random_state=np.random.default_rng(seed))
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    if np.ptp(result.bootstrap_distribution) == 0 and np.all(result.bootstrap_distribution == estimate):
        return Interval(estimate, estimate, estimate, int(sum(sizes)), method + ": constant on every resample")
    if not (math.isfinite(low) and math.isfinite(high)):
        return Interval(estimate, -math.inf, math.inf, int(sum(sizes)), method + ": undefined on some resample")
    return Interval(estimate, low, high, int(sum(sizes)), method)
