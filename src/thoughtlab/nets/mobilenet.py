"""Inverted-residual blocks and a small MobileNetV2-style classifier.

Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
CVPR 2018 (arXiv 1801.04381).  §3.3 / Fig. 3b and Table 1: a block expands a
thin *bottleneck* tensor with a 1x1 conv + ReLU6, filters it with a 3x3
depthwise conv + ReLU6, then projects it back to a thin tensor with a 1x1 conv
*without* a non-linearity (the "linear bottleneck", §3.2).  The shortcut joins
the thin bottlenecks and is used only when stride is 1 and the shapes match
(§4).  The ``linear_bottleneck=False`` variant puts a ReLU6 on the projection,
as in the paper's ablation (§6.4, Fig. 6a, "ReLU6 in bottleneck"); it has
exactly the same parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from thoughtlab.errors import BadInput


def conv_bn(in_channels: int, out_channels: int, kernel: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    """Conv (no bias; BN supplies the shift) followed by batch norm."""
    conv = nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, groups=groups, bias=False)
    return [conv, nn.BatchNorm2d(out_channels)]


class InvertedResidual(nn.Module):
    """One MobileNetV2 bottleneck block (Sandler et al. 2018, Table 1).

    ``x -> 1x1 expand + BN + ReLU6 -> 3x3 depthwise (stride s) + BN + ReLU6 ->
    1x1 project + BN -> [ReLU6 if not linear_bottleneck] (+ x if residual)``.

    Args:
        in_channels: bottleneck channels entering the block.
        out_channels: bottleneck channels leaving it.
        hidden_channels: the expanded width (t x in_channels in the paper).
        stride: 1 or 2, applied by the depthwise conv.
        linear_bottleneck: True for the paper's linear projection; False puts a
            ReLU6 on it (the ablation), before the shortcut is added.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int, stride: int = 1,
                 linear_bottleneck: bool = True):
        super().__init__()
        if stride not in (1, 2):
            raise BadInput(f"stride must be 1 or 2, got {stride}")
        self.use_residual = stride == 1 and in_channels == out_channels
        self.linear_bottleneck = linear_bottleneck
        self.expand = nn.Sequential(*conv_bn(in_channels, hidden_channels, 1), nn.ReLU6())
        self.depthwise = nn.Sequential(
            *conv_bn(hidden_channels, hidden_channels, 3, stride, groups=hidden_channels), nn.ReLU6()
        )
        self.project = nn.Sequential(*conv_bn(hidden_channels, out_channels, 1))
        self.bottleneck_activation = nn.Identity() if linear_bottleneck else nn.ReLU6()

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        """The block's bottleneck output before the shortcut is added."""
        return self.bottleneck_activation(self.project(self.depthwise(self.expand(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.branch(x)
        return x + out if self.use_residual else out


class TinyMobileNet(nn.Module):
    """A small MobileNetV2-style classifier for low-resolution images.

    Stem 3x3 conv + BN + ReLU6, one :class:`InvertedResidual` per entry of
    ``strides`` (the first maps the stem to ``width`` channels, the rest keep
    ``width``, so blocks with stride 1 have shortcuts), then a 1x1 conv to
    ``head_channels`` + BN + ReLU6, global average pooling and a linear
    classifier, as at the end of MobileNetV2 (Table 2).

    Args:
        in_channels: image channels.
        num_classes: classifier outputs.
        width: bottleneck channels of every block (the variable of the ablation).
        hidden_channels: expanded channels of every block (expansion t = hidden / width).
        stem_channels: channels of the stem conv.
        stem_stride: stride of the stem conv.
        strides: one block per entry, each stride 1 or 2.
        head_channels: channels of the final 1x1 conv before pooling.
        linear_bottleneck: linear projections (True) or ReLU6 projections (False).
    """

    def __init__(self, in_channels: int, num_classes: int, width: int, hidden_channels: int,
                 stem_channels: int = 16, stem_stride: int = 1, strides: tuple[int, ...] = (1, 1, 2, 1),
                 head_channels: int = 64, linear_bottleneck: bool = True):
        super().__init__()
        if width < 1 or hidden_channels < 1 or not strides:
            raise BadInput(f"need width >= 1, hidden_channels >= 1 and at least one block; got "
                           f"width={width}, hidden_channels={hidden_channels}, strides={strides}")
        self.stem = nn.Sequential(*conv_bn(in_channels, stem_channels, 3, stem_stride), nn.ReLU6())
        channels = [stem_channels] + [width] * len(strides)
        self.blocks = nn.Sequential(*(
            InvertedResidual(channels[i], channels[i + 1], hidden_channels, s, linear_bottleneck)
            for i, s in enumerate(strides)
        ))
        self.head = nn.Sequential(*conv_bn(width, head_channels, 1), nn.ReLU6())
        self.classifier = nn.Linear(head_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.head(self.blocks(self.stem(x)))
        return self.classifier(features.mean(dim=(2, 3)))
