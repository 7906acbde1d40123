"""RealNVP: a normalising flow of affine couplings (Dinh, Sohl-Dickstein & Bengio 2017, "Density
estimation using Real NVP", ICLR).

Change of variables (eq. 3): with an invertible f and z = f(v) ~ N(0, I),

    log p_V(v) = log N(f(v); 0, I) + log |det ∂f/∂v|.

Affine coupling (eqs. 7–9), with a binary mask b and nets s(·), t(·) that see only b⊙v:

    y = b⊙v + (1 − b)⊙(v⊙exp(s(b⊙v)) + t(b⊙v)),     log |det ∂y/∂v| = Σ (1 − b)⊙s(b⊙v),

inverted exactly by v = b⊙y + (1 − b)⊙((y − t(b⊙y))⊙exp(−s(b⊙y))).  Masks are spatial checkerboards
or channel halves (§3.4); ``squeeze`` turns a C×H×W tensor into 4C×H/2×W/2 (§3.6).  Multi-scale
architecture (§3.6): every level but the last applies 3 checkerboard couplings, a squeeze and 3
channel couplings, then factors out half of the channels as latent; the last level applies 4
checkerboard couplings.  s is ``scale·tanh(·)`` of the net's output (a bounded scale, as in the
authors' code).  Vectors (2-D toy data) use alternating halves of the coordinates and MLP nets.

Data pipeline for 8-bit images (§4.1), every Jacobian term counted in :func:`bits_per_dim`:

1. dequantise: y = (x + u) / 256, u ~ U[0, 1)^D, x ∈ {0..255}^D     (density scale −D·log 256 in nats)
2. logit: v = logit(α + (1 − 2α)·y), log |dv/dy| = Σ log(1 − 2α) − log s − log(1 − s), s = α + (1−2α)y
3. flow: z = f(v) with its own log-determinant.

bits/dim = (−log p_V(v) − log |dv/dy| + D·log 256) / (D·log 2): an upper bound (Jensen over u, Theis
et al. 2016) on the discrete model's negative log-likelihood of x in bits per pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from thoughtlab.errors import BadInput

LOG256 = math.log(256.0)


@dataclass(frozen=True)
class FlowConfig:
    """A RealNVP: ``shape`` (C, H, W) of images or (d,) of vectors; ``levels`` of the multi-scale
    architecture (images; H, W divisible by 2^(levels−1)); ``hidden`` channels/units of the s,t nets;
    ``couplings`` used for vectors; ``alpha`` of the logit transform."""

    shape: tuple[int, ...] = (1, 28, 28)
    levels: int = 2
    hidden: int = 32
    couplings: int = 6
    alpha: float = 0.05


def checkerboard_mask(height: int, width: int, parity: int) -> torch.Tensor:
    """(1, 1, H, W) mask with b = 1 where (row + column + parity) is even (Dinh et al. Fig. 3 left)."""
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    return ((rows + cols + parity) % 2 == 0).float().view(1, 1, height, width)


def channel_mask(channels: int, parity: int) -> torch.Tensor:
    """(1, C, 1, 1) mask selecting the first (parity 0) or second (parity 1) half of the channels (Fig. 3 right)."""
    first = (torch.arange(channels) < channels // 2).float()
    return (first if parity == 0 else 1.0 - first).view(1, channels, 1, 1)


def vector_mask(dim: int, parity: int) -> torch.Tensor:
    """(1, d) mask selecting even (parity 0) or odd (parity 1) coordinates."""
    return ((torch.arange(dim) + parity) % 2 == 0).float().view(1, dim)


def squeeze(x: torch.Tensor) -> torch.Tensor:
    """C×H×W → 4C×H/2×W/2: each 2×2 spatial block becomes 4 channels (Dinh et al. §3.6, Fig. 3)."""
    b, c, h, w = x.shape
    x = x.view(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(b, 4 * c, h // 2, w // 2)


def unsqueeze(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`squeeze`."""
    b, c, h, w = x.shape
    x = x.view(b, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)
    return x.reshape(b, c // 4, 2 * h, 2 * w)


def conv_net(channels: int, hidden: int) -> nn.Module:
    """s,t net for image couplings: 3×3 conv, ReLU, 1×1 conv, ReLU, zero-initialised 3×3 conv to 2C
    (the flow starts as the identity)."""
    last = nn.Conv2d(hidden, 2 * channels, 3, padding=1)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(nn.Conv2d(channels, hidden, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(hidden, hidden, 1), nn.ReLU(), last)


def mlp_net(dim: int, hidden: int) -> nn.Module:
    """s,t net for vector couplings: two hidden ReLU layers, zero-initialised output to 2d."""
    last = nn.Linear(hidden, 2 * dim)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), last)


class AffineCoupling(nn.Module):
    """One affine coupling layer (Dinh et al. eqs. 7–9) with a fixed binary mask."""

    def __init__(self, mask: torch.Tensor, net: nn.Module):
        super().__init__()
        self.register_buffer("mask", mask)
        self.net = net
        self.scale = nn.Parameter(torch.ones(1))

    def _s_t(self, kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw_s, t = self.net(kept).chunk(2, dim=1)
        free = 1.0 - self.mask
        return self.scale * torch.tanh(raw_s) * free, t * free

    def forward(self, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(y, log|det ∂y/∂v| per example)."""
        s, t = self._s_t(v * self.mask)
        return v * torch.exp(s) + t, s.flatten(1).sum(1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        s, t = self._s_t(y * self.mask)
        return (y - t) * torch.exp(-s)


class Level(nn.Module):
    """One scale of the image architecture: couplings (and, unless last, squeeze + channel couplings + split)."""

    def __init__(self, channels: int, size: tuple[int, int], hidden: int, last: bool):
        super().__init__()
        self.last = last
        h, w = size
        checker = [AffineCoupling(checkerboard_mask(h, w, i % 2), conv_net(channels, hidden))
                   for i in range(4 if last else 3)]
        self.checker = nn.ModuleList(checker)
        self.channel = nn.ModuleList([] if last else [
            AffineCoupling(channel_mask(4 * channels, i % 2), conv_net(4 * channels, hidden)) for i in range(3)])

    def forward(self, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """(kept for the next level, factored-out latent or None, log-det)."""
        logdet = torch.zeros(len(v), device=v.device, dtype=v.dtype)
        for layer in self.checker:
            v, ld = layer(v)
            logdet = logdet + ld
        if self.last:
            return v, None, logdet
        v = squeeze(v)
        for layer in self.channel:
            v, ld = layer(v)
            logdet = logdet + ld
        half = v.shape[1] // 2
        return v[:, half:], v[:, :half], logdet

    def inverse(self, kept: torch.Tensor, out: torch.Tensor | None) -> torch.Tensor:
        v = kept if self.last else torch.cat([out, kept], dim=1)
        if not self.last:
            for layer in reversed(self.channel):
                v = layer.inverse(v)
            v = unsqueeze(v)
        for layer in reversed(self.checker):
            v = layer.inverse(v)
        return v


class RealNVP(nn.Module):
    """f: v → z with exact log-determinant; images use the multi-scale architecture, vectors a stack of
    alternating couplings.  Latents are returned flat, (B, D): factored-out parts level by level, then the last."""

    def __init__(self, config: FlowConfig = FlowConfig()):
        super().__init__()
        self.config = config
        self.shape = tuple(config.shape)
        self.dim = math.prod(self.shape)
        if len(self.shape) == 1:
            self.layers = nn.ModuleList([AffineCoupling(vector_mask(self.dim, i % 2), mlp_net(self.dim, config.hidden))
                                         for i in range(config.couplings)])
        else:
            self.levels = nn.ModuleList(self._image_levels(config))

    @staticmethod
    def _image_levels(config: FlowConfig) -> list[Level]:
        c, h, w = config.shape
        factor = 2 ** (config.levels - 1)
        if config.levels < 1 or h % factor or w % factor:
            raise BadInput(f"RealNVP: image size {h}x{w} must be divisible by 2^(levels-1) = {factor}; "
                           "use fewer levels")
        levels = []
        for index in range(config.levels):
            last = index == config.levels - 1
            levels.append(Level(c, (h, w), config.hidden, last))
            c, h, w = 2 * c, h // 2, w // 2
        return levels

    def forward(self, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(z flat (B, D), log|det ∂z/∂v| (B,))."""
        if len(self.shape) == 1:
            logdet = torch.zeros(len(v), device=v.device, dtype=v.dtype)
            for layer in self.layers:
                v, ld = layer(v)
                logdet = logdet + ld
            return v, logdet
        outs, logdet = [], torch.zeros(len(v), device=v.device, dtype=v.dtype)
        for level in self.levels:
            v, out, ld = level(v)
            logdet = logdet + ld
            outs.append((out if out is not None else v).flatten(1))
        return torch.cat(outs, dim=1), logdet

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """v = f⁻¹(z) for flat latents (B, D)."""
        if len(self.shape) == 1:
            for layer in reversed(self.layers):
                z = layer.inverse(z)
            return z
        shapes = self._latent_shapes()
        parts = list(torch.split(z, [math.prod(s) for s in shapes], dim=1))
        kept = parts[-1].view(len(z), *shapes[-1])
        for index in reversed(range(len(self.levels))):
            out = None if index == len(self.levels) - 1 else parts[index].view(len(z), *shapes[index])
            kept = self.levels[index].inverse(kept, out)
        return kept

    def _latent_shapes(self) -> list[tuple[int, int, int]]:
        c, h, w = self.shape
        shapes = []
        for index in range(len(self.levels)):
            if index == len(self.levels) - 1:
                shapes.append((c, h, w))
            else:
                c, h, w = 2 * c, h // 2, w // 2
                shapes.append((c, h, w))
        return shapes

    def log_prob(self, v: torch.Tensor) -> torch.Tensor:
        """log p_V(v) in nats per example (Dinh et al. eq. 3), standard normal prior."""
        z, logdet = self(v)
        return standard_normal_log_prob(z) + logdet

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        param = next(self.parameters())
        return torch.randn((n, self.dim), generator=generator, device=param.device, dtype=param.dtype)


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """Σ_i log N(z_i; 0, 1) per row."""
    return -0.5 * (z.pow(2) + math.log(2 * math.pi)).flatten(1).sum(1)


def dequantize(pixels: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """y = (x + u)/256, u ~ U[0,1): 8-bit integers {0..255} → continuous values in [0, 1)."""
    if pixels.is_floating_point() and bool(((pixels != pixels.round()) | (pixels < 0) | (pixels > 255)).any()):
        raise BadInput("dequantize expects integer pixel values 0..255; pass to_pixels(images) for [0, 1] images")
    u = torch.rand(pixels.shape, generator=generator, device=pixels.device)
    return (pixels.float() + u) / 256.0


def to_pixels(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] images → integer pixel values 0..255 (as float, exact)."""
    return (images.clamp(0, 1) * 255.0).round()


def logit_transform(y: torch.Tensor, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """v = logit(α + (1 − 2α)y) and log|dv/dy| summed per example (Dinh et al. §4.1)."""
    s = alpha + (1.0 - 2.0 * alpha) * y
    v = torch.log(s) - torch.log1p(-s)
    logdet = (math.log(1.0 - 2.0 * alpha) - torch.log(s) - torch.log1p(-s)).flatten(1).sum(1)
    return v, logdet


def inverse_logit(v: torch.Tensor, alpha: float) -> torch.Tensor:
    """y = (sigmoid(v) − α)/(1 − 2α), the inverse of :func:`logit_transform`."""
    return (torch.sigmoid(v) - alpha) / (1.0 - 2.0 * alpha)


def image_log_prob(flow: RealNVP, y: torch.Tensor) -> torch.Tensor:
    """log p_Y(y) (nats) of continuous images y ∈ (0, 1)^D: the flow in logit space plus the logit Jacobian."""
    v, logdet = logit_transform(y, flow.config.alpha)
    return flow.log_prob(v) + logdet


def bits_per_dim(flow: RealNVP, pixels: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-image bits/dim of 8-bit images (B, C, H, W) with one dequantisation draw (see module docstring)."""
    y = dequantize(pixels, generator)
    dim = y[0].numel()
    return (-image_log_prob(flow, y) + dim * LOG256) / (dim * math.log(2.0))


def decode(flow: RealNVP, z: torch.Tensor, clamp: bool = True) -> torch.Tensor:
    """Images from flat latents: the flow as a generator G(z) = logit⁻¹(f⁻¹(z)), in (−α/(1−2α), 1 + α/(1−2α));
    clamped to [0, 1] unless ``clamp=False`` (training through G: a clamp would stop the gradient of dark pixels)."""
    images = inverse_logit(flow.inverse(z), flow.config.alpha)
    return images.clamp(0.0, 1.0) if clamp else images


def sample_images(flow: RealNVP, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """n images in [0, 1] from the prior."""
    return decode(flow, flow.sample_latent(n, generator))


def parameter_count(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


__all__ = ["FlowConfig", "RealNVP", "AffineCoupling", "checkerboard_mask", "channel_mask", "squeeze", "unsqueeze",
           "dequantize", "to_pixels", "logit_transform", "inverse_logit", "image_log_prob", "bits_per_dim", "decode",
           "sample_images", "standard_normal_log_prob", "parameter_count"]
