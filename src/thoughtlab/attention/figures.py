"""Figures of the attention-noise study, drawn from all seeds' outcomes (never recomputed)."""

from __future__ import annotations

from typing import Any

import numpy as np

from thoughtlab.attention.config import Config
from thoughtlab.study import FigureSink, Outcome

STYLE = {"mean": "tab:gray", "max": "tab:brown", "dot": "tab:purple", "additive": "tab:blue",
         "gated": "tab:green", "multihead": "tab:orange"}


def _curve(outcomes: list[Outcome], path: tuple[str, ...], xs: list[str], field: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std over seeds of ``data[path...][x][field]`` for each x."""
    values = []
    for o in outcomes:
        node: Any = o.data
        for key in path:
            node = node[key]
        values.append([node[x][field] for x in xs])
    arr = np.asarray(values, dtype=float)
    return arr.mean(axis=0), arr.std(axis=0)


def _panel(ax: Any, outcomes: list[Outcome], task: str, names: tuple[str, ...], xs: tuple, field: str,
           sub: str | None = None, dashed: bool = False) -> None:
    keys = [f"{x:g}" if isinstance(x, float) else str(x) for x in xs]
    for name in names:
        path = (task, name) if sub is None else (task, name, sub)
        mean, std = _curve(outcomes, path, keys, field)
        ax.errorbar(xs, mean, yerr=std, marker="o", ms=3, capsize=2, color=STYLE.get(name),
                    linestyle="--" if dashed else "-", label=name if not dashed else None)


def accuracy_figure(cfg: Config, outcomes: list[Outcome]) -> Any:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    _panel(axes[0], outcomes, "adding", cfg.adding.poolings, cfg.adding.lengths, "success")
    axes[0].set(xscale="log", xlabel="sequence length T", ylabel="success (|error| < 0.04)", title="adding problem")
    few, many = cfg.bags.regimes[0][0], cfg.bags.regimes[-1][0]
    _panel(axes[1], outcomes, "bags", cfg.bags.poolings, cfg.bags.sizes, "auc", sub=many)
    _panel(axes[1], outcomes, "bags", cfg.bags.poolings, cfg.bags.sizes, "auc", sub=few, dashed=True)
    axes[1].set(xlabel="mean bag size", ylabel="test AUC",
                title=f"digit bags, one '9' (solid: {many} bags, dashed: {few})")
    _panel(axes[2], outcomes, "needle", cfg.needle.poolings, cfg.needle.lengths, "accuracy")
    axes[2].set(xscale="log", xlabel="set size T", ylabel="accuracy", title=f"needle in noise, SNR {cfg.needle.snr:g}")
    _panel(axes[3], outcomes, "needle_snr", cfg.needle.sweep_poolings, cfg.needle.sweep_snrs, "accuracy")
    axes[3].set(xlabel="SNR of the needle", ylabel="accuracy", title=f"needle in noise, T = {cfg.needle.sweep_length}")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    axes[3].legend(fontsize=8)
    fig.tight_layout()
    return fig


def bag_weights_figure(examples: list[dict[str, Any]]) -> Any:
    import matplotlib.pyplot as plt

    columns = max(len(e["digits"]) for e in examples)
    fig, axes = plt.subplots(len(examples), columns, figsize=(1.1 * columns, 1.5 * len(examples)), squeeze=False)
    for row, example in enumerate(examples):
        for col in range(columns):
            ax = axes[row][col]
            ax.axis("off")
            if col >= len(example["digits"]):
                continue
            weight, digit = example["weights"][col], example["digits"][col]
            ax.imshow(np.asarray(example["images"][col]), cmap="gray_r" if digit != 9 else "Reds")
            ax.set_title(f"{digit}: {weight:.2f}", fontsize=8, color="red" if digit == 9 else "black")
        axes[row][0].text(-0.3, 0.5, "positive" if example["label"] else "negative", rotation=90,
                          transform=axes[row][0].transAxes, va="center", ha="right", fontsize=8)
    fig.tight_layout()
    return fig


def effective_margin(mass: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The score margin D that gives weight ``mass`` on one item among T: ``ln(m / (1 - m)) + ln(T - 1)``."""
    clipped = np.clip(mass, 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped)) + np.log(lengths - 1)


def mass_figure(cfg: Config, outcomes: list[Outcome]) -> Any:
    """Weight on the needle vs T beside the ln T margin: mass = e^D / (e^D + T - 1)."""
    import matplotlib.pyplot as plt

    lengths = np.asarray(cfg.needle.lengths, dtype=float)
    keys = [str(t) for t in cfg.needle.lengths]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    grid = np.geomspace(lengths.min(), lengths.max(), 100)
    span = np.log(lengths - 1)
    for name in [p for p in cfg.needle.poolings if p != "mean"]:
        mean, std = _curve(outcomes, ("needle", name), keys, "mass")
        left.errorbar(lengths, mean, yerr=std, marker="o", capsize=2, color=STYLE.get(name), label=name)
        if name == "max":  # its "weight" is a share of features, not a softmax: no score margin
            continue
        margins = np.array([effective_margin(np.array([o.data["needle"][name][k]["mass"] for k in keys]), lengths)
                            for o in outcomes])
        for row in margins:
            right.plot(span, row, "o", color=STYLE.get(name), alpha=0.35, ms=4)
        right.plot(span, margins.mean(axis=0), "-", color=STYLE.get(name), label=f"{name} (dots: seeds)")
        if name == "additive":
            margin = float(margins[:, 0].mean())
            left.plot(grid, np.exp(margin) / (np.exp(margin) + grid - 1), ":", color=STYLE[name],
                      label=f"additive, margin fixed at its T={int(lengths[0])} value ({margin:.1f})")
    left.plot(grid, 1 / grid, "k--", lw=1, label="uniform (mean pooling), 1/T")
    left.set(xscale="log", yscale="log", xlabel="set size T", ylabel="attention weight on the needle",
             title=f"needle in noise, SNR {cfg.needle.snr:g}")
    right.plot(span, span, "k--", lw=1, label="margin ln(T-1): weight 1/2")
    right.set(xlabel="ln(T - 1)", ylabel="effective margin ln(m/(1-m)) + ln(T-1)",
              title="learned score margin vs the ln T requirement")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def se_figure(outcomes: list[Outcome]) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for i, o in enumerate(outcomes):
        snr, gates, k = np.asarray(o.data["se"]["snr"]), np.asarray(o.data["se"]["gates"]), o.data["se"]["signal_channels"]
        ax.scatter(snr[:k] + 1e-3, gates[:k], color="tab:blue", label="digit + noise" if i == 0 else None)
        ax.scatter(np.full(len(snr) - k, 1e-3), gates[k:], color="tab:red", marker="x", label="pure noise" if i == 0 else None)
        if i == 0:
            for std, x, gate in zip(o.data["se"]["noise_std"], np.maximum(snr, 1e-3), gates):
                ax.annotate(f"σ={std:g}", (x, gate), fontsize=6, xytext=(4, -3), textcoords="offset points")
    rho = [o.metrics["se_spearman"] for o in outcomes]
    ax.set(xscale="log", xlabel="channel SNR (pure noise drawn at 1e-3)", ylabel="mean SE gate on test images",
           title=f"SE gates vs channel SNR (mean Spearman {np.mean(rho):.2f}, {len(rho)} seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot(cfg: Config, outcomes: list[Outcome], figures: FigureSink) -> None:
    """Accuracy vs noise per pooling, weights on example bags, the ln T margin, SE gates vs SNR."""
    import matplotlib

    matplotlib.use("Agg")
    figures.save("accuracy_vs_noise", accuracy_figure(cfg, outcomes),
                 "Accuracy of each pooling as the noise grows (mean and std over seeds): adding-problem success vs "
                 "length, digit-bag test AUC vs bag size (one '9' per positive bag), needle accuracy vs T and vs SNR.")
    if outcomes[0].data["example_bags"]:
        figures.save("bag_weights", bag_weights_figure(outcomes[0].data["example_bags"]),
                     "Additive attention weights on test bags (smallest size, most training bags, first seed); "
                     "each title is the digit and its weight, the '9' in red.")
    figures.save("attention_mass", mass_figure(cfg, outcomes),
                 "Left: attention weight on the needle vs T, with 1/T (mean pooling) and the weight a margin fixed at "
                 "its smallest-T value would give. Right: the effective score margin against ln(T-1), the margin "
                 "needed for weight 1/2 (part B of the research notes).")
    figures.save("se_gates", se_figure(outcomes),
                 "Learned squeeze-and-excitation gates of each input channel vs its SNR (all seeds).")
