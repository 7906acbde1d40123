"""The observed critical batch: McCandlish et al.'s steps-vs-batch model fitted to steps-to-target.

McCandlish, Kaplan, Amodei et al. (2018), "An Empirical Model of Large-Batch Training", eq. 2.11 and §2.3:
the steps a run of batch B needs to reach a fixed target follow

    S(B) = S_min · (1 + B_crit / B)

— at small B a doubled batch halves the steps (S ∝ 1/B), beyond the critical batch B_crit the steps stop
falling (S → S_min).  The model is linear in 1/B (S = a + b/B with a = S_min, b = S_min·B_crit), so it is
fitted by least squares on (1/B, S) and B_crit = b / a.  They predict B_crit ≈ B_noise ≈ B_simple (§2.2),
the gradient noise scale of :mod:`thoughtlab.train.noise_scale`; the ``gan-batch-size`` study compares the two.

The fit says nothing when the data show no floor (a ≤ 0: the steps still fall ∝ 1/B at the largest batch,
B_crit is beyond the sweep) or no fall (b ≤ 0: a larger batch does not help, B_crit is below the sweep);
``inside`` marks a fit whose B_crit lies within ``extrapolation`` × the swept range.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thoughtlab.errors import BadInput


@dataclass(frozen=True)
class CriticalBatch:
    """Fitted S(B) = s_min·(1 + b_crit/B); ``b_crit`` is nan when the fit shows no floor or no fall."""

    s_min: float
    b_crit: float
    inside: bool


def fit_critical_batch(batches: Sequence[float], steps: Sequence[float], extrapolation: float = 4.0) -> CriticalBatch:
    """Least-squares fit of steps = a + b/B over ≥ 3 batches (McCandlish et al. 2018, eq. 2.11)."""
    if len(batches) != len(steps) or len(set(batches)) < 3:
        raise BadInput(f"the critical-batch fit needs steps at ≥ 3 distinct batches, got batches {list(batches)} "
                       f"and {len(steps)} step counts")
    if min(batches) <= 0 or not all(math.isfinite(s) and s > 0 for s in steps):
        raise BadInput(f"batches and steps must be positive and finite, got {list(batches)} and {list(steps)}")
    inverse = 1.0 / np.asarray(batches, dtype=float)
    design = np.stack([np.ones_like(inverse), inverse], axis=1)
    (a, b), *_ = np.linalg.lstsq(design, np.asarray(steps, dtype=float), rcond=None)
    if a <= 0 or b <= 0:
        return CriticalBatch(s_min=float(a), b_crit=math.nan, inside=False)
    b_crit = float(b / a)
    inside = min(batches) / extrapolation <= b_crit <= max(batches) * extrapolation
    return CriticalBatch(s_min=float(a), b_crit=b_crit, inside=inside)
