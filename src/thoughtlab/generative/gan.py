"""A small MLP GAN for 28×28 digits, trained on CPU, with generator and discriminator snapshots.

The original fully connected GAN (Goodfellow et al. 2014, "Generative Adversarial Nets", §3 and
§5: MLP generator and discriminator, non-saturating generator loss −log D(G(z))), with the
optimiser settings DCGAN made standard (Radford, Metz & Chintala 2016, §4: Adam, β₁ = 0.5; batch
norm in the generator; LeakyReLU(0.2) in the discriminator).  G: z ∈ R^z_dim (standard normal) →
width → 2·width → 784, sigmoid, as a 1×28×28 image in [0, 1]; D: 784 → 2·width → width → 1 logit.
It is small on purpose: a few hundred to a thousand steps on one CPU thread take under a minute
and move it from noise to blurry digits, which is what a rating of snapshots needs.

:func:`train_gan` runs :class:`GanRecipe` on the shared training core (:func:`thoughtlab.train.train`) and
saves ``{"step", "generator", "discriminator", "config"}`` with
:func:`thoughtlab.train.save_checkpoint` at every requested step (step 0 = the initialisation),
so later studies can rebuild any snapshot with :func:`load_snapshot`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.errors import BadInput
from thoughtlab.train import Hook, TrainState, load_checkpoint, save_checkpoint, train


@dataclass(frozen=True)
class GanConfig:
    """Training of the small GAN: latent size, widths, steps, batch, Adam settings, snapshot steps."""

    z_dim: int = 32
    width: int = 128
    steps: int = 1000
    batch_size: int = 64
    lr: float = 1e-3  # DCGAN's 2e-4 left this MLP near noise after 1,000 steps (FID ~280 vs ~45 at 1e-3)
    beta1: float = 0.5
    snapshots: tuple[int, ...] = (0, 50, 100, 200, 400, 700, 1000)


class Generator(nn.Module):
    """z (B, z_dim) -> images (B, 1, 28, 28) in [0, 1]: Linear-BN-ReLU ×2, then a sigmoid linear layer."""

    def __init__(self, z_dim: int = 32, width: int = 128):
        super().__init__()
        self.z_dim, self.width = z_dim, width
        self.net = nn.Sequential(
            nn.Linear(z_dim, width, bias=False), nn.BatchNorm1d(width), nn.ReLU(),
            nn.Linear(width, 2 * width, bias=False), nn.BatchNorm1d(2 * width), nn.ReLU(),
            nn.Linear(2 * width, 784))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(z)).view(len(z), 1, 28, 28)


class Discriminator(nn.Module):
    """images (B, 1, 28, 28) in [0, 1] -> logits (B,) of "real": Linear-LeakyReLU(0.2) ×2, linear logit."""

    def __init__(self, width: int = 128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(784, 2 * width), nn.LeakyReLU(0.2),
            nn.Linear(2 * width, width), nn.LeakyReLU(0.2), nn.Linear(width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2 - 1).squeeze(1)


def build(cfg: GanConfig, seed: int) -> tuple[Generator, Discriminator]:
    """G and D initialised from ``seed`` (PyTorch default initialisation, under a forked RNG)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Generator(cfg.z_dim, cfg.width), Discriminator(cfg.width)


def snapshot_path(folder: Path, step: int) -> Path:
    return Path(folder) / f"gan_step{step:05d}.pt"


def check_config(cfg: GanConfig) -> None:
    if not cfg.snapshots or sorted(set(cfg.snapshots)) != list(cfg.snapshots) or cfg.snapshots[0] < 0 \
            or cfg.snapshots[-1] > cfg.steps:
        raise BadInput(f"snapshots={cfg.snapshots}: give increasing steps between 0 and steps={cfg.steps}")


def _save(folder: Path, step: int, g: Generator, d: Discriminator, cfg: GanConfig) -> Path:
    state = {"step": step, "generator": g.state_dict(), "discriminator": d.state_dict(),
             "config": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items()}}
    return save_checkpoint(snapshot_path(folder, step), state)


class GanRecipe:
    """One step of Goodfellow et al. (2014), Algorithm 1 with k = 1: a discriminator step on a real and a
    generated batch, then a generator step on the non-saturating loss −log D(G(z)) (their §3)."""

    def __init__(self, x: torch.Tensor, cfg: GanConfig, seed: int,
                 on_step: Callable[[int, float, float], None] | None = None):
        self.x, self.cfg, self.on_step = x, cfg, on_step
        self.noise = torch.Generator().manual_seed(seed)  # real batches and latents, in that order
        self.ones, self.zeros = torch.ones(cfg.batch_size), torch.zeros(cfg.batch_size)

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        real = self.x[torch.randint(len(self.x), (self.cfg.batch_size,), generator=self.noise)]
        return real, torch.randn(self.cfg.batch_size, self.cfg.z_dim, generator=self.noise)

    def step(self, state: TrainState, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        real, z = batch
        g, d = state.models["generator"], state.models["discriminator"]
        opt_g, opt_d = state.optimizers["generator"], state.optimizers["discriminator"]
        fake = g(z)
        d_loss = (F.binary_cross_entropy_with_logits(d(real), self.ones)
                  + F.binary_cross_entropy_with_logits(d(fake.detach()), self.zeros))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.binary_cross_entropy_with_logits(d(fake), self.ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        scalars = {"d_loss": float(d_loss.detach()), "g_loss": float(g_loss.detach())}
        if self.on_step is not None:
            self.on_step(state.step + 1, scalars["d_loss"], scalars["g_loss"])
        return scalars


def train_gan(data: np.ndarray, cfg: GanConfig, seed: int, folder: Path,
              on_step: Callable[[int, float, float], None] | None = None,
              checkpoint: Path | None = None) -> list[Path]:
    """Train on ``data`` (N, 1, 28, 28) in [0, 1] for ``cfg.steps`` alternating D/G steps; snapshot paths.

    Batches and latents come from one ``torch.Generator`` seeded with ``seed``: bit-for-bit
    reproducible on CPU.  ``on_step(step, d_loss, g_loss)`` is called after each step (1-based).
    With ``checkpoint``, the run is saved there every 100 steps and resumed from it when it exists.
    """
    check_config(cfg)
    x = torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32))
    if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        raise BadInput(f"GAN data must be (N, 1, 28, 28), got {tuple(x.shape)}")
    g, d = build(cfg, seed)
    recipe = GanRecipe(x, cfg, seed, on_step)
    settings = {k: v for k, v in asdict(cfg).items() if k not in ("steps", "snapshots")}  # free to grow on resume
    adam = {name: torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
            for name, net in (("generator", g), ("discriminator", d))}
    state = TrainState({**settings, "seed": seed, "examples": len(x)}, models={"generator": g, "discriminator": d},
                       optimizers=adam, generators={"noise": recipe.noise}, records={"snapshots": []})
    if 0 in cfg.snapshots and not (checkpoint is not None and Path(checkpoint).exists()):
        state.records["snapshots"].append(str(_save(folder, 0, g, d, cfg)))
    snapshot = Hook(set(cfg.snapshots) - {0},
                    lambda state: state.records["snapshots"].append(str(_save(folder, state.step, g, d, cfg))))
    train(recipe, state, cfg.steps, checkpoint=checkpoint, hooks=[snapshot], desc="gan")
    return [Path(p) for p in state.records["snapshots"]]


def load_snapshot(path: Path) -> tuple[int, Generator, Discriminator]:
    """(step, G, D) of a snapshot written by :func:`train_gan`, both in eval mode."""
    state = load_checkpoint(path)
    cfg = state["config"]
    g, d = Generator(cfg["z_dim"], cfg["width"]), Discriminator(cfg["width"])
    g.load_state_dict(state["generator"])
    d.load_state_dict(state["discriminator"])
    return int(state["step"]), g.eval(), d.eval()


def sampler(g: Generator) -> Callable[[int], torch.Tensor]:
    """``sample(n)``: n images from torch's global RNG (the tournament seeds it per call)."""
    return lambda n: g(torch.randn(n, g.z_dim))


def judge(d: Discriminator) -> Callable[[torch.Tensor], torch.Tensor]:
    """``score(x)``: D's probability that each image is real."""
    return lambda x: torch.sigmoid(d(x.float()))


@torch.no_grad()
def sample(g: Generator, n: int, seed: int, batch_size: int = 500) -> np.ndarray:
    """n images (n, 1, 28, 28) float32 from latents drawn with a generator seeded by ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, g.z_dim, generator=gen)
    return torch.cat([g(z[i:i + batch_size]) for i in range(0, n, batch_size)]).numpy()
