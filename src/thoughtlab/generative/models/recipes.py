"""Training recipes for the flow, autoregressive and adversarial objectives, on the training core.

Each recipe supplies ``batch(step)`` and ``step(state, batch)`` for :func:`thoughtlab.train.core.train`
(checkpoint/resume, logging, hooks and torchrun live there).  Data are 8-bit images as float pixel
values 0..255, (N, 1, H, W), batched by a seeded :class:`~thoughtlab.train.core.BatchOrder`.

* :class:`FlowML` — RealNVP by maximum likelihood: minimise −log p_Y(y) of dequantised images
  (Dinh et al. 2017 §4; Adam), reported in bits/dim.
* :class:`FlowGAN` — the same flow as the generator of a GAN (Grover, Dhar & Ermon 2018, "Flow-GAN",
  eq. 5): min_G max_D adversarial loss + λ·NLL.  λ = 0 is pure adversarial training (ADV), λ > 0 the
  hybrid.  The adversarial loss is the paper's: WGAN with gradient penalty (Gulrajani et al. 2017,
  Algorithm 1; in the authors' code ``f_div="wgan"``, penalty weight 10, ``n_critic`` = 5 critic updates
  per generator update, Adam β = (0.5, 0.9)) — see :func:`wgan_gp_step`.
* :class:`PixelCNNML`, :class:`MadeML` — autoregressive maximum likelihood (cross-entropy of the
  per-pixel conditionals); MADE draws one of its masks per step (order-agnostic training, Germain et
  al. 2015 §4.2).
* :class:`PointsML` — maximum likelihood of continuous low-dimensional points (the 2-D toy data) for any model with
  an exact ``log_prob``: the mixture autoregressive model (RNADE-style) or a vector RealNVP.
* :class:`AdversarialGAN` — a plain GAN (G: latents → [0, 1] images) with the same adversarial step.

:func:`train_for_cpu` trains until a budget of *CPU seconds spent in training steps* is used up,
calling ``evaluate`` when the budget passes given fractions — the time-to-quality curves of the
trade-off study.  CPU time (``time.process_time``) rather than wall time, because this machine is
shared: the step count at a budget then depends much less on other processes.

Under torchrun the ML recipes (:class:`FlowML`, :class:`PixelCNNML`, :class:`MadeML`) are data parallel: every
process draws the same global batch (and its dequantisation noise), keeps its equal slice
(:func:`~thoughtlab.train.distributed.local_slice`) and averages the gradients over processes before the update,
so W processes take the same steps as one process with the same global batch (up to float rounding).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.errors import UserError
from thoughtlab.generative.models import flow as fl
from thoughtlab.train import distributed
from thoughtlab.train.core import BatchOrder, Hook, TrainState, train


class _Pixels:
    """Seeded batches of 8-bit images plus a noise generator (registered in the state by the caller)."""

    def __init__(self, pixels: torch.Tensor, batch_size: int, seed: int):
        self.pixels, self.order = pixels, BatchOrder(len(pixels), batch_size, seed)
        self.noise = torch.Generator().manual_seed(seed + 1)

    def take(self, step: int) -> torch.Tensor:
        return self.pixels[self.order.indices(step)]


def _update(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    optimizer.zero_grad()
    loss.backward()
    distributed.average_gradients(p for group in optimizer.param_groups for p in group["params"])
    optimizer.step()


def _local(batch: torch.Tensor) -> torch.Tensor:
    """This process's slice of a global batch (all of it outside torchrun)."""
    return batch[distributed.local_slice(len(batch))]


class FlowML(_Pixels):
    """RealNVP maximum likelihood; state: models["flow"], optimizers["flow"]."""

    def batch(self, step: int) -> torch.Tensor:
        return _local(fl.dequantize(self.take(step), self.noise))

    def step(self, state: TrainState, y: torch.Tensor) -> dict[str, float]:
        flow = state.models["flow"]
        dim = y[0].numel()
        nll = -fl.image_log_prob(flow, y).mean()
        _update(state.optimizers["flow"], nll)
        return {"bpd": (nll.item() + dim * fl.LOG256) / (dim * math.log(2.0))}


def adversarial_step(state: TrainState, sample: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     z: torch.Tensor, extra_g_loss: torch.Tensor | None = None) -> dict[str, float]:
    """One D update, then one G update with the non-saturating loss (+ ``extra_g_loss``); real/fake in [0, 1]."""
    d, opt_d, opt_g = state.models["d"], state.optimizers["d"], state.optimizers["g"]
    fake = sample(z)
    ones, zeros = torch.ones(len(real)), torch.zeros(len(z))
    d_loss = F.binary_cross_entropy_with_logits(d(real), ones) + F.binary_cross_entropy_with_logits(d(fake.detach()), zeros)
    _update(opt_d, d_loss)
    g_loss = F.binary_cross_entropy_with_logits(d(fake), ones)
    total = g_loss if extra_g_loss is None else g_loss + extra_g_loss
    _update(opt_g, total)
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """E[(‖∇_x̂ D(x̂)‖₂ − 1)²] at x̂ = ε·x + (1 − ε)·x̃, ε ~ U[0, 1] per example (Gulrajani et al. 2017, eq. 3)."""
    shape = (-1,) + (1,) * (real.dim() - 1)
    mixed = (eps.view(shape) * real + (1 - eps.view(shape)) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def wgan_gp_step(state: TrainState, sample: Callable[[torch.Tensor], torch.Tensor], reals: Sequence[torch.Tensor],
                 zs: Sequence[torch.Tensor], eps: Sequence[torch.Tensor], gp_weight: float,
                 extra_g_loss: torch.Tensor | None = None) -> dict[str, float]:
    """WGAN-GP (Gulrajani et al. 2017, Algorithm 1): ``len(reals)`` critic updates on
    D(x̃) − D(x) + λ_GP·penalty, then one generator update on −D(G(z)) (+ ``extra_g_loss``) with the last latent
    batch ``zs[-1]``; ``zs`` has one more batch than ``reals``; real/fake images in [0, 1]."""
    d, opt_d, opt_g = state.models["d"], state.optimizers["d"], state.optimizers["g"]
    for real, z, e in zip(reals, zs, eps):
        with torch.no_grad():
            fake = sample(z)
        wasserstein = d(fake).mean() - d(real).mean()
        penalty = gradient_penalty(d, real, fake, e)
        _update(opt_d, wasserstein + gp_weight * penalty)
    g_loss = -d(sample(zs[-1])).mean()
    _update(opt_g, g_loss if extra_g_loss is None else g_loss + extra_g_loss)
    return {"d_loss": wasserstein.item(), "gp": penalty.item(), "g_loss": g_loss.item()}


class FlowGAN(_Pixels):
    """Flow-GAN (Grover et al. 2018): models["g"] is a RealNVP, models["d"] a critic on [0, 1] images, trained by
    :func:`wgan_gp_step` with ``n_critic`` fresh real batches per step; ``nll_weight`` λ (0 = adversarial only)
    weights the flow's NLL in bits/dim (on the last real batch) in the generator loss."""

    def __init__(self, pixels: torch.Tensor, batch_size: int, seed: int, nll_weight: float = 0.0,
                 n_critic: int = 5, gp_weight: float = 10.0):
        super().__init__(pixels, batch_size, seed)
        self.nll_weight, self.n_critic, self.gp_weight = nll_weight, n_critic, gp_weight

    def batch(self, step: int) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
        reals = [fl.dequantize(self.pixels[self.order.indices(step * self.n_critic + k)], self.noise)
                 for k in range(self.n_critic)]
        n, dim = len(reals[0]), reals[0][0].numel()
        zs = [torch.randn(n, dim, generator=self.noise) for _ in range(self.n_critic + 1)]
        eps = [torch.rand(n, generator=self.noise) for _ in range(self.n_critic)]
        return reals, zs, eps

    def step(self, state: TrainState, batch: tuple[list[torch.Tensor], ...]) -> dict[str, float]:
        reals, zs, eps = batch
        flow = state.models["g"]
        y = reals[-1]
        dim = y[0].numel()
        nll = None
        if self.nll_weight > 0:
            nll = -fl.image_log_prob(flow, y).mean() / (dim * math.log(2.0)) * self.nll_weight
        scalars = wgan_gp_step(state, lambda latent: fl.decode(flow, latent, clamp=False), reals, zs, eps,
                               self.gp_weight, nll)
        if nll is not None:
            scalars["bpd"] = nll.item() / self.nll_weight + fl.LOG256 / math.log(2.0)
        return scalars


class AdversarialGAN(_Pixels):
    """A GAN with generator models["g"] (latents (B, z_dim) → [0, 1] images) and discriminator models["d"]."""

    def __init__(self, pixels: torch.Tensor, batch_size: int, seed: int, z_dim: int):
        super().__init__(pixels, batch_size, seed)
        self.z_dim = z_dim

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        pixels = self.take(step)
        return pixels / 255.0, torch.randn(len(pixels), self.z_dim, generator=self.noise)

    def step(self, state: TrainState, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        real, z = batch
        return adversarial_step(state, state.models["g"], real, z)


class PixelCNNML(_Pixels):
    """Gated PixelCNN maximum likelihood on integer pixels; state: models["pixelcnn"], optimizers["pixelcnn"].
    Pixel values 0..255 are mapped to the model's ``categories`` levels."""

    def batch(self, step: int) -> torch.Tensor:
        return _local(self.take(step))

    def step(self, state: TrainState, pixels: torch.Tensor) -> dict[str, float]:
        model = state.models["pixelcnn"]
        levels = to_levels(pixels, model.config.categories)
        bpd = model.bits_per_dim(levels).mean()
        _update(state.optimizers["pixelcnn"], bpd)
        return {"bpd": bpd.item()}


def to_levels(pixels: torch.Tensor, categories: int) -> torch.Tensor:
    """8-bit pixel values → ``categories`` levels (identity for 256)."""
    return pixels if categories == 256 else torch.floor(pixels * categories / 256.0)


class MadeML:
    """Order-agnostic MADE on fixed binarised images (N, D); state: models["made"], optimizers["made"]."""

    def __init__(self, binary: torch.Tensor, batch_size: int, seed: int):
        self.binary, self.order = binary.flatten(1), BatchOrder(len(binary), batch_size, seed)

    def batch(self, step: int) -> tuple[int, torch.Tensor]:
        return step, _local(self.binary[self.order.indices(step)])

    def step(self, state: TrainState, batch: tuple[int, torch.Tensor]) -> dict[str, float]:
        step, x = batch
        made = state.models["made"]
        made.set_mask(step)
        nll = -made.log_prob(x).mean()
        _update(state.optimizers["made"], nll)
        return {"nll": nll.item()}


class PointsML:
    """Maximum likelihood of points (N, d); state: models["density"] (with ``log_prob``), optimizers["density"]."""

    def __init__(self, points: torch.Tensor, batch_size: int, seed: int):
        self.points, self.order = points, BatchOrder(len(points), batch_size, seed)

    def batch(self, step: int) -> torch.Tensor:
        return _local(self.points[self.order.indices(step)])

    def step(self, state: TrainState, x: torch.Tensor) -> dict[str, float]:
        nll = -state.models["density"].log_prob(x).mean()
        _update(state.optimizers["density"], nll)
        return {"nll": nll.item()}


class CpuTimed:
    """Wraps a recipe and adds the CPU seconds of its ``batch`` and ``step`` to ``state.records["cpu_seconds"]``."""

    def __init__(self, recipe: Any):
        self.recipe, self.pending = recipe, 0.0

    def batch(self, step: int) -> Any:
        start = time.process_time()
        batch = self.recipe.batch(step)
        self.pending = time.process_time() - start
        return batch

    def step(self, state: TrainState, batch: Any) -> Mapping[str, float]:
        start = time.process_time()
        scalars = self.recipe.step(state, batch)
        used = self.pending + time.process_time() - start
        state.records["cpu_seconds"] = state.records.get("cpu_seconds", 0.0) + used
        return scalars


def train_for_cpu(recipe: Any, state: TrainState, budget_s: float, fractions: Sequence[float],
                  evaluate: Callable[[TrainState], dict[str, float]], *, checkpoint: Any = None, chunk: int = 20,
                  logger: Any = None, max_steps: int = 10**7, save_every_s: float = 5.0) -> list[dict[str, float]]:
    """Train until ``budget_s`` CPU seconds of training steps are spent; ``evaluate(state)`` each time the
    spent budget passes one of ``fractions`` (its scalars, the step and the CPU seconds go to
    ``state.records["curve"]``, saved with the state, so a resumed run keeps the points it has).
    ``checkpoint`` is written after the chunk in which ``save_every_s`` more training CPU seconds were spent,
    and at the end (a save per chunk of 5 steps cost 79 of gan-tradeoffs' 691 CPU seconds).
    One process only: torchrun processes spend different CPU seconds, so they would disagree on when to
    evaluate and save and wait forever at different collectives."""
    if distributed.is_distributed():
        raise UserError("train_for_cpu budgets by this process's CPU seconds, which differ between torchrun "
                        "processes; under torchrun train a fixed number of steps with thoughtlab.train.train")
    timed = CpuTimed(recipe)
    if checkpoint is not None and Path(checkpoint).exists():
        state.load(checkpoint)
    state.records.setdefault("curve", [])

    def missing(spent: float, step: int) -> list[float]:
        reached = {point["fraction"] for point in state.records["curve"]}
        return [f for f in fractions if f not in reached and (spent >= f * budget_s or step >= max_steps)]

    def due(done: int, total: int) -> bool:
        return bool(missing(state.records.get("cpu_seconds", 0.0), done))

    def record(st: TrainState) -> dict[str, float]:
        spent = st.records["cpu_seconds"]
        new = missing(spent, st.step)
        scalars = evaluate(st)
        st.records["curve"].extend({"fraction": f, "step": st.step, "cpu_seconds": spent, **scalars} for f in new)
        return scalars

    saved_at = state.records.get("cpu_seconds", 0.0)
    while len(state.records["curve"]) < len(fractions):
        train(timed, state, state.step + chunk, logger=logger, log_every=chunk, hooks=[Hook(due, record)],
              progress=False)
        spent = state.records["cpu_seconds"]
        if checkpoint is not None and (spent - saved_at >= save_every_s or len(state.records["curve"]) == len(fractions)):
            state.save(checkpoint)
            saved_at = spent
    return state.records["curve"]


def parameter_count(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
