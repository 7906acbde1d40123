"""MS-SSIM: known answers, small-image policies, torchmetrics parity, both diversity protocols, seeding, bad input."""

from itertools import pairwise

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.metrics import compute_msssim_diversity, evaluate, ms_ssim
from thoughtlab.metrics.msssim import (
    WANG_WEIGHTS,
    gaussian_taps,
    pyramid_plan,
    ssim_terms,
)


def _blobs(n, size, rng, channels=1, width=(2.0, 6.0)):
    """uint8 images of one Gaussian blob each, at a random place and width, with mild pixel noise."""
    grid = np.arange(size, dtype=np.float64)
    centres = rng.uniform(size * 0.2, size * 0.8, size=(n, 2))
    widths = rng.uniform(*width, size=n)
    rows = np.exp(-0.5 * ((grid[None, :] - centres[:, :1]) / widths[:, None]) ** 2)
    cols = np.exp(-0.5 * ((grid[None, :] - centres[:, 1:]) / widths[:, None]) ** 2)
    images = 220 * rows[:, :, None] * cols[:, None, :] + rng.uniform(0, 20, size=(n, size, size))
    return np.repeat(images[:, None], channels, axis=1).round().clip(0, 255).astype(np.uint8)


def _smooth(n, size, channels, seed):
    g = torch.Generator().manual_seed(seed)
    return F.avg_pool2d(torch.rand(n, channels, size, size, generator=g, dtype=torch.float64) * 255, 5, 1, 2)


@pytest.mark.parametrize("size, policy", [(28, "shrink_window"), (28, "fewer_scales"), (64, "shrink_window"),
                                          (192, "strict")])
def test_identical_images_give_one(size, policy):
    x = _smooth(3, size, 3, seed=0)
    assert torch.allclose(ms_ssim(x, x.clone(), small_images=policy), torch.ones(3, dtype=torch.float64),
                          rtol=0, atol=1e-12)


def test_symmetric_bit_for_bit_and_decreasing_with_noise():
    x = _smooth(4, 32, 1, seed=1)
    g = torch.Generator().manual_seed(2)
    noise = torch.randn(x.shape, generator=g, dtype=torch.float64)
    values = []
    for level in (2.0, 10.0, 30.0, 60.0):
        y = (x + level * noise).clamp(0, 255)
        forward, backward = ms_ssim(x, y), ms_ssim(y, x)
        assert torch.equal(forward, backward)
        values.append(forward)
    for higher, lower in pairwise(values):
        assert torch.all(lower < higher)


def test_small_image_policies_and_their_record():
    plan, weights = pyramid_plan(28, 28, 11, 1.5, "shrink_window")
    assert [taps for taps, _ in plan] == [11, 11, 7, 3, 1]
    assert plan[2][1] == pytest.approx(1.5 * 7 / 11)
    assert weights == list(WANG_WEIGHTS)
    plan, weights = pyramid_plan(64, 64, 11, 1.5, "fewer_scales")
    assert len(plan) == 3 and sum(weights) == pytest.approx(sum(WANG_WEIGHTS))
    with pytest.raises(BadInput, match="sides ≥ 176 px"):
        pyramid_plan(128, 128, 11, 1.5, "strict")
    for policy in ("shrink_window", "fewer_scales", "strict"):  # large images: plain MS-SSIM under every policy
        assert pyramid_plan(176, 180, 11, 1.5, policy) == ([(11, 1.5)] * 5, list(WANG_WEIGHTS))


def test_plain_msssim_matches_torchmetrics_on_large_images():
    tm = pytest.importorskip("torchmetrics.functional.image")
    x = _smooth(3, 192, 3, seed=3)
    y = (x + 10 * torch.randn(x.shape, generator=torch.Generator().manual_seed(4), dtype=torch.float64)).clamp(0, 255)
    theirs = torch.stack([tm.multiscale_structural_similarity_index_measure(
        x[i:i + 1], y[i:i + 1], data_range=255.0, normalize=None) for i in range(len(x))])
    ours = ms_ssim(x, y, small_images="strict")
    # torchmetrics takes the coarsest-scale SSIM over a reflect-padded image, every cs term over the valid region
    # (as Wang's code); with that one border convention swapped in, our pieces reproduce it to rounding.
    c1, c2, taps = (0.01 * 255) ** 2, (0.03 * 255) ** 2, gaussian_taps(11, 1.5)
    a, b, emulated = x, y, torch.ones(len(x), dtype=torch.float64)
    for scale, weight in enumerate(WANG_WEIGHTS):
        if scale < 4:
            emulated *= ssim_terms(a, b, taps, c1, c2)[1] ** weight
        else:
            emulated *= ssim_terms(F.pad(a, (5,) * 4, mode="reflect"), F.pad(b, (5,) * 4, mode="reflect"),
                                   taps, c1, c2)[0] ** weight
        a, b = F.avg_pool2d(a, 2), F.avg_pool2d(b, 2)
    assert torch.allclose(emulated, theirs, rtol=0, atol=1e-9)
    assert torch.allclose(ours, theirs, rtol=0, atol=1e-3)


def test_within_class_protocol_flags_a_collapsed_generator():
    rng = np.random.default_rng(5)
    real, real_labels = _blobs(300, 28, rng), np.repeat(np.arange(3), 100)
    diverse = _blobs(300, 28, rng)
    collapsed = np.concatenate([np.repeat(_blobs(1, 28, rng), 100, axis=0) for _ in range(3)])
    collapsed = (collapsed.astype(np.int16) + rng.integers(-3, 4, size=collapsed.shape)).clip(0, 255).astype(np.uint8)
    good = compute_msssim_diversity(diverse, real, fake_labels=real_labels, real_labels=real_labels, seed=0)
    bad = compute_msssim_diversity(collapsed, real, fake_labels=real_labels, real_labels=real_labels, seed=0)
    assert bad["value"] > 0.9 > good["real"]["value"] + 0.2
    assert abs(good["value"] - good["real"]["value"]) < 0.1
    assert bad["classes_as_diverse_as_real"] == 0.0 and bad["classes_below_real_max"] == 0.0
    assert good["real_max_msssim"] == max(good["real"]["per_class"].values()) < 0.9
    assert sorted(bad["per_class"]) == [0, 1, 2]
    protocol = bad["protocol"]
    assert protocol["window_per_scale"] == [11, 11, 7, 3, 1] and protocol["pairs_per_class"] == 100
    assert protocol["input"] == "uint8" and protocol["small_images"] == "shrink_window"


def test_fraction_of_fake_classes_below_the_real_maximum():
    rng = np.random.default_rng(10)
    real, real_labels = _blobs(150, 28, rng), np.repeat(np.arange(3), 50)
    noise = rng.integers(0, 256, size=(80, 1, 28, 28), dtype=np.uint8)  # independent noise: MS-SSIM near 0
    copies = np.repeat(_blobs(2, 28, rng), 40, axis=0)  # two classes of 40 identical copies: MS-SSIM 1
    fake, fake_labels = np.concatenate([noise, copies]), np.repeat([0, 1, 2, 3], 40)
    result = compute_msssim_diversity(fake, real, fake_labels=fake_labels, real_labels=real_labels, pairs=30)
    assert result["per_class"][2] == pytest.approx(1.0, abs=1e-12) and result["per_class"][0] < 0.1
    assert result["real_max_msssim"] == max(result["real"]["per_class"].values())
    assert 0.1 < result["real_max_msssim"] < 0.9
    assert result["classes_below_real_max"] == 0.5  # the two noise classes, not the two copy classes
    # a real class of identical copies raises the threshold to 1: now every class except the copies is below
    real_with_copies = np.concatenate([real, np.repeat(_blobs(1, 28, rng), 20, axis=0)])
    labels_with_copies = np.r_[real_labels, np.full(20, 3)]
    loose = compute_msssim_diversity(fake[:80], real_with_copies, fake_labels=fake_labels[:80],
                                     real_labels=labels_with_copies, pairs=30)
    assert loose["real_max_msssim"] == pytest.approx(1.0, abs=1e-12) and loose["classes_below_real_max"] == 1.0
    unlabelled = compute_msssim_diversity(noise, real, pairs=30)  # one class per side: the real mean is the max
    assert unlabelled["real_max_msssim"] == unlabelled["real"]["value"]
    assert unlabelled["classes_below_real_max"] == 1.0 and "classes_as_diverse_as_real" not in unlabelled
    assert "real_max_msssim" not in compute_msssim_diversity(noise, pairs=30)  # nothing to compare without real


def test_all_pairs_protocol_and_seeds_bit_for_bit():
    rng = np.random.default_rng(6)
    real, fake = _blobs(120, 32, rng, channels=3), _blobs(120, 32, rng, channels=3, width=(5.0, 6.0))
    kwargs = {"protocol": "all_pairs", "batch_size": 32, "batches": 3}
    first = compute_msssim_diversity(fake, real, seed=1, **kwargs)
    assert first == compute_msssim_diversity(torch.from_numpy(fake), torch.from_numpy(real), seed=1, **kwargs)
    assert first["value"] != compute_msssim_diversity(fake, real, seed=2, **kwargs)["value"]
    assert len(first["per_batch"]) == 3 and first["protocol"]["batch_size"] == 32
    assert "classes_below_real_max" not in first  # a per-class comparison; all_pairs has no classes
    assert first["value"] > first["real"]["value"]  # narrower blobs of one width: less diverse than the real set


def test_float_images_need_an_explicit_data_range():
    rng = np.random.default_rng(7)
    images = _blobs(20, 28, rng)
    as_uint8 = compute_msssim_diversity(images, pairs=10)
    as_float = compute_msssim_diversity(images / 255.0, pairs=10, data_range=1.0)
    assert as_float["value"] == pytest.approx(as_uint8["value"], rel=1e-9)
    assert as_float["protocol"]["input"] == "float in [0, 1]"


def test_evaluate_takes_images_through_options():
    rng = np.random.default_rng(8)
    fake, real = _blobs(30, 28, rng), _blobs(30, 28, rng)
    result = evaluate(None, None, metrics=["msssim"], fake_images=fake, real_images=real, msssim_pairs=20, seed=3)
    assert result["msssim"] == compute_msssim_diversity(fake, real, pairs=20, seed=3)
    with pytest.raises(BadInput, match="pass fake_images="):
        evaluate(None, None, metrics=["msssim"])


def test_msssim_bad_inputs():
    rng = np.random.default_rng(9)
    images = _blobs(20, 28, rng)
    with pytest.raises(BadInput, match="expected uint8 images"):
        compute_msssim_diversity(images.astype(np.float32))
    nan_images = images / 255.0
    nan_images[3, 0, 0] = np.nan
    with pytest.raises(BadInput, match="NaN or Inf"):
        compute_msssim_diversity(nan_images, data_range=1.0)
    with pytest.raises(BadInput, match="outside \\[0, 1\\]"):
        compute_msssim_diversity(images.astype(np.float64), data_range=1.0)
    with pytest.raises(BadInput, match="1 or 3 channels"):
        compute_msssim_diversity(np.zeros((4, 2, 28, 28), np.uint8))
    with pytest.raises(BadInput, match="at least 16 px"):
        compute_msssim_diversity(np.zeros((4, 8, 8), np.uint8))
    with pytest.raises(BadInput, match="320 images, got 20"):
        compute_msssim_diversity(images, protocol="all_pairs")
    with pytest.raises(BadInput, match="class 1 has 1 image"):
        compute_msssim_diversity(images, fake_labels=np.r_[np.zeros(19, int), 1])
    with pytest.raises(BadInput, match="integer class labels"):
        compute_msssim_diversity(images, fake_labels=np.zeros(5, int))
    with pytest.raises(BadInput, match="resize one set"):
        compute_msssim_diversity(images, _blobs(20, 32, rng))
    with pytest.raises(BadInput, match="one shape"):
        ms_ssim(torch.zeros(2, 1, 28, 28), torch.zeros(2, 1, 32, 32))
    with pytest.raises(UnknownName):
        compute_msssim_diversity(images, protocol="pairs")
