"""Figures of the ``gan-tradeoffs`` study (drawn from the seeds' outcomes only)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import gmean

from thoughtlab.generative.tradeoffs_config import FAMILIES, PUBLISHED, Config, curve_of
from thoughtlab.study import Outcome


def draw(cfg: Config, outcomes: list[Outcome], figures: Any) -> None:
    """Time-to-quality curves, the c17 timing sweep, the measured-vs-published table, samples."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for family, color in zip(FAMILIES, ("C0", "C1", "C2")):
        for index, outcome in enumerate(outcomes):
            cpu, fid = curve_of(outcome.metrics, family)
            ax.plot(cpu, fid, marker="o", color=color, alpha=0.7, label=family if index == 0 else None)
    ax.set(xlabel="CPU seconds of training", ylabel="FID (digit-CNN features)", yscale="log")
    ax.legend()
    fig.tight_layout()
    figures.save("time_to_quality", fig, f"Time-to-quality: FID of {cfg.samples} samples against CPU seconds of "
                 f"training, per family, one line per seed; budget {cfg.budget_s:g} CPU s per family.")

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    pixels = np.square(cfg.sides)
    for family in ("ar", "flow"):
        for kind, ax in (("sample_s", axes[0]), ("ratio", axes[1])):
            values = [[o.metrics[f"sample_s.{family}.s{s}"] / (o.metrics[f"eval_s.{family}.s{s}"] if kind == "ratio"
                       else 1.0) for s in cfg.sides] for o in outcomes]
            ax.plot(pixels, np.mean(values, axis=0), marker="o", label=family)
    axes[0].set(xscale="log", yscale="log", xlabel="pixels", ylabel=f"CPU s to sample {cfg.timing_batch} images")
    axes[1].set(xscale="log", yscale="log", xlabel="pixels", ylabel="sampling time / density-evaluation time")
    axes[1].plot(pixels, pixels / pixels[0], "k:", label="∝ pixels")
    for ax in axes:
        ax.legend()
    fig.tight_layout()
    figures.save("sampling_scaling", fig, "c17: CPU time to sample and its ratio to one density evaluation of the "
                 "same batch, by image size (untrained nets of the study's architectures; mean over seeds).")

    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.axis("off")
    mean = lambda key: float(np.mean([o.metrics[key] for o in outcomes]))
    rows = [[family, f"{mean(f'params.{family}'):,.0f}", f"{mean(f'bpd.{family}'):.2f}" + (" (AIS)" if family == "gan" else ""),
             f"{mean(f'fid.{family}'):.1f}", f"{mean(f'kid.{family}'):.4f}", f"{mean(f'precision.{family}'):.2f}/"
             f"{mean(f'recall.{family}'):.2f}", f"{mean(f'draw_s.{family}'):.2f}"] for family in FAMILIES]
    seeds_gmean = lambda key: float(gmean([o.metrics[key] for o in outcomes]))  # ratios: geometric mean over seeds
    for family in ("flow", "ar"):
        rows.append([f"{family}/GAN", f"{seeds_gmean(f'ratio.params.{family}_gan'):.2f}× (note 4.3×)",
                     f"compute to equal FID {seeds_gmean(f'ratio.train_s_to_quality.{family}_gan'):.2f}× (note 17.5×)",
                     f"q/s {1 / seeds_gmean(f'ratio.quality_per_train_s.gan_{family}'):.2f}×", "",
                     f"q/param {1 / seeds_gmean(f'ratio.quality_per_param.gan_{family}'):.2f}×",
                     f"{seeds_gmean(f'ratio.draw_s.{family}_gan'):.1f}×"])
    if "made_nll_nats" in outcomes[0].metrics:
        published = outcomes[0].data["made_published"]
        rows.append([f"MADE {'×'.join(map(str, cfg.made_hidden))}", f"{mean('made_params'):,.0f}",
                     f"{mean('made_nll_nats'):.1f} nats (pub. {published['nll_nats']:g})*", "", "", "", ""])
    table = ax.table(cellText=rows, colLabels=["family", "params", "test bits/dim", "FID", "KID", "P/R",
                                               f"CPU s / {cfg.draw} samples"], loc="center",
                     colWidths=[0.09, 0.15, 0.28, 0.1, 0.08, 0.13, 0.17])
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    fig.tight_layout()
    figures.save("tradeoff_table", fig, "Measured trade-offs at equal CPU budget (mean over seeds) beside the note's "
                 "figures (Glow vs Progressive GAN: 17.5× GPU-days, 4.3× parameters, 16× fewer pixels). The GAN's "
                 "bits/dim is an AIS estimate under a Gaussian observation model, not a likelihood of the GAN. Rows flow/GAN and "
                 "ar/GAN: measured ratios (geometric mean over seeds) beside the note's; q/s and q/param: the family's "
                 "sample quality (1/FID) per training CPU second and per parameter relative to the GAN's. "
                 f"*MADE row: binarised-MNIST test NLL in nats, a budget- and data-limited replication ({cfg.made_budget_s:g} "
                 "CPU s on 4,000 training images) beside the published 86.64 nats (Germain et al. 2015: 2 hidden layers "
                 "of 8,000 units, 32 masks, 50,000 training images; recalled, via PixelRNN Table 4).")

    efficiency_figure(plt, outcomes, figures)

    fig, axes = plt.subplots(1, len(FAMILIES), figsize=(9, 3.2))
    for ax, family in zip(axes, FAMILIES):
        grid = np.asarray(outcomes[0].data["examples"][family]).reshape(4, 4, 28, 28).transpose(0, 2, 1, 3)
        ax.imshow(grid.reshape(112, 112), cmap="gray", vmin=0, vmax=1)
        ax.set(title=family, xticks=[], yticks=[])
    fig.tight_layout()
    figures.save("samples", fig, "Samples of each family at the end of the equal CPU budget (seed 0).")


RATIOS = (  # (metric key, label, the note's figure for Glow vs Progressive GAN or None)
    ("ratio.params.{f}_gan", "parameters, {f} / GAN", PUBLISHED["params_ratio"]),
    ("ratio.train_s_to_quality.{f}_gan", "training compute to equal FID, {f} / GAN", PUBLISHED["gpu_days_ratio"]),
    ("ratio.quality_per_param.gan_{f}", "quality (1/FID) per parameter, GAN / {f}", None),
    ("ratio.quality_per_train_s.gan_{f}", "quality per training CPU s, GAN / {f}", None),
    ("ratio.draw_s.{f}_gan", "CPU s to draw samples, {f} / GAN", None),
)


def efficiency_figure(plt: Any, outcomes: list[Outcome], figures: Any) -> None:
    """Measured efficiency ratios (each seed a dot, the mean a bar) beside the note's Glow/ProGAN figures."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.8))
    for ax, family in zip(axes, ("flow", "ar")):
        for row, (key, label, note) in enumerate(RATIOS):
            values = [o.metrics[key.format(f=family)] for o in outcomes if key.format(f=family) in o.metrics]
            ax.barh(row, float(gmean(values)), color="C0", alpha=0.5)
            ax.plot(values, [row] * len(values), "k.")
            if note is not None:
                ax.plot([note], [row], "r*", markersize=11, label="note (Glow vs ProGAN)" if row == 0 else None)
        ax.axvline(1.0, color="grey", lw=0.8)
        ax.set(xscale="log", title=family, xlabel="ratio (log scale)")
        ax.set_yticks(range(len(RATIOS)), [label.format(f=family) for _, label, _ in RATIOS])
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    figures.save("efficiency_ratios", fig, "Sample quality per parameter and per second as ratios (bars: geometric "
                 "mean over seeds; dots: seeds) beside the note's figures (red stars): Glow ~200 M vs Progressive GAN "
                 "46 M parameters (4.3×); 40 GPUs × 2 weeks vs 8 GPUs × 4 days (17.5× the GPU-days; 8.75× with the "
                 "Glow author's 'about a week'); the note's images also differ 16× in pixels, ours are equal. Quality "
                 "= 1/FID in digit-CNN features; compute to equal FID = CPU seconds each family needs to reach the "
                 "worse of the two best FIDs on its curve.")
