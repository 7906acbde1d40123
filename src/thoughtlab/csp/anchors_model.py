"""The network of the anchor-based baseline: ResNet trunk, one top-down fused stride-8 level, RetinaNet heads.

Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017, §4 and Fig. 3, reduced to one level:

- backbone: the same ResNet as CSP (:class:`thoughtlab.nets.resnet.ResNet`, stage 5 at stride 1 and
  dilation 2, so C4 and C5 are both at stride 16);
- neck: FPN's top-down path (Lin et al., CVPR 2017, §3) kept to its finest level P3: 1x1 lateral
  convs, P4 = L4(C4) + L5(C5), P3 = L3(C3) + 2x nearest-upsampled P4, then a 3x3 smoothing conv.
  One level at stride 8 (RetinaNet's finest) instead of P3-P7: the synthetic people are 6-450 px,
  which the designed anchor heights cover at one level, and a single level keeps the CPU cost low;
- heads: two sibling subnets (classification: A logits per cell; box: 4A deltas per cell) of
  ``head_convs`` 3x3 convs + ReLU.  The paper uses 4 convs of 256 channels without normalisation;
  here the count and width are options (defaults 2 and 256 x width) and each conv is followed by
  GroupNorm (the "GN head" of FCOS / Detectron2), because the backbone trains from scratch.
  Init as in the paper (§4.1): head convs normal(std 0.01), bias 0; the last classification
  bias is -log((1 - pi) / pi) with pi = 0.01.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.csp.model import check_detector_input
from thoughtlab.errors import BadInput
from thoughtlab.nets.resnet import ResNet, load_backbone_weights

ANCHOR_STRIDE = 8
PRIOR = 0.01  # pi: initial foreground probability of every anchor


class AnchorOutput(NamedTuple):
    """Raw head outputs at stride 8: classification logits (N, A, h, w) and box deltas (N, 4A, h, w)."""

    logits: torch.Tensor
    deltas: torch.Tensor


def _head(in_ch: int, channels: int, convs: int, out_ch: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k in range(convs):
        layers += [nn.Conv2d(in_ch if k == 0 else channels, channels, 3, padding=1),
                   nn.GroupNorm(math.gcd(32, channels), channels), nn.ReLU(inplace=True)]
    layers.append(nn.Conv2d(channels if convs else in_ch, out_ch, 3, padding=1))
    return nn.Sequential(*layers)


class AnchorNet(nn.Module):
    """RetinaNet-style dense detector with ``num_anchors`` anchors per stride-8 cell (see module docstring).

    Args:
        num_anchors: A, anchors per cell (the length of the designed anchor list).
        backbone, width, backbone_weights: as :class:`thoughtlab.csp.model.CSP`.
        channels: neck and head channels (default 256 x width).
        head_convs: 3x3 convs in each subnet before its prediction conv.
    """

    def __init__(self, num_anchors: int, backbone: str = "resnet50", width: float = 1.0,
                 channels: int | None = None, head_convs: int = 2, backbone_weights: str | Path | None = None):
        super().__init__()
        if num_anchors < 1:
            raise BadInput(f"the anchor detector needs at least one anchor per cell, got {num_anchors}")
        if head_convs < 0:
            raise BadInput(f"head_convs must be >= 0, got {head_convs}")
        self.backbone = ResNet(backbone, width, dilate_last=True)
        if backbone_weights is not None:
            load_backbone_weights(self.backbone, backbone_weights)
        ch = channels or max(1, round(256 * width))
        c3, c4, c5 = self.backbone.stage_channels[1:]
        self.lateral3, self.lateral4, self.lateral5 = nn.Conv2d(c3, ch, 1), nn.Conv2d(c4, ch, 1), nn.Conv2d(c5, ch, 1)
        self.smooth = nn.Conv2d(ch, ch, 3, padding=1)
        self.cls_head = _head(ch, ch, head_convs, num_anchors)
        self.box_head = _head(ch, ch, head_convs, 4 * num_anchors)
        self.num_anchors = num_anchors
        self._init_new_layers()

    def _init_new_layers(self) -> None:
        for conv in (self.lateral3, self.lateral4, self.lateral5, self.smooth):
            nn.init.xavier_uniform_(conv.weight)
            nn.init.zeros_(conv.bias)
        for m in [*self.cls_head.modules(), *self.box_head.modules()]:
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)
        nn.init.constant_(self.cls_head[-1].bias, -math.log((1 - PRIOR) / PRIOR))

    def forward(self, images: torch.Tensor) -> AnchorOutput:
        check_detector_input(images, "the anchor detector")
        _, c3, c4, c5 = self.backbone(images)
        p4 = self.lateral4(c4) + self.lateral5(c5)
        p3 = self.smooth(self.lateral3(c3) + F.interpolate(p4, size=c3.shape[-2:], mode="nearest"))
        return AnchorOutput(self.cls_head(p3), self.box_head(p3))
