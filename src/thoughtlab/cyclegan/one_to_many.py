"""One-to-many translation: CycleGAN, CycleGAN with a noise input, Augmented CycleGAN, and exact diversity scores.

The three models of Almahairi et al. (2018, arXiv 1802.10151), written once for any pair of
domains whose B has K valid outputs per A input (a :class:`Task`: the 2-D toy of
:mod:`~thoughtlab.cyclegan.toy`, the digits → K tints task of :mod:`~thoughtlab.cyclegan.tints`):

* ``cyclegan``: G_AB(a), G_BA(b) — deterministic, so one output per input (Zhu et al. 2017);
* ``noise``: G_AB(a, z), G_BA(b, z) with fresh z ~ N(0, I) — "StochCGAN" (Almahairi §3), free to use
  z but not made to;
* ``augmented``: Augmented CycleGAN (Almahairi §4, Eq. 5–8): encoders E_B(a, b) → z_b and
  E_A(a, b) → z_a; the cycles run in the augmented spaces,
  (a, z_b) → (b̃, z̃_a = E_A(a, b̃)) → (G_BA(b̃, z̃_a), E_B(a, b̃)) and mirrored for (b, z_a), with L1
  on images and codes (λ_z) and LSGAN on images and on the inferred codes (the ``--z_gan`` option).

All use LSGAN and L1 cycles weighted λ (10, Zhu et al.), one G and one D Adam update per step
(β₁ 0.5) and no identity loss (Almahairi's toy settings); D sees fakes through CycleGAN's image pool of
``pool_size`` (:class:`~thoughtlab.cyclegan.parts.ImagePool`; 0 = none, as Almahairi's toys); the
learning rate is constant, then decays linearly to 0 over the last ``decay`` share of the steps
(CycleGAN's schedule, by step).

Measured (:func:`measure`), with each task's exact mode classifier: per input, the distinct
high-quality modes out of K and the mean pairwise distance over ``z_samples`` codes, and the share of
outputs that keep the input's content; marginal mode coverage and % high quality (first code); both
cycle errors; and the noise test of Chu et al. (2017) as Almahairi's ``test.py``: B→A→B with
N(0, ν²) added to the intermediate A, giving the reconstruction error and the share of b whose mode
is lost, for each ν.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.cyclegan.parts import ImagePool, lsgan_loss, set_requires_grad
from thoughtlab.stats import child_seed
from thoughtlab.train import Hook, LinearDecay, TrainState, at_fractions, train

MODELS = ("cyclegan", "noise", "augmented")


@dataclass(frozen=True)
class TestSet:
    """Fixed test inputs: a, b, b's mode index, and a's content (labels) where the task has one."""

    a: torch.Tensor
    b: torch.Tensor
    style: torch.Tensor
    labels: torch.Tensor | None = None


class Task(Protocol):
    """A one-to-many pair of domains.  ``cfg`` carries K, z_dim, steps, batch, lr, decay, lambda_cycle, lambda_z,
    z_samples and noise_levels."""

    cfg: Any

    def networks(self, model: str, z_dim: int) -> dict[str, nn.Module]:
        """G_AB, G_BA (called ``G(x, z)``), D_A, D_B; for ``augmented`` also E_A, E_B (of ``cat([a, b], 1)``),
        D_zA, D_zB."""
        ...

    def sample(self, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """An unpaired training batch (a, b)."""
        ...

    def test_set(self, seed: int) -> TestSet: ...

    def modes(self, outputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per B output: the index of its mode (0..K-1) and whether it is a high-quality B sample."""
        ...

    def content_kept(self, outputs: torch.Tensor, test: TestSet) -> torch.Tensor:
        """(n, S) outputs for the n test inputs -> (n, S) booleans: the output keeps its input's content."""
        ...


def mlp(inputs: int, outputs: int, width: int) -> nn.Sequential:
    """Two hidden LeakyReLU(0.2) layers: the toy's networks and the code discriminators."""
    return nn.Sequential(nn.Linear(inputs, width), nn.LeakyReLU(0.2), nn.Linear(width, width), nn.LeakyReLU(0.2),
                         nn.Linear(width, outputs))


def code_size(model: str, cfg: Any) -> int:
    return 0 if model == "cyclegan" else cfg.z_dim


def build(task: Task, model: str, seed: int) -> TrainState:
    """The task's networks for ``model`` and two Adam optimisers (β₁ 0.5), seeded."""
    if model not in MODELS:
        from thoughtlab.errors import UnknownName

        raise UnknownName("one-to-many model", model, MODELS)
    torch.manual_seed(seed)
    nets = task.networks(model, code_size(model, task.cfg))
    gens = [p for name, net in nets.items() if not name.startswith("D") for p in net.parameters()]
    discs = [p for name, net in nets.items() if name.startswith("D") for p in net.parameters()]
    optimizers = {"G": torch.optim.Adam(gens, task.cfg.lr, betas=(0.5, 0.999)),
                  "D": torch.optim.Adam(discs, task.cfg.lr, betas=(0.5, 0.999))}
    pools = {f"pool_{side}": ImagePool(task.cfg.pool_size, child_seed(seed, "one-to-many-pool", side)) for side in "AB"}
    return TrainState({"model": model, "seed": seed}, models=nets, optimizers=optimizers, objects=pools)


class OneToManyRecipe:
    """``batch(step)``: unpaired a, b and codes from (seed, step); ``step``: one G and one D update."""

    def __init__(self, task: Task, model: str, seed: int):
        self.task, self.model, self.seed = task, model, seed
        self.z_dim = code_size(model, task.cfg)
        self.schedule = LinearDecay(task.cfg.lr, task.cfg.steps, task.cfg.decay)

    def batch(self, step: int) -> dict[str, torch.Tensor]:
        gen = torch.Generator().manual_seed(child_seed(self.seed, "one-to-many-batch", step))
        n = self.task.cfg.batch
        a, b = self.task.sample(n, gen)
        codes = {name: torch.randn(n, self.z_dim, generator=gen) for name in ("z_a", "z_b", "z_a2", "z_b2")}
        return {"a": a, "b": b, **codes}

    def step(self, state: TrainState, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        m = state.models
        self.schedule.apply(state)
        a, b = batch["a"], batch["b"]
        discriminators = [net for name, net in m.items() if name.startswith("D")]
        set_requires_grad(discriminators, False)
        fakes, gen_loss = (self._augmented if self.model == "augmented" else self._plain)(m, batch)
        state.optimizers["G"].zero_grad(set_to_none=True)
        gen_loss.backward()
        state.optimizers["G"].step()
        set_requires_grad(discriminators, True)
        state.optimizers["D"].zero_grad(set_to_none=True)
        pooled = {side: state.objects[f"pool_{side.upper()}"].query(fakes[side].detach()) for side in "ab"}
        d_loss = sum(0.5 * (lsgan_loss(m[d](real), True) + lsgan_loss(m[d](pooled[side]), False))
                     for d, real, side in (("D_A", a, "a"), ("D_B", b, "b")))
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
                + self.task.cfg.lambda_cycle * (F.l1_loss(rec_a, x["a"]) + F.l1_loss(rec_b, x["b"])))
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
        cfg = self.task.cfg
        loss = (lsgan_loss(m["D_B"](fake_b), True) + lsgan_loss(m["D_A"](fake_a), True)
                + lsgan_loss(m["D_zA"](inferred_za), True) + lsgan_loss(m["D_zB"](inferred_zb), True)
                + cfg.lambda_cycle * (F.l1_loss(rec_a, a) + F.l1_loss(rec_b, b))
                + cfg.lambda_z * (F.l1_loss(rec_zb, z_b) + F.l1_loss(rec_za, z_a)))
        return {"a": fake_a, "b": fake_b, "z_a": inferred_za, "z_b": inferred_zb}, loss


def distinct_modes(nearest: torch.Tensor, quality: torch.Tensor) -> list[float]:
    """(n, S) mode indices and quality flags -> per input, the number of distinct modes among its good outputs."""
    return [float(len(set(row[ok].tolist()))) for row, ok in zip(nearest, quality)]


def coverage(nearest: torch.Tensor, quality: torch.Tensor, K: int) -> float:
    """Share of the K modes that receive more than a tenth of their fair share (n/K) of the good outputs."""
    hits = torch.bincount(nearest[quality], minlength=K).float()
    return float((hits > 0.1 * len(nearest) / K).float().mean())


def _chunked(fn: Any, *inputs: torch.Tensor, size: int = 256) -> torch.Tensor:
    return torch.cat([fn(*(x[i:i + size] for x in inputs)) for i in range(0, len(inputs[0]), size)])


@torch.no_grad()
def measure(task: Task, model: str, state: TrainState, seed: int) -> tuple[dict[str, float], dict[str, list[float]]]:
    """The diversity, quality, content, cycle and noise-test scores (scalars) and their per-input items."""
    m, cfg = state.models, task.cfg
    z_dim, samples = code_size(model, cfg), cfg.z_samples
    test = task.test_set(seed)
    n = len(test.a)
    gen = torch.Generator().manual_seed(child_seed(seed, "one-to-many-test"))
    z = torch.randn(n * samples, z_dim, generator=gen)
    outs = _chunked(m["G_AB"], test.a.repeat_interleave(samples, 0), z).view(n, samples, *test.b.shape[1:])
    nearest, quality = (v.view(n, samples) for v in task.modes(outs.flatten(0, 1)))
    flat = outs.flatten(2)
    items: dict[str, list[float]] = {
        "modes_per_input": distinct_modes(nearest, quality),
        "pairwise": (torch.cdist(flat, flat).sum(dim=(1, 2)) / (samples * (samples - 1))).tolist(),
        "content": task.content_kept(outs, test).float().mean(1).tolist(),
    }
    metrics = {"coverage": coverage(nearest[:, 0], quality[:, 0], cfg.K),
               "high_quality": float(quality[:, 0].float().mean())}
    z_a, z_b = torch.randn(n, z_dim, generator=gen), torch.randn(n, z_dim, generator=gen)
    a, b = test.a, test.b
    if model == "augmented":
        fake_b = m["G_AB"](a, z_b)
        rec_a = m["G_BA"](fake_b, m["E_A"](torch.cat([a, fake_b], 1)))
    else:
        rec_a = m["G_BA"](m["G_AB"](a, z_b), z_a)
    items["cycle_A"] = (rec_a - a).abs().flatten(1).mean(1).tolist()
    fake_a = m["G_BA"](b, z_a)
    noise = torch.randn(fake_a.shape, generator=gen)
    for level in cfg.noise_levels:
        noisy = fake_a + level * noise
        code = m["E_B"](torch.cat([noisy, b], 1)) if model == "augmented" else z_b
        rec_b = m["G_AB"](noisy, code)
        tag = f"nu{level:g}"
        items[f"cycle_B_{tag}"] = (rec_b - b).abs().flatten(1).mean(1).tolist()
        items[f"style_lost_{tag}"] = (task.modes(rec_b)[0] != test.style).float().tolist()
    items["cycle_B"] = items["cycle_B_nu0"]
    metrics |= {key: float(np.mean(values)) for key, values in items.items()}
    return metrics, items


def train_and_measure(task: Task, model: str, seed: int, fractions: tuple[float, ...] = (0.25, 0.5, 0.75)) -> dict[str, Any]:
    """Train one model on ``task`` and measure it at ``fractions`` of the budget and at the end (``key@f``)."""
    steps = task.cfg.steps
    state = build(task, model, child_seed(seed, "one-to-many-init", model))
    metrics: dict[str, float] = {}
    items: dict[str, list[float]] = {}

    def snapshot(s: TrainState) -> dict[str, float]:
        scalars, per_item = measure(task, model, s, seed)
        suffix = "" if s.step == steps else f"@{round(s.step / steps, 2):g}"
        metrics.update({f"{k}{suffix}": v for k, v in scalars.items()})
        items.update({f"{k}{suffix}": v for k, v in per_item.items()})
        return {}

    train(OneToManyRecipe(task, model, seed), state, steps, hooks=(Hook(at_fractions(*fractions, 1.0), snapshot),),
          progress=False)
    return {"metrics": metrics, "items": items, "state": state}
