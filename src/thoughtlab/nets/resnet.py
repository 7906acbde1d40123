"""Plain-torch ResNet-18/34/50 backbones (no classifier) in the torchvision layout.

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, Table 1:
a 7x7/2 stem conv + 3x3/2 max-pool, then four stages ("conv2_x".."conv5_x")
of basic blocks (two 3x3 convs; ResNet-18/34) or bottleneck blocks
(1x1 -> 3x3 -> 1x1 with 4x expansion; ResNet-50).  Stages 3-5 halve the
resolution in their first block; the shortcut then is a 1x1 conv + BN.

Layout: module names and shapes follow torchvision (``conv1``, ``bn1``,
``layer1``..``layer4``, blocks ``conv1/bn1/conv2/bn2[/conv3/bn3]`` and
``downsample.0/.1``), with the stride in the 3x3 conv of a bottleneck
("ResNet v1.5"), so an ImageNet state dict in that layout loads with
:func:`load_backbone_weights` (its ``fc.*`` entries are skipped).  The CSP
official code uses the Keras/Caffe layout (stride in the first 1x1, conv
biases); research notes csp.md §1.1 and §7.1 say either is fine from scratch.

Options:

- ``width``: multiplies every stage width (64, 128, 256, 512 base widths), so
  a small backbone trains on a CPU; ``width=1`` is the paper's network.
- ``dilate_last``: stage 5 with stride 1 and dilation 2 in all its 3x3 convs,
  as CSP does (Liu et al. CVPR 2019 §3.2; official ``resnet50.py`` dilates
  every stage-5 block), so stage 5 stays at stride 16.

Parameter count (BN affine, no fc): ResNet-50 23,508,032; ResNet-34
21,284,672; ResNet-18 11,176,512.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.validate import torch_weights

# name -> (block kind, blocks per stage), He et al. 2016 Table 1.
ARCHS: dict[str, tuple[str, tuple[int, int, int, int]]] = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
}
BASE_WIDTHS = (64, 128, 256, 512)


def conv3x3(in_ch: int, out_ch: int, stride: int = 1, dilation: int = 1) -> nn.Conv2d:
    """3x3 conv without bias, padded so that stride 1 keeps the size."""
    return nn.Conv2d(in_ch, out_ch, 3, stride, padding=dilation, dilation=dilation, bias=False)


def shortcut(in_ch: int, out_ch: int, stride: int) -> nn.Module | None:
    """Projection shortcut (1x1 conv + BN) when the shape changes, else identity (None)."""
    if stride == 1 and in_ch == out_ch:
        return None
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))


class BasicBlock(nn.Module):
    """Two 3x3 convs with BN, ReLU after the sum (He et al. 2016, Fig. 5 left)."""

    expansion = 1

    def __init__(self, in_ch: int, width: int, stride: int = 1, dilation: int = 1):
        super().__init__()
        out_ch = width * self.expansion
        self.conv1 = conv3x3(in_ch, width, stride, dilation)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, out_ch, 1, dilation)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = shortcut(in_ch, out_ch, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carries stride and dilation), 1x1 expand x4 (He et al. 2016, Fig. 5 right)."""

    expansion = 4

    def __init__(self, in_ch: int, width: int, stride: int = 1, dilation: int = 1):
        super().__init__()
        out_ch = width * self.expansion
        self.conv1 = nn.Conv2d(in_ch, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, dilation)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_ch, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = shortcut(in_ch, out_ch, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet(nn.Module):
    """A ResNet trunk returning the outputs of stages 2-5 (strides 4, 8, 16, 32 or 16).

    Args:
        name: ``"resnet18"``, ``"resnet34"`` or ``"resnet50"``.
        width: multiplier on the stage widths (> 0); 1.0 is the standard network.
        dilate_last: stride 1 + dilation 2 in stage 5 (CSP), keeping it at stride 16.
    """

    def __init__(self, name: str = "resnet50", width: float = 1.0, dilate_last: bool = False):
        super().__init__()
        if name not in ARCHS:
            raise UnknownName("backbone", name, tuple(ARCHS))
        if not width > 0:
            raise BadInput(f"backbone width multiplier must be > 0, got {width}")
        kind, depths = ARCHS[name]
        block = BasicBlock if kind == "basic" else Bottleneck
        widths = [max(1, round(w * width)) for w in BASE_WIDTHS]
        self.name = name
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, widths[0], 7, 2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, padding=1)
        strides = (1, 2, 2, 1 if dilate_last else 2)
        dilations = (1, 1, 1, 2 if dilate_last else 1)
        self.layer1, self.layer2, self.layer3, self.layer4 = (
            self._make_stage(block, w, d, s, dil) for w, d, s, dil in zip(widths, depths, strides, dilations)
        )
        self.stage_channels: tuple[int, ...] = tuple(w * block.expansion for w in widths)
        self.stage_strides: tuple[int, ...] = (4, 8, 16, 16 if dilate_last else 32)
        self._init_weights()

    def _make_stage(self, block: type, width: int, depth: int, stride: int, dilation: int) -> nn.Sequential:
        blocks = [block(self.inplanes, width, stride, dilation)]
        self.inplanes = width * block.expansion
        blocks += [block(self.inplanes, width, 1, dilation) for _ in range(depth - 1)]
        return nn.Sequential(*blocks)

    def _init_weights(self) -> None:
        """He-normal (fan-out) convs, BN at identity: torchvision's defaults."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Images (N, 3, H, W) -> the outputs of stages 2, 3, 4 and 5."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise BadInput(f"ResNet expects images of shape (N, 3, H, W), got {tuple(x.shape)}")
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        c2 = self.layer1(x)
        c3 = self.layer2(c2)
        c4 = self.layer3(c3)
        return c2, c3, c4, self.layer4(c4)


def load_backbone_weights(model: ResNet, path: str | Path) -> None:
    """Load ImageNet-style (torchvision layout) weights from a LOCAL file into ``model``.

    The file is read with ``torch.load(weights_only=True)``; nothing is downloaded.
    It may hold a state dict or a dict with a ``"state_dict"`` entry; a
    ``"module."`` prefix (DataParallel) and the classifier ``fc.*`` are dropped.
    Missing, unexpected or mis-shaped keys raise :class:`BadInput` naming them.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"backbone weights file {path} does not exist; give the path of a local .pth state dict")
    state = torch_weights(path, "backbone weights")
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise BadInput(f"backbone weights {path} hold a {type(state).__name__}, not a state dict")
    state = {k.removeprefix("module."): v for k, v in state.items() if not k.removeprefix("module.").startswith("fc.")}
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise BadInput(
            f"backbone weights {path} do not match {model.name}: missing {len(missing)} keys {missing[:3]}, "
            f"unexpected {len(unexpected)} keys {unexpected[:3]}; use a torchvision-layout {model.name} state dict"
        )
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor) or v.shape != own[k].shape]
    if bad:
        raise BadInput(
            f"backbone weights {path}: {len(bad)} tensors have the wrong shape (first {bad[0]!r}); "
            f"check the architecture and the width multiplier (1.0 for ImageNet weights)"
        )
    model.load_state_dict(state)
