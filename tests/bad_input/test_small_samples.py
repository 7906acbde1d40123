"""KID and the k-NN metrics warn, as FID does, when N is too small for the estimate to mean much."""

import warnings

import numpy as np
import pytest

from thoughtlab.metrics import SmallSampleWarning, compute_kid, compute_knn
from thoughtlab.metrics.inputs import FeatureCache


def features(n, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def warned(call) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught if issubclass(w.category, SmallSampleWarning)]


def test_kid_warns_below_100_samples_per_subset_only():
    assert any("m=99" in m for m in warned(lambda: compute_kid(features(99), features(150, seed=1), subsets=2)))
    assert warned(lambda: compute_kid(features(100), features(150, seed=1), subsets=2)) == []
    # the subset size, not N, decides: 1000 samples drawn 50 at a time are as noisy as 50 samples
    assert warned(lambda: compute_kid(features(300), features(300, seed=1), subsets=2, subset_size=50))


@pytest.mark.parametrize("measures, k, n_warn, n_quiet", [(["precision", "recall"], 3, 29, 30),
                                                          (["density", "coverage"], 5, 49, 50)])
def test_knn_warns_below_ten_times_k_samples(measures, k, n_warn, n_quiet):
    assert any(f"k={k}" in m for m in warned(lambda: compute_knn(features(n_warn), features(60, seed=1),
                                                                 measures=measures)))
    assert not any("10 x k" in m for m in warned(lambda: compute_knn(features(n_quiet), features(60, seed=1),
                                                                      measures=measures)))


def test_an_unwritable_feature_cache_warns_and_keeps_the_features(tmp_path):
    (tmp_path / "file").write_text("x")
    cache = FeatureCache(tmp_path / "file" / "cache")
    with pytest.warns(RuntimeWarning, match="not cached"):
        cache.put(cache.folder / "a.npz", np.zeros((2, 3)), None)
