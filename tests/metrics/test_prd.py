"""PRD: the published unit-test vectors of the reference code (prd_score_test.py), clustering, seeding."""

import numpy as np
import pytest

from thoughtlab.errors import BadInput
from thoughtlab.metrics import compute_prd, compute_prd_from_features, prd_to_max_f_beta_pair
from thoughtlab.metrics.prd import cluster_histograms, f_beta


def test_no_overlap_gives_zero_everywhere():
    np.testing.assert_almost_equal(np.ravel(compute_prd([0, 1], [1, 0])), 0)


def test_perfect_overlap_gives_one_at_the_middle_angle():
    precision, recall = compute_prd([1, 0], [1, 0], num_angles=11)
    np.testing.assert_almost_equal([precision[5], recall[5]], [1, 1])


def test_low_precision_high_recall():
    precision, recall = compute_prd([0.5, 0.5], [1, 0], num_angles=11)
    np.testing.assert_almost_equal([precision[5], recall[5], precision[10], recall[1]], [0.5, 0.5, 0.5, 1])


def test_high_precision_low_recall():
    precision, recall = compute_prd([1, 0], [0.5, 0.5], num_angles=11)
    np.testing.assert_almost_equal([precision[5], recall[5], recall[1], precision[10]], [0.5, 0.5, 0.5, 1])


@pytest.mark.parametrize("epsilon", [0, 1, -1])
def test_bad_epsilon(epsilon):
    with pytest.raises(BadInput, match="epsilon"):
        compute_prd([1], [1], epsilon=epsilon)


@pytest.mark.parametrize("num_angles", [0, 1, -1, 1e6 + 1, 2.5])
def test_bad_num_angles(num_angles):
    with pytest.raises(BadInput, match="num_angles"):
        compute_prd([1], [1], num_angles=num_angles)


def test_f_beta_published_values():
    precision = np.array([1, 1, 0, 0, 0.5, 1, 0.5])
    recall = np.array([1, 0, 1, 0, 0.5, 0.5, 1])
    np.testing.assert_almost_equal(f_beta(precision, recall, 1), [1, 0, 0, 0, 0.5, 2 / 3, 2 / 3])
    np.testing.assert_almost_equal(f_beta(precision, recall, 2), [1, 0, 0, 0, 0.5, 5 / 9, 5 / 6])
    np.testing.assert_almost_equal(f_beta(precision, recall, 1 / 2), [1, 0, 0, 0, 0.5, 5 / 6, 5 / 9])
    np.testing.assert_almost_equal(f_beta(np.array([]), np.array([]), 1), np.array([]))


def test_f_beta_rejects_bad_beta_and_values():
    for beta in (0, -3):
        with pytest.raises(BadInput, match="beta"):
            f_beta(np.ones(1), np.ones(1), beta)
    with pytest.raises(BadInput, match="precision"):
        f_beta(-np.ones(1), np.ones(1), 1)
    with pytest.raises(BadInput, match="recall"):
        f_beta(np.ones(1), -np.ones(1), 1)


def test_cluster_histograms_are_distributions():
    eval_hist, ref_hist = cluster_histograms(np.zeros((5, 4)), np.ones((5, 4)), 3, random_state=0)
    assert len(eval_hist) == len(ref_hist) == 3
    np.testing.assert_almost_equal([eval_hist.sum(), ref_hist.sum()], [1, 1])


def test_balance_is_enforced_unless_disabled():
    with pytest.raises(BadInput, match="equal set sizes"):
        compute_prd_from_features(np.array([[0.0], [1.0]]), np.array([[0.0], [0.0], [1.0]]), num_clusters=2)
    result = compute_prd_from_features(np.array([[0.0], [1.0]]), np.array([[0.0], [0.0], [1.0]]), num_clusters=2,
                                       num_runs=1, enforce_balance=False)
    assert 0 <= result["prd_f_beta"]["value"] <= 1


def test_mode_dropping_lowers_f8_not_f1_8_and_seeds_reproduce():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((10, 8)) * 10
    real = np.repeat(centres, 40, axis=0) + rng.standard_normal((400, 8))
    dropped = np.repeat(centres[:5], 80, axis=0) + rng.standard_normal((400, 8))  # 5 of 10 modes
    result = compute_prd_from_features(real, dropped, num_clusters=10, num_runs=2, seed=1)
    assert result["prd_f_beta"]["value"] < 0.7 < 0.9 < result["prd_f_inv_beta"]["value"]
    assert result == compute_prd_from_features(real, dropped, num_clusters=10, num_runs=2, seed=1)
    assert len(result["prd_curve"]["precision"]) == 1001
    same = compute_prd_from_features(real, real[::-1].copy(), num_clusters=10, num_runs=2, seed=1)
    assert min(same["prd_f_beta"]["value"], same["prd_f_inv_beta"]["value"]) > 0.95


def test_max_f_beta_pair_of_a_curve():
    precision, recall = compute_prd([0.5, 0.5], [1, 0])
    f8, f1_8 = prd_to_max_f_beta_pair(precision, recall)
    assert f8 > f1_8  # recall is high, precision is low
