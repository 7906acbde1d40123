"""Figures of ``cyclegan-diversity``: digit translations and label curves, toy outputs, the noise test."""

from __future__ import annotations

from typing import Any

import numpy as np

from thoughtlab.study import FigureSink, Outcome

ARM_NAMES = {"cycle": "CycleGAN (λ = 10)", "gan_identity": "GAN + identity", "gan": "GAN only"}
MODEL_NAMES = {"cyclegan": "CycleGAN", "noise": "CycleGAN + noise z", "augmented": "Augmented CycleGAN"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _curve(outcomes: list[Outcome], key: str) -> tuple[list[float], np.ndarray]:
    fractions = [0.25, 0.5, 0.75, 1.0]
    found = [f for f in fractions if all((f"{key}@{f:g}" if f < 1 else key) in o.metrics for o in outcomes)]
    values = np.array([[o.metrics[f"{key}@{f:g}" if f < 1 else key] for f in found] for o in outcomes])
    return found, values


def plot_digits(outcomes: list[Outcome], figures: FigureSink) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for arm, name in ARM_NAMES.items():
        for ax, metric in zip(axes, ("label_AtoB", "kid_B")):
            x, values = _curve(outcomes, f"{arm}_{metric}")
            ax.errorbar(x, values.mean(0), yerr=values.std(0) if len(values) > 1 else None, marker="o", label=name)
    axes[0].set_ylabel("label accuracy of G(a)")
    axes[1].set_ylabel("KID(G(a), B), digit-CNN features")
    for ax in axes:
        ax.set_xlabel("fraction of the training budget")
    axes[0].legend(fontsize=8)
    figures.save("digits_curves", fig, "Digit task: label preservation and KID of G(a) along training, mean ± std over "
                                       "seeds, for CycleGAN, GAN + identity and GAN only (same initial weights).")
    samples = outcomes[0].data["digit_samples"]
    rows = ["real_a", *ARM_NAMES]
    fig, axes = plt.subplots(len(rows), 6, figsize=(6, 1.1 * len(rows)), squeeze=False)
    for r, row in enumerate(rows):
        for c, image in enumerate(samples[row]):
            axes[r, c].imshow(np.asarray(image, dtype=np.uint8).transpose(1, 2, 0))
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(ARM_NAMES.get(row, "A"), fontsize=7)
    figures.save("digits_samples", fig, "Test digits of A (top) and G(a) of each arm at the end of training (first seed).")


def plot_toy(outcomes: list[Outcome], figures: FigureSink) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), sharey=True)
    for ax, (model, name) in zip(axes, MODEL_NAMES.items()):
        points = np.asarray(outcomes[0].data["toy_samples"][model])
        ax.scatter(points[:, 1], points[:, 2], c=points[:, 0], cmap="viridis", s=6)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("content c")
    axes[0].set_ylabel("style coordinate of G(a, z)")
    figures.save("toy_outputs", fig, "One-to-many toy (first seed): G(a, z) for 40 inputs × 8 codes; the B styles lie "
                                     "at 4 levels in [−1.5, 1.5]. Colour = input c.")
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for model, name in MODEL_NAMES.items():
        keys = sorted((k for k in outcomes[0].metrics if k.startswith(f"toy_{model}_style_lost_nu") and "@" not in k),
                      key=lambda k: float(k.rsplit("nu", 1)[1]))
        levels = [float(k.rsplit("nu", 1)[1]) for k in keys]
        for ax, prefix in zip(axes, ("style_lost", "cycle_B")):
            values = np.array([[o.metrics[k.replace("style_lost", prefix)] for k in keys] for o in outcomes])
            ax.plot(levels, values.mean(0), marker="o", label=name)
    axes[0].set_ylabel("share of b whose style is lost")
    axes[1].set_ylabel("‖G(F(b) + ν ε) − b‖₁")
    for ax in axes:
        ax.set_xscale("symlog", linthresh=0.01)
        ax.set_xlabel("noise std ν added to F(b)")
    axes[0].legend(fontsize=8)
    figures.save("toy_noise", fig, "Noise test of the B→A→B cycle (Chu et al. 2017): reconstruction error and share of "
                                   "styles lost against the noise added to the intermediate A point, mean over seeds.")


def plot_tints(outcomes: list[Outcome], figures: FigureSink) -> None:
    plt = _pyplot()
    grids = outcomes[0].data["tint_samples"]
    inputs, columns = len(grids["cyclegan"]), len(grids["cyclegan"][0])
    fig, axes = plt.subplots(inputs, len(grids) * columns, figsize=(1.0 * len(grids) * columns, 1.1 * inputs),
                             squeeze=False)
    for m, (model, name) in enumerate(MODEL_NAMES.items()):
        for r, row in enumerate(grids[model]):
            for c, image in enumerate(row):
                ax = axes[r, m * columns + c]
                ax.imshow(np.asarray(image, dtype=np.uint8).transpose(1, 2, 0))
                ax.set_xticks([])
                ax.set_yticks([])
        axes[0, m * columns].set_title(name, fontsize=8, loc="left")
    figures.save("tints_samples", fig, "Digits → K tints (first seed): per model, a test digit a (first column) and "
                                       "G(a, z) for four draws of z.")
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for model, name in MODEL_NAMES.items():
        x, values = _curve(outcomes, f"tints_{model}_modes_per_input")
        ax.errorbar(x, values.mean(0), yerr=values.std(0) if len(values) > 1 else None, marker="o", label=name)
    ax.set_xlabel("fraction of the training budget")
    ax.set_ylabel("distinct tints per digit (of K)")
    ax.legend(fontsize=8)
    figures.save("tints_modes", fig, "Digits → K tints: distinct tints per test digit over the z draws, along "
                                     "training, mean ± std over seeds.")


def plot(config: Any, outcomes: list[Outcome], figures: FigureSink) -> None:
    plot_digits(outcomes, figures)
    plot_toy(outcomes, figures)
    plot_tints(outcomes, figures)
