"""Configuration of the study ``gan-likelihood``: its arms, budget points and scales' fields (shared with its figures)."""

from __future__ import annotations

from dataclasses import dataclass

ARMS: tuple[str, ...] = ("ml", "adv", "hybrid")
FRACTIONS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
AIS_ARMS: tuple[str, ...] = ("ml", "adv")
LINEAR_SCALE = 0.2  # the control decoder g(z) = m + 0.2·z


@dataclass(frozen=True)
class Config:
    """One scale.  size: digits are average-pooled to size×size.  hidden: RealNVP s,t-net width.  steps,
    batch_size, lr_ml, lr_adv: training of every arm.  hybrid_weight: λ of the hybrid.  d_width: MLP
    critic width.  n_critic, gp_weight: WGAN-GP critic updates per generator update and penalty weight (Flow-GAN's
    code: 5 and 10; lr_adv 1e-4 is its MNIST learning rate).  test_images / threshold_images: test set for NLL and c28 / training images that set τ.
    fid_samples: samples per FID.  ais_images, ais_chains, leapfrog, obs_variances, ais_steps: the AIS grid.
    bdmc_images: simulated examples for BDMC.  train_limit: training images used (None = all 4,000).
    arms: the trainings run (the claims read "ml" and "adv"; the hybrid is shown, not judged)."""

    size: int = 14
    hidden: int = 16
    steps: int = 300
    batch_size: int = 64
    lr_ml: float = 1e-3
    lr_adv: float = 1e-4
    hybrid_weight: float = 1.0
    d_width: int = 128
    n_critic: int = 5
    gp_weight: float = 10.0
    test_images: int = 500
    threshold_images: int = 1000
    fid_samples: int = 500
    ais_images: int = 4
    ais_chains: int = 4
    leapfrog: int = 4
    obs_variances: tuple[float, ...] = (1e-1, 1e-2, 1e-3)
    ais_steps: tuple[int, ...] = (10, 100)
    bdmc_images: int = 4
    train_limit: int | None = None
    arms: tuple[str, ...] = ARMS

    def __post_init__(self) -> None:
        unknown = set(self.arms) - set(ARMS)
        if unknown or not {"ml", "adv"} <= set(self.arms):
            raise ValueError(f"arms must include 'ml' and 'adv' and come from {ARMS}, got {self.arms}")
