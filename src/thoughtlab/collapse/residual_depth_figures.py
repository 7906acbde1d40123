"""Figures of the study ``residual-depth`` (drawn from all seeds' outcomes)."""

from __future__ import annotations

import math
import statistics
from typing import Any

import numpy as np

from thoughtlab.collapse.residual_depth_config import ARCHS, CURVE_POINTS, KINDS, LOSS_THRESHOLD, Config, spec_key
from thoughtlab.study import Outcome


def _mean(outcomes: list[Outcome], key: str, field: str) -> Any:
    """Seed mean of a per-run record field (a number or equally shaped nested lists)."""
    return np.mean([np.asarray(o.data["runs"][key][field], dtype=float) for o in outcomes], axis=0)


STYLES = {"plain": "--", "residual": "-"}


def _sweep_panel(ax: Any, outcomes: list[Outcome], xs: tuple[int, ...], key_of, name: str, title: str) -> None:
    """Seed mean ± std of metric ``name`` against ``xs`` (log axis), plain vs residual."""
    for kind in KINDS:
        values = [[o.data["runs"][key_of(x, kind)]["metrics"][name] for o in outcomes] for x in xs]
        std = [statistics.stdev(v) if len(v) > 1 else 0.0 for v in values]
        ax.errorbar(xs, [statistics.fmean(v) for v in values], std, fmt="o" + STYLES[kind], label=kind)
    ax.set_xscale("log")
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.minorticks_off()
    ax.set_title(title)


def _edges(centres: list[int]) -> Any:
    """Cell edges half-way between probe steps, for a heat-map with uneven columns."""
    c = np.asarray(centres, dtype=float)
    gaps = np.diff(c) if len(c) > 1 else np.ones(1)
    return np.concatenate([[c[0] - gaps[0] / 2], c[:-1] + gaps / 2, [c[-1] + gaps[-1] / 2]])


def draw_figures(cfg: Config, outcomes: list[Outcome], figures) -> None:
    """Loss curves, dead-unit heat-maps, metrics vs depth, gradient per layer, width sweep."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for draw in (_loss_curves, _dead_heatmap, _vs_depth, _layer_gradients, _width_sweep):
        draw(cfg, outcomes, figures, plt)


def _loss_curves(cfg: Config, outcomes: list[Outcome], figures, plt) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for ax, arch in zip(axes, ARCHS):
        a = getattr(cfg, arch)
        for i, depth in enumerate(a.depths):
            for kind in KINDS:
                curve = _mean(outcomes, spec_key(arch, depth, a.width, kind), "losses")
                steps = [s * math.ceil(a.steps / CURVE_POINTS) for s in range(len(curve))]
                ax.plot(steps, curve, STYLES[kind], color=f"C{i}", label=f"{kind} L={depth}")
        ax.axhline(LOSS_THRESHOLD, color="grey", lw=0.8)
        ax.set(title=f"{arch.upper()} (width {a.width})", xlabel="step", ylabel="train loss", yscale="log")
        ax.legend(fontsize=7, ncol=2)
    figures.save("loss_curves", fig, "Minibatch training loss per depth; dashed plain, solid residual; grey line: "
                 f"threshold {LOSS_THRESHOLD} nats for steps-to-threshold. Seed mean.")


def _dead_heatmap(cfg: Config, outcomes: list[Outcome], figures, plt) -> None:
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), squeeze=False, layout="constrained")
    for row, arch in enumerate(ARCHS):
        a = getattr(cfg, arch)
        for col, kind in enumerate(KINDS):
            key = spec_key(arch, max(a.depths), a.width, kind)
            dead, steps = _mean(outcomes, key, "dead"), outcomes[0].data["runs"][key]["steps"]
            image = axes[row][col].pcolormesh(_edges(steps), np.arange(dead.shape[1] + 1) + 0.5, dead.T,
                                              vmin=0, vmax=1, cmap="magma")
            axes[row][col].set(title=f"{arch.upper()} {kind}, L={max(a.depths)}", xlabel="step", ylabel="ReLU layer")
    fig.colorbar(image, ax=axes, label="dead fraction")
    figures.save("dead_heatmap", fig, "Dead-unit fraction of each ReLU (1 = first block, last = before the head) "
                 f"through training, deepest nets; dead = off for all {cfg.eval_size} images of a fixed batch.")


def _vs_depth(cfg: Config, outcomes: list[Outcome], figures, plt) -> None:
    fig, axes = plt.subplots(2, 4, figsize=(15, 7), squeeze=False, layout="constrained")
    for row, arch in enumerate(ARCHS):
        a = getattr(cfg, arch)
        for ax, name in zip(axes[row], ("final_loss", "test_acc", "dead_mean", "grad_ratio_log10")):
            _sweep_panel(ax, outcomes, a.depths, lambda d, k: spec_key(arch, d, a.width, k), name, f"{arch.upper()}: {name}")
            ax.set_xlabel("depth")
        axes[row][0].legend()
    figures.save("vs_depth", fig, "End-of-training loss, test accuracy, mean dead fraction, and early log10 "
                 "first/last block gradient ratio vs depth (0 = no attenuation). Seed mean ± std.")


def _layer_gradients(cfg: Config, outcomes: list[Outcome], figures, plt) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for ax, arch in zip(axes, ARCHS):
        a = getattr(cfg, arch)
        for kind in KINDS:
            grads = _mean(outcomes, spec_key(arch, max(a.depths), a.width, kind), "layer_grads")[0]
            ax.plot(range(1, len(grads) + 1), grads, STYLES[kind], marker=".", label=kind)
        ax.set(title=f"{arch.upper()}, L={max(a.depths)}, step 0", xlabel="block layer", ylabel="||dL/dW||", yscale="log")
        ax.legend()
    figures.save("layer_gradients", fig, "Gradient norm of each block weight at the first step, deepest nets.")


def _width_sweep(cfg: Config, outcomes: list[Outcome], figures, plt) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), layout="constrained")
    for ax, name in zip(axes, ("dead_mean", "grad_ratio_log10", "final_loss")):
        key_of = lambda w, k: spec_key("mlp", cfg.width_depth, w, k)  # noqa: E731
        _sweep_panel(ax, outcomes, cfg.widths, key_of, name, f"MLP L={cfg.width_depth}: {name}")
        ax.set_xlabel("width")
    axes[0].legend()
    figures.save("width_sweep", fig, f"MLP width sweep at depth {cfg.width_depth}: dead fraction, early gradient "
                 "ratio and final loss. Seed mean ± std.")
