"""Scores on the oracle: NLL_oracle (quality) paired with NLL_test (diversity), and the temperature curve.

- NLL_oracle (Yu et al. 2017): mean −log p_oracle of the generator's samples, nats/token.
- NLL_test (Texygen's "inverse NLL"): the generator's own mean −log p_τ on fresh oracle samples.
- Caccia et al. (2020, "Language GANs falling short"): sweeping the MLE model's softmax temperature
  τ traces a quality–diversity curve; a GAN beats MLE only if its point lies below that curve, i.e.
  its NLL_oracle is lower than the curve's at the same NLL_test (:func:`curve_gap`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from thoughtlab.generative.text.lstm import TokenLSTM, mean_nll, sample_in_batches


@dataclass(frozen=True)
class Point:
    """One generator (at one temperature) on the quality–diversity plane, with per-sequence values."""

    temperature: float
    nll_oracle: float
    nll_test: float
    oracle_items: tuple[float, ...]  # per generated sequence
    test_items: tuple[float, ...]  # per held-out oracle sequence


def score(gen: TokenLSTM, oracle: TokenLSTM, test: torch.Tensor, n: int, seed: int, temperature: float = 1.0) -> Point:
    """NLL_oracle of ``n`` samples at ``temperature`` and NLL_test of the tempered model on ``test``."""
    samples = sample_in_batches(gen, n, seed, temperature=temperature)
    o = mean_nll(oracle, samples)
    t = mean_nll(gen, test, temperature)
    return Point(temperature, float(o.mean()), float(t.mean()), tuple(o.tolist()), tuple(t.tolist()))


def temperature_curve(gen: TokenLSTM, oracle: TokenLSTM, test: torch.Tensor, n: int, seed: int,
                      temperatures: tuple[float, ...]) -> list[Point]:
    """The MLE model's quality–diversity curve (Caccia et al. 2020, §4)."""
    return [score(gen, oracle, test, n, seed + k, tau) for k, tau in enumerate(temperatures)]


def frontier(curve: list[Point]) -> list[Point]:
    """The curve's Pareto-efficient points (no other point is better on both NLLs), by increasing NLL_test."""
    ordered = sorted(curve, key=lambda p: (p.nll_test, p.nll_oracle))
    kept: list[Point] = []
    for p in ordered:
        if not kept or p.nll_oracle < kept[-1].nll_oracle:
            kept.append(p)
    return kept


def curve_at(curve: list[Point], nll_test: float) -> tuple[float, bool]:
    """The frontier's NLL_oracle at ``nll_test`` by linear interpolation; flag if ``nll_test`` is outside it
    (then the nearest end is used)."""
    front = frontier(curve)
    xs = np.array([p.nll_test for p in front])
    ys = np.array([p.nll_oracle for p in front])
    inside = bool(xs[0] <= nll_test <= xs[-1])
    return float(np.interp(nll_test, xs, ys)), inside


def curve_gap(curve: list[Point], point: Point) -> tuple[float, bool]:
    """Curve NLL_oracle − the point's NLL_oracle at the point's NLL_test: > 0 means the point beats the curve."""
    at, inside = curve_at(curve, point.nll_test)
    return at - point.nll_oracle, inside
