"""Mixtures of Gaussians: the PacGAN specs, the family, and the mode-coverage metrics on known inputs."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thoughtlab.errors import BadInput
from thoughtlab.generative.synthetic import mog


def test_pacgan_specs():
    r, g = mog.ring(), mog.grid()
    assert r.k == 8 and r.sigma == 0.01 and np.allclose(np.linalg.norm(r.means, axis=1), 1.0)
    assert np.allclose(r.means[2], [0.0, 1.0])  # 90° is the third mode
    assert g.k == 25 and g.sigma == 0.05
    assert sorted(set(g.means[:, 0].round(6))) == [-4, -2, 0, 2, 4]


def test_true_samples_capture_every_mode_with_chi2_quality():
    for mixture in (mog.ring(), mog.grid(), mog.family(9, 20, 8, seed=1)):
        x, labels = mixture.sample(mog.EVAL_SAMPLES, seed=0)
        score = mog.coverage(mixture, x)
        assert score.modes == mixture.k
        expected = 100 * (1 - math.exp(-4.5))  # P(chi_2 <= 3) = 98.89 %
        assert abs(score.hq_percent - expected) < 1.0
        assert score.reverse_kl < 0.02


def test_single_mode_and_two_mode_generators():
    r = mog.ring()
    one = np.tile(r.means[0], (100, 1))
    score = mog.coverage(r, one)
    assert (score.modes, score.hq_percent) == (1, 100.0)
    assert score.reverse_kl == pytest.approx(math.log(8))
    two = np.concatenate([np.tile(r.means[0], (50, 1)), np.tile(r.means[3], (50, 1))])
    assert mog.coverage(r, two).reverse_kl == pytest.approx(math.log(4))


def test_far_samples_are_not_high_quality_and_hq_threshold_is_3_sigma():
    r = mog.ring()
    just_in = r.means[:1] + np.array([[2.99 * r.sigma, 0.0]])
    just_out = r.means[:1] + np.array([[3.01 * r.sigma, 0.0]])
    assert mog.coverage(r, just_in).modes == 1
    out = mog.coverage(r, just_out)
    assert (out.modes, out.hq_percent) == (0, 0.0) and math.isnan(out.reverse_kl)


def test_family_geometry_and_seeding():
    m = mog.family(9, ratio=20, dim=8, seed=3)
    assert m.means.shape == (9, 8)
    assert np.allclose(m.basis.T @ m.basis, np.eye(2))
    d = np.linalg.norm(m.means[:, None] - m.means[None], axis=2) + np.eye(9) * 1e9
    assert d.min() == pytest.approx(20 * m.sigma)  # separation / sigma = ratio
    assert np.array_equal(m.sample(10, 0)[0], mog.family(9, 20, 8, seed=3).sample(10, 0)[0])
    assert not np.allclose(m.basis, mog.family(9, 20, 8, seed=4).basis)
    assert mog.family(7, 10, 2, seed=0).k == 7


@pytest.mark.parametrize("args", [(0, 10, 2), (4, 0, 2), (4, -1, 2), (4, 10, 1)])
def test_bad_family_parameters(args):
    with pytest.raises(BadInput, match="mixture family"):
        mog.family(*args, seed=0)


@pytest.mark.parametrize("samples,match", [(np.zeros((5, 3)), "must be"), (np.zeros((0, 2)), "must be"),
                                           (np.full((2, 2), np.nan), "NaN")])
def test_bad_samples(samples, match):
    with pytest.raises(BadInput, match=match):
        mog.coverage(mog.ring(), samples)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=1, max_size=60))
def test_scores_stay_in_range(points):
    g = mog.grid()
    score = mog.coverage(g, np.array(points))
    assert 0 <= score.modes <= 25 and 0 <= score.hq_percent <= 100
    assert sum(score.histogram) == round(score.hq_percent * len(points) / 100)
    assert math.isnan(score.reverse_kl) or -1e-12 <= score.reverse_kl <= math.log(25) + 1e-12
