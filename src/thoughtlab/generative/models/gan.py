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
  ``ns-bce`` is the non-saturating loss written with ``binary_cross_entropy_with_logits`` instead
  of ``softplus``: the same values, gradients that differ in the last bits (~1e-9), kept so that
  runs made with that form (the gan-evaluation study's small GAN) reproduce bit for bit.
- Spectral norm (Miyato et al. 2018): every linear/conv weight of D divided by its largest
  singular value, estimated by one power iteration per training forward (torch's parametrisation).
- R1 (Mescheder, Geiger & Nowozin 2018, eq. 9): (γ/2)·E_real ‖∇ₓ D(x)‖².

Tensors: vectors (B, d); images NCHW in [-1, 1] (``tanh`` output).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.train import EMA, Hook, TrainState, train

LOSSES: tuple[str, ...] = ("ns", "ns-bce", "hinge", "lsgan")
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
    if kind == "ns-bce":
        return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    if kind == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    return 0.5 * (real - 1).pow(2).mean() + 0.5 * fake.pow(2).mean()


def generator_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    """G's loss on D's logits of generated samples: ns −log σ(D(G(z))); hinge −D(G(z)); lsgan ½(D(G(z)) − 1)²."""
    _check_loss(kind)
    if kind == "ns":
        return F.softplus(-fake).mean()
    if kind == "ns-bce":
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
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


# --- training recipe (on thoughtlab.train's core) ------------------------------------------------

@dataclass(frozen=True)
class GanTraining:
    """How a GAN is trained: loss, batch, Adam, D steps per G step, R1, EMA, update order.

    ``batch_size`` counts discriminator inputs: each D step draws ``batch_size · pack`` real and as
    many generated samples (PacGAN's streams: ``m`` batches of 100 packed into 100 inputs).
    ``simultaneous``: both players' gradients come from the same forward pass and both are applied
    at once (the ALI/PacGAN code's update); otherwise D steps first and G answers the updated D.
    """

    loss: str = "ns"
    batch_size: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    d_steps: int = 1
    r1_gamma: float = 0.0
    ema_decay: float | None = None
    simultaneous: bool = False


class GanRecipe:
    """Goodfellow et al. (2014), Algorithm 1 as a :func:`thoughtlab.train.train` recipe.

    ``batch(step)``: ``d_steps`` real minibatches drawn uniformly from ``data`` and as many latent
    batches, from the recipe's own generator (registered in the state, so resumes are exact).
    ``step(state, batch)``: ``d_steps`` discriminator updates (loss + R1), one generator update,
    then the EMA generator (if any).  Models ``g``/``d``, optimisers ``g``/``d``, EMA ``g``.
    """

    def __init__(self, data: torch.Tensor, z_dim: int, pack: int, cfg: GanTraining, seed: int):
        _check_loss(cfg.loss)
        self.data, self.z_dim, self.cfg = data, z_dim, cfg
        self.per_step = cfg.batch_size * pack
        if self.per_step > len(data) or cfg.d_steps < 1:
            raise BadInput(f"need 1 <= batch_size·pack = {self.per_step} <= {len(data)} samples and d_steps >= 1")
        self.noise = torch.Generator().manual_seed(seed)

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        k, n = self.cfg.d_steps, self.per_step
        real = self.data[torch.randint(len(self.data), (k, n), generator=self.noise)]
        return real, torch.randn(k, n, self.z_dim, generator=self.noise)

    def step(self, state: TrainState, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        g, d = state.models["g"], state.models["d"]
        opt_g, opt_d = state.optimizers["g"], state.optimizers["d"]
        cfg = self.cfg
        for real, z in zip(*batch):
            fake = g(z)
            d_loss = discriminator_loss(cfg.loss, d(real), d(fake.detach()))
            if cfg.r1_gamma > 0:
                d_loss = d_loss + r1_penalty(d, real, cfg.r1_gamma)
            if cfg.simultaneous:  # G's gradient against the D of this same forward pass
                g_loss = generator_loss(cfg.loss, d(fake))
                g_grads = torch.autograd.grad(g_loss, list(g.parameters()))
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
        if cfg.simultaneous:
            for param, grad in zip(g.parameters(), g_grads):
                param.grad = grad
        else:
            g_loss = generator_loss(cfg.loss, d(fake))
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
        opt_g.step()
        for ema in state.emas.values():
            ema.update(g)
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


def gan_state(g: nn.Module, d: nn.Module, recipe: GanRecipe, config: dict[str, Any]) -> TrainState:
    """A :class:`TrainState` for :class:`GanRecipe`: Adam for both players, the EMA generator if asked."""
    cfg = recipe.cfg
    return TrainState(
        {**config, **asdict(cfg)}, models={"g": g, "d": d},
        optimizers={"g": torch.optim.Adam(g.parameters(), cfg.lr_g, betas=cfg.betas),
                    "d": torch.optim.Adam(d.parameters(), cfg.lr_d, betas=cfg.betas)},
        emas={"g": EMA(g, cfg.ema_decay)} if cfg.ema_decay is not None else {},
        generators={"noise": recipe.noise})


def train_gan(g: nn.Module, d: nn.Module, data: torch.Tensor, cfg: GanTraining, steps: int, seed: int, *,
              checkpoint: str | os.PathLike | None = None, hooks: Collection[Hook] = (),
              logger: Any = None, log_every: int = 100, snapshots: Collection[int] = (),
              save_snapshot: Callable[[TrainState], str | os.PathLike] | None = None,
              config: Mapping[str, Any] | None = None, progress: bool | None = False) -> TrainState:
    """Train ``g`` (any module with ``z_dim``) against ``d`` on ``data`` for ``steps`` steps.

    Resumes ``checkpoint`` if it exists.  ``snapshots``: finished-step counts (0 = the initialisation,
    skipped when resuming) after which ``save_snapshot(state)`` runs; the paths it returns are listed,
    in order, in ``state.records["snapshots"]``.  ``config``: settings besides ``cfg`` that a resumed run
    must share (network sizes).  ``progress``: the core's bar rule (``None``: only on a terminal).
    """
    if snapshots and save_snapshot is None:
        raise BadInput("snapshots were asked for without save_snapshot; pass a function that saves the state")
    recipe = GanRecipe(data, g.z_dim, getattr(d, "pack", 1), cfg, seed)
    state = gan_state(g.train(), d.train(), recipe, {**(config or {}), "seed": seed, "examples": len(data)})
    if snapshots:
        def snapshot(state: TrainState) -> None:
            state.records.setdefault("snapshots", []).append(str(save_snapshot(state)))

        if 0 in snapshots and not (checkpoint is not None and os.path.exists(checkpoint)):
            snapshot(state)
        hooks = [*hooks, Hook(set(snapshots) - {0}, snapshot)]
    return train(recipe, state, steps, checkpoint=checkpoint, hooks=hooks, logger=logger, log_every=log_every,
                 progress=progress, desc="gan")


@torch.no_grad()
def sample(g: nn.Module, n: int, seed: int, batch_size: int = 2500) -> torch.Tensor:
    """n samples of ``g`` in eval mode (BN running statistics) from latents seeded by ``seed`` (on g's device)."""
    was_training = g.training
    g.eval()
    z = torch.randn(n, g.z_dim, generator=torch.Generator().manual_seed(seed)).to(next(g.parameters()).device)
    out = torch.cat([g(z[i:i + batch_size]) for i in range(0, n, batch_size)])
    g.train(was_training)
    return out
