"""Inception Score: closed cases, split and std conventions, seeding, bad input."""

import numpy as np
import pytest
import torch

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.metrics import compute_inception_score
from thoughtlab.metrics.checks import SmallSampleWarning


def test_uniform_predictions_score_one():
    result = compute_inception_score(np.zeros((200, 7)))
    assert result["value"] == pytest.approx(1.0, abs=1e-12) and result["std"] == pytest.approx(0.0, abs=1e-12)


def test_confident_balanced_predictions_score_the_number_of_classes():
    probs = np.tile(np.eye(5), (40, 1))  # each split of 20 holds every class 4 times
    result = compute_inception_score(probs, kind="probs", shuffle=False)
    assert result["value"] == pytest.approx(5.0, rel=1e-12)


def test_logits_and_probabilities_agree():
    logits = np.random.default_rng(0).standard_normal((300, 10)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    from_probs = compute_inception_score(probs, kind="probs")["value"]
    assert compute_inception_score(logits)["value"] == pytest.approx(from_probs, rel=1e-12)


def test_splits_follow_the_original_boundaries_and_std_convention():
    logits = np.random.default_rng(1).standard_normal((105, 6)) * 2
    result = compute_inception_score(logits, shuffle=False)
    bounds = [i * 105 // 10 for i in range(11)]
    expected = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        p = np.exp(logits[lo:hi]) / np.exp(logits[lo:hi]).sum(axis=1, keepdims=True)
        expected.append(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(p.mean(axis=0))), axis=1))))
    assert result["value"] == pytest.approx(np.mean(expected), rel=1e-12)
    assert result["std"] == pytest.approx(np.std(expected), rel=1e-10)
    bessel = compute_inception_score(logits, shuffle=False, ddof=1)
    assert bessel["std"] / result["std"] == pytest.approx(np.sqrt(10 / 9), rel=1e-12)


def test_seeded_shuffle_reproduces_and_torch_matches_numpy():
    logits = np.random.default_rng(2).standard_normal((500, 10)).astype(np.float32)
    first = compute_inception_score(logits, seed=4)
    assert first == compute_inception_score(torch.from_numpy(logits), seed=4)
    assert first["std"] != compute_inception_score(logits, seed=5)["std"]
    assert first["protocol"]["seed"] == 4 and first["protocol"]["std_ddof"] == 0


def test_inception_score_bad_inputs():
    with pytest.raises(BadInput, match="at least 10 generated samples"):
        compute_inception_score(np.zeros((9, 3)))
    with pytest.raises(BadInput, match="rows summing to 1"):
        compute_inception_score(np.full((50, 3), 0.5), kind="probs")
    with pytest.raises(UnknownName, match="IS input kind"):
        compute_inception_score(np.zeros((50, 3)), kind="softmax")
    with pytest.raises(BadInput, match="ddof"):
        compute_inception_score(np.zeros((50, 3)), ddof=2)
    with pytest.warns(SmallSampleWarning, match="fewer than 10 per split"):
        compute_inception_score(np.zeros((50, 3)))
