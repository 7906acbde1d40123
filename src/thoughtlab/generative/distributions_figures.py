"""Figures of ``gan-distributions``: the replication table beside PacGAN's, the learnability map, triangles."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from thoughtlab.generative import distributions_experiments as ex
from thoughtlab.study import Outcome

#: PacGAN Table 1 (Lin et al. 2018; verified against the paper's repository result image): mean ± s.e. over
#: 10 trials of ≈ 400k steps.  (modes, %HQ, reverse KL) per dataset and packing degree.
PUBLISHED = {
    ("ring", 1): ((6.3, 0.5), (98.2, 0.2), (0.45, 0.09)), ("ring", 2): ((7.9, 0.1), (95.6, 2.0), (0.07, 0.03)),
    ("ring", 3): ((7.8, 0.1), (97.7, 0.3), (0.10, 0.02)), ("ring", 4): ((7.8, 0.1), (95.9, 1.4), (0.07, 0.02)),
    ("grid", 1): ((17.3, 0.8), (94.8, 0.7), (0.70, 0.07)), ("grid", 2): ((23.8, 0.7), (91.3, 0.8), (0.13, 0.04)),
    ("grid", 3): ((24.6, 0.4), (94.2, 0.4), (0.06, 0.02)), ("grid", 4): ((24.8, 0.2), (93.6, 0.6), (0.04, 0.01)),
}


def mean_se(values: list[float]) -> str:
    """'mean ± s.e. (n)' over seeds; '–' when no seed has a value (e.g. reverse KL with no HQ sample)."""
    if not values:
        return "–"
    se = float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else float("nan")
    return f"{np.mean(values):.2f} ± {se:.2f}" + (f" ({len(values)})" if len(values) != 1 else "")


def replication_rows(cfg: Any, outcomes: list[Outcome]) -> list[list[str]]:
    rows = []
    for name in cfg.replication.datasets:
        for pack in cfg.replication.packs:
            label = "GAN" if pack == 1 else f"PacGAN{pack}"
            ours = [mean_se([o.metrics[f"rep.{name}.pack{pack}.{m}"] for o in outcomes]) for m in ("modes", "hq")]
            ours.append(mean_se([o.data["reverse_kl"][key] for o in outcomes
                                 if (key := f"rep.{name}.pack{pack}.rkl") in o.data["reverse_kl"]]))
            paper = [f"{m:g} ± {s:g}" for m, s in PUBLISHED.get((name, pack), ())] or ["–"] * 3
            rows.append([name, label, *ours, *paper])
    return rows


def plot_replication(cfg: Any, outcomes: list[Outcome], figures: Any, plt: Any) -> None:
    rows = replication_rows(cfg, outcomes)
    header = ["data", "model", "modes (ours)", "% HQ (ours)", "rev. KL (ours)", "modes (paper)", "% HQ (paper)",
              "rev. KL (paper)"]
    fig, ax = plt.subplots(figsize=(13, 0.45 * (len(rows) + 2)))
    ax.axis("off")
    table = ax.table(cellText=rows, colLabels=header, loc="center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.3)
    figures.save("replication_table", fig,
                 f"PacGAN Table 1 replication, budget-limited: {cfg.replication.steps} steps per run (the paper: "
                 f"≈ {ex.PAPER_STEPS:,} steps, {100 * cfg.replication.steps / ex.PAPER_STEPS:.2g} % of it), same "
                 f"architecture and optimiser; mean ± standard error over {len(outcomes)} seeds (ours) and 10 trials "
                 "(paper). Reverse KL is defined only for runs with at least one HQ sample (their count in brackets).")


def plot_map(cfg: Any, outcomes: list[Outcome], figures: Any, plt: Any) -> None:
    cells = cfg.map.cells()
    def mean(key: str, scale: float = 1.0) -> np.ndarray:
        return np.mean([o.items[key] for o in outcomes], axis=0) / scale
    panels = (("GAN success", mean("map.gan_success")), ("GAN modes captured / K", mean("map.gan_modes")),
              ("GAN % HQ / 100", mean("map.gan_hq", 100.0)), ("EM (likelihood) success", mean("map.em_success")))
    dims = cfg.map.dims
    fig, axes = plt.subplots(len(panels), len(dims), figsize=(3.6 * len(dims), 3.2 * len(panels)), squeeze=False)
    for row, (name, rate) in enumerate(panels):
        for col, dim in enumerate(dims):
            grid = np.array([[rate[cells.index((k, r, dim))] for r in cfg.map.ratios] for k in cfg.map.ks])
            ax = axes[row][col]
            ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", origin="lower")
            for (i, j), value in np.ndenumerate(grid):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", color="w" if value < 0.6 else "k", fontsize=8)
            ax.set_xticks(range(len(cfg.map.ratios)), [f"{r:g}" for r in cfg.map.ratios])
            ax.set_yticks(range(len(cfg.map.ks)), [str(k) for k in cfg.map.ks])
            ax.set(xlabel="separation / σ", ylabel="K modes", title=f"{name}, dim {dim}")
    fig.tight_layout()
    figures.save("learnability_map", fig,
                 f"Per cell, mean over {len(outcomes)} seeds: the success rate (≥ {ex.SUCCESS_MODES:.0%} of modes and "
                 f"≥ {ex.SUCCESS_HQ:g} % HQ samples), modes captured / K and % HQ of a fixed small GAN "
                 f"({cfg.map.steps} steps), and the success rate of an EM-fitted Gaussian mixture with the true K on "
                 "the same training points.")
    views = [o.items for o in outcomes]
    intervals = ex.coefficient_intervals(views)
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for i, iv in enumerate(intervals):
        ax.errorbar(i, iv.estimate, yerr=[[iv.estimate - iv.low], [iv.high - iv.estimate]], fmt="o", capsize=4)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(range(3), ["log₂ K", "log₂ sep/σ", "log₂ dim"])
    ax.set(ylabel="log-odds of success per doubling")
    fig.tight_layout()
    figures.save("logistic_fit", fig,
                 "Logistic regression of GAN success on the three properties over (seed, cell) runs: coefficients "
                 "with Bonferroni 98.3 % percentile-bootstrap intervals (the c19 effect).")


def plot_triangles(outcomes: list[Outcome], figures: Any, plt: Any) -> None:
    names = ("gan", "mean", "memoriser")
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.6))
    for offset, metric in enumerate(("precision", "recall", "f1")):
        values = [[o.metrics[f"tri.{n}.{metric}"] for o in outcomes] for n in names]
        axes[0].bar(np.arange(3) + 0.27 * (offset - 1), [np.mean(v) for v in values], width=0.27,
                    yerr=[np.std(v, ddof=1) if len(v) > 1 else 0 for v in values], capsize=3, label=metric)
    axes[0].set_xticks(range(3), ["DCGAN", "mean image", "memoriser"])
    axes[0].set(ylim=(0, 1.05), ylabel="fraction")
    axes[0].legend()
    images = np.asarray(outcomes[0].data["triangle_samples"])
    axes[1].imshow(np.concatenate([np.concatenate(list(images[r * 8:(r + 1) * 8]), 1) for r in range(2)], 0),
                   cmap="gray", vmin=0, vmax=1)
    axes[1].axis("off")
    delta = np.mean([o.metrics["tri.delta"] for o in outcomes])
    distances = np.concatenate([o.data["triangle_distances"] for o in outcomes])
    axes[2].hist(distances, bins=40, color="tab:blue", alpha=0.7, label="DCGAN samples")
    for name, colour in (("mean", "tab:red"), ("memoriser", "tab:green")):
        axes[2].axvline(np.mean([o.metrics[f"tri.{name}.distance_median"] for o in outcomes]), color=colour,
                        ls=":", label=f"{name} (median)")
    axes[2].axvline(delta, color="k", ls="--", label="δ")
    axes[2].set(xlabel="squared distance to the triangle manifold", ylabel="samples")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    figures.save("triangles", fig,
                 f"Triangles (Lucic et al. 2018): precision, recall and F1 at δ = {delta:.1f} (1-px vertex "
                 "tolerance), mean ± std over seeds, for a small DCGAN, the mean training image and a generator that "
                 "replays training images; middle: 16 DCGAN samples of the first seed; right: the DCGAN samples' "
                 "vertex-fitted squared distances to the manifold (all seeds) against δ and the baselines' medians.")


def plot(cfg: Any, outcomes: list[Outcome], figures: Any) -> None:
    """Replication table, learnability map with its logistic fit, triangles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plot_replication(cfg, outcomes, figures, plt)
    plot_map(cfg, outcomes, figures, plt)
    plot_triangles(outcomes, figures, plt)
