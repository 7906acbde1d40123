"""CSP network: parameter count, output shapes, L2-norm scale and center-bias initialisation, padding."""

import math

import pytest
import torch

from thoughtlab.csp.model import CSP, L2Norm, count_parameters, normalize_images, pad_to_multiple, unpad
from thoughtlab.errors import BadInput, UnknownName


def tiny() -> CSP:
    torch.manual_seed(0)
    return CSP("resnet18", width=0.125)


def test_resnet50_parameter_count_matches_the_notes():
    model = CSP("resnet50")  # built, never run
    assert count_parameters(model) == 39_960_644
    assert count_parameters(model.backbone) == 23_508_032
    assert sum(count_parameters(m) for m in (model.up3, model.up4, model.up5)) == 14_680_832
    assert sum(count_parameters(m) for m in (model.norm3, model.norm4, model.norm5)) == 768
    assert count_parameters(model.fuse) == 1_769_984
    assert sum(count_parameters(m) for m in (model.center_head, model.scale_head, model.offset_head)) == 1_028


@pytest.mark.parametrize("size", [(32, 32), (64, 96), (112, 48)])
def test_output_shapes_at_stride_four(size):
    out = tiny().eval()(torch.randn(2, 3, *size))
    h, w = size[0] // 4, size[1] // 4
    assert out.center.shape == (2, 1, h, w) and out.scale.shape == (2, 1, h, w) and out.offset.shape == (2, 2, h, w)


def test_l2_norm_scales_start_at_ten_and_normalise_channels():
    model = tiny()
    for norm in (model.norm3, model.norm4, model.norm5):
        assert norm.weight.shape == (32,) and torch.all(norm.weight == 10.0)
    y = L2Norm(5)(torch.randn(2, 5, 3, 4))
    torch.testing.assert_close(y.norm(dim=1), torch.full((2, 3, 4), 10.0))
    assert torch.all(L2Norm(3)(torch.zeros(1, 3, 2, 2)) == 0)  # eps guards the zero vector


def test_center_bias_prior_and_zero_regression_biases():
    model = CSP("resnet18", width=0.125)
    assert model.center_head.bias.item() == pytest.approx(-math.log(99))
    assert torch.sigmoid(model.center_head.bias).item() == pytest.approx(0.01)
    assert torch.all(model.scale_head.bias == 0) and torch.all(model.offset_head.bias == 0)


def test_paper_channel_widths_at_width_one():
    model = CSP("resnet18")
    assert model.up5.out_channels == 256 and model.fuse[0].in_channels == 768 and model.fuse[0].out_channels == 256
    assert model.fuse[0].bias is None and model.fuse[1].momentum == 0.01


def test_gradients_reach_every_parameter():
    model = tiny()
    out = model(torch.randn(2, 3, 32, 32))
    (out.center.sum() + out.scale.sum() + out.offset.sum()).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_backbone_weights_from_a_local_file(tmp_path):
    source = tiny()
    path = tmp_path / "backbone.pth"
    torch.save(source.backbone.state_dict(), path)
    loaded = CSP("resnet18", width=0.125, backbone_weights=path)
    assert torch.equal(loaded.backbone.layer4[1].conv2.weight, source.backbone.layer4[1].conv2.weight)
    with pytest.raises(BadInput, match="does not exist"):
        CSP("resnet18", width=0.125, backbone_weights=tmp_path / "absent.pth")


def test_bad_inputs():
    model = tiny()
    with pytest.raises(BadInput, match="multiples of 16"):
        model(torch.randn(1, 3, 40, 32))
    with pytest.raises(BadInput, match=r"\(N, 3, H, W\)"):
        model(torch.randn(3, 32, 32))
    with pytest.raises(UnknownName, match="vgg16"):
        CSP("vgg16")


def test_pad_unpad_and_normalise():
    images = torch.rand(2, 3, 50, 70)
    padded, size = pad_to_multiple(images)
    assert padded.shape == (2, 3, 64, 80) and size == (50, 70)
    assert torch.equal(padded[..., :50, :70], images) and torch.all(padded[..., 50:, :] == 0)
    assert pad_to_multiple(torch.rand(1, 3, 32, 48))[0].shape == (1, 3, 32, 48)
    assert unpad(torch.zeros(2, 1, 16, 20), size).shape == (2, 1, 13, 18)
    white = normalize_images(torch.full((1, 3, 2, 2), 255, dtype=torch.uint8))
    torch.testing.assert_close(white[0, :, 0, 0], torch.tensor([(255 - 123.675) / 58.395, (255 - 116.28) / 57.12,
                                                                (255 - 103.53) / 57.375]))
    with pytest.raises(BadInput):
        pad_to_multiple(torch.rand(3, 8, 8))
