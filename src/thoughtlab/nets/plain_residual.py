"""Plain and residual networks of equal width, depth and parameter count (MLP and small CNN).

The degradation experiment of He et al. 2016 ("Deep Residual Learning", CVPR,
§4.1 and Fig. 1/6) compares a plain stack with the same stack plus identity
shortcuts, with *identical parameter counts*.  Here both nets are

    stem -> depth x block -> ReLU -> head

and the only difference is the block (pre-activation order, He et al. 2016b,
"Identity Mappings in Deep Residual Networks", Fig. 4e, with one weight layer
per block so a plain and a residual block have the same weights):

    plain:     h <- W relu(h) + b
    residual:  h <- h + alpha * (W relu(h) + b),   alpha = 1 / sqrt(depth)

Design choices, and why (research notes A2 "initialization-time numbers"):

- **No normalization in either net.**  Batch norm re-centres every unit over
  the batch, so a unit can hardly be off for every input; it would hide the
  dead-unit effect this pair is built to measure.  Both nets are treated alike.
- **Branch scale alpha = 1/sqrt(depth)**, fixed (no parameters).  Without
  normalization an unscaled residual stack explodes (the notes measure an
  output RMS of ~2e7 at 50 layers), which would make it a straw man.  With
  alpha the stream's variance grows by at most (1 + 1/L)^L <= e.
- **He initialization** (He et al. 2015, "Delving Deep into Rectifiers",
  Eq. 10: weights N(0, 2/fan_in)), zero biases; the head uses N(0, 1/fan_in).
  Built from the same ``seed``, a plain and a residual net start from the
  *same* weights, so training differs only through the shortcut.
- The block's ReLU sits on the residual stream (pre-activation), so the same
  ``nn.ReLU`` modules are the units a probe watches in both nets: a unit of
  block ``l`` is dead if ``h_{l-1}`` is <= 0 on every input.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from thoughtlab.errors import BadInput, UnknownName

ARCHS: tuple[str, ...] = ("mlp", "cnn")
CNN_POOL = 4  # the CNN head average-pools the feature map to CNN_POOL x CNN_POOL


class Block(nn.Module):
    """One pre-activation block: ``relu -> layer``, plus the shortcut when residual."""

    def __init__(self, layer: nn.Module, residual: bool, branch_scale: float):
        super().__init__()
        self.act = nn.ReLU()
        self.layer = layer
        self.residual = residual
        self.branch_scale = branch_scale

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        branch = self.layer(self.act(h))
        return h + self.branch_scale * branch if self.residual else branch


class PlainResidualNet(nn.Module):
    """``stem -> blocks -> relu -> head``; see the module docstring for the design.

    Attributes:
        stem: first weight layer (input -> width).
        blocks: ``depth`` blocks of width x width layers.
        head_act: the ReLU before the head.
        head: pooling/flatten and the linear classifier.
    """

    def __init__(self, stem: nn.Module, blocks: list[Block], head: nn.Module):
        super().__init__()
        self.stem = stem
        self.blocks = nn.ModuleList(blocks)
        self.head_act = nn.ReLU()
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        for block in self.blocks:
            h = block(h)
        return self.head(self.head_act(h))

    def weight_layer_names(self) -> list[str]:
        """Names of the ``depth`` block weight layers, first to last (for gradient norms)."""
        return [f"blocks.{i}.layer" for i in range(len(self.blocks))]


def make_net(
    arch: str,
    depth: int,
    width: int,
    residual: bool,
    input_shape: tuple[int, int, int],
    num_classes: int,
    seed: int = 0,
) -> PlainResidualNet:
    """A plain or residual MLP/CNN, He-initialised from ``seed``.

    Args:
        arch: ``"mlp"`` (flattened input, linear blocks) or ``"cnn"`` (3x3 convs,
            padding 1, ``width`` channels; the head average-pools to 4x4).
        depth: number of width x width blocks (>= 1).
        width: units (MLP) or channels (CNN) per block.
        residual: add the identity shortcut with branch scale 1/sqrt(depth).
        input_shape: ``(C, H, W)`` of one input.
        num_classes: outputs of the head.
        seed: the same seed gives the same weights for plain and residual.
    """
    if arch not in ARCHS:
        raise UnknownName("architecture", arch, ARCHS)
    if depth < 1 or width < 1:
        raise BadInput(f"depth and width must be >= 1, got depth={depth}, width={width}")
    channels, height, wide = input_shape
    if arch == "mlp":
        stem: nn.Module = nn.Sequential(nn.Flatten(), nn.Linear(channels * height * wide, width))
        layers = [nn.Linear(width, width) for _ in range(depth)]
        head: nn.Module = nn.Linear(width, num_classes)
    else:
        stem = nn.Conv2d(channels, width, 3, padding=1)
        layers = [nn.Conv2d(width, width, 3, padding=1) for _ in range(depth)]
        head = nn.Sequential(
            nn.AdaptiveAvgPool2d(CNN_POOL), nn.Flatten(), nn.Linear(width * CNN_POOL**2, num_classes)
        )
    scale = 1.0 / math.sqrt(depth)
    net = PlainResidualNet(stem, [Block(layer, residual, scale) for layer in layers], head)
    _he_init(net, torch.Generator().manual_seed(seed))
    return net


def _he_init(net: PlainResidualNet, generator: torch.Generator) -> None:
    """N(0, 2/fan_in) weights before ReLUs, N(0, 1/fan_in) for the head, zero biases."""
    weight_layers = [m for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    with torch.no_grad():
        for module in weight_layers:
            fan_in = module.weight[0].numel()
            gain = 1.0 if module is weight_layers[-1] else 2.0
            module.weight.normal_(0.0, math.sqrt(gain / fan_in), generator=generator)
            module.bias.zero_()


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
