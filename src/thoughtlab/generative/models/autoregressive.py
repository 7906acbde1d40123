"""Autoregressive image models with exact likelihoods: MADE and the gated PixelCNN, with fast sampling.

Both factorise p(x) = Π_i p(x_i | x_<i) over pixels in an order, so log p(x) is exact (a sum of
per-pixel log-probabilities) and sampling is sequential: one pixel per network evaluation.

**MADE** (Germain, Gregor, Murray & Larochelle 2015, "MADE: Masked Autoencoder for Distribution
Estimation", §4): an MLP whose weight matrices are masked so output i sees only inputs earlier in the
ordering.  Every unit k of hidden layer l gets a number m^l(k) ∈ {min m^{l−1}, …, D − 1}; a weight
from unit k' to k is kept iff m^l(k) ≥ m^{l−1}(k') (eq. 12), and an output weight iff
m^0(d) > m^L(k) (eq. 13), where m^0 is the ordering.  Order-agnostic training (§4.2) draws one of
``masks`` (ordering, connectivity) pairs per step; evaluation averages the probabilities of the
masks (an exact likelihood of the ensemble mixture).  Data: binarised images, Bernoulli outputs.

**Gated PixelCNN** (van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves & Kavukcuoglu 2016,
"Conditional Image Generation with PixelCNN Decoders", §2.1–2.2, Fig. 2): a vertical stack that
sees all rows above, a horizontal stack that sees the pixels to the left in the current row, and
the link vertical → horizontal, which together remove the blind spot of the masked PixelCNN.  The
convolutions are shifted instead of masked: the vertical conv covers rows i−k//2..i and its
output reaches the horizontal stack shifted one row down; the horizontal conv covers columns
j−k//2..j (the first layer j−k//2−1..j−1, "mask A").  Gated unit: y = tanh(W_f∗x) ⊙ σ(W_g∗x) (eq. 2);
residual connection in the horizontal stack.  Outputs: a K-way softmax per pixel (K = 256 for 8-bit
data, K = 2 for binarised data).

**Fast sampling** (Ramachandran, Le Paine, Khorrami, Babaeizadeh, Chang, Zhang, Hasegawa-Johnson,
Campbell & Huang 2017, "Fast Generation for Convolutional Autoregressive Models", ICLR workshop):
keep every layer's activations in a cache and compute, for each new pixel, only the positions that
depend on it: the horizontal stack at one pixel per layer, the vertical stack one row at a time.
Naive sampling re-runs the whole network on the whole image for each of the H·W pixels.  Both draw
a pixel as argmax(logits + g) with pre-drawn Gumbel noise g (the Gumbel-max trick), so the same
noise gives the same samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.errors import BadInput


# ----------------------------------------------------------------------------------------------- MADE
@dataclass(frozen=True)
class MadeConfig:
    """MADE over ``dim`` binary inputs: hidden layer widths, number of (ordering, connectivity) masks."""

    dim: int = 784
    hidden: tuple[int, ...] = (500,)
    masks: int = 1
    natural_order_first: bool = True


class MaskedLinear(nn.Linear):
    """A linear layer whose weight is multiplied by a fixed 0/1 mask (out × in)."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__(n_in, n_out)
        self.register_buffer("mask", torch.ones(n_out, n_in))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """Bernoulli MADE: ``forward(x)`` gives one logit per input, logit i a function of x_<i in the ordering."""

    def __init__(self, config: MadeConfig = MadeConfig(), seed: int = 0):
        super().__init__()
        self.config = config
        sizes = (config.dim, *config.hidden, config.dim)
        self.layers = nn.ModuleList([MaskedLinear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
        self.register_buffer("order", torch.arange(config.dim))
        self.seed, self.mask_index = seed, 0
        self.set_mask(0)

    def set_mask(self, index: int) -> None:
        """Install mask ``index`` mod ``masks`` (ordering and connectivity drawn from ``seed`` and the index)."""
        self.mask_index = index % self.config.masks
        rng = np.random.default_rng([self.seed, self.mask_index])
        dim = self.config.dim
        natural = self.mask_index == 0 and self.config.natural_order_first
        order = np.arange(dim) if natural else rng.permutation(dim)
        degrees = [order]
        for width in self.config.hidden:
            low = min(int(degrees[-1].min()), dim - 2)
            degrees.append(rng.integers(low, dim - 1, size=width))
        for layer, d_in, d_out in zip(self.layers[:-1], degrees[:-1], degrees[1:]):
            layer.mask.copy_(torch.from_numpy((d_out[:, None] >= d_in[None, :]).astype(np.float32)))
        self.layers[-1].mask.copy_(torch.from_numpy((order[:, None] > degrees[-1][None, :]).astype(np.float32)))
        self.order.copy_(torch.from_numpy(order))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(1)
        for layer in self.layers[:-1]:
            h = F.relu(layer(h))
        return self.layers[-1](h)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats per example under the current mask (exact)."""
        target = x.flatten(1)
        return -F.binary_cross_entropy_with_logits(self(target), target, reduction="none").sum(1)

    def ensemble_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log (1/M) Σ_m p_m(x) over all ``masks`` (Germain et al. §4.2); restores mask 0."""
        per_mask = []
        for index in range(self.config.masks):
            self.set_mask(index)
            per_mask.append(self.log_prob(x))
        self.set_mask(0)
        return torch.logsumexp(torch.stack(per_mask), 0) - math.log(self.config.masks)

    @torch.no_grad()
    def sample(self, uniform: torch.Tensor) -> torch.Tensor:
        """Binary samples (B, dim), one input per pass in the ordering; x_i = [u_i < σ(logit_i)]."""
        x = torch.zeros_like(uniform)
        for position in torch.argsort(self.order).tolist():
            x[:, position] = (uniform[:, position] < torch.sigmoid(self(x)[:, position])).float()
        return x


def binarize(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Stochastic binarisation x ~ Bernoulli(intensity) of [0, 1] images (Salakhutdinov & Murray 2008)."""
    return (torch.rand(images.shape, generator=generator) < images).float()


# ------------------------------------------------------------------------------------ gated PixelCNN
@dataclass(frozen=True)
class PixelCNNConfig:
    """Gated PixelCNN for one-channel ``size``×``size`` images with ``categories`` levels per pixel."""

    size: int = 28
    categories: int = 256
    channels: int = 32
    layers: int = 5
    first_kernel: int = 7
    kernel: int = 3
    head: int = 64


def gate(x: torch.Tensor) -> torch.Tensor:
    """tanh(a) ⊙ σ(b) for the two channel halves (van den Oord et al. 2016, eq. 2)."""
    a, b = x.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedLayer(nn.Module):
    """One gated block (Fig. 2): vertical conv, horizontal conv, vertical→horizontal link, residual."""

    def __init__(self, c_in: int, channels: int, kernel: int, first: bool):
        super().__init__()
        self.half, self.first = kernel // 2, first
        self.vertical = nn.Conv2d(c_in, 2 * channels, (self.half + 1, kernel))
        self.horizontal = nn.Conv2d(c_in, 2 * channels, (1, self.half + 1))
        self.link = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    @property
    def h_pad(self) -> int:
        """Zero columns left of the horizontal input (one more for the first layer: the pixel itself is hidden)."""
        return self.half + 1 if self.first else self.half

    def forward(self, v: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        width = v.shape[-1]
        v_pre = self.vertical(F.pad(v, (self.half, self.half, self.half, 0)))
        link = F.pad(self.link(v_pre), (0, 0, 1, 0))[:, :, :-1]  # shift down: row i sees rows < i
        h_pre = self.horizontal(F.pad(h, (self.h_pad, 0, 0, 0)))[..., :width] + link
        h_out = self.out(gate(h_pre))
        return gate(v_pre), h_out if self.first else h + h_out


class GatedPixelCNN(nn.Module):
    """p(x) = Π_ij Categorical(x_ij; softmax(logits_ij(x_<ij))) for integer images (B, 1, H, W) in [0, K)."""

    def __init__(self, config: PixelCNNConfig = PixelCNNConfig()):
        super().__init__()
        self.config = config
        c = config.channels
        kernels = [config.first_kernel] + [config.kernel] * (config.layers - 1)
        self.blocks = nn.ModuleList([GatedLayer(1 if i == 0 else c, c, k, i == 0) for i, k in enumerate(kernels)])
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(c, config.head, 1), nn.ReLU(),
                                  nn.Conv2d(config.head, config.categories, 1))

    def scale(self, pixels: torch.Tensor) -> torch.Tensor:
        """Integer levels → network input in [−1, 1]."""
        return pixels.float() * (2.0 / (self.config.categories - 1)) - 1.0

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Logits (B, K, H, W); logits at (i, j) depend only on pixels before (i, j) in raster order."""
        v = h = self.scale(pixels)
        for block in self.blocks:
            v, h = block(v, h)
        return self.head(h)

    def log_prob(self, pixels: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) in nats per image."""
        logits = self(pixels)
        return -F.cross_entropy(logits, pixels[:, 0].long(), reduction="none").flatten(1).sum(1)

    def bits_per_dim(self, pixels: torch.Tensor) -> torch.Tensor:
        """−log₂ p(x) / D per image (exact for the discrete data; no dequantisation needed)."""
        return -self.log_prob(pixels) / (pixels[0].numel() * math.log(2.0))


def gumbel_noise(n: int, config: PixelCNNConfig, generator: torch.Generator) -> torch.Tensor:
    """Gumbel(0, 1) noise (n, H, W, K) for :func:`sample_naive` and :func:`sample_fast`."""
    u = torch.rand((n, config.size, config.size, config.categories), generator=generator)
    return -torch.log(-torch.log(u.clamp_min(1e-20)))


def _check_noise(model: GatedPixelCNN, noise: torch.Tensor) -> None:
    c = model.config
    if noise.ndim != 4 or tuple(noise.shape[1:]) != (c.size, c.size, c.categories):
        raise BadInput(f"sampling noise must have shape (n, {c.size}, {c.size}, {c.categories}), got "
                       f"{tuple(noise.shape)}; make it with gumbel_noise(n, config, generator)")


@torch.no_grad()
def sample_naive(model: GatedPixelCNN, noise: torch.Tensor) -> torch.Tensor:
    """Sample pixel by pixel, re-running the whole network on the whole image each time (H·W passes)."""
    _check_noise(model, noise)
    size = model.config.size
    pixels = torch.zeros(len(noise), 1, size, size)
    for i in range(size):
        for j in range(size):
            logits = model(pixels)[:, :, i, j]
            pixels[:, 0, i, j] = (logits + noise[:, i, j]).argmax(1).float()
    return pixels


@torch.no_grad()
def sample_fast(model: GatedPixelCNN, noise: torch.Tensor) -> torch.Tensor:
    """The same samples as :func:`sample_naive` from cached activations (Ramachandran et al. 2017):
    per pixel only the horizontal stack at that pixel, per row only the vertical stack at that row."""
    _check_noise(model, noise)
    n, size = len(noise), model.config.size
    blocks = model.blocks
    # vertical inputs of every layer, zero-padded (top by half, left/right by half): rows fill in as they finish
    v_cache = [torch.zeros(n, b.vertical.in_channels, size + b.half, size + 2 * b.half) for b in blocks]
    links = [torch.zeros(n, 2 * model.config.channels, 1, size) for _ in blocks]  # row 0: no row above
    pixels = torch.zeros(n, 1, size, size)
    for i in range(size):
        h_cache = [torch.zeros(n, b.horizontal.in_channels, 1, size + b.h_pad) for b in blocks]
        for j in range(size):
            h = None
            for index, block in enumerate(blocks):
                window = h_cache[index][..., j: j + block.half + 1]
                h_pre = block.horizontal(window) + links[index][..., j: j + 1]
                h_out = block.out(gate(h_pre))
                h = h_out if block.first else h_cache[index][..., j + block.h_pad: j + block.h_pad + 1] + h_out
                if index + 1 < len(blocks):
                    nxt = blocks[index + 1]
                    h_cache[index + 1][..., j + nxt.h_pad: j + nxt.h_pad + 1] = h
            logits = model.head(h)[:, :, 0, 0]
            value = (logits + noise[:, i, j]).argmax(1).float()
            pixels[:, 0, i, j] = value
            scaled = model.scale(value).view(n, 1)
            h_cache[0][:, :, 0, j + blocks[0].h_pad] = scaled
            v_cache[0][:, :, i + blocks[0].half, j + blocks[0].half] = scaled
        _advance_vertical(blocks, v_cache, links, i)
    return pixels


def _advance_vertical(blocks: nn.ModuleList, v_cache: list[torch.Tensor], links: list[torch.Tensor], row: int) -> None:
    """Row ``row`` is complete: compute every layer's vertical output at that row and the links for row + 1."""
    for index, block in enumerate(blocks):
        strip = v_cache[index][:, :, row: row + block.half + 1]
        v_pre = block.vertical(strip)
        links[index] = block.link(v_pre)
        if index + 1 < len(blocks):
            nxt = blocks[index + 1]
            width = v_pre.shape[-1]
            v_cache[index + 1][:, :, row + nxt.half, nxt.half: nxt.half + width] = gate(v_pre)[:, :, 0]


def parameter_count(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
