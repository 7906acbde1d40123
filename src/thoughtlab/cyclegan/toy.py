"""The one-to-many toy (notes C3, T1): 2-D content + one of K styles, where diversity is exact.

A = (c, 0), c ~ U(−1, 1).  B = (c, s_k) + N(0, σ²) with s_k one of K evenly spaced levels in
[−1.5, 1.5]: each a has K valid partners in B, differing only in style.  Three models, MLPs
trained with LSGAN and L1 cycles (λ = 10, Zhu et al. 2017):

* ``cyclegan``: G(a), F(b) — deterministic, so one output per input;
* ``noise``: G(a, z), F(b, z) with fresh z ~ N(0, I) — the stochastic CycleGAN of Almahairi et al.
  (2018, §3, "StochCGAN"), which is free to use z but is not made to;
* ``augmented``: Augmented CycleGAN (Almahairi et al. 2018, §4, Eq. 5–8): G_AB(a, z_b), G_BA(b, z_a),
  encoders E_B(a, b) → z_b and E_A(a, b) → z_a; the cycles run in the augmented spaces,
  (a, z_b) → (b̃, z̃_a = E_A(a, b̃)) → (G_BA(b̃, z̃_a), E_B(a, b̃)) and mirrored for (b, z_a), with L1
  on images and codes (λ_z) and LSGAN on images and on the inferred codes (the ``--z_gan`` option).

Measured (:func:`measure`): per-input distinct high-quality modes out of K and mean pairwise
distance over ``z_samples`` codes; marginal mode coverage and % high quality (within 3σ of a mode,
as the VEEGAN/PacGAN grids); both cycle errors (content, the first coordinate, is kept by construction:
see :class:`Conditional`); and the noise test of
Chu et al. (2017) as Almahairi's ``test.py``: B→A→B with N(0, ν²) added to the intermediate A point,
giving the reconstruction error and the share of b whose style is recovered, for each ν.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.cyclegan.parts import lsgan_loss
from thoughtlab.stats import child_seed
from thoughtlab.train import TrainState

MODELS = ("cyclegan", "noise", "augmented")


@dataclass(frozen=True)
class ToyConfig:
    """K styles, σ data noise, MLP width, code size, Adam steps/batch/lr, λ cycle and λ_z, test sizes, ν levels."""

    K: int = 4
    sigma: float = 0.05
    width: int = 64
    z_dim: int = 2
    steps: int = 1500
    batch: int = 64
    lr: float = 1e-3
    lambda_cycle: float = 10.0
    lambda_z: float = 1.0
    n_test: int = 200
    z_samples: int = 20
    noise_levels: tuple[float, ...] = (0.0, 0.01, 0.03, 0.05, 0.1, 0.3)
    judged_noise: float = 0.05

    def styles(self) -> torch.Tensor:
        return torch.linspace(-1.5, 1.5, self.K)


def sample_a(n: int, gen: torch.Generator) -> torch.Tensor:
    c = torch.rand(n, generator=gen) * 2 - 1
    return torch.stack([c, torch.zeros(n)], dim=1)


def sample_b(cfg: ToyConfig, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """B points and their style indices."""
    c = torch.rand(n, generator=gen) * 2 - 1
    k = torch.randint(cfg.K, (n,), generator=gen)
    b = torch.stack([c, cfg.styles()[k]], dim=1) + cfg.sigma * torch.randn(n, 2, generator=gen)
    return b, k


def mlp(inputs: int, outputs: int, width: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, width), nn.LeakyReLU(0.2), nn.Linear(width, width), nn.LeakyReLU(0.2),
                         nn.Linear(width, outputs))


class Conditional(nn.Module):
    """A generator: the content coordinate passes through; an MLP of (x, z) gives the second coordinate.

    Passing content through is the toy's stand-in for a convolutional generator's locality, which
    keeps an image's content in place; without it an MLP CycleGAN is free to permute content
    (Moriakov et al. 2020), and style could travel openly in a re-ordered content coordinate.
    """

    def __init__(self, inputs: int, z_dim: int, width: int):
        super().__init__()
        self.z_dim, self.net = z_dim, mlp(inputs + z_dim, 1, width)

    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        return torch.cat([x[:, :1], self.net(x if self.z_dim == 0 else torch.cat([x, z], dim=1))], dim=1)


def build(model: str, cfg: ToyConfig, seed: int) -> TrainState:
    """Networks and Adam optimisers (β₁ 0.5) of one toy model, seeded."""
    torch.manual_seed(seed)
    z = 0 if model == "cyclegan" else cfg.z_dim
    nets: dict[str, nn.Module] = {"G_AB": Conditional(2, z, cfg.width), "G_BA": Conditional(2, z, cfg.width),
                                  "D_A": mlp(2, 1, cfg.width), "D_B": mlp(2, 1, cfg.width)}
    if model == "augmented":
        nets |= {"E_A": mlp(4, z, cfg.width), "E_B": mlp(4, z, cfg.width),
                 "D_zA": mlp(z, 1, cfg.width), "D_zB": mlp(z, 1, cfg.width)}
    gens = [p for name, net in nets.items() if not name.startswith("D") for p in net.parameters()]
    discs = [p for name, net in nets.items() if name.startswith("D") for p in net.parameters()]
    optimizers = {"G": torch.optim.Adam(gens, cfg.lr, betas=(0.5, 0.999)),
                  "D": torch.optim.Adam(discs, cfg.lr, betas=(0.5, 0.999))}
    return TrainState({"model": model, "seed": seed}, models=nets, optimizers=optimizers)


class ToyRecipe:
    """``batch(step)``: unpaired a, b and codes from (seed, step); ``step``: one G and one D update."""

    def __init__(self, model: str, cfg: ToyConfig, seed: int):
        self.model, self.cfg, self.seed = model, cfg, seed
        self.z_dim = 0 if model == "cyclegan" else cfg.z_dim

    def batch(self, step: int) -> dict[str, torch.Tensor]:
        gen = torch.Generator().manual_seed(child_seed(self.seed, "toy-batch", step))
        n = self.cfg.batch
        codes = {name: torch.randn(n, self.z_dim, generator=gen) for name in ("z_a", "z_b", "z_a2", "z_b2")}
        return {"a": sample_a(n, gen), "b": sample_b(self.cfg, n, gen)[0], **codes}

    def step(self, state: TrainState, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        m = state.models
        a, b = batch["a"], batch["b"]
        fakes, gen_loss = (self._augmented if self.model == "augmented" else self._plain)(m, batch)
        state.optimizers["G"].zero_grad(set_to_none=True)
        gen_loss.backward()
        state.optimizers["G"].step()
        state.optimizers["D"].zero_grad(set_to_none=True)
        d_loss = sum(0.5 * (lsgan_loss(m[d](real), True) + lsgan_loss(m[d](fake.detach()), False))
                     for d, real, fake in (("D_A", a, fakes["a"]), ("D_B", b, fakes["b"])))
        if self.model == "augmented":
            d_loss = d_loss + sum(0.5 * (lsgan_loss(m[d](prior), True) + lsgan_loss(m[d](fakes[z].detach()), False))
                                  for d, prior, z in (("D_zA", batch["z_a2"], "z_a"), ("D_zB", batch["z_b2"], "z_b")))
        d_loss.backward()
        state.optimizers["D"].step()
        return {"g_loss": gen_loss.item(), "d_loss": d_loss.item()}

    def _plain(self, m: dict[str, nn.Module], x: dict[str, torch.Tensor]) -> tuple[dict, torch.Tensor]:
        """CycleGAN (no codes) or its noise-input variant: GAN + λ(‖F(G(a)) − a‖₁ + ‖G(F(b)) − b‖₁)."""
        fake_b, fake_a = m["G_AB"](x["a"], x["z_b"]), m["G_BA"](x["b"], x["z_a"])
        rec_a, rec_b = m["G_BA"](fake_b, x["z_a2"]), m["G_AB"](fake_a, x["z_b2"])
        loss = (lsgan_loss(m["D_B"](fake_b), True) + lsgan_loss(m["D_A"](fake_a), True)
                + self.cfg.lambda_cycle * (F.l1_loss(rec_a, x["a"]) + F.l1_loss(rec_b, x["b"])))
        return {"a": fake_a, "b": fake_b}, loss

    def _augmented(self, m: dict[str, nn.Module], x: dict[str, torch.Tensor]) -> tuple[dict, torch.Tensor]:
        """Augmented CycleGAN: cycles (a, z_b) → (b̃, z̃_a) → (ã, z̃_b) and (b, z_a) → (ã, z̃_b) → (b̃, z̃_a)."""
        a, b, z_a, z_b = x["a"], x["b"], x["z_a"], x["z_b"]
        fake_b = m["G_AB"](a, z_b)                                   # forward cycle
        inferred_za = m["E_A"](torch.cat([a, fake_b], 1))
        rec_a, rec_zb = m["G_BA"](fake_b, inferred_za), m["E_B"](torch.cat([a, fake_b], 1))
        fake_a = m["G_BA"](b, z_a)                                   # backward cycle
        inferred_zb = m["E_B"](torch.cat([fake_a, b], 1))
        rec_b, rec_za = m["G_AB"](fake_a, inferred_zb), m["E_A"](torch.cat([fake_a, b], 1))
        cfg = self.cfg
        loss = (lsgan_loss(m["D_B"](fake_b), True) + lsgan_loss(m["D_A"](fake_a), True)
                + lsgan_loss(m["D_zA"](inferred_za), True) + lsgan_loss(m["D_zB"](inferred_zb), True)
                + cfg.lambda_cycle * (F.l1_loss(rec_a, a) + F.l1_loss(rec_b, b))
                + cfg.lambda_z * (F.l1_loss(rec_zb, z_b) + F.l1_loss(rec_za, z_a)))
        return {"a": fake_a, "b": fake_b, "z_a": inferred_za, "z_b": inferred_zb}, loss


def modes_of(points: torch.Tensor, cfg: ToyConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest style level of each B point and whether it is high quality (within 3σ of it, |x| ≤ 1 + 3σ)."""
    distance = (points[..., 1:2] - cfg.styles()).abs()
    nearest = distance.argmin(-1)
    quality = (distance.min(-1).values <= 3 * cfg.sigma) & (points[..., 0].abs() <= 1 + 3 * cfg.sigma)
    return nearest, quality


@torch.no_grad()
def measure(model: str, state: TrainState, cfg: ToyConfig, seed: int) -> tuple[dict[str, float], dict[str, list[float]]]:
    """The toy's metrics (scalars) and per-test-input items, on a test set fixed by ``seed``."""
    m = state.models
    z_dim = 0 if model == "cyclegan" else cfg.z_dim
    gen = torch.Generator().manual_seed(child_seed(seed, "toy-test"))
    a = sample_a(cfg.n_test, gen)
    b, style = sample_b(cfg, cfg.n_test, gen)
    z = torch.randn(cfg.n_test, cfg.z_samples, z_dim, generator=gen)
    outs = m["G_AB"](a.repeat_interleave(cfg.z_samples, 0), z.reshape(cfg.n_test * cfg.z_samples, z_dim)).view(cfg.n_test, cfg.z_samples, 2)
    nearest, quality = modes_of(outs, cfg)
    per_input = [float(len(set(nearest[i][quality[i]].tolist()))) for i in range(cfg.n_test)]
    pairwise = torch.cdist(outs, outs).sum(dim=(1, 2)) / (cfg.z_samples * (cfg.z_samples - 1))
    first, first_quality = nearest[:, 0], quality[:, 0]
    hits = torch.bincount(first[first_quality], minlength=cfg.K).float()
    items: dict[str, list[float]] = {"modes_per_input": per_input, "pairwise": pairwise.tolist()}
    metrics = {"coverage": float((hits > 0.1 * cfg.n_test / cfg.K).float().mean()),
               "high_quality": float(first_quality.float().mean())}
    z_a, z_b = torch.randn(cfg.n_test, z_dim, generator=gen), torch.randn(cfg.n_test, z_dim, generator=gen)
    if model == "augmented":
        fake_b = m["G_AB"](a, z_b)
        rec_a = m["G_BA"](fake_b, m["E_A"](torch.cat([a, fake_b], 1)))
    else:
        rec_a = m["G_BA"](m["G_AB"](a, z_b), z_a)
    items["cycle_A"] = (rec_a - a).abs().mean(1).tolist()
    fake_a = m["G_BA"](b, z_a)
    noise = torch.randn(cfg.n_test, 2, generator=gen)
    for level in cfg.noise_levels:
        noisy = fake_a + level * noise
        code = m["E_B"](torch.cat([noisy, b], 1)) if model == "augmented" else z_b
        rec_b = m["G_AB"](noisy, code)
        tag = f"nu{level:g}"
        items[f"cycle_B_{tag}"] = (rec_b - b).abs().mean(1).tolist()
        items[f"style_lost_{tag}"] = (modes_of(rec_b, cfg)[0] != style).float().tolist()
    items["cycle_B"] = items["cycle_B_nu0"]
    metrics |= {key: float(np.mean(values)) for key, values in items.items()}
    return metrics, items


def train_and_measure(model: str, cfg: ToyConfig, seed: int, fractions: tuple[float, ...] = (0.25, 0.5, 0.75)) -> dict[str, Any]:
    """Train one toy model and measure it at ``fractions`` of the budget and at the end (``key@f`` convention)."""
    from thoughtlab.train import Hook, at_fractions, train

    state = build(model, cfg, child_seed(seed, "toy-init", model))
    metrics: dict[str, float] = {}
    items: dict[str, list[float]] = {}

    def snapshot(s: TrainState) -> dict[str, float]:
        scalars, per_item = measure(model, s, cfg, seed)
        suffix = "" if s.step == cfg.steps else f"@{round(s.step / cfg.steps, 2):g}"
        metrics.update({f"{k}{suffix}": v for k, v in scalars.items()})
        items.update({f"{k}{suffix}": v for k, v in per_item.items()})
        return {}

    train(ToyRecipe(model, cfg, seed), state, cfg.steps, hooks=(Hook(at_fractions(*fractions, 1.0), snapshot),),
          progress=False)
    return {"metrics": metrics, "items": items, "state": state, "samples": samples(model, state, cfg, seed)}


@torch.no_grad()
def samples(model: str, state: TrainState, cfg: ToyConfig, seed: int, inputs: int = 40, codes: int = 8) -> list:
    """G(a, z) for ``inputs`` evenly spaced a and ``codes`` draws of z: a JSON list of [c, x, y] for figures."""
    z_dim = 0 if model == "cyclegan" else cfg.z_dim
    c = torch.linspace(-1, 1, inputs).repeat_interleave(codes)
    a = torch.stack([c, torch.zeros_like(c)], dim=1)
    z = torch.randn(len(a), z_dim, generator=torch.Generator().manual_seed(child_seed(seed, "toy-figure")))
    out = state.models["G_AB"](a, z)
    return torch.cat([c[:, None], out], dim=1).round(decimals=4).tolist()
