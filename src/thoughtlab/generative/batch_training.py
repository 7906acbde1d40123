"""Recipes of the ``gan-batch-size`` study on :mod:`thoughtlab.train`'s core: stale GANs, OT-GAN, a stale classifier.

* :class:`StaleGanRecipe` — Goodfellow et al. (2014), Algorithm 1 (one D step, then one G step, non-saturating
  loss), with the generator's step computed against the discriminator of τ updates ago (simulated
  asynchronous SGD; τ = 0 is the ordinary alternating GAN) and one of the snapshot methods of
  :mod:`thoughtlab.generative.staleness`: ``chekhov`` (G against the uniform mixture of K consecutive
  D snapshots from age τ on), ``replay`` (D sees half replayed fakes), ``history`` (historical averaging
  on both players).  An EMA of G is kept in every run and evaluated beside G (Yazici et al. 2019).
* :class:`OTGanRecipe` — OT-GAN (Salimans et al. 2018, Algorithm 1): a critic step that maximises the
  mini-batch energy distance in its features, then a generator step that minimises it.
* :class:`StaleClassifierRecipe` — the control: the same staleness on a classifier of the same data
  (an MLP naming each sample's mixture component), its gradient taken at its own weights of τ updates
  ago and applied to the current ones (the delayed-gradient model of async SGD, Lian et al. 2015).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad

from thoughtlab.errors import UnknownName
from thoughtlab.generative.models.gan import MLPDiscriminator, MLPGenerator, discriminator_loss, generator_loss
from thoughtlab.generative.ot import minibatch_energy_distance
from thoughtlab.generative.staleness import HistoricalAverage, ReplayBuffer, SnapshotQueue
from thoughtlab.train import EMA, LinearDecay, TrainState, optimizer_step
from thoughtlab.train.noise_scale import noise_scale

METHODS: tuple[str, ...] = ("plain", "chekhov", "replay", "history")


@dataclass(frozen=True)
class Nets:
    """Network sizes (G: z → width×depth ReLU → 2, no batch norm so per-example gradients exist)."""

    z_dim: int = 8
    width: int = 64
    depth: int = 2
    features: int = 16  # OT-GAN critic output


@dataclass(frozen=True)
class Snapshots:
    """Settings of the snapshot methods (fixed before any run, not tuned)."""

    chekhov_k: int = 4  # snapshots in the mixture (Grnarova et al. use a handful)
    replay_capacity: int = 2048  # past fakes kept (SimGAN keeps a buffer of about 100 batches)
    history_weight: float = 1e-3  # λ of λ‖θ − θ̄‖² (Salimans et al. give no value)
    ema_decay: float = 0.99


def build_gan(nets: Nets, seed: int) -> tuple[MLPGenerator, MLPDiscriminator]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return (MLPGenerator(nets.z_dim, (2,), nets.width, nets.depth, batch_norm=False),
                MLPDiscriminator(2, nets.width, nets.depth))


def adam(model: nn.Module, lr: float) -> torch.optim.Adam:
    """Adam with β = (0.5, 0.9); ``foreach``: one fused call per group instead of a loop over tensors (CPU too)."""
    return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.5, 0.9), foreach=True)


class StaleGanRecipe:
    """One D step, then one G step against the D snapshot of age τ (with a snapshot method)."""

    def __init__(self, data: torch.Tensor, batch: int, tau: int, method: str, snapshots: Snapshots, z_dim: int,
                 seed: int, g: nn.Module, d: nn.Module, schedule: LinearDecay):
        if method not in METHODS:
            raise UnknownName("snapshot method", method, METHODS)
        self.data, self.b, self.tau, self.method, self.s, self.z_dim = data, batch, tau, method, snapshots, z_dim
        self.schedule = schedule
        self.noise = torch.Generator().manual_seed(seed)
        depth = tau + (snapshots.chekhov_k - 1 if method == "chekhov" else 0)
        self.queue = SnapshotQueue(d, depth)
        self.current = depth == 0  # the only snapshot read is D as just updated: use D itself, no copy per step
        self.replay = ReplayBuffer(snapshots.replay_capacity, seed + 1) if method == "replay" else None
        self.history = {"g": HistoricalAverage(g), "d": HistoricalAverage(d)} if method == "history" else {}

    def state(self, g: nn.Module, d: nn.Module, lr: float, config: dict) -> TrainState:
        objects = {"queue": self.queue, **({"replay": self.replay} if self.replay else {}),
                   **{f"history_{k}": v for k, v in self.history.items()}}
        return TrainState(config, models={"g": g, "d": d}, optimizers={"g": adam(g, lr), "d": adam(d, lr)},
                          emas={"g": EMA(g, self.s.ema_decay)}, generators={"noise": self.noise}, objects=objects)

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        real = self.data[torch.randint(len(self.data), (self.b,), generator=self.noise)]
        return real, torch.randn(self.b, self.z_dim, generator=self.noise).to(self.data.device)

    def step(self, state: TrainState, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        self.schedule.apply(state)
        g, d = state.models["g"], state.models["d"]
        real, z = batch
        fake = g(z)
        shown = self.replay.mix(fake) if self.replay else fake.detach()
        d_loss = discriminator_loss("ns", d(real), d(shown)) + self.penalty("d", d)
        optimizer_step(state.optimizers["d"], d_loss)
        g_loss = self.against_d(d, fake) + self.penalty("g", g)
        optimizer_step(state.optimizers["g"], g_loss)
        for name, average in self.history.items():
            average.update(state.models[name])
        state.emas["g"].update(g)
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}

    def against_d(self, d: nn.Module, fake: torch.Tensor) -> torch.Tensor:
        """G's non-saturating loss against the D of τ updates ago (or the mixture of its K snapshots from age τ)."""
        if self.current:  # τ = 0, one snapshot: the same numbers as a copy, without copying D every step
            d.requires_grad_(False)
            loss = generator_loss("ns", d(fake))
            d.requires_grad_(True)
            return loss
        self.queue.push()
        ages = range(self.tau, self.tau + (self.s.chekhov_k if self.method == "chekhov" else 1))
        return self.queue.mixture_loss(fake, ages, lambda logits: generator_loss("ns", logits))

    def penalty(self, name: str, model: nn.Module) -> torch.Tensor | float:
        return self.s.history_weight * self.history[name].penalty(model) if self.history else 0.0


class Critic(nn.Module):
    """OT-GAN's learned feature map v: 2 → width×depth LeakyReLU(0.2) → features."""

    def __init__(self, nets: Nets):
        super().__init__()
        layers: list[nn.Module] = []
        fan_in = 2
        for _ in range(nets.depth):
            layers += [nn.Linear(fan_in, nets.width), nn.LeakyReLU(0.2)]
            fan_in = nets.width
        self.net = nn.Sequential(*layers, nn.Linear(fan_in, nets.features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class OTGanRecipe:
    """Critic ascends, then G descends, the mini-batch energy distance of two real and two generated batches."""

    def __init__(self, data: torch.Tensor, batch: int, z_dim: int, eps: float, iterations: int, seed: int,
                 schedule: LinearDecay):
        self.data, self.b, self.z_dim, self.eps, self.iterations = data, batch, z_dim, eps, iterations
        self.schedule = schedule
        self.noise = torch.Generator().manual_seed(seed)

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        real = self.data[torch.randint(len(self.data), (2, self.b), generator=self.noise)]
        return real, torch.randn(2, self.b, self.z_dim, generator=self.noise).to(self.data.device)

    def step(self, state: TrainState, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        self.schedule.apply(state)
        g, critic = state.models["g"], state.models["d"]
        (x, x2), (z, z2) = batch

        def distance(y: torch.Tensor, y2: torch.Tensor) -> torch.Tensor:
            return minibatch_energy_distance(x, x2, y, y2, critic, self.eps, self.iterations)

        with torch.no_grad():
            y, y2 = g(z), g(z2)
        optimizer_step(state.optimizers["d"], -distance(y, y2))
        loss = distance(g(z), g(z2))
        optimizer_step(state.optimizers["g"], loss)
        state.emas["g"].update(g)
        return {"energy": loss.item()}


class StaleClassifierRecipe:
    """Cross-entropy on (sample, component) pairs; the gradient is taken at the weights of τ updates ago."""

    def __init__(self, data: torch.Tensor, labels: torch.Tensor, batch: int, tau: int, seed: int, model: nn.Module,
                 schedule: LinearDecay):
        self.data, self.labels, self.b, self.tau, self.schedule = data, labels, batch, tau, schedule
        self.noise = torch.Generator().manual_seed(seed)
        self.queue = SnapshotQueue(model, tau)

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.randint(len(self.data), (self.b,), generator=self.noise)
        return self.data[index], self.labels[index]

    def step(self, state: TrainState, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        self.schedule.apply(state)
        model, (x, y) = state.models["c"], batch
        self.queue.push()
        stale = {k: v for k, v in self.queue.state(self.tau).items() if k in dict(model.named_parameters())}
        grads = grad(lambda p: F.cross_entropy(functional_call(model, p, (x,)), y))(stale)
        for name, param in model.named_parameters():
            param.grad = grads[name]
        state.optimizers["c"].step()
        return {}


def classifier(nets: Nets, classes: int, seed: int) -> nn.Module:
    """The discriminator's body with ``classes`` outputs."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers: list[nn.Module] = []
        fan_in = 2
        for _ in range(nets.depth):
            layers += [nn.Linear(fan_in, nets.width), nn.LeakyReLU(0.2)]
            fan_in = nets.width
        return nn.Sequential(*layers, nn.Linear(fan_in, classes))


def gan_noise_scales(g: nn.Module, d: nn.Module, real: torch.Tensor, z: torch.Tensor) -> dict[str, float]:
    """tr Σ and |G|² of D's and G's non-saturating losses over the examples (real_i, z_i) (McCandlish et al. 2018)."""
    with torch.no_grad():
        fake = g(z)

    def d_loss(forward, r, f):
        out = forward(torch.cat([r, f]))
        return F.softplus(-out[0]) + F.softplus(out[1])

    def g_loss(forward, zi):
        return F.softplus(-d(forward(zi))).sum()

    nd, ng = noise_scale(d, d_loss, real, fake), noise_scale(g, g_loss, z)
    return {"d_trace": nd.trace_cov, "d_grad_sq": nd.grad_sq, "g_trace": ng.trace_cov, "g_grad_sq": ng.grad_sq}
