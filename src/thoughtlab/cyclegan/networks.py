"""The reference CycleGAN networks (Zhu et al. 2017, appendix 7.2; junyanz/pytorch-CycleGAN-and-pix2pix).

Generator "resnet_Nblocks" (Johnson et al. 2016 layout): c7s1-ngf, d(2ngf), d(4ngf), N × R(4ngf),
u(2ngf), u(ngf), c7s1-output_nc, tanh.  7×7 convolutions use reflection padding 3, residual blocks
reflection padding 1; instance norm has no affine parameters, so every convolution keeps its bias;
upsampling is ConvTranspose2d(k3, s2, p1, output_padding 1).

Discriminator "basic" = 70×70 PatchGAN with n_layers = 3: C(ndf) without norm, C(2ndf), C(4ndf)
(4×4, stride 2, LeakyReLU 0.2), C(8ndf) at stride 1, then a 1-channel 4×4 convolution at stride 1.
Each output value judges one 70×70 patch (30×30 map for a 256² input).

Weights are drawn from N(0, 0.02), biases zero (the reference's ``init_type normal``).
"""

from __future__ import annotations

import torch
from torch import nn

INIT_GAIN = 0.02


def _norm(channels: int) -> nn.InstanceNorm2d:
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    """x + IN(conv(pad(ReLU(IN(conv(pad(x)))))))): two 3×3 convolutions with reflection padding 1."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """G: images (N, input_nc, H, W) in [-1, 1] -> (N, output_nc, H, W) in [-1, 1]; H, W multiples of 4.

    11,378,179 parameters at ngf 64 with 9 blocks (256² default), 7,837,699 with 6 blocks (128²).
    """

    def __init__(self, input_nc: int, output_nc: int, ngf: int = 64, n_blocks: int = 9):
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7), _norm(ngf), nn.ReLU(True)]
        for mult in (1, 2):  # d(2ngf), d(4ngf)
            layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1), _norm(ngf * mult * 2), nn.ReLU(True)]
        layers += [ResnetBlock(ngf * 4) for _ in range(n_blocks)]
        for mult in (4, 2):  # u(2ngf), u(ngf)
            layers += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, stride=2, padding=1, output_padding=1),
                       _norm(ngf * mult // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        self.input_nc, self.output_nc = input_nc, output_nc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    """PatchGAN D: images (N, input_nc, H, W) -> real/fake scores (N, 1, h, w), one per patch.

    2,764,737 parameters at ndf 64, n_layers 3 (receptive field 70×70).
    """

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 3):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        width = ndf
        for n in range(1, n_layers + 1):
            stride = 2 if n < n_layers else 1
            nxt = ndf * min(2**n, 8)
            layers += [nn.Conv2d(width, nxt, 4, stride=stride, padding=1), _norm(nxt), nn.LeakyReLU(0.2, True)]
            width = nxt
        layers += [nn.Conv2d(width, 1, 4, stride=1, padding=1)]
        self.model = nn.Sequential(*layers)
        self.input_nc = input_nc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def init_weights(net: nn.Module, gain: float = INIT_GAIN) -> nn.Module:
    """Reference ``init_type normal``: conv and linear weights ~ N(0, gain²), biases 0 (global torch RNG)."""
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(module.weight, 0.0, gain)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return net


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
