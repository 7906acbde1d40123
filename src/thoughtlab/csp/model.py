"""The CSP network: ResNet trunk, multi-scale stride-4 fusion, center/scale/offset heads.

Liu et al., "High-level Semantic Feature Detection: A New Perspective for
Pedestrian Detection", CVPR 2019, §3.2 and Fig. 2; details from the official
Keras code (``keras_csp/resnet50.py::nn_p3p4p5``) and its PyTorch port
(lwpyr ``net/network.py``), research notes csp.md §1:

- backbone: ResNet with stage 5 at stride 1 and dilation 2 (so stride 16);
- neck: stages 3, 4, 5 up-sampled to stride 4 by transposed convs (k4/s2/p1,
  k4/s4, k4/s4) to 256 channels, Glorot-normal weights, zero bias; each map
  L2-normalised over channels with a learnable per-channel scale initialised
  to 10 (ParseNet); concatenated to 768 channels;
- head: one 3x3 conv (256, no bias, as lwpyr) + BN + ReLU, then 1x1 convs:
  center (1 channel, a logit; bias -log((1-pi)/pi), pi = 0.01), scale
  (1 channel, log(h / r)) and offset (2 channels, (dy, dx)).

Code over paper: the L2 norm uses the Keras eps (1e-12 inside the square
root); the head BN uses momentum 0.01 (Keras 0.99, lwpyr 0.01); the center
head outputs logits and the sigmoid is applied at inference (Pedestron), for a
stable loss.  ``width`` shrinks the backbone and, unless given, the neck and
head channels (256 x width) so that the network trains on a CPU.

Parameter count of ``CSP("resnet50")``: 39,960,644 (backbone 23,508,032,
deconvs 14,680,832, L2 scales 768, 3x3 conv + BN 1,769,984, heads 1,028),
the notes' lwpyr-style 39.96 M.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.errors import BadInput
from thoughtlab.nets.resnet import ResNet, load_backbone_weights

STRIDE = 4  # r, the output down-sampling factor
PAD_MULTIPLE = 16  # input sides must be multiples of 16 (stage 4/5 at stride 16)
CENTER_PRIOR = 0.01  # pi of the center-bias prior
L2_SCALE_INIT = 10.0
# ImageNet RGB statistics on the 0-255 scale (torchvision / Pedestron convention).
PIXEL_MEAN = (123.675, 116.28, 103.53)
PIXEL_STD = (58.395, 57.12, 57.375)


class CSPOutput(NamedTuple):
    """Raw head outputs at stride 4: center logits (N,1,h,w), log-height (N,1,h,w), offsets (N,2,h,w)."""

    center: torch.Tensor
    scale: torch.Tensor
    offset: torch.Tensor


class L2Norm(nn.Module):
    """y_c = gamma_c * x_c / ||x||_2 over channels (ParseNet; CSP §3.2), gamma initialised to 10."""

    def __init__(self, channels: int, init: float = L2_SCALE_INIT, eps: float = 1e-12):
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,), float(init)))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm_sq = x.pow(2).sum(dim=1, keepdim=True).clamp_min(self.eps)
        return x * torch.rsqrt(norm_sq) * self.weight.view(1, -1, 1, 1)


class CSP(nn.Module):
    """Center and Scale Prediction detector (Liu et al. 2019, Fig. 2).

    Args:
        backbone: ``"resnet18"``, ``"resnet34"`` or ``"resnet50"`` (the paper's).
        width: backbone width multiplier (1.0 = standard).
        neck_channels: channels of each up-sampled stage (default 256 x width).
        head_channels: channels of the shared 3x3 conv (default 256 x width).
        head_bn_momentum: PyTorch BN momentum of the head (0.01 = Keras 0.99); with only a
            few dozen training steps the running statistics lag, so short runs may want 0.1.
        backbone_weights: optional LOCAL torchvision-layout ImageNet state dict for the
            backbone (see :func:`~thoughtlab.nets.resnet.load_backbone_weights`); never downloaded.

    ``forward`` takes normalised images whose sides are multiples of 16 (see
    :func:`pad_to_multiple`, :func:`normalize_images`) and returns a
    :class:`CSPOutput` at a quarter of the input size.
    """

    def __init__(self, backbone: str = "resnet50", width: float = 1.0, neck_channels: int | None = None,
                 head_channels: int | None = None, head_bn_momentum: float = 0.01,
                 backbone_weights: str | Path | None = None):
        super().__init__()
        self.backbone = ResNet(backbone, width, dilate_last=True)
        if backbone_weights is not None:
            load_backbone_weights(self.backbone, backbone_weights)
        neck = neck_channels or max(1, round(256 * width))
        head = head_channels or max(1, round(256 * width))
        c3, c4, c5 = self.backbone.stage_channels[1:]
        self.up3 = nn.ConvTranspose2d(c3, neck, 4, stride=2, padding=1)
        self.up4 = nn.ConvTranspose2d(c4, neck, 4, stride=4, padding=0)
        self.up5 = nn.ConvTranspose2d(c5, neck, 4, stride=4, padding=0)
        self.norm3, self.norm4, self.norm5 = L2Norm(neck), L2Norm(neck), L2Norm(neck)
        self.fuse = nn.Sequential(
            nn.Conv2d(3 * neck, head, 3, padding=1, bias=False),
            nn.BatchNorm2d(head, momentum=head_bn_momentum),
            nn.ReLU(inplace=True),
        )
        self.center_head = nn.Conv2d(head, 1, 1)
        self.scale_head = nn.Conv2d(head, 1, 1)
        self.offset_head = nn.Conv2d(head, 2, 1)
        self._init_new_layers()

    def _init_new_layers(self) -> None:
        """Glorot-normal weights and zero biases (official code); center bias = -log((1-pi)/pi)."""
        for m in (self.up3, self.up4, self.up5, self.fuse[0], self.center_head, self.scale_head, self.offset_head):
            nn.init.xavier_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        nn.init.constant_(self.center_head.bias, -math.log((1 - CENTER_PRIOR) / CENTER_PRIOR))

    def forward(self, images: torch.Tensor) -> CSPOutput:
        check_detector_input(images, "CSP")
        _, c3, c4, c5 = self.backbone(images)
        fused = torch.cat([self.norm3(self.up3(c3)), self.norm4(self.up4(c4)), self.norm5(self.up5(c5))], dim=1)
        features = self.fuse(fused)
        return CSPOutput(self.center_head(features), self.scale_head(features), self.offset_head(features))


def check_detector_input(images: torch.Tensor, detector: str) -> None:
    """A detector's batch must be (N, 3, H, W) with H and W multiples of ``PAD_MULTIPLE``."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise BadInput(f"{detector} expects images of shape (N, 3, H, W), got {tuple(images.shape)}")
    h, w = images.shape[-2:]
    if h % PAD_MULTIPLE or w % PAD_MULTIPLE:
        raise BadInput(f"{detector} input sides must be multiples of {PAD_MULTIPLE}, got {h}x{w}; use pad_to_multiple")


def pad_to_multiple(images: torch.Tensor, multiple: int = PAD_MULTIPLE, value: float = 0.0
                    ) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad (N, C, H, W) images at the bottom and right to sides that are multiples of ``multiple``.

    Returns the padded batch and the original (H, W), which :func:`unpad` and the
    decoder use to crop maps and clip boxes.  Padding at the bottom/right keeps
    pixel coordinates unchanged (the official ``format_img`` pads the same way).
    With normalised images, ``value=0`` pads with the mean colour.
    """
    if images.ndim != 4:
        raise BadInput(f"pad_to_multiple expects (N, C, H, W), got {tuple(images.shape)}")
    h, w = images.shape[-2:]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
    return F.pad(images, (0, pad_w, 0, pad_h), value=value), (int(h), int(w))


def unpad(maps: torch.Tensor, size: tuple[int, int], stride: int = STRIDE) -> torch.Tensor:
    """Crop stride-``stride`` output maps (N, C, h, w) back to an original image size (H, W)."""
    return maps[..., : math.ceil(size[0] / stride), : math.ceil(size[1] / stride)]


def normalize_images(images: torch.Tensor) -> torch.Tensor:
    """RGB images on the 0-255 scale (uint8 or float, (N, 3, H, W)) -> ImageNet-normalised float32."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise BadInput(f"normalize_images expects RGB images (N, 3, H, W), got {tuple(images.shape)}")
    mean = torch.tensor(PIXEL_MEAN, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(PIXEL_STD, device=images.device).view(1, 3, 1, 1)
    return (images.float() - mean) / std


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (trainable or not), without buffers."""
    return sum(p.numel() for p in model.parameters())
