"""The GAN family: MLP and DCGAN-style networks, three losses, spectral norm, packing and R1.

Shared by the studies of thought 5 (trade-offs, distributions, batch size, beyond images).

- Networks.  :class:`MLPGenerator` / :class:`MLPDiscriminator` for low-dimensional data and
  flattened images; the discriminator's hidden units are LeakyReLU(0.2) or maxout
  (Goodfellow et al. 2013), which with ``pieces=5`` and 3×200 units plus a 4×400 ReLU+BN
  generator is PacGAN's mixture-of-Gaussians architecture (Lin et al. 2018, App. D).
  :class:`DCGANGenerator` / :class:`DCGANDiscriminator` are the DCGAN layout (Radford et al.
  2016, §3: strided (transposed) convolutions, BN in G, LeakyReLU in D) cut to 28×28, 1 channel.
- Packing (PacGAN, Lin et al. 2018, §3): the discriminator judges ``m`` samples at once,
  concatenated along features (vectors) or channels (images), so a batch of ``n·m`` samples
  gives ``n`` logits.  Every discriminator here packs its input itself (``pack``).
- Losses on logits: non-saturating (Goodfellow et al. 2014, §3), hinge (Lim & Ye 2017;
  Miyato et al. 2018, eq. 16), least squares with a=0, b=c=1 (Mao et al. 2017, eq. 2).
- Spectral norm (Miyato et al. 2018): every linear/conv weight of D divided by its largest
  singular value, estimated by one power iteration per training forward (torch's parametrisation).
- R1 (Mescheder, Geiger & Nowozin 2018, eq. 9): (γ/2)·E_real ‖∇ₓ D(x)‖².

Tensors: vectors (B, d); images NCHW in [-1, 1] (``tanh`` output).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from thoughtlab.errors import BadInput, UnknownName

LOSSES: tuple[str, ...] = ("ns", "hinge", "lsgan")
OUTPUTS: tuple[str, ...] = ("linear", "tanh")
ACTIVATIONS: tuple[str, ...] = ("lrelu", "maxout")


# --- packing -------------------------------------------------------------------------------------

def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """Group consecutive samples in ``m``s: (n·m, d) -> (n, m·d), (n·m, C, H, W) -> (n, m·C, H, W)."""
    if m < 1 or len(x) % m:
        raise BadInput(f"packing degree {m} must divide the batch of {len(x)} samples; use a multiple of {m}")
    if m == 1:
        return x
    n = len(x) // m
    if x.ndim == 2:
        return x.reshape(n, m * x.shape[1])
    return x.reshape(n, m * x.shape[1], *x.shape[2:])


# --- building blocks -----------------------------------------------------------------------------

class Maxout(nn.Module):
    """Maxout units (Goodfellow et al. 2013, eq. 1): the max over ``pieces`` affine maps per unit."""

    def __init__(self, in_features: int, out_features: int, pieces: int):
        super().__init__()
        self.out_features, self.pieces = out_features, pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).view(len(x), self.out_features, self.pieces).amax(dim=2)


def with_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectrally normalise every Linear/Conv/ConvTranspose weight inside ``module`` (in place)."""
    for child in list(module.modules()):
        if isinstance(child, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            _spectral_norm(child)
    return module


def init_normal(module: nn.Module, std: float = 0.02) -> nn.Module:
    """Weights ~ N(0, std²), biases 0, BN scale ~ N(1, std²) (DCGAN §4; PacGAN's MoG runs use std 0.02)."""
    for child in module.modules():
        if isinstance(child, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(child.weight, 0.0, std)
            if child.bias is not None:
                nn.init.zeros_(child.bias)
        elif isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(child.weight, 1.0, std)
            nn.init.zeros_(child.bias)
    return module


def _output(kind: str) -> nn.Module:
    if kind not in OUTPUTS:
        raise UnknownName("generator output", kind, OUTPUTS)
    return nn.Tanh() if kind == "tanh" else nn.Identity()


# --- MLP networks --------------------------------------------------------------------------------

class MLPGenerator(nn.Module):
    """z (B, z_dim) ~ N(0, I) -> samples (B, *shape): ``depth`` × [Linear, BN, ReLU], then a Linear.

    PacGAN's MoG generator is ``MLPGenerator(z_dim=2, shape=(2,), width=400, depth=4)``.
    """

    def __init__(self, z_dim: int, shape: tuple[int, ...], width: int = 400, depth: int = 4,
                 batch_norm: bool = True, output: str = "linear"):
        super().__init__()
        self.z_dim, self.shape = z_dim, tuple(shape)
        layers: list[nn.Module] = []
        fan_in = z_dim
        for _ in range(depth):
            layers += [nn.Linear(fan_in, width, bias=not batch_norm)]
            layers += [nn.BatchNorm1d(width)] if batch_norm else []
            layers += [nn.ReLU()]
            fan_in = width
        out_dim = int(torch.tensor(self.shape).prod())
        self.net = nn.Sequential(*layers, nn.Linear(fan_in, out_dim), _output(output))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), *self.shape)


class MLPDiscriminator(nn.Module):
    """samples (n·pack, *shape) -> logits (n,): ``depth`` hidden layers of LeakyReLU(0.2) or maxout units.

    PacGAN's MoG discriminator is ``MLPDiscriminator(in_dim=2, width=200, depth=3,
    activation="maxout", pieces=5, pack=m)``.
    """

    def __init__(self, in_dim: int, width: int = 200, depth: int = 3, activation: str = "lrelu",
                 pieces: int = 5, pack: int = 1, spectral_norm: bool = False):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise UnknownName("discriminator activation", activation, ACTIVATIONS)
        self.pack = pack
        layers: list[nn.Module] = []
        fan_in = in_dim * pack
        for _ in range(depth):
            layers += ([Maxout(fan_in, width, pieces)] if activation == "maxout"
                       else [nn.Linear(fan_in, width), nn.LeakyReLU(0.2)])
            fan_in = width
        self.net = nn.Sequential(*layers, nn.Linear(fan_in, 1))
        if spectral_norm:
            with_spectral_norm(self.net)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(pack(x.flatten(1), self.pack)).squeeze(1)


# --- DCGAN networks (28×28) ------------------------------------------------------------------------

class DCGANGenerator(nn.Module):
    """z (B, z_dim) -> images (B, C, 28, 28) in [-1, 1].

    Linear -> (2w, 7, 7), BN, ReLU; ConvT 4×4/2 -> (w, 14, 14), BN, ReLU; ConvT 4×4/2 -> (C, 28, 28), tanh.
    """

    def __init__(self, z_dim: int = 64, width: int = 64, channels: int = 1):
        super().__init__()
        self.z_dim, self.width = z_dim, width
        self.project = nn.Sequential(nn.Linear(z_dim, 2 * width * 49, bias=False), nn.BatchNorm1d(2 * width * 49),
                                     nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.project(z).view(len(z), 2 * self.width, 7, 7))


class DCGANDiscriminator(nn.Module):
    """images (n·pack, C, 28, 28) -> logits (n,): Conv 4×4/2 (w), LReLU; Conv 4×4/2 (2w), LReLU; Linear.

    No batch norm (it would couple the samples of a batch, and R1 and spectral norm replace it).
    """

    def __init__(self, width: int = 64, channels: int = 1, pack: int = 1, spectral_norm: bool = False):
        super().__init__()
        self.pack = pack
        self.net = nn.Sequential(
            nn.Conv2d(channels * pack, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * width * 49, 1))
        if spectral_norm:
            with_spectral_norm(self.net)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(pack(x, self.pack)).squeeze(1)


# --- losses --------------------------------------------------------------------------------------

def _check_loss(kind: str) -> None:
    if kind not in LOSSES:
        raise UnknownName("GAN loss", kind, LOSSES)


def discriminator_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """D's loss on logits of real and generated (packed) samples.

    ns: −log σ(D(x)) − log(1 − σ(D(G(z))));  hinge: relu(1 − D(x)) + relu(1 + D(G(z)));
    lsgan: ½(D(x) − 1)² + ½D(G(z))²; each averaged over its batch.
    """
    _check_loss(kind)
    if kind == "ns":
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if kind == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    return 0.5 * (real - 1).pow(2).mean() + 0.5 * fake.pow(2).mean()


def generator_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    """G's loss on D's logits of generated samples: ns −log σ(D(G(z))); hinge −D(G(z)); lsgan ½(D(G(z)) − 1)²."""
    _check_loss(kind)
    if kind == "ns":
        return F.softplus(-fake).mean()
    if kind == "hinge":
        return -fake.mean()
    return 0.5 * (fake - 1).pow(2).mean()


def r1_penalty(discriminator: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
               gamma: float) -> torch.Tensor:
    """(γ/2)·mean over D's outputs of ‖∇ D(x)‖² w.r.t. its real input (Mescheder et al. 2018, eq. 9).

    With packing, the gradient of each packed logit is taken w.r.t. its ``m`` samples together.
    """
    x = real.detach().requires_grad_(True)
    out = discriminator(x)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True, allow_unused=True, materialize_grads=True)
    return 0.5 * gamma * grad.pow(2).flatten(1).sum(1).sum() / len(out)
