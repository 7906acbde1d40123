"""Digits → K tints (notes C3, T2): a one-to-many image task whose modes are read off exactly.

A = grey thin MNIST digits; B = thick digits of the same classes, each painted in one of K palette
tints, from a disjoint image set (:func:`~thoughtlab.cyclegan.digits.digit_task` with ``tints = K``).
Every a has K valid translations, which differ only in colour.  Scores, all exact:

* mode of an output = the palette tint nearest (in chromaticity) to its mean ink colour
  (:func:`~thoughtlab.cyclegan.digits.nearest_tint`); high quality = that distance ≤ ``tint_tolerance``
  (0.2: a quarter of the smallest gap between the four tints, 0.81, so the tint is unambiguous; grey
  ink lies ≥ 0.7 from every tint and an empty image ≥ 1, so neither counts);
* content kept = the embedded digit CNN reads a's label in G(a, z).

Networks: CycleGAN's ResNet generator shrunk to one down/up-sampling stage (c7s1-ngf, d(2ngf),
R(2ngf)×n, u(ngf), c7s1-3), where the code z enters through conditional instance norm (scale and
shift of every normalised layer from z), as Augmented CycleGAN's ``CINResnetGenerator``: a code fed
as constant input channels would be erased by the first instance norm (a constant per channel is
its mean).  With no code it is CycleGAN's generator (instance norm without affine).  D = PatchGAN
with ``n_layers = 2``; the encoders E(a, b) are three stride-2 convolutions, a spatial mean and a
linear map to z.  Weights N(0, 0.02) (Zhu et al.'s init).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch
from torch import nn

from thoughtlab.cyclegan.data import to_model_range
from thoughtlab.cyclegan.digits import DigitTask, digit_task, nearest_tint
from thoughtlab.cyclegan.networks import NLayerDiscriminator, init_weights
from thoughtlab.cyclegan.one_to_many import TestSet, code_size, mlp
from thoughtlab.stats import child_seed
from thoughtlab.train import TrainState


@dataclass(frozen=True)
class TintsConfig:
    """K tints, image size, train images per domain, test inputs; network widths; training and scoring settings."""

    K: int = 4
    size: int = 32
    train_per_domain: int = 1000
    n_test: int = 80
    ngf: int = 8
    ndf: int = 8
    n_blocks: int = 1
    width: int = 16
    z_dim: int = 4
    steps: int = 300
    batch: int = 8
    lr: float = 5e-4
    decay: float = 0.5
    lambda_cycle: float = 10.0
    lambda_z: float = 1.0
    pool_size: int = 50
    z_samples: int = 8
    noise_levels: tuple[float, ...] = (0.0, 0.05, 0.2)
    tint_tolerance: float = 0.2


class CondInstanceNorm(nn.Module):
    """IN(x) · (1 + γ(z)) + β(z), γ and β linear in z; plain instance norm without affine when z_dim = 0."""

    def __init__(self, channels: int, z_dim: int):
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels, affine=False)
        self.scale_shift = nn.Linear(z_dim, 2 * channels) if z_dim else None

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        x = self.norm(x)
        if self.scale_shift is None:
            return x
        gamma, beta = self.scale_shift(z)[:, :, None, None].chunk(2, dim=1)
        return x * (1 + gamma) + beta


class CodedGenerator(nn.Module):
    """G(x, z): (N, C, S, S) in [-1, 1] and (N, z_dim) codes -> (N, C, S, S) in [-1, 1]; S a multiple of 2."""

    def __init__(self, channels: int, z_dim: int, ngf: int, n_blocks: int):
        super().__init__()
        wide = 2 * ngf
        self.convs = nn.ModuleList([
            nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(channels, ngf, 7)),
            nn.Conv2d(ngf, wide, 3, stride=2, padding=1),
            *(nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(wide, wide, 3)) for _ in range(2 * n_blocks)),
            nn.ConvTranspose2d(wide, ngf, 3, stride=2, padding=1, output_padding=1),
        ])
        widths = [ngf, wide, *[wide] * (2 * n_blocks), ngf]
        self.norms = nn.ModuleList(CondInstanceNorm(w, z_dim) for w in widths)
        self.out = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(ngf, channels, 7), nn.Tanh())

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        layers = list(zip(self.convs, self.norms))
        for conv, norm in layers[:2]:
            x = torch.relu(norm(conv(x), z))
        for i in range(2, len(layers) - 1, 2):  # residual blocks: x + CIN(conv(ReLU(CIN(conv(x)))))
            (conv1, norm1), (conv2, norm2) = layers[i], layers[i + 1]
            x = x + norm2(conv2(torch.relu(norm1(conv1(x), z))), z)
        conv, norm = layers[-1]
        return self.out(torch.relu(norm(conv(x), z)))


class ImageEncoder(nn.Module):
    """E(a, b): the pair stacked as 2C channels -> a code (N, z_dim)."""

    def __init__(self, channels: int, z_dim: int, width: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 4 * width, 4, 2, 1), nn.LeakyReLU(0.2))
        self.head = nn.Linear(4 * width, z_dim)

    def forward(self, pair: torch.Tensor) -> torch.Tensor:
        return self.head(self.net(pair).mean(dim=(2, 3)))


class TintsTask:
    """Digits → K tints as a :class:`~thoughtlab.cyclegan.one_to_many.Task` (data built once, on first use)."""

    def __init__(self, cfg: TintsConfig):
        self.cfg = cfg

    @cached_property
    def data(self) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        domains, styles = digit_task(DigitTask(size=cfg.size, tints=cfg.K, train_per_domain=cfg.train_per_domain,
                                               test_per_domain=cfg.n_test))
        return {"a": to_model_range(domains.train_a.images), "b": to_model_range(domains.train_b.images),
                "test_a": to_model_range(domains.test_a.images), "test_b": to_model_range(domains.test_b.images),
                "test_style": torch.from_numpy(styles["test_b"]), "test_labels": torch.from_numpy(domains.test_a.labels)}

    def networks(self, model: str, z_dim: int) -> dict[str, nn.Module]:
        cfg = self.cfg
        nets: dict[str, nn.Module] = {
            "G_AB": CodedGenerator(3, z_dim, cfg.ngf, cfg.n_blocks), "G_BA": CodedGenerator(3, z_dim, cfg.ngf, cfg.n_blocks),
            "D_A": NLayerDiscriminator(3, cfg.ndf, n_layers=2), "D_B": NLayerDiscriminator(3, cfg.ndf, n_layers=2)}
        if model == "augmented":
            nets |= {"E_A": ImageEncoder(6, z_dim, cfg.width), "E_B": ImageEncoder(6, z_dim, cfg.width),
                     "D_zA": mlp(z_dim, 1, cfg.width), "D_zB": mlp(z_dim, 1, cfg.width)}
        return {name: init_weights(net) for name, net in nets.items()}

    def sample(self, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self.data["a"], self.data["b"]
        return a[torch.randint(len(a), (n,), generator=gen)], b[torch.randint(len(b), (n,), generator=gen)]

    def test_set(self, seed: int) -> TestSet:
        """The first ``n_test`` test images of each domain (the same for every seed: inputs pair across models)."""
        d = self.data
        return TestSet(d["test_a"], d["test_b"], d["test_style"], d["test_labels"])

    def modes(self, outputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Nearest tint of each image in [-1, 1], and whether its ink lies within ``tint_tolerance`` of it."""
        tint, distance = nearest_tint((outputs.clamp(-1, 1) + 1) / 2, self.cfg.K)
        return tint, distance <= self.cfg.tint_tolerance

    def content_kept(self, outputs: torch.Tensor, test: TestSet) -> torch.Tensor:
        """The embedded digit CNN's label of each output equals its input's label."""
        from thoughtlab.cyclegan.tools import digit_features

        n, samples = outputs.shape[:2]
        labels = torch.from_numpy(digit_features(outputs.flatten(0, 1), digits_view=True)[1].argmax(1))
        return labels.view(n, samples) == test.labels[:, None]


@torch.no_grad()
def tint_samples(model: str, state: TrainState, task: TintsTask, seed: int, inputs: int = 4, codes: int = 4) -> list:
    """uint8 images (inputs, 1 + codes, C, S, S) as a JSON list: each test input a, then G(a, z) for ``codes`` draws."""
    a = task.test_set(seed).a[:inputs]
    z = torch.randn(inputs * codes, code_size(model, task.cfg),
                    generator=torch.Generator().manual_seed(child_seed(seed, "tints-figure")))
    out = state.models["G_AB"](a.repeat_interleave(codes, 0), z).view(inputs, codes, *a.shape[1:])
    grid = torch.cat([a[:, None], out], dim=1)
    return ((grid + 1) * 127.5).round().clamp(0, 255).byte().tolist()
