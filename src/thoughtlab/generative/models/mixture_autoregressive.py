"""A continuous autoregressive density for low-dimensional data (the 2-D toy sets): exact log-likelihood.

Autoregressive factorisation with real-valued conditionals, as in RNADE (Uria, Murray & Larochelle 2013,
"RNADE: The real-valued neural autoregressive density-estimator", NeurIPS, eq. 2–4):

    p(x) = Π_{i=1..d} p(x_i | x_<i),    p(x_i | x_<i) = Σ_k π_ik · N(x_i; μ_ik, σ_ik²),

where (π_i, μ_i, log σ_i) = net_i(x_<i) — a mixture density network (Bishop 1994) per coordinate; net_1 has no
input, so p(x_1) is a learned K-component mixture.  Each conditional is a normalised 1-D density, so the product
is normalised on ℝ^d and log p(x) is exact.  Sampling is sequential: x_1 first, then x_2 given x_1, … — d network
evaluations, the autoregressive trade-off of the research note (P1) in miniature.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.errors import BadInput


@dataclass(frozen=True)
class MixtureARConfig:
    """``dim`` coordinates, ``components`` Gaussians per conditional, ``hidden`` units of each conditional's MLP."""

    dim: int = 2
    components: int = 8
    hidden: int = 64


class MixtureAR(nn.Module):
    """p(x) = Π_i Σ_k π_ik N(x_i; μ_ik, σ_ik²) with the mixture of coordinate i computed from x_<i."""

    def __init__(self, config: MixtureARConfig = MixtureARConfig()):
        super().__init__()
        if config.dim < 1 or config.components < 1:
            raise BadInput(f"MixtureAR: dim ({config.dim}) and components ({config.components}) must be ≥ 1")
        self.config = config
        k = config.components
        self.first = nn.Parameter(torch.cat([torch.zeros(k), torch.linspace(-2.0, 2.0, k), torch.zeros(k)]))
        self.nets = nn.ModuleList([
            nn.Sequential(nn.Linear(i, config.hidden), nn.Tanh(), nn.Linear(config.hidden, config.hidden), nn.Tanh(),
                          nn.Linear(config.hidden, 3 * k)) for i in range(1, config.dim)])

    def conditional(self, x: torch.Tensor, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log π, μ, log σ), each (B, K), of coordinate i given x[:, :i]."""
        out = self.first.expand(len(x), -1) if i == 0 else self.nets[i - 1](x[:, :i])
        logits, mu, log_sigma = out.chunk(3, dim=1)
        return F.log_softmax(logits, dim=1), mu, log_sigma.clamp(-7.0, 5.0)

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 2 or x.shape[1] != self.config.dim:
            raise BadInput(f"MixtureAR: expected points of shape (N, {self.config.dim}), got {tuple(x.shape)}")

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) in nats per point: Σ_i log Σ_k π_ik N(x_i; μ_ik, σ_ik²)."""
        self._check(x)
        total = torch.zeros(len(x), dtype=x.dtype, device=x.device)
        for i in range(self.config.dim):
            log_pi, mu, log_sigma = self.conditional(x, i)
            z = (x[:, i:i + 1] - mu) * torch.exp(-log_sigma)
            log_normal = -0.5 * z.pow(2) - log_sigma - 0.5 * math.log(2 * math.pi)
            total = total + torch.logsumexp(log_pi + log_normal, dim=1)
        return total

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n points drawn coordinate by coordinate (d sequential network evaluations)."""
        x = torch.zeros(n, self.config.dim)
        for i in range(self.config.dim):
            log_pi, mu, log_sigma = self.conditional(x, i)
            k = torch.multinomial(log_pi.exp(), 1, generator=generator)
            eps = torch.randn(n, 1, generator=generator)
            x[:, i] = (mu.gather(1, k) + torch.exp(log_sigma.gather(1, k)) * eps).squeeze(1)
        return x


__all__ = ["MixtureARConfig", "MixtureAR"]
