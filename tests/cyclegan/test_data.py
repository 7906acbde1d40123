"""trainA/trainB folders, preprocessing, and the embedded digit task."""

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from thoughtlab.cyclegan.data import crop_and_flip, load_dataroot, to_model_range, to_uint8
from thoughtlab.cyclegan.digits import DigitTask, _halves, classifier_view, digit_task, nearest_tint
from thoughtlab.errors import BadInput


def write_images(folder, sizes, mode="RGB"):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i, (w, h) in enumerate(sizes):
        shape = (h, w) if mode == "L" else (h, w, 3)
        Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8), mode).save(folder / f"{i}.png")


def make_root(tmp_path, test=True):
    write_images(tmp_path / "trainA", [(40, 30), (17, 50), (64, 64)])
    write_images(tmp_path / "trainB", [(20, 20), (33, 21)], mode="L")
    if test:
        write_images(tmp_path / "testA", [(10, 10)])
        write_images(tmp_path / "testB", [(12, 9)], mode="L")
    return tmp_path


def test_any_image_size_is_resized_to_load_size_and_gray_stays_one_channel(tmp_path):
    data = load_dataroot(make_root(tmp_path), load_size=36, crop_size=32)
    assert data.train_a.images.shape == (3, 3, 36, 36) and data.train_a.images.dtype == torch.uint8
    assert data.train_b.images.shape == (2, 1, 36, 36)
    assert data.test_a.images.shape == (1, 3, 36, 36) and data.test_b.channels == 1


def test_test_folders_are_optional_and_max_dataset_size_caps(tmp_path):
    data = load_dataroot(make_root(tmp_path, test=False), 32, 32, max_dataset_size=2)
    assert data.test_a is None and len(data.train_a) == 2


@pytest.mark.parametrize("breakage, message", [
    ("no_trainB", "no trainB/"),
    ("empty_folder", "no images"),
    ("empty_file", "empty file"),
    ("corrupt", "cannot be read"),
    ("mixed_channels", "channel(s) but"),
    ("input_nc", "expects 1"),
    ("crop_not_multiple_of_4", "multiple of 4"),
    ("crop_over_load", "exceeds --load_size"),
    ("no_root", "does not exist"),
])
def test_bad_dataroots_are_one_line_user_errors(tmp_path, breakage, message):
    root = make_root(tmp_path / "root")
    kwargs = {"load_size": 32, "crop_size": 32}
    if breakage == "no_trainB":
        for f in (root / "trainB").iterdir():
            f.unlink()
        (root / "trainB").rmdir()
    elif breakage == "empty_folder":
        for f in (root / "trainA").iterdir():
            f.unlink()
    elif breakage == "empty_file":
        (root / "trainA" / "9.png").write_bytes(b"")
    elif breakage == "corrupt":
        (root / "trainB" / "9.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    elif breakage == "mixed_channels":
        write_images(root / "trainA", [(8, 8)], mode="L")  # overwrites 0.png with a gray image
    elif breakage == "input_nc":
        kwargs["input_nc"] = 1
    elif breakage == "crop_not_multiple_of_4":
        kwargs["crop_size"] = 30
    elif breakage == "crop_over_load":
        kwargs["crop_size"] = 36
    elif breakage == "no_root":
        root = tmp_path / "missing"
    with pytest.raises(BadInput, match=re.escape(message)) as err:
        load_dataroot(root, **kwargs)
    assert "\n" not in str(err.value)


@settings(max_examples=30, deadline=None)
@given(size=st.integers(4, 20), crop=st.integers(1, 5), n=st.integers(1, 4), seed=st.integers(0, 2**31), flip=st.booleans())
def test_crop_and_flip_takes_a_window_of_the_image(size, crop, n, seed, flip):
    crop = min(4 * crop, size - size % 4) or 4
    size = max(size, crop)
    images = torch.arange(n * 2 * size * size, dtype=torch.int64).view(n, 2, size, size)
    out = crop_and_flip(images, crop, flip, torch.Generator().manual_seed(seed))
    assert out.shape == (n, 2, crop, crop)
    for i in range(n):
        window = out[i]
        if window[0, 0, 0] > window[0, 0, -1]:
            window = window.flip(-1)
        top, left = divmod(int(window[0, 0, 0] - images[i, 0, 0, 0]), size)
        assert torch.equal(window, images[i, :, top:top + crop, left:left + crop])
    again = crop_and_flip(images, crop, flip, torch.Generator().manual_seed(seed))
    assert torch.equal(out, again)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 255), min_size=1, max_size=50))
def test_uint8_round_trips_through_the_model_range(values):
    x = torch.tensor(values, dtype=torch.uint8)
    assert torch.equal(to_uint8(to_model_range(x)), x)


@pytest.fixture(scope="module")
def digits():
    return digit_task(DigitTask(size=32, tints=3, train_per_domain=300, test_per_domain=200), seed=0)


def test_digit_domains_are_disjoint_halves_with_labels():
    x, y = np.arange(10), np.arange(10) % 3
    (xa, ya), (xb, yb) = _halves(x, y, cap=100, seed=0)
    assert set(xa).isdisjoint(xb) and len(xa) + len(xb) == 10 and np.array_equal(ya, xa % 3)


def test_digit_task_shapes_tints_and_the_classifier_reads_both_domains(digits):
    from thoughtlab.metrics.extractors import DigitCNNExtractor

    data, styles = digits
    assert data.train_a.images.shape == (300, 3, 32, 32) and data.train_b.images.shape == (300, 3, 32, 32)
    assert set(styles["test_b"]) == {0, 1, 2}
    assert torch.equal(nearest_tint(data.test_b.images.float() / 255, 3)[0], torch.from_numpy(styles["test_b"]))
    net = DigitCNNExtractor()
    for domain in (data.test_a, data.test_b):
        accuracy = (net.logits(classifier_view(domain.images.float() / 255)).argmax(1) == domain.labels).mean()
        assert accuracy > 0.9  # positive control of label preservation: the classifier reads real A and B
    shuffled = net.logits(classifier_view(data.test_b.images.float() / 255)).argmax(1)
    assert (shuffled == np.roll(data.test_b.labels, 1)).mean() < 0.3  # ... and it can fail


def test_digit_task_rejects_sizes_that_are_not_multiples_of_4():
    with pytest.raises(BadInput, match="multiple of 4"):
        digit_task(DigitTask(size=30))
