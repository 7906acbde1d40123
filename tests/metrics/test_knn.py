"""k-NN metrics: closed cases, a direct full-matrix reference, prdc parity, degenerate inputs, bad input."""

import contextlib
import io

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.metrics import compute_knn
from thoughtlab.metrics.checks import SmallSampleWarning

ALL = ("precision", "recall", "density", "coverage", "realism")


def _values(result):
    return {key: entry["value"] for key, entry in result.items() if "value" in entry}


def _direct(real, fake, k, percentile=50.0):
    """Improved P&R with <= and the reference code's realism score, from full distance matrices."""
    kth = lambda d: np.sort(d, axis=1)[:, k]  # noqa: E731  (index 0 is the point itself)
    real_radii, fake_radii = kth(cdist(real, real)), kth(cdist(fake, fake))
    cross = cdist(real, fake)
    precision = (cross <= real_radii[:, None]).any(axis=0).mean()
    recall = (cross <= fake_radii[None, :]).any(axis=1).mean()
    radii_sq = real_radii ** 2
    radii_sq[radii_sq > np.percentile(radii_sq, percentile)] = 0
    realism = np.sqrt(np.max(radii_sq[:, None] / (cross ** 2 + 1e-5), axis=0))
    return precision, recall, realism


@pytest.fixture(scope="module")
def gaussians():
    rng = np.random.default_rng(0)
    return rng.standard_normal((700, 24)), rng.standard_normal((600, 24)) * 1.2 + 0.2


def test_matches_a_direct_full_matrix_computation(gaussians):
    real, fake = gaussians
    result = compute_knn(real, fake, measures=ALL, dtype="float64", block_size=128)
    precision, recall, realism = _direct(real, fake, k=3)
    assert result["precision"]["value"] == precision and result["recall"]["value"] == recall
    np.testing.assert_allclose(result["realism"]["values"], realism, rtol=1e-9)


def test_block_size_does_not_change_results(gaussians):
    real, fake = gaussians
    results = [_values(compute_knn(real, fake, dtype="float64", block_size=size)) for size in (64, 250, 4096)]
    assert results[0] == results[1] == results[2]


def test_identical_large_sets_give_one_for_all_four():
    x = np.random.default_rng(1).standard_normal((3000, 16)).astype(np.float32)
    values = _values(compute_knn(x, x.copy()))
    assert values == {"precision": 1.0, "recall": 1.0, "density": 1.0, "coverage": 1.0}


def test_two_samples_of_one_distribution_score_high_in_low_dimension():
    rng = np.random.default_rng(2)
    values = _values(compute_knn(rng.standard_normal((3000, 2)), rng.standard_normal((3000, 2))))
    assert min(values["precision"], values["recall"], values["coverage"]) > 0.9
    assert 0.85 < values["density"] < 1.15


def test_precision_falls_for_off_manifold_fakes_while_recall_needs_coverage():
    rng = np.random.default_rng(3)
    real = rng.standard_normal((2000, 8))
    fake = rng.standard_normal((2000, 8))
    fake[:1000, 0] += 20.0  # half the fakes far off the real manifold
    values = _values(compute_knn(real, fake))
    assert values["precision"] == pytest.approx(0.5, abs=0.06)
    assert values["density"] < 0.6 and values["recall"] > 0.8
    dropped = _values(compute_knn(real, real[real[:, 0] > 0] + 1e-3))  # mode dropping: half the real support
    assert dropped["precision"] > 0.95 and dropped["recall"] < 0.8 and dropped["coverage"] < 0.8


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_parity_with_prdc_at_k5_strict(gaussians, dtype):
    prdc = pytest.importorskip("prdc")
    real, fake = (x.astype(np.float32) for x in gaussians)
    with contextlib.redirect_stdout(io.StringIO()):
        expected = prdc.compute_prdc(real, fake, nearest_k=5)
    values = _values(compute_knn(real, fake, pr_k=5, dc_k=5, pr_comparison="<", dc_comparison="<", dtype=dtype))
    tolerance = 0.0 if dtype == "float64" else 2.0 / len(real)
    for key in ("precision", "recall", "density", "coverage"):
        assert values[key] == pytest.approx(float(expected[key]), abs=tolerance), key


def test_degenerate_identical_points_follow_the_documented_contract():
    ones = np.ones((20, 4), dtype=np.float32)
    with pytest.warns(SmallSampleWarning, match="zero radii"):
        strict = _values(compute_knn(ones, ones, pr_comparison="<", dc_comparison="<"))
    assert strict == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}  # prdc issue #7
    with pytest.warns(SmallSampleWarning):
        inclusive = _values(compute_knn(ones, ones, pr_comparison="<=", dc_comparison="<="))
    assert inclusive == {"precision": 1.0, "recall": 1.0, "density": 20 / 5, "coverage": 1.0}


def test_realism_is_high_for_real_like_fakes_and_low_for_outliers():
    rng = np.random.default_rng(4)
    real = rng.standard_normal((1500, 8))
    fake = np.vstack([real[:10] + 1e-3, rng.standard_normal((10, 8)) + 30.0])
    realism = np.asarray(compute_knn(real, fake, measures=["realism"])["realism"]["values"])
    assert realism.shape == (20,)
    assert np.all(realism[10:] < 0.2) and np.median(realism[:10]) > 1.0


def test_protocol_records_the_conventions(gaussians):
    real, fake = gaussians
    result = compute_knn(real, fake, measures=["precision", "coverage"], pr_k=4)
    assert set(result) == {"precision", "coverage"}
    assert result["precision"]["protocol"]["k"] == 4 and result["precision"]["protocol"]["comparison"] == "<="
    assert result["coverage"]["protocol"]["k"] == 5 and result["coverage"]["protocol"]["comparison"] == "<"


def test_runs_reproduce_bit_for_bit(gaussians):
    real, fake = (x.astype(np.float32) for x in gaussians)
    assert compute_knn(real, fake, measures=ALL) == compute_knn(real, fake, measures=ALL)


def test_knn_bad_inputs(gaussians):
    real, fake = gaussians
    with pytest.raises(BadInput, match="at least 6 real samples"):
        compute_knn(real[:5], fake)
    with pytest.raises(BadInput, match="recall needs at least 4 fake samples"):
        compute_knn(real, fake[:3])
    with pytest.raises(UnknownName, match="comparison"):
        compute_knn(real, fake, pr_comparison="=<")
    with pytest.raises(UnknownName, match="k-NN measure"):
        compute_knn(real, fake, measures=["fidelity"])
    with pytest.raises(UnknownName, match="dtype"):
        compute_knn(real, fake, dtype="float16")
    with pytest.raises(BadInput, match="dimensions"):
        compute_knn(real, fake[:, :5])
    with pytest.raises(BadInput, match="realism_percentile"):
        compute_knn(real, fake, measures=["realism"], realism_percentile=0)
    with pytest.raises(BadInput, match="pr_k"):
        compute_knn(real, fake, pr_k=0)
