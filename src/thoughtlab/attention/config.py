"""Configuration of the attention-noise study: one frozen dataclass per task, nested in :class:`Config`.

Within a task every pooling shares encoder, head, optimiser (Adam at ``lr``),
steps, batch and seed, so only the pooling differs.  ``additive`` is
"attention" in the claims; mean and max pooling are the baselines.
"""

from __future__ import annotations

from dataclasses import dataclass

from thoughtlab.attention.pooling import POOLINGS

LR = 3e-3


@dataclass(frozen=True)
class AddingConfig:
    """The adding problem (Raffel & Ellis 2016): sequence lengths, sizes and the model width."""

    lengths: tuple[int, ...]
    steps: int
    train: int
    test: int
    poolings: tuple[str, ...] = ("mean", "max", "additive")
    hidden: int = 32
    batch: int = 25
    lr: float = LR


@dataclass(frozen=True)
class BagsConfig:
    """Digit bags (Ilse et al. 2018): bag sizes, (name, number of training bags) regimes, instance features.

    ``feature_steps`` trains the frozen digit MLP on images downsampled by ``downsample``.
    """

    dataset: str
    downsample: int
    sizes: tuple[int, ...]
    regimes: tuple[tuple[str, int], ...]
    test: int
    steps: int
    feature_steps: int
    poolings: tuple[str, ...] = ("mean", "max", "additive", "gated")
    hidden: int = 32
    batch: int = 10
    lr: float = LR


@dataclass(frozen=True)
class NeedleConfig:
    """One informative token among T - 1 Gaussian ones: over T at ``snr``, and over ``sweep_snrs`` at
    ``sweep_length``."""

    lengths: tuple[int, ...]
    steps: int
    train: int
    test: int
    sweep_length: int
    sweep_snrs: tuple[float, ...]
    snr: float = 6.0
    dim: int = 8
    hidden: int = 16
    batch: int = 16
    poolings: tuple[str, ...] = ("mean", "max", "additive", "gated")
    sweep_poolings: tuple[str, ...] = POOLINGS
    lr: float = LR


@dataclass(frozen=True)
class SEConfig:
    """Squeeze-and-excitation on digits: noise std of the noisy digit copies and of the pure-noise channels."""

    steps: int
    signal_noise: tuple[float, ...] = (0.1, 0.2, 0.4, 0.8, 1.6)
    pure_noise: tuple[float, ...] = (0.1, 0.2, 0.4, 0.8, 1.6)
    reduction: int = 2
    width: int = 16
    batch: int = 64
    lr: float = LR


@dataclass(frozen=True)
class Config:
    """Sizes of one scale, per task."""

    adding: AddingConfig
    bags: BagsConfig
    needle: NeedleConfig
    se: SEConfig


SMOKE = Config(
    adding=AddingConfig(lengths=(25, 50), steps=30, train=200, test=100),
    bags=BagsConfig(dataset="digits", downsample=1, sizes=(5, 10), regimes=(("few", 20), ("many", 40)), test=40,
                    steps=20, feature_steps=30),
    needle=NeedleConfig(lengths=(5, 20), steps=30, train=200, test=100, sweep_length=20, sweep_snrs=(2.0, 6.0)),
    se=SEConfig(steps=20),
)
QUICK = Config(
    adding=AddingConfig(lengths=(50, 100, 500, 1000), steps=1000, train=2000, test=500, batch=20),
    bags=BagsConfig(dataset="mnist5k", downsample=2, sizes=(10, 50, 100), regimes=(("few", 50), ("many", 200)),
                    test=200, steps=1000, feature_steps=200),
    needle=NeedleConfig(lengths=(10, 100, 1000), steps=1500, train=2000, test=500, sweep_length=100,
                        sweep_snrs=(1.0, 2.0, 3.0, 4.0, 5.0, 6.0), batch=12),
    se=SEConfig(steps=2000),
)
FULL = Config(
    adding=AddingConfig(lengths=(50, 100, 500, 1000, 5000), steps=3000, train=10000, test=1000),
    bags=BagsConfig(dataset="mnist5k", downsample=2, sizes=(10, 50, 100),
                    regimes=(("50", 50), ("100", 100), ("200", 200), ("500", 500)), test=500, steps=2000,
                    feature_steps=1500),
    needle=NeedleConfig(lengths=(10, 50, 200, 1000, 5000), steps=2000, train=10000, test=2000, sweep_length=200,
                        sweep_snrs=(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0), poolings=POOLINGS),
    se=SEConfig(steps=1500),
)
