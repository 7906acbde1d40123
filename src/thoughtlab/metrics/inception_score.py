"""Inception Score (Salimans et al. 2016, "Improved techniques for training GANs", §4).

IS = exp(E_x KL(p(y|x) ‖ p(y))), with p(y) the mean of p(y|x) over a split.  The
samples are split into ``splits`` consecutive chunks with boundaries
⌊i·N/splits⌋ (as the original OpenAI code and torch-fidelity) after an optional
seeded shuffle (the original does not shuffle; torch-fidelity does, since IS
depends on sample order), and the report is the mean and std over splits
(ddof=0 as the original and torch-fidelity; torchmetrics and piq use ddof=1).
Probabilities come from logits by a float64 log-softmax; for the FID Inception
network pass the 1008 "logits_unbiased" (pool3·W without the bias).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.special import log_softmax, xlogy

from thoughtlab.errors import BadInput
from thoughtlab.metrics.checks import SmallSampleWarning, as_matrix, choice, positive_int, require_samples

KINDS = ("logits", "probs")
PROB_SUM_TOLERANCE = 1e-3


def class_probabilities(scores: Any, kind: str = "logits") -> np.ndarray:
    """p(y|x) (N, C) in float64 from logits or already-normalised probabilities (checked)."""
    values = as_matrix(scores, f"IS {kind}").astype(np.float64)
    if choice(kind, "IS input kind", KINDS) == "logits":
        return np.exp(log_softmax(values, axis=1))
    if (values < 0).any() or np.abs(values.sum(axis=1) - 1.0).max() > PROB_SUM_TOLERANCE:
        raise BadInput("IS probabilities must be non-negative with rows summing to 1; "
                       "pass kind='logits' for raw scores")
    return values


def split_scores(probs: np.ndarray, splits: int) -> np.ndarray:
    """exp(mean KL(p(y|x) ‖ p(y))) for each of the ``splits`` consecutive chunks."""
    n = len(probs)
    scores = np.empty(splits)
    for index in range(splits):
        part = probs[index * n // splits:(index + 1) * n // splits]
        marginal = part.mean(axis=0, keepdims=True)
        kl = xlogy(part, part).sum(axis=1) - xlogy(part, marginal).sum(axis=1)
        scores[index] = np.exp(kl.mean())
    return scores


def compute_inception_score(scores: Any, *, kind: str = "logits", splits: int = 10, shuffle: bool = True,
                            seed: int = 0, ddof: int = 0) -> dict[str, Any]:
    """IS of class scores (N, C) of generated samples.

    Args:
        kind: ``"logits"`` (softmax applied here) or ``"probs"``.
        splits: number of chunks (10 in the original).
        shuffle: permute the samples with ``numpy.random.default_rng(seed)`` before splitting.
        ddof: std convention over splits (0: original/torch-fidelity; 1: torchmetrics/piq).

    Returns:
        ``{"value": mean over splits, "std": std over splits, "protocol": {...}}``.
    """
    probs = class_probabilities(scores, kind)
    splits = positive_int(splits, "IS splits")
    if ddof not in (0, 1) or isinstance(ddof, bool) or splits <= ddof:
        raise BadInput(f"IS ddof must be 0 or 1 and below splits, got ddof={ddof!r} with splits={splits}")
    require_samples(len(probs), splits, "IS", "generated", f"one per split, splits={splits}")
    if len(probs) < 10 * splits:
        warnings.warn(f"IS: {len(probs)} samples in {splits} splits leaves fewer than 10 per split; "
                      "the score is dominated by noise", SmallSampleWarning, stacklevel=2)
    if shuffle:
        probs = probs[np.random.default_rng(seed).permutation(len(probs))]
    values = split_scores(probs, splits)
    protocol = {"splits": splits, "shuffle": bool(shuffle), "seed": seed if shuffle else None, "std_ddof": ddof,
                "input": kind, "n": len(probs), "classes": probs.shape[1], "split_bounds": "floor(i*N/splits)"}
    return {"value": float(values.mean()), "std": float(values.std(ddof=ddof)),
            "protocol": protocol}
