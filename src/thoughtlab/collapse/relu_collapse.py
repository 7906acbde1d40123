"""Study ``relu-collapse``: MobileNetV2 Fig. 1, made quantitative.

Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks" (CVPR
2018, arXiv 1801.04381), §3.2 and Fig. 1: a 2-D manifold lifted to n
dimensions by a random T, passed through ReLU and mapped back with T⁺ loses
information for small n and survives for n >= 15.  We measure the loss with
scale-free measures (see :mod:`thoughtlab.collapse.manifolds`) over many draws
of T, against the exact loss probability (n+1)/2ⁿ, with identity, ReLU6 and
leaky-ReLU controls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from thoughtlab.collapse import THOUGHT
from thoughtlab.collapse import manifolds as mf
from thoughtlab.errors import BadInput
from thoughtlab.stats import Interval, bootstrap_ci, exact
from thoughtlab.study import Claim, Outcome, RunContext, Study

CURVE_METRICS: tuple[str, ...] = ("unrecoverable", "r2", "knn", "plain_err")
CLAIM_MANIFOLDS: tuple[str, ...] = ("spiral", "circle")  # curves: kNN is meaningful and the claims read them
CLAIM_DIMS: tuple[int, ...] = (2, 3, 15, 30, 50)
Z95 = 1.96
LINE_STYLES = {"identity": "-", "relu": "-", "relu6": "--", "leaky_relu": "-."}
COLOURS = {"identity": "tab:blue", "relu": "tab:orange", "relu6": "tab:green", "leaky_relu": "tab:red"}


@dataclass(frozen=True)
class Config:
    """Configuration of one scale.

    dims: lifted widths n.  draws: random T per n.  points: per manifold.
    knn_k / knn_queries: neighbours and query points of the kNN measure.
    input_rms: RMS radius of the manifold (1 = batch-norm-like pre-activations;
    only ReLU6 depends on it, the other activations are positively homogeneous).
    panel_dims: widths drawn in the Fig. 1-style panel grid.  chunk: draws per batch.
    """

    dims: tuple[int, ...] = (2, 3, 5, 10, 15, 30, 50)
    draws: int = 200
    points: int = 1000
    manifolds: tuple[str, ...] = ("spiral", "circle", "patch")
    activations: tuple[str, ...] = mf.ACTIVATIONS
    knn_k: int = 10
    knn_queries: int = 100
    leaky_slope: float = 0.1
    input_rms: float = 1.0
    panel_dims: tuple[int, ...] = (2, 3, 5, 15, 30)
    chunk: int = 25


def check_config(cfg: Config) -> None:
    """Raise BadInput/UnknownName for a configuration the claims cannot be judged on."""
    for name in cfg.manifolds:
        mf.manifold_points(name, 3, 0)  # raises UnknownName
    for name in cfg.activations:
        mf.activation(name)
    if min(cfg.dims) < 2:
        raise BadInput(f"dims={cfg.dims}: every lifted width n must be >= 2")
    if cfg.draws < 2:
        raise BadInput(f"draws={cfg.draws}: use at least 2 draws of T so a confidence interval exists")
    missing = [n for n in (*CLAIM_DIMS, *cfg.panel_dims) if n not in cfg.dims]
    if missing or not set(CLAIM_MANIFOLDS) <= set(cfg.manifolds) or "identity" not in cfg.activations:
        raise BadInput(
            f"the claims need dims {CLAIM_DIMS} (and panel_dims), manifolds {CLAIM_MANIFOLDS} and the identity; "
            f"missing dims {missing} or a manifold/activation: add them to the config"
        )


def child_seed(seed: int, stream: int) -> int:
    """An independent seed per stream: 0 for the manifold samples, n for the draws of T at width n.

    Per-width streams make the draws at one n independent of which other widths
    the config lists.
    """
    return int(np.random.SeedSequence((seed, stream)).generate_state(1)[0])


def draw_lifts(cfg: Config, seed: int) -> dict[int, torch.Tensor]:
    """``cfg.draws`` Gaussian T (n×2) for every width n of the config."""
    gens = {n: torch.Generator().manual_seed(child_seed(seed, n)) for n in cfg.dims}
    return {n: mf.gaussian_embeddings(cfg.draws, n, gen) for n, gen in gens.items()}


def mean_and_ci(values: torch.Tensor) -> tuple[float, float]:
    """Mean over draws and the 95 % normal-approximation CI half-width."""
    mean = float(values.mean())
    half = Z95 * float(values.std()) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return mean, half


def measure_width(
    cfg: Config, x: torch.Tensor, lifts: torch.Tensor, neighbours: torch.Tensor, queries: torch.Tensor
) -> dict[str, dict[str, Any]]:
    """Per-draw measures of every activation at one width n (lifts: (D, n, 2)), in chunks of draws."""
    acts = {name: mf.activation(name, cfg.leaky_slope) for name in cfg.activations}
    per_draw = {a: {name: [] for name in CURVE_METRICS} for a in acts}
    regime_errors: dict[str, list[torch.Tensor]] = {a: [] for a in acts}
    for start in range(0, len(lifts), cfg.chunk):
        T = lifts[start : start + cfg.chunk]
        z = torch.einsum("pj,dij->dpi", x, T)
        left_inverse = torch.linalg.pinv(T).transpose(1, 2)
        for name, act in acts.items():
            activated = act(z)
            y = activated @ left_inverse  # T⁺ act(T x), as in mf.lift_and_reconstruct
            lost = mf.unrecoverable_points(mf.informative_units(name, z), T)
            per_draw[name]["unrecoverable"].append(lost.to(x.dtype).mean(1))
            per_draw[name]["r2"].append(mf.affine_r2(y, x))
            per_draw[name]["knn"].append(mf.knn_preservation(y, neighbours, queries))
            per_draw[name]["plain_err"].append(mf.plain_relative_error(y, x))
            regime_errors[name].append(mf.linear_regime_errors(z, activated, x, y))
    results = {}
    for name in acts:
        errors = torch.cat(regime_errors[name])
        results[name] = {
            "per_draw": {m: torch.cat(chunks).cpu() for m, chunks in per_draw[name].items()},
            "regime_count": int(errors.numel()),
            "regime_max_err": float(errors.max()) if errors.numel() else 0.0,
        }
    return results


def run(cfg: Config, ctx: RunContext) -> Outcome:
    """Measure every (manifold, activation, n) over ``cfg.draws`` random lifts T (one seed)."""
    check_config(cfg)
    manifold_seed = child_seed(ctx.seed, 0)
    lifts = draw_lifts(cfg, ctx.seed)
    metrics: dict[str, float] = {}
    items: dict[str, list[float]] = {}
    spread: dict[str, float] = {}
    curves: dict[str, Any] = {}
    regime: dict[str, Any] = {}
    jobs = [(m, n) for m in cfg.manifolds for n in cfg.dims]
    for m, n in ctx.progress(jobs, desc="relu-collapse", total=len(jobs)):
        x, _ = mf.manifold_points(m, cfg.points, manifold_seed, cfg.input_rms)
        queries = mf.query_indices(cfg.points, cfg.knn_queries)
        neighbours = mf.input_neighbours(x, cfg.knn_k, queries)
        x, neighbours, queries = x.to(ctx.device), neighbours.to(ctx.device), queries.to(ctx.device)
        results = measure_width(cfg, x, lifts[n].to(ctx.device), neighbours, queries)
        for a, result in results.items():
            curve = curves.setdefault(m, {}).setdefault(a, {name: {"mean": [], "ci": []} for name in CURVE_METRICS})
            for name, values in result["per_draw"].items():
                mean, half = mean_and_ci(values)
                curve[name]["mean"].append(mean)
                curve[name]["ci"].append(half)
                if name == "knn" and a == "relu":
                    items[f"{m}.{a}.{name}.n{n}"] = values.tolist()
                if name != "plain_err":
                    metrics[f"{m}.{a}.{name}.n{n}"] = mean
                    spread[f"{m}.{a}.{name}.n{n}"] = half
            counts = regime.setdefault(m, {}).setdefault(a, {"count": [], "max_rel_err": []})
            counts["count"].append(result["regime_count"])
            counts["max_rel_err"].append(result["regime_max_err"])
            ctx.log(None, **{f"{m}.{a}.{k}.n{n}": curve[k]["mean"][-1] for k in CURVE_METRICS})
    for m in cfg.manifolds:
        for a in cfg.activations:
            curve = curves[m][a]
            metrics[f"{m}.{a}.unrecoverable.max"] = max(curve["unrecoverable"]["mean"])
            metrics[f"{m}.{a}.r2.min"] = min(curve["r2"]["mean"])
            metrics[f"{m}.{a}.knn.min"] = min(curve["knn"]["mean"])
            metrics[f"{m}.{a}.linear_regime.count"] = float(sum(regime[m][a]["count"]))
            metrics[f"{m}.{a}.linear_regime.max_rel_err"] = max(regime[m][a]["max_rel_err"])
        if "relu" in cfg.activations:
            measured = curves[m]["relu"]["unrecoverable"]["mean"]
            gaps = [abs(u - mf.exact_unrecoverable_probability(n)) for u, n in zip(measured, cfg.dims)]
            metrics[f"{m}.relu.formula_gap.max"] = max(gaps)
    data = {
        "dims": list(cfg.dims),
        "exact_unrecoverable": [mf.exact_unrecoverable_probability(n) for n in cfg.dims],
        "curves": curves,
        "linear_regime": regime,
        "panel": {"manifold_seed": manifold_seed, "T": {str(n): lifts[n][0].tolist() for n in cfg.panel_dims}},
    }
    return Outcome(metrics=metrics, items=items, spread=spread, data=data)


def pooled_curve(outcomes: list[Outcome], manifold: str, act: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean over seeds of a curve and its CI half-width (per-seed half-widths pooled as if independent)."""
    means = np.array([o.data["curves"][manifold][act][name]["mean"] for o in outcomes])
    halves = np.array([o.data["curves"][manifold][act][name]["ci"] for o in outcomes])
    return means.mean(0), np.sqrt((halves**2).sum(0)) / len(outcomes)


def plot_panels(cfg: Config, outcome: Outcome, figures: Any) -> None:
    """Fig. 1 of the paper: each manifold and its ReLU reconstructions T⁺ReLU(Tx), one draw of T."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panel = outcome.data["panel"]
    cols = 1 + len(cfg.panel_dims)
    fig, axes = plt.subplots(len(cfg.manifolds), cols, figsize=(2.2 * cols, 2.3 * len(cfg.manifolds)), squeeze=False)
    for row, m in enumerate(cfg.manifolds):
        x, position = mf.manifold_points(m, cfg.points, panel["manifold_seed"], cfg.input_rms)
        outputs = [("Input", x)]
        for n in cfg.panel_dims:
            T = torch.tensor(panel["T"][str(n)], dtype=torch.float64).unsqueeze(0)
            outputs.append((f"Output/dim={n}", mf.lift_and_reconstruct(x, T, torch.relu)[1][0]))
        for col, (title, pts) in enumerate(outputs):
            ax = axes[row, col]
            ax.scatter(pts[:, 0], pts[:, 1], c=position, cmap="viridis", s=2, linewidths=0)
            ax.set_title(title if row == 0 else "", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_aspect("equal", adjustable="datalim")
        axes[row, 0].set_ylabel(m)
    fig.tight_layout()
    figures.save(
        "panels",
        fig,
        "MobileNetV2 Fig. 1 redone: each manifold (left) lifted by one random Gaussian T (n×2), passed through ReLU "
        "and mapped back with T⁺, coloured by position along the manifold. Small n folds and collapses it; large n "
        "keeps it (bent, shrunk towards x/2).",
    )


def plot_metric_curves(cfg: Config, outcomes: list[Outcome], manifold: str, figures: Any) -> None:
    """Unrecoverable fraction (with (n+1)/2ⁿ), affine R², kNN preservation and plain error against n."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = np.array(cfg.dims)
    exact = np.array(outcomes[0].data["exact_unrecoverable"])
    titles = {
        "unrecoverable": "unrecoverable fraction",
        "r2": "R² of best affine fit y→x",
        "knn": f"{cfg.knn_k}-NN preservation",
        "plain_err": "plain ‖y−x‖/‖x‖ (misleading)",
    }
    fig, axes = plt.subplots(1, 5, figsize=(19, 3.4))
    for act in cfg.activations:
        style = {"linestyle": LINE_STYLES[act], "color": COLOURS[act], "marker": "o", "ms": 3}
        for ax, name in zip(axes[[0, 2, 3, 4]], CURVE_METRICS):
            mean, half = pooled_curve(outcomes, manifold, act, name)
            ax.plot(dims, mean, label=act, **style)
            ax.fill_between(dims, mean - half, mean + half, alpha=0.25, color=COLOURS[act])
        if act in ("relu", "relu6"):
            mean, _ = pooled_curve(outcomes, manifold, act, "unrecoverable")
            shown = mean > 0
            axes[1].plot(dims[shown], mean[shown], label=f"{act} (zeros not shown)", **style)
    for ax in axes[:2]:
        ax.plot(dims, exact, "k:", lw=1, label="(n+1)/2ⁿ exact")
    axes[1].set_yscale("log")
    axes[1].set_ylim(bottom=1e-6)
    axes[1].set_title("unrecoverable, log scale")
    for ax, name in zip(axes[[0, 2, 3, 4]], CURVE_METRICS):
        ax.set_title(titles[name])
    for ax in axes:
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(dims, [str(n) for n in dims])
        ax.set_xlabel("lifted width n")
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    figures.save(
        f"metrics_{manifold}",
        fig,
        f"{manifold}: measures of T⁺act(Tx) against the lifted width n, mean over {cfg.draws} random T per seed "
        f"({len(outcomes)} seed(s)); bands are 95% CIs over the draws. The dotted black line is the exact ReLU loss "
        "probability (n+1)/2ⁿ. The plain relative error tends to 0.5, not 0, for wide ReLU layers (y → x/2), "
        "which is why the claims use the scale-free measures. ReLU6 lies on ReLU when inputs have RMS radius 1 "
        f"(input_rms={cfg.input_rms}): pre-activations rarely reach the cap 6.",
    )


def plot(cfg: Config, outcomes: list[Outcome], figures: Any) -> None:
    """The Fig. 1 panel grid and one metric-vs-n figure per manifold."""
    plot_panels(cfg, outcomes[0], figures)
    for m in cfg.manifolds:
        plot_metric_curves(cfg, outcomes, m, figures)


def keys(template: str, dims: tuple[int, ...] = (), manifolds: tuple[str, ...] = CLAIM_MANIFOLDS) -> tuple[str, ...]:
    """Metric keys ``template`` filled with each manifold (and each n)."""
    if not dims:
        return tuple(template.format(m=m) for m in manifolds)
    return tuple(template.format(m=m, n=n) for m in manifolds for n in dims)


def pooled_items(views: Sequence[Mapping[str, Any]], names: tuple[str, ...]) -> np.ndarray:
    """Per-draw values of the named item lists, pooled over seeds (each draw of T is one unit)."""
    return np.concatenate([np.asarray(v[k], dtype=float) for v in views for k in names])


def worst(views: Sequence[Mapping[str, Any]], names: tuple[str, ...], pick: Callable[..., float]) -> Interval:
    """The worst value of the named metrics over seeds (a check has no sampling uncertainty)."""
    return exact(pick(v[k] for v in views for k in names), f"{pick.__name__} over manifolds and seeds")


KNN_SMALL = keys("{m}.relu.knn.n{n}", (2, 3))
KNN_WIDE = keys("{m}.relu.knn.n{n}", (15, 30, 50))
ID_LOST = keys("{m}.identity.unrecoverable.max")
ID_R2 = keys("{m}.identity.r2.min")
REGIME_COUNT = keys("{m}.relu.linear_regime.count")
REGIME_ERR = keys("{m}.relu.linear_regime.max_rel_err")
FORMULA_GAP = keys("{m}.relu.formula_gap.max")


def neighbours_lost_small_n(views: Sequence[Mapping[str, Any]]) -> Interval:
    """Share of 10-NN relations destroyed by T⁺ReLU(T·) at n = 2, 3 (1 − kNN preservation), over draws of T."""
    return bootstrap_ci(1 - pooled_items(views, KNN_SMALL))


def neighbours_kept_wide_n(views: Sequence[Mapping[str, Any]]) -> Interval:
    """10-NN preservation after T⁺ReLU(T·) at n = 15, 30, 50, over draws of T."""
    return bootstrap_ci(pooled_items(views, KNN_WIDE))


def identity_worst_r2(views: Sequence[Mapping[str, Any]]) -> Interval:
    return worst(views, ID_R2, min)


def all_active_worst_error(views: Sequence[Mapping[str, Any]]) -> Interval:
    return worst(views, REGIME_ERR, max)


def binomial_worst_gap(views: Sequence[Mapping[str, Any]]) -> Interval:
    return worst(views, FORMULA_GAP, max)


CLAIMS = (
    Claim(
        id="collapse-small-n",
        ledger=("c1",),
        statement="ReLU makes low-dimensional data collapse: a feature mapped by T into a low-dimensional space, "
        "passed through ReLU and mapped back by T⁻¹ has changed a lot; part of it is destroyed.",
        criterion="share of each point's 10 nearest neighbours lost after T⁺ReLU(T·) at n = 2, 3 on spiral and "
        "circle, BCa interval over draws of T (and seeds): supported if the interval lies above 0.25 (more than a "
        "quarter of the local structure gone is 'a lot'); refuted if it lies below 0.10.",
        effect=neighbours_lost_small_n,
        effect_name="10-NN lost at n≤3",
        measures=KNN_SMALL,
        support=0.25,
        refute=0.10,
        trained=False,
    ),
    Claim(
        id="survives-wide-n",
        ledger=("c2",),
        statement="High-dimensional data does not collapse: some information may be lost, but most is kept.",
        criterion="10-NN preservation after T⁺ReLU(T·) at n = 15, 30, 50 on spiral and circle, BCa interval over "
        "draws of T: supported if the interval lies above 0.9 ('most is kept'); refuted if it lies below 0.75.",
        effect=neighbours_kept_wide_n,
        effect_name="10-NN kept at n≥15",
        measures=KNN_WIDE,
        support=0.9,
        refute=0.75,
        trained=False,
    ),
    Claim(
        id="linear-loses-nothing",
        ledger=("c3",),
        kind="check",
        statement="A linear activation does not compress the feature space, so it loses nothing.",
        criterion="algebra (T⁺T = I for a full-column-rank T): the worst R² of the affine fit back to the input "
        "over all n and draws, identity activation, must exceed 1 − 1e-9 (no point unrecoverable either).",
        effect=identity_worst_r2,
        effect_name="worst R² (identity)",
        measures=ID_LOST + ID_R2,
        support=1 - 1e-9,
        trained=False,
    ),
    Claim(
        id="linear-where-all-active",
        ledger=("c4",),
        kind="check",
        statement="If information passes wholly through a non-linear layer, that layer acts on it as a linear one.",
        criterion="algebra (ReLU(z) = z where z > 0): over points with every pre-activation > 0, the worst "
        "|T⁺ReLU(Tx) − x|/|x| must be ≤ 1e-9.",
        effect=all_active_worst_error,
        effect_name="worst relative error where all units are active",
        measures=REGIME_COUNT + REGIME_ERR,
        direction="less",
        support=1e-9,
        trained=False,
    ),
    Claim(
        id="loss-follows-binomial",
        ledger=("c1",),
        kind="check",
        statement="The share of unrecoverable points is the chance that fewer than 2 of n units are active, "
        "(n+1)/2ⁿ (research notes A1): the closed form behind c1, which cannot fail.",
        criterion="max over n of |measured ReLU unrecoverable fraction − (n+1)/2ⁿ| on spiral and circle must be "
        "≤ 0.05 (sampling error over the draws of T).",
        effect=binomial_worst_gap,
        effect_name="worst gap to (n+1)/2ⁿ",
        measures=FORMULA_GAP,
        direction="less",
        support=0.05,
        trained=False,
    ),
)

STUDY = Study(
    id="relu-collapse",
    title="ReLU collapse of low-dimensional manifolds (MobileNetV2 Fig. 1)",
    thought=THOUGHT,
    summary=(
        "A spiral, a circle and a 2-D patch are lifted to n dimensions by random Gaussian T, passed through ReLU "
        "(or identity, ReLU6, leaky ReLU) and mapped back with T⁺, over many draws of T per n. We measure the "
        "fraction of points that can no longer be recovered (against the exact (n+1)/2ⁿ), the R² of the best "
        "affine fit back to the input and k-NN preservation."
    ),
    claims=CLAIMS,
    scales={
        "smoke": Config(draws=10, points=200, knn_queries=50, chunk=10, manifolds=("spiral", "circle")),
        "quick": Config(),
        "full": Config(draws=2000, points=2000, knn_queries=250, chunk=25),
    },
    run=run,
    plot=plot,
    seeds={"smoke": 1, "quick": 3, "full": 3},
)
