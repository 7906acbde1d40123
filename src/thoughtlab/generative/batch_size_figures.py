"""Figures of the ``gan-batch-size`` study, drawn from all seeds' outcomes (mean ± std over seeds)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from thoughtlab.study import Outcome

STALE_METHODS = ("plain", "chekhov", "replay", "history", "ema")


def over_seeds(outcomes: list[Outcome], key: str) -> tuple[float, float]:
    values = [o.metrics[key] for o in outcomes if key in o.metrics]
    return (float(np.mean(values)), float(np.std(values))) if values else (float("nan"), 0.0)


def arms(outcomes: list[Outcome], pattern: str) -> list[tuple[int, str]]:
    """(number, key) of final ``modes.`` keys matching ``pattern`` (one group: the number), sorted."""
    found = {int(m.group(1)): k for k in outcomes[0].metrics if (m := re.fullmatch(pattern, k))}
    return sorted(found.items())


def plot(cfg: Any, outcomes: list[Outcome], figures: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(outcomes)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.8))
    for label, pattern in (("GAN, lr fixed", r"modes\.gan-B(\d+)-fixed"), ("GAN, lr ∝ √B", r"modes\.gan-B(\d+)-sqrt"),
                           ("OT-GAN", r"modes\.ot-B(\d+)")):
        found = arms(outcomes, pattern)
        if label == "GAN, lr ∝ √B":  # the reference batch is shared with the fixed rule
            found = sorted(found + arms(outcomes, rf"modes\.gan-B({cfg.reference_batch})-fixed"))
        stats = [over_seeds(outcomes, k) for _, k in found]
        ax.errorbar([b for b, _ in found], [m for m, _ in stats], [s for _, s in stats], marker="o", capsize=3, label=label)
    ax.set(xscale="log", xlabel="batch B", ylabel="modes captured (of 25)", title=f"{cfg.steps} steps, {n} seed(s)")
    ax.legend(fontsize=8)
    table = "\n".join(f"B={r['batch']:>4}: IS {r['is']:.2f}, FID {r['fid']:.2f}" for r in outcomes[0].data["biggan"])
    ax.text(1.02, 0.0, "BigGAN Table 1 (ImageNet 128²;\nnot comparable in absolute terms)\n" + table,
            transform=ax.transAxes, fontsize=6.5, va="bottom")
    for player in ("d", "g"):
        found = arms(outcomes, rf"log10_bsimple_{player}\.gan-B(\d+)-fixed")
        along = [[np.mean([o.metrics[k + s] for s in ("@0.25", "@0.5", "@0.75", "")]) for o in outcomes] for _, k in found]
        medians = [float(np.median(v)) for v in along]  # the claim's prediction: geometric mean along training
        bx.plot([b for b, _ in found], [10 ** m for m in medians], marker="s",
                label=f"B_simple of {player.upper()} (geometric mean along training, median over seeds)")
    observed = [10 ** o.metrics["log10_critical_batch"] for o in outcomes if o.metrics.get("critical_batch_inside")]
    for value in observed:
        bx.axvline(value, color="k", alpha=0.3, lw=1)
    if observed:
        bx.plot([], [], color="k", alpha=0.3, label=f"observed critical batch, fit of steps to target ({len(observed)} of {n} seeds)")
    bx.set(xscale="log", yscale="log", xlabel="training batch B", ylabel="gradient noise scale B_simple",
           title="predicted critical batch (McCandlish et al. 2018)")
    bx.legend(fontsize=8)
    fig.tight_layout()
    figures.save("batch_sweep", fig,
                 "Left: modes captured on the 25-mode grid after the same number of steps, by batch, lr fixed / ∝ √B "
                 "and OT-GAN (mean ± std over seeds), with BigGAN's Table 1 beside it (ImageNet scale, IS/FID, not "
                 "comparable in absolute terms). Right: the measured gradient noise scale of D and G, geometric mean of "
                 "its four measurements along training (lr fixed); batches above it are predicted to waste samples. Vertical lines: each seed's observed "
                 "critical batch, S(B) = S_min(1 + B_crit/B) fitted to the lr-fixed arms' steps to ≥ 15 modes and ≥ 10 % "
                 "HQ (seeds whose fit shows no fall or no floor are left out). A value of 10⁹ marks an "
                 "unmeasurable signal: the unbiased |G|² came out ≤ 0, i.e. the noise scale exceeds the examples used.")

    rows = outcomes[0].data["dirac"]
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for alternating, style in ((0.0, "o"), (1.0, "s")):
        sub = [r for r in rows if r["alternating"] == alternating]
        name = "alternating" if alternating else "simultaneous"
        ax.plot([r["tau"] for r in sub], [r["predicted"] for r in sub], "-", label=f"{name}: predicted")
        ax.plot([r["tau"] for r in sub], [r["measured"] for r in sub], style, mfc="none", label=f"{name}: simulated")
    ax.set(xlabel="staleness τ (generator sees D of τ steps ago)", ylabel="growth factor per step",
           title=f"Dirac-GAN, h = {rows[0]['h']}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    figures.save("dirac_growth", fig, "Dirac-GAN: the spectral radius of the companion matrix (lines) and the growth "
                 "fitted to a simulation of the nonlinear game with autograd gradients (markers), by staleness τ.")

    fig, (ax, hx, kx, bx) = plt.subplots(1, 4, figsize=(16, 3.6))
    for axis, metric, label in ((ax, "modes", "modes captured (of 25)"), (hx, "hq", "% high quality"),
                                (kx, "rkl", "reverse KL (nats)")):
        for method in STALE_METHODS:
            found = arms(outcomes, rf"modes\.stale-t(\d+)-{method}")
            stats = [over_seeds(outcomes, f"{metric}.stale-t{t}-{method}") for t, _ in found]
            axis.errorbar([t for t, _ in found], [m for m, _ in stats], [s for _, s in stats], marker="o",
                          capsize=3, label=method)
        axis.set(xscale="symlog", xlabel="staleness τ", ylabel=label, title="GAN on the grid")
    ax.legend(fontsize=8)
    found = arms(outcomes, r"acc\.cls-t(\d+)")
    stats = [over_seeds(outcomes, k) for _, k in found]
    bx.errorbar([t for t, _ in found], [m for m, _ in stats], [s for _, s in stats], marker="o", capsize=3)
    bx.set(xscale="symlog", xlabel="staleness τ", ylabel="test accuracy (%)", title="control: classifier, same data")
    fig.tight_layout()
    figures.save("staleness", fig, "Left three: modes captured, % high quality and reverse KL when G steps against "
                 "the discriminator of τ updates ago, plain and with the snapshot methods (EMA: the plain run's "
                 "averaged generator; at quick the methods run at τ = 0 only). Right: the same "
                 "staleness on a classifier of the grid's components (its gradient τ updates old).")
