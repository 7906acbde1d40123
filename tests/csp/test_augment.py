"""CSP training augmentation: boxes stay on the drawn objects through flip, rescale, crop and pave."""

import numpy as np
import pytest
import torch

from thoughtlab.csp.augment import (
    AugmentConfig,
    adjust_brightness,
    augment,
    crop_or_pave,
    filter_boxes,
    hflip,
    rescale,
)
from thoughtlab.errors import BadInput


def scene(height=120, width=160, boxes=((30, 20, 60, 100),)):
    """Black image with white filled rectangles at integer (x1, y1, x2, y2) boxes."""
    image = np.zeros((height, width, 3), np.uint8)
    for x1, y1, x2, y2 in boxes:
        image[y1:y2, x1:x2] = 255
    return image, np.array(boxes, dtype=np.float64)


def bright_box(image: torch.Tensor) -> np.ndarray:
    """(x1, y1, x2, y2) of the pixels brighter than mid-grey."""
    ys, xs = np.nonzero(image.amin(dim=0).numpy() > 127)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=np.float64)


def as_tensor(image):
    return torch.from_numpy(image).permute(2, 0, 1).float()


def test_flip_moves_box_with_the_pixels():
    image, boxes = scene()
    flipped, fb, fi = hflip(as_tensor(image), boxes, np.zeros((0, 4)))
    np.testing.assert_allclose(fb[0], [100, 20, 130, 100])
    np.testing.assert_allclose(bright_box(flipped), fb[0])
    assert fi.shape == (0, 4)


@pytest.mark.parametrize("factor", [0.5, 1.5])
def test_rescale_scales_boxes_with_the_image(factor):
    image, boxes = scene()
    out, rb, _ = rescale(as_tensor(image), boxes, np.zeros((0, 4)), factor)
    assert out.shape[-2:] == (round(120 * factor), round(160 * factor))
    np.testing.assert_allclose(rb[0], boxes[0] * factor)
    np.testing.assert_allclose(bright_box(out), rb[0], atol=1.5)


def test_crop_is_centred_on_the_person_and_kept_inside():
    image, boxes = scene(200, 300, ((200, 40, 240, 140),))
    out, cb, _ = crop_or_pave(as_tensor(image), boxes, np.zeros((0, 4)), (96, 128), torch.Generator().manual_seed(0))
    assert out.shape == (3, 96, 128)
    centre = (cb[0, :2] + cb[0, 2:]) / 2
    np.testing.assert_allclose(centre, [64, 48])  # the crop starts at int(centre) - crop // 2
    _, eb, _ = crop_or_pave(as_tensor(image), np.array([[280.0, 0, 300, 60]]), np.zeros((0, 4)), (96, 128),
                               torch.Generator().manual_seed(0))
    np.testing.assert_allclose(eb[0], [108, 0, 128, 60])  # shifted to stay inside the image


def test_pave_pastes_on_the_mean_colour():
    image, boxes = scene(40, 50, ((10, 5, 20, 35),))
    out, pb, _ = crop_or_pave(as_tensor(image), boxes, np.zeros((0, 4)), (64, 80), torch.Generator().manual_seed(3))
    mean = float(as_tensor(image).mean())
    assert out.shape == (3, 64, 80)
    np.testing.assert_allclose(bright_box(out), pb[0])
    offset = pb[0, :2] - boxes[0, :2]
    assert 0 <= offset[0] <= 30 and 0 <= offset[1] <= 24
    assert torch.allclose(out[:, 0, 0], torch.full((3,), mean)) or offset[0] == 0 or offset[1] == 0


def test_filter_keeps_wide_mostly_inside_persons_and_clips_ignores():
    cfg = AugmentConfig()
    boxes = np.array([[10, 10, 40, 80],     # inside, 30 wide: kept
                      [-20, 10, 10, 80],    # 1/3 inside: dropped
                      [50, 10, 60, 80],     # 10 wide < 16: dropped
                      [90, 10, 120, 80]])   # 2/3 inside (crop width 110): kept, clipped
    ignore = np.array([[-5, -5, 5, 50], [0, 0, 30, 30]])
    kept, ign = filter_boxes(boxes, ignore, (96, 110), cfg)
    np.testing.assert_allclose(kept, [[10, 10, 40, 80], [90, 10, 110, 80]])
    np.testing.assert_allclose(ign, [[0, 0, 30, 30]])  # the 5-px-wide clipped ignore is dropped
    _, ign2 = filter_boxes(boxes, ignore, (96, 110), AugmentConfig(dropped_to_ignore=True))
    # both dropped persons become (clipped) ignore regions; both have sides >= 8
    np.testing.assert_allclose(ign2, [[0, 0, 30, 30], [0, 10, 10, 80], [50, 10, 60, 80]])


def test_brightness_is_hsv_value_scaling_with_clipping():
    pixel = torch.tensor([100.0, 50.0, 25.0]).view(3, 1, 1)
    assert torch.allclose(adjust_brightness(pixel, 2.0).flatten(), torch.tensor([200.0, 100.0, 50.0]))
    clipped = adjust_brightness(pixel, 4.0).flatten()
    assert torch.allclose(clipped, torch.tensor([255.0, 127.5, 63.75]))  # V clipped at 255, hue/saturation kept


@pytest.mark.parametrize("seed", range(6))
def test_full_augmentation_keeps_boxes_on_the_drawn_person(seed):
    image, boxes = scene(120, 160, ((60, 20, 90, 100),))
    cfg = AugmentConfig(scale_range=(0.8, 1.2), min_box_width=4)
    out, kept, ignore = augment(image, boxes, np.zeros((0, 4)), (96, 128), cfg, torch.Generator().manual_seed(seed))
    assert out.shape == (3, 96, 128) and ignore.shape == (0, 4)
    assert len(kept) == 1
    np.testing.assert_allclose(bright_box(out), kept[0], atol=1.5)


def test_augmentation_is_deterministic_for_a_seed():
    image, boxes = scene()
    a = augment(image, boxes, np.zeros((0, 4)), (64, 96), AugmentConfig(), torch.Generator().manual_seed(7))
    b = augment(image, boxes, np.zeros((0, 4)), (64, 96), AugmentConfig(), torch.Generator().manual_seed(7))
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_bad_augment_config():
    with pytest.raises(BadInput, match="scale_range"):
        AugmentConfig(scale_range=(1.5, 0.4)).validate()
