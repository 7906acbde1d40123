"""ResNet trunk: torchvision layout and parameter counts, dilated stage 5, local weight loading."""

import pytest
import torch

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.nets.resnet import ResNet, load_backbone_weights


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name, expected", [("resnet18", 11_176_512), ("resnet34", 21_284_672),
                                            ("resnet50", 23_508_032)])
def test_parameter_counts_match_torchvision_without_fc(name, expected):
    # torchvision's counts (11,689,512 / 21,797,672 / 25,557,032) minus the ImageNet fc layer.
    assert n_params(ResNet(name)) == expected
    assert n_params(ResNet(name, dilate_last=True)) == expected


def test_torchvision_key_layout_and_v1_5_stride_placement():
    model = ResNet("resnet50", width=0.125)
    keys = set(model.state_dict())
    assert {"conv1.weight", "bn1.running_mean", "layer1.0.downsample.0.weight", "layer4.2.conv3.weight",
            "layer3.5.bn3.num_batches_tracked"} <= keys
    assert model.layer2[0].conv2.stride == (2, 2) and model.layer2[0].conv1.stride == (1, 1)


@pytest.mark.parametrize("dilate_last, last_stride", [(False, 32), (True, 16)])
@pytest.mark.parametrize("size", [(64, 64), (96, 160)])
def test_stage_shapes_and_strides(dilate_last, last_stride, size):
    model = ResNet("resnet18", width=0.25, dilate_last=dilate_last)
    outs = model(torch.randn(2, 3, *size))
    assert model.stage_strides[-1] == last_stride
    for out, ch, stride in zip(outs, model.stage_channels, model.stage_strides):
        assert out.shape == (2, ch, size[0] // stride, size[1] // stride)
    assert model.stage_channels == (16, 32, 64, 128)


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_dilated_stage_has_stride_one_and_dilation_two_in_every_block(name):
    model = ResNet(name, width=0.125, dilate_last=True)
    for block in model.layer4:
        assert block.conv2.dilation == (2, 2) and block.conv2.stride == (1, 1)
        assert block.conv1.stride == (1, 1)
    assert model.layer4[0].downsample[0].stride == (1, 1)


def test_bad_configuration_and_inputs():
    with pytest.raises(UnknownName, match="resnet101"):
        ResNet("resnet101")
    with pytest.raises(BadInput):
        ResNet("resnet18", width=0)
    with pytest.raises(BadInput, match=r"\(N, 3, H, W\)"):
        ResNet("resnet18", width=0.125)(torch.randn(1, 1, 32, 32))


def test_load_weights_from_local_file(tmp_path):
    source = ResNet("resnet18", width=0.125)
    state = {f"module.{k}": v for k, v in source.state_dict().items()}
    state["fc.weight"], state["fc.bias"] = torch.zeros(10, 64), torch.zeros(10)
    path = tmp_path / "r18.pth"
    torch.save({"state_dict": state}, path)
    target = ResNet("resnet18", width=0.125, dilate_last=True)
    load_backbone_weights(target, path)
    for k, v in source.state_dict().items():
        assert torch.equal(target.state_dict()[k], v)


def test_load_weights_errors(tmp_path):
    model = ResNet("resnet18", width=0.125)
    with pytest.raises(BadInput, match="does not exist"):
        load_backbone_weights(model, tmp_path / "missing.pth")
    wide = tmp_path / "wide.pth"
    torch.save(ResNet("resnet18", width=0.25).state_dict(), wide)
    with pytest.raises(BadInput, match="wrong shape"):
        load_backbone_weights(model, wide)
    other = tmp_path / "r50.pth"
    torch.save(ResNet("resnet50", width=0.125).state_dict(), other)
    with pytest.raises(BadInput, match="missing .* unexpected"):
        load_backbone_weights(model, other)
    pickled = tmp_path / "obj.pth"
    torch.save(model, pickled)  # a whole module needs unpickling: refused by weights_only
    with pytest.raises(BadInput, match="not a plain weights file.*torch.save"):
        load_backbone_weights(model, pickled)
