"""The one-to-many 2-D toy (notes C3, T1): 2-D content + one of K styles, where diversity is exact.

A = (c, 0), c ~ U(−1, 1).  B = (c, s_k) + N(0, σ²) with s_k one of K evenly spaced levels in
[−1.5, 1.5]: each a has K valid partners in B, differing only in style.  The models (CycleGAN, noise
input, Augmented CycleGAN) and scores are :mod:`~thoughtlab.cyclegan.one_to_many`'s; this module gives
the :class:`PointsTask`: MLP networks of width ``width`` (generators pass content through, see
:class:`Conditional`), the data, and the exact mode classifier — the nearest style level, high quality
within 3σ of it (as the VEEGAN/PacGAN grids).  Content is kept by construction (first coordinate).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from thoughtlab.cyclegan.one_to_many import TestSet, code_size, mlp
from thoughtlab.stats import child_seed
from thoughtlab.train import TrainState


@dataclass(frozen=True)
class ToyConfig:
    """K styles, σ data noise, MLP width, code size, Adam steps/batch/lr/decay share, λ cycle and λ_z, image pool,
    test sizes, ν levels."""

    K: int = 4
    sigma: float = 0.05
    width: int = 64
    z_dim: int = 2
    steps: int = 1500
    batch: int = 64
    lr: float = 1e-3
    decay: float = 0.5
    lambda_cycle: float = 10.0
    lambda_z: float = 1.0
    pool_size: int = 50
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


def modes_of(points: torch.Tensor, cfg: ToyConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest style level of each B point and whether it is high quality (within 3σ of it, |x| ≤ 1 + 3σ)."""
    distance = (points[..., 1:2] - cfg.styles()).abs()
    nearest = distance.argmin(-1)
    quality = (distance.min(-1).values <= 3 * cfg.sigma) & (points[..., 0].abs() <= 1 + 3 * cfg.sigma)
    return nearest, quality


class PointsTask:
    """The 2-D toy as a :class:`~thoughtlab.cyclegan.one_to_many.Task`."""

    def __init__(self, cfg: ToyConfig):
        self.cfg = cfg

    def networks(self, model: str, z_dim: int) -> dict[str, nn.Module]:
        w = self.cfg.width
        nets: dict[str, nn.Module] = {"G_AB": Conditional(2, z_dim, w), "G_BA": Conditional(2, z_dim, w),
                                      "D_A": mlp(2, 1, w), "D_B": mlp(2, 1, w)}
        if model == "augmented":
            nets |= {"E_A": mlp(4, z_dim, w), "E_B": mlp(4, z_dim, w), "D_zA": mlp(z_dim, 1, w), "D_zB": mlp(z_dim, 1, w)}
        return nets

    def sample(self, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return sample_a(n, gen), sample_b(self.cfg, n, gen)[0]

    def test_set(self, seed: int) -> TestSet:
        gen = torch.Generator().manual_seed(child_seed(seed, "toy-test"))
        a = sample_a(self.cfg.n_test, gen)
        return TestSet(a, *sample_b(self.cfg, self.cfg.n_test, gen))

    def modes(self, outputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return modes_of(outputs, self.cfg)

    def content_kept(self, outputs: torch.Tensor, test: TestSet) -> torch.Tensor:
        """The content coordinate within 3σ of the input's."""
        return (outputs[..., 0] - test.a[:, None, 0]).abs() <= 3 * self.cfg.sigma


@torch.no_grad()
def samples(model: str, state: TrainState, cfg: ToyConfig, seed: int, inputs: int = 40, codes: int = 8) -> list:
    """G(a, z) for ``inputs`` evenly spaced a and ``codes`` draws of z: a JSON list of [c, x, y] for figures."""
    z_dim = code_size(model, cfg)
    c = torch.linspace(-1, 1, inputs).repeat_interleave(codes)
    a = torch.stack([c, torch.zeros_like(c)], dim=1)
    z = torch.randn(len(a), z_dim, generator=torch.Generator().manual_seed(child_seed(seed, "toy-figure")))
    out = state.models["G_AB"](a, z)
    return torch.cat([c[:, None], out], dim=1).round(decimals=4).tolist()
