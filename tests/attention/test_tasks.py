import numpy as np
import pytest

from thoughtlab.attention.tasks import (
    adding_problem,
    bag_members,
    digit_bags,
    needle_in_noise,
    noisy_channel_images,
)
from thoughtlab.errors import BadInput


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize("length", [22, 50, 300])
def test_adding_problem_follows_hochreiter_schmidhuber(length):
    sets = adding_problem(400, length, rng())
    lengths = sets.mask.sum(axis=1)
    assert lengths.min() >= length and lengths.max() < max(np.ceil(1.1 * length), length + 1)
    assert np.all(sets.mask == (np.arange(sets.x.shape[1]) < lengths[:, None]))
    values, marker = sets.x[..., 0], sets.x[..., 1]
    rows = np.arange(len(lengths))
    first, second = sets.key[:, 0], sets.key[:, 1]
    assert np.all(marker[rows, 0] == -1) and np.all(marker[rows, lengths - 1] == -1)
    assert np.all((marker == 1).sum(axis=1) == 2) and np.all(first != second)
    assert np.all((first >= 1) & (first <= 9))
    assert np.all((second >= 1) & (second < (lengths / 2 - 1).astype(int)))
    np.testing.assert_allclose(sets.y, 0.5 + (values[rows, first] + values[rows, second]) / 4, atol=1e-6)
    assert np.all(np.abs(values) <= 1) and np.all(values[~sets.mask] == 0)


def test_adding_problem_is_seeded():
    a, b = adding_problem(20, 50, rng(3)), adding_problem(20, 50, rng(3))
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.x, adding_problem(20, 50, rng(4)).x)


def test_needle_sits_at_its_position_with_its_label():
    sets = needle_in_noise(300, 40, 4, snr=50.0, rng=rng())
    assert sets.x.shape == (300, 40, 4) and sets.mask.all()
    rows = np.arange(300)
    assert np.array_equal(sets.x[..., 0].argmax(axis=1), sets.key[:, 0])
    assert np.array_equal(sets.x[rows, sets.key[:, 0], 1] > 0, sets.y == 1)
    assert set(np.unique(sets.y)) == {0, 1}


def test_needle_snr_may_vary_per_example_and_zero_is_pure_noise():
    snr = np.array([0.0, 100.0])
    sets = needle_in_noise(2, 10, 3, snr, rng())
    assert np.abs(sets.x[0]).max() < 10 and sets.x[1, sets.key[1, 0], 0] > 50


def test_bags_hold_exactly_one_target_in_positive_bags():
    labels = np.repeat(np.arange(10), 20)
    members, y = bag_members(labels, 60, 10, target=9, rng=rng())
    real = members >= 0
    sizes = real.sum(axis=1)
    assert sizes.min() >= 8 and sizes.max() <= 12 and y.sum() == 30
    assert np.all(real == (np.arange(members.shape[1]) < sizes[:, None]))
    targets = ((labels[np.where(real, members, 0)] == 9) & real).sum(axis=1)
    assert np.array_equal(targets, y)


def test_digit_bags_gather_features_and_point_at_the_witness():
    labels = np.repeat(np.arange(10), 5)
    images = np.arange(50, dtype=np.float32)[:, None] * np.ones((1, 3), dtype=np.float32)
    sets = digit_bags(images, labels, 20, 6, target=9, rng=rng(1))
    positive = sets.y == 1
    witness = sets.x[np.flatnonzero(positive), sets.key[positive, 0], 0].astype(int)
    assert np.all(labels[witness] == 9)
    assert np.all(sets.key[~positive, 0] == -1)
    assert np.all(sets.x[~sets.mask] == 0)


def test_noisy_channels_carry_the_image_or_pure_noise():
    images = rng().random((30, 1, 4, 4)).astype(np.float32)
    x, snr = noisy_channel_images(images, (1e-4, 0.5), (1e-4,), rng())
    assert x.shape == (30, 3, 4, 4)
    np.testing.assert_allclose(x[:, 0], images[:, 0], atol=1e-3)
    assert np.abs(x[:, 2]).max() < 1e-2
    assert snr[0] > snr[1] > 0 and snr[2] == 0


@pytest.mark.parametrize("call,match", [
    (lambda: adding_problem(10, 10, rng()), "length"),
    (lambda: adding_problem(0, 50, rng()), "n must be"),
    (lambda: needle_in_noise(5, 10, 1, 1.0, rng()), "dim"),
    (lambda: bag_members(np.zeros(10, int), 4, 5, 9, rng()), "instances of digit 9"),
    (lambda: bag_members(np.arange(10), 4, 1, 9, rng()), "bag size"),
    (lambda: digit_bags(np.zeros((5, 2, 2)), np.arange(5), 2, 3, 1, rng()), "bags need"),
    (lambda: noisy_channel_images(np.zeros((2, 1, 3, 3)), (0.0,), (), rng()), "> 0"),
    (lambda: noisy_channel_images(np.zeros((2, 3, 3)), (1.0,), (), rng()), "needs images"),
])
def test_bad_arguments(call, match):
    with pytest.raises(BadInput, match=match):
        call()
