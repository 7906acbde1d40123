"""CSP target maps on hand-made boxes (official calc_gt_center rules)."""

import math

import pytest
import torch

from thoughtlab.csp.targets import gaussian_sigma, make_targets, stack_targets
from thoughtlab.errors import BadInput

# One person: x 10..30.5, y 20..70 px -> cells x 2.5..7.625, y 5..17.5 at r = 4.
BOX = [10.0, 20.0, 30.5, 70.0]
SIZE = (96, 64)


def test_gaussian_sigma_is_opencv_kernel_rule():
    assert gaussian_sigma(4) == pytest.approx(0.95)
    assert gaussian_sigma(12) == pytest.approx(2.15)
    assert gaussian_sigma(1) == pytest.approx(0.5)


def test_single_person_peak_window_and_sigma():
    t = make_targets([BOX], SIZE)
    gauss = t.center[0]
    assert gauss.shape == (24, 16)
    # window: cols [ceil 2.5, int 7.625) = 3..6 (k=4), rows [5, 17) (k=12); peak at middle index k // 2
    peak = divmod(int(gauss.argmax()), 16)
    assert peak == (5 + 6, 3 + 2) and gauss[peak].item() == pytest.approx(1.0)
    assert torch.count_nonzero(gauss[:, :3]) == 0 and torch.count_nonzero(gauss[:, 7:]) == 0
    assert torch.count_nonzero(gauss[:5]) == 0 and torch.count_nonzero(gauss[17:]) == 0
    sx, sy = gaussian_sigma(4), gaussian_sigma(12)
    assert gauss[11, 3].item() == pytest.approx(math.exp(-4 / (2 * sx**2)), rel=1e-5)
    assert gauss[8, 6].item() == pytest.approx(math.exp(-9 / (2 * sy**2)) * math.exp(-1 / (2 * sx**2)), rel=1e-5)
    # exactly one positive cell, at (int(cy/r), int(cx/r)) = (int 11.25, int 5.0625)
    assert t.center[2].nonzero().tolist() == [[11, 5]]
    assert torch.all(t.center[1] == 1)


def test_offsets_at_center_cell():
    t = make_targets([BOX], SIZE)
    assert t.offset[2].nonzero().tolist() == [[11, 5]]
    assert t.offset[0, 11, 5].item() == pytest.approx(11.25 - 11 - 0.5)
    assert t.offset[1, 11, 5].item() == pytest.approx(5.0625 - 5 - 0.5)


def test_scale_on_five_by_five_window_and_clipped_at_border():
    t = make_targets([BOX], SIZE)
    mask = t.scale[1]
    assert mask.sum() == 25 and torch.all(mask[9:14, 3:8] == 1)
    assert torch.allclose(t.scale[0][mask > 0], torch.tensor(math.log(50 / 4)))
    corner = make_targets([[0.0, 0.0, 8.0, 20.0]], SIZE)  # center cell (2, 1): window rows 0..4, cols 0..3
    assert corner.scale[1].sum() == 5 * 4 and torch.all(corner.scale[1][:5, :4] == 1)


def test_later_person_overwrites_scale_and_gaussians_take_max():
    a, b = [8.0, 8.0, 28.0, 58.0], [12.0, 8.0, 32.0, 88.0]
    t = make_targets([a, b], SIZE)
    ta, tb = make_targets([a], SIZE), make_targets([b], SIZE)
    torch.testing.assert_close(t.center[0], torch.maximum(ta.center[0], tb.center[0]))
    both = (ta.scale[1] > 0) & (tb.scale[1] > 0)
    assert both.any() and torch.allclose(t.scale[0][both], torch.tensor(math.log(80 / 4)))
    assert t.center[2].sum() == 2


def test_ignore_regions_zero_the_valid_mask_and_persons_override_them():
    t = make_targets([BOX], SIZE, ignore=[[0.0, 0.0, 39.0, 41.0]])  # cells [0, ceil 9.75) x [0, ceil 10.25)
    valid = t.center[1]
    assert valid[:11, :10].sum() == 6 * 4  # only the person's window (rows 5..10, cols 3..6) is back to 1
    assert torch.all(valid[5:11, 3:7] == 1) and torch.all(valid[11:] == 1) and torch.all(valid[:, 10:] == 1)
    assert torch.all(valid[:5, :10] == 0) and torch.all(valid[5:11, :3] == 0)


def test_ignore_regions_are_clipped_and_short_persons_become_ignore():
    t = make_targets([], SIZE, ignore=[[-20.0, -20.0, 6.0, 6.0]])
    assert t.center[1][:2, :2].sum() == 0 and t.center[1].sum() == 24 * 16 - 4
    short = make_targets([[20.0, 20.0, 23.0, 27.0]], SIZE)  # 7 px tall < 2 r: an ignore region
    assert short.center[2].sum() == 0 and short.scale[1].sum() == 0 and short.center[1][5:7, 5:6].sum() == 0
    kept = make_targets([[20.0, 20.0, 23.0, 27.0]], SIZE, min_height=4)
    assert kept.center[2].sum() == 1


def test_empty_image_and_batching():
    empty = make_targets(None, SIZE)
    assert empty.center[0].sum() == 0 and torch.all(empty.center[1] == 1) and empty.scale.sum() == 0
    batch = stack_targets([empty, make_targets([BOX], SIZE)])
    assert batch.center.shape == (2, 3, 24, 16) and batch.scale.shape == (2, 2, 24, 16)
    assert batch.offset.shape == (2, 3, 24, 16)
    with pytest.raises(BadInput, match="same size"):
        stack_targets([empty, make_targets([], (64, 64))])
    with pytest.raises(BadInput):
        stack_targets([])


@pytest.mark.parametrize("boxes, size, match", [
    ([[1, 2, 3]], SIZE, r"\(n, 4\)"),
    ([[10, 20, 5, 70]], SIZE, "x2 > x1"),
    ([[10, 20, 30, 100]], SIZE, "inside"),
    ([[float("nan"), 20, 30, 70]], SIZE, "NaN"),
    ([BOX], (90, 64), "multiples"),
])
def test_bad_inputs(boxes, size, match):
    with pytest.raises(BadInput, match=match):
        make_targets(boxes, size)
