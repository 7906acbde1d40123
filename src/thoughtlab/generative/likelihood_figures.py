"""Figures of the ``gan-likelihood`` study (drawn from the seeds' outcomes only)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from thoughtlab.generative.likelihood_config import AIS_ARMS, FRACTIONS, Config
from thoughtlab.generative.models import flow as fl
from thoughtlab.study import Outcome


def _mean_over_seeds(outcomes: list[Outcome], key: str) -> tuple[float, float]:
    values = [o.metrics[key] for o in outcomes]
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def draw(cfg: Config, outcomes: list[Outcome], figures: Any) -> None:
    """Learning curves, AIS error vs σ², test log-densities against τ, and samples of each arm."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for arm in cfg.arms:
        for ax, name in zip(axes, ("bpd", "fid")):
            stats = [_mean_over_seeds(outcomes, f"{name}.{arm}" + ("" if f == 1.0 else f"@{f:g}")) for f in FRACTIONS]
            ax.errorbar([f * cfg.steps for f in FRACTIONS], [m for m, _ in stats], yerr=[e for _, e in stats],
                        marker="o", capsize=3, label=arm)
    axes[0].set(xlabel="training step", ylabel="exact test bits/dim", yscale="log")
    axes[1].set(xlabel="training step", ylabel="FID (digit-CNN features)")
    axes[0].legend()
    fig.tight_layout()
    figures.save("curves", fig, f"Exact test bits/dim (log scale) and digit-CNN FID along training for the same "
                 f"RealNVP trained by ML, adversarially (Flow-GAN)"
                 + (f" and hybrid (λ = {cfg.hybrid_weight:g})" if "hybrid" in cfg.arms else "") + ", "
                 f"{cfg.size}×{cfg.size} digits; mean ± std over {len(outcomes)} seed(s).")

    fig, axes = plt.subplots(1, len(AIS_ARMS), figsize=(10, 3.6), squeeze=False)
    for ax, arm in zip(axes[0], AIS_ARMS):
        for steps in cfg.ais_steps:
            stats = [_mean_over_seeds(outcomes, f"ais_err_mean.{arm}.v{v:g}.T{steps}") for v in cfg.obs_variances]
            ax.errorbar(cfg.obs_variances, [m for m, _ in stats], yerr=[e for _, e in stats], marker="o", capsize=3,
                        label=f"T = {steps}")
        control = _mean_over_seeds(outcomes, "control_abs_err")[0]
        ax.axhline(0.0, color="grey", lw=0.8)
        ax.set(xscale="log", xlabel="observation variance σ²", ylabel="AIS − exact (bits/dim)",
               title=f"{arm.upper()} flow (linear control |err| = {control:.3f})")
        ax.legend()
    fig.tight_layout()
    figures.save("ais_error", fig, "AIS estimate under N(y; g(z), σ²I) minus the exact log-density of the same "
                 "dequantised test images, in bits/dim, for the ML- and ADV-trained flow, by σ² and number of "
                 "intermediate distributions T; mean ± std over seeds.")

    fig, ax = plt.subplots(figsize=(6, 3.6))
    dim = cfg.size ** 2
    to_bpd = lambda lp: (-np.asarray(lp) + dim * fl.LOG256) / (dim * math.log(2.0))
    for arm in cfg.arms:
        ax.hist(to_bpd(np.concatenate([o.data["test_lp"][arm] for o in outcomes])), bins=60, alpha=0.5, label=arm,
                log=True)
    ax.axvline(float(np.mean(to_bpd([o.data["tau"] for o in outcomes]))), color="k", ls="--", label="τ (mean)")
    ax.axvline(8.0, color="grey", ls=":", label="uniform density")
    ax.set(xlabel="test bits/dim (exact)", ylabel="images", xscale="symlog")
    ax.legend()
    fig.tight_layout()
    figures.save("support", fig, "Exact test bits/dim of every test image under each arm (all seeds); τ is the ML "
                 "flow's 1st-percentile training log-density (as bits/dim); right of τ = below the threshold.")

    fig, axes = plt.subplots(1, len(cfg.arms), figsize=(3 * len(cfg.arms), 3.2))
    for ax, arm in zip(axes, cfg.arms):
        images = np.asarray(outcomes[0].data["samples"][arm])[:16]
        grid = images.reshape(4, 4, cfg.size, cfg.size).transpose(0, 2, 1, 3).reshape(4 * cfg.size, 4 * cfg.size)
        ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
        ax.set(title=arm, xticks=[], yticks=[])
    fig.tight_layout()
    figures.save("samples", fig, f"Samples of the flow trained by each of {', '.join(cfg.arms)} (seed 0).")
