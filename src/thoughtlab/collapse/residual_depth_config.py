"""Configuration of the study ``residual-depth``: the grid of nets, its scales, and the keys of its runs.

Shared by the study (:mod:`thoughtlab.collapse.residual_depth`) and its figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from thoughtlab.errors import BadInput

ARCHS: tuple[str, ...] = ("mlp", "cnn")
KINDS: tuple[str, ...] = ("plain", "residual")
LOSS_THRESHOLD = 1.0
CURVE_POINTS = 200


@dataclass(frozen=True)
class ArchConfig:
    """One architecture's grid: depths, width, step budget, batch, input side (avg-pooled from 28)."""

    depths: tuple[int, ...]
    width: int
    steps: int
    batch_size: int
    image_size: int


@dataclass(frozen=True)
class Config:
    """Configuration of one scale.

    widths / width_depth: the MLP width sweep (MLP steps and batch).  deep_from:
    the depths the convergence claim reads.  Same SGD (lr, momentum) for every net.
    train_size: first N training images (None: all 4,000).  eval_size: the
    probe's fixed evaluation batch.  probe_every: steps between probes.
    """

    mlp: ArchConfig
    cnn: ArchConfig
    widths: tuple[int, ...]
    width_depth: int
    deep_from: int
    lr: float = 0.01
    momentum: float = 0.9
    train_size: int | None = None
    eval_size: int = 512
    probe_every: int = 25


def check_config(cfg: Config) -> None:
    """BadInput for a grid the claims cannot be judged on."""
    for arch in ARCHS:
        depths = getattr(cfg, arch).depths
        if len(depths) < 2 or max(depths) < cfg.deep_from:
            raise BadInput(f"{arch}.depths={depths}: need >= 2 depths and one >= deep_from={cfg.deep_from}; extend the grid")
    if len(cfg.widths) < 2:
        raise BadInput(f"widths={cfg.widths}: the width sweep needs >= 2 widths")


def run_specs(cfg: Config) -> list[tuple[str, int, int, str]]:
    """Every (arch, depth, width, kind) to train, depth grids first, without repeats."""
    specs = [(a, d, getattr(cfg, a).width, k) for a in ARCHS for d in getattr(cfg, a).depths for k in KINDS]
    specs += [("mlp", cfg.width_depth, w, k) for w in cfg.widths for k in KINDS]
    return list(dict.fromkeys(specs))


def spec_key(arch: str, depth: int, width: int, kind: str) -> str:
    return f"{arch}.d{depth}.w{width}.{kind}"


SCALES = {
    "smoke": Config(mlp=ArchConfig((2, 4), 16, 30, 32, 14), cnn=ArchConfig((2, 4), 4, 20, 16, 7), widths=(8, 16),
                    width_depth=4, deep_from=4, train_size=256, eval_size=64, probe_every=10),
    "quick": Config(mlp=ArchConfig((4, 8, 16, 32), 64, 400, 64, 28), cnn=ArchConfig((4, 8, 16, 32), 16, 250, 32, 7),
                    widths=(16, 64, 256), width_depth=16, deep_from=16),
    "full": Config(mlp=ArchConfig((4, 8, 16, 32, 64), 64, 3000, 128, 28),
                   cnn=ArchConfig((4, 8, 16, 32, 64), 32, 2000, 128, 14),
                   widths=(16, 64, 256, 1024), width_depth=32, deep_from=16, probe_every=100),
}
