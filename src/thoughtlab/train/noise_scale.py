"""The simple gradient noise scale B_simple = tr(Σ) / |G|² from per-example gradients.

McCandlish, Kaplan, Amodei et al. (2018), "An Empirical Model of Large-Batch Training", §2.2:
with per-example gradients g_i of a loss, G = E[g_i] the true gradient and Σ = Cov[g_i] their
covariance, the simple noise scale ``B_simple = tr(Σ) / |G|²`` predicts the *critical batch size*
below which a larger batch cuts the number of steps almost proportionally, and above which it
mostly wastes samples (the best step improves the loss by ΔL_max / (1 + B_noise / B)).

From one batch of n examples the two terms are estimated without bias:

    tr(Σ) ≈ 1/(n−1) · Σ_i |g_i − ḡ|²               (sample covariance, trace)
    |G|²  ≈ |ḡ|² − tr(Σ)/n                          (E|ḡ|² = |G|² + tr(Σ)/n)

The per-example gradients come from ``torch.func``: ``grad`` of a one-example loss, ``vmap``-ed over
the batch, with the model run through ``functional_call`` — one vectorised pass instead of n
backward passes (``benchmarks/noise_scale.py`` times both).

"Any model and loss": ``loss(forward, *example)`` receives ``forward``, the model as a function of
its input, and the tensors of one example, each with a leading batch dimension of one.  A GAN's
discriminator loss on a (real, latent) pair, its generator loss on a latent, or a regression loss
on (x, y) are all of this shape.  Layers that mix examples (batch norm in training mode) have no
per-example gradient; they are refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from thoughtlab.errors import BadInput

Loss = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class NoiseScale:
    """The two unbiased terms of one batch and their ratio.

    Attributes:
        trace_cov: tr(Σ), the summed per-coordinate variance of per-example gradients.
        grad_sq: |G|² (unbiased; it can come out ≤ 0 when noise swamps the signal).
        batch: n, the examples it was estimated from.
    """

    trace_cov: float
    grad_sq: float
    batch: int

    @property
    def b_simple(self) -> float:
        """tr(Σ)/|G|²; +inf when the unbiased |G|² is not positive (no signal measurable at this n)."""
        return self.trace_cov / self.grad_sq if self.grad_sq > 0 else math.inf


def check_per_example(model: nn.Module) -> None:
    """Refuse models whose layers couple the examples of a batch."""
    for name, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.training:
            raise BadInput(f"layer {name or type(module).__name__!r} is batch norm in training mode, which has no "
                           "per-example gradient; call model.eval() or use a model without batch statistics")


def per_example_grads(model: nn.Module, loss: Loss, *batch: torch.Tensor,
                      params: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
    """Gradient of ``loss`` for each example: name -> tensor of shape (n, *param.shape).

    ``loss(forward, *example)`` must return a scalar; each example tensor keeps a leading dimension
    of one so ``forward`` sees a batch.  ``params`` restricts the gradient to those parameter names
    (default: all that require grad).  The model's weights are not changed and no ``.grad`` is set.
    """
    check_per_example(model)
    if not batch or len({len(t) for t in batch}) != 1:
        raise BadInput(f"per-example gradients need tensors with one common batch size, got {[tuple(t.shape) for t in batch]}")
    named = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}
    wanted = list(named) if params is None else list(params)
    unknown = [k for k in wanted if k not in named]
    if unknown or not wanted:
        raise BadInput(f"parameters {unknown or wanted} are not trainable parameters of the model; choose from {list(named)}")
    frozen = {k: v for k, v in named.items() if k not in wanted}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def one(trainable: dict[str, torch.Tensor], *example: torch.Tensor) -> torch.Tensor:
        state = {**frozen, **trainable, **buffers}
        forward = lambda *inputs: functional_call(model, state, inputs)  # noqa: E731
        return loss(forward, *(t.unsqueeze(0) for t in example))

    return vmap(grad(one), in_dims=(None, *([0] * len(batch))))({k: named[k] for k in wanted}, *batch)


def noise_scale(model: nn.Module, loss: Loss, *batch: torch.Tensor,
                params: Sequence[str] | None = None) -> NoiseScale:
    """B_simple of ``loss`` at the model's current weights, from the examples of ``batch`` (n ≥ 2).

    Accumulated in float64, so tiny signals in float32 models are not lost to rounding.
    """
    n = len(batch[0]) if batch else 0
    if n < 2:
        raise BadInput(f"the noise scale needs at least 2 examples to estimate a covariance, got {n}")
    flat = torch.cat([g.detach().reshape(n, -1).double() for g in per_example_grads(model, loss, *batch, params=params).values()], dim=1)
    return noise_scale_from_grads(flat)


def noise_scale_from_grads(flat: torch.Tensor) -> NoiseScale:
    """The unbiased tr(Σ) and |G|² from per-example gradients stacked as rows (n, p).

    tr(Σ) = (Σ_i |g_i|² − n |ḡ|²) / (n − 1) in one pass without an n × p temporary (at n = 1,024 and
    p ≈ 30k that temporary costs more in page faults than the arithmetic); rows should be float64.
    """
    n = flat.shape[0]
    mean_sq = float(flat.mean(0).square().sum())
    trace_cov = max(float(torch.linalg.vector_norm(flat) ** 2 - n * mean_sq) / (n - 1), 0.0)
    grad_sq = mean_sq - trace_cov / n
    return NoiseScale(trace_cov=trace_cov, grad_sq=grad_sq, batch=n)
