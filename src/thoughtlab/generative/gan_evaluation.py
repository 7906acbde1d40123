"""Study ``gan-evaluation``: which GAN metric detects which failure, and does skill rating track training?

Odena (2019, "Open Questions about GANs", Distill, Problem 5) lists IS and FID, MS-SSIM, AIS, the
Geometry Score, precision and recall and skill rating, and asks how GANs *should* be evaluated.
Part A scores generators whose only defect is known (:mod:`thoughtlab.generative.defects`) with
every sample-based metric of :mod:`thoughtlab.metrics`, always against the same real reference set
and next to the ideal generator (held-out real images), giving a metric × defect table.
Part B trains a small GAN (:mod:`thoughtlab.generative.gan`), plays a Glicko-2 tournament between
its generator and discriminator snapshots (Olsson et al. 2018, arXiv:1808.04888) and compares
the ratings with training step and with FID.

Features and class logits come from the embedded digit CNN (``digit-cnn`` extractor, 128-d, 10
classes), so "IS" and "FID" here are domain scores, comparable in ordering, not in value, with
Inception-based numbers.  MS-SSIM diversity uses the compare_gan all-pairs protocol (label-free,
Fedus, Rosca et al. 2017 §5.3); the Geometry Score runs on the same features with few landmark
draws (``gs_iterations``) and the reference γ rule.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr

from thoughtlab.generative import THOUGHT, gan
from thoughtlab.generative import defects as df
from thoughtlab.metrics import (
    compute_msssim_diversity,
    compute_rlts,
    evaluate_sources,
    geometry_score_from_rlts,
    play_tournament,
    plot_skill,
)
from thoughtlab.metrics.extractors import DigitCNNExtractor
from thoughtlab.stats import Interval, correlation_ci, mean_ci
from thoughtlab.study import Claim, Control, Outcome, RunContext, Study

SOURCE_METRICS = ("fid", "kid", "is", "precision", "recall", "density", "coverage")  # by evaluate_sources
METRICS: tuple[str, ...] = (*SOURCE_METRICS, "msssim", "gs")  # MS-SSIM and GS reuse the reference's own numbers
LOWER_IS_BETTER = frozenset({"fid", "kid", "msssim", "gs"})  # MS-SSIM: higher = samples more alike
DEFECTIVE = tuple(d for d in df.DEFECTS if d != "ideal")
SEVERITY = {"blur": "blur_sigma", "noise": "noise_std"}  # defect -> its DefectParams strength field
SWEEP_METRICS = ("is", "precision", "recall", "density", "coverage")
DEFAULT_DEFECTS = df.DefectParams()
QUICK_GAN = gan.GanConfig()


@dataclass(frozen=True)
class Config:
    """One scale.  reference_size / samples: real reference set and samples per generator.
    kid_subsets: KID subset pairs.  gs_iterations: landmark draws per set for the Geometry Score.
    msssim_batches: batches of 64 for MS-SSIM diversity.  gan_samples: samples per snapshot for FID.
    samples_per_match / rounds: skill-rating tournament.  examples: images kept per generator for figures.
    sweep: extra (defect, strength) pairs for blur σ / noise std, reported (not judged) next to the main ones.
    """

    reference_size: int = 1000
    samples: int = 1000
    defects: df.DefectParams = DEFAULT_DEFECTS
    kid_subsets: int = 100
    gs_iterations: int = 10
    msssim_batches: int = 5
    gan: gan.GanConfig = QUICK_GAN
    gan_samples: int = 1000
    samples_per_match: int = 64
    rounds: int = 3
    examples: int = 8
    sweep: tuple[tuple[str, float], ...] = (("blur", 0.5), ("blur", 1.0), ("noise", 0.05), ("noise", 0.1))


@dataclass
class Reference:
    """The real reference set, once: features, MS-SSIM of its own samples, Geometry-Score RLTs."""

    features: np.ndarray
    msssim: float
    rlts: np.ndarray
    extractor: DigitCNNExtractor = field(repr=False)


def make_reference(pools: df.Pools, cfg: Config, seed: int) -> Reference:
    extractor = DigitCNNExtractor()
    features = extractor.features(pools.reference)
    msssim = compute_msssim_diversity(df.to_uint8(pools.reference), protocol="all_pairs",
                                      batches=cfg.msssim_batches, seed=seed)["value"]
    rlts = compute_rlts(features, iterations=cfg.gs_iterations, seed=seed, name="reference")
    return Reference(features, float(msssim), rlts, extractor)


def measure(images: np.ndarray, ref: Reference, cfg: Config, seed: int) -> tuple[dict[str, float], dict[str, float]]:
    """Every metric of ``METRICS`` for one sample set against the reference; (values, std where defined).

    Images are measured as generated (float policy ``"keep"``: no 8-bit quantisation before the extractor).
    """
    result = evaluate_sources(ref.features, images, metrics=["fid", "kid", "pr", "dc", "is"],
                              extractor=ref.extractor, float_policy="keep", seed=seed, kid_subsets=cfg.kid_subsets)
    values = {name: float(result[name]["value"]) for name in SOURCE_METRICS}
    values["msssim"] = float(compute_msssim_diversity(df.to_uint8(images), protocol="all_pairs",
                                                      batches=cfg.msssim_batches, seed=seed)["value"])
    rlts = compute_rlts(ref.extractor.features(images), iterations=cfg.gs_iterations, seed=seed + 1,
                        name="generated")
    values["gs"] = geometry_score_from_rlts(ref.rlts, rlts)
    return values, {"kid": float(result["kid"]["std"]), "is": float(result["is"]["std"])}


def oracle_error(samples: df.Samples, ref: Reference) -> float:
    """Share of samples the embedded digit classifier no longer labels correctly: a quality defect's severity
    on the same scale as a diversity defect's share of lost classes."""
    return float(np.mean(ref.extractor.logits(samples.images).argmax(axis=1) != samples.labels))


def relative(name: str, value: float, ideal: float, ideal_std: dict[str, float]) -> float:
    """value / ideal; the denominator is floored at the ideal's KID subset std (KID) or 1e-6 (others),
    since the ideal's KID and GS can be ~0 (or, for KID, negative)."""
    floor = ideal_std.get("kid", 0.0) if name == "kid" else 1e-6
    return value / max(abs(ideal), floor, 1e-12)


def spearman(x: list[float], y: list[float]) -> float:
    """Spearman ρ; 0.0 when either input is constant (ρ undefined: no monotone relation shown)."""
    if len(set(x)) < 2 or len(set(y)) < 2:
        return 0.0
    return float(spearmanr(x, y).statistic)


def defect_table(pools: df.Pools, ref: Reference, cfg: Config, ctx: RunContext
                 ) -> tuple[dict[str, float], dict[str, float], dict[str, Any]]:
    """Part A: metrics of every controlled generator, raw and relative to the ideal generator."""
    metrics: dict[str, float] = {"msssim.real": ref.msssim,
                                 "mode_drop.lost_share": cfg.defects.dropped_classes / df.NUM_CLASSES}
    spread: dict[str, float] = {}
    table: dict[str, dict[str, float]] = {m: {} for m in METRICS}
    examples: dict[str, list] = {}
    ideal_std: dict[str, float] = {}
    for defect in ctx.progress(df.DEFECTS, desc="defects"):
        samples = df.generate(defect, pools, cfg.samples, ctx.seed, cfg.defects)
        values, stds = measure(samples.images, ref, cfg, ctx.seed)
        if defect in SEVERITY:
            metrics[f"oracle_error.{defect}"] = oracle_error(samples, ref)
        ideal_std = stds if defect == "ideal" else ideal_std
        for name, value in values.items():
            table[name][defect] = value
            metrics[f"{name}.{defect}"] = value
        spread.update({f"{name}.{defect}": std for name, std in stds.items()})
        examples[defect] = df.to_uint8(samples.images[:cfg.examples, 0]).tolist()
        ctx.log(None, **{f"{name}.{defect}": value for name, value in values.items()})
    rel = {m: {d: relative(m, table[m][d], table[m]["ideal"], ideal_std) for d in DEFECTIVE} for m in METRICS}
    metrics.update({f"{m}.{d}.rel": rel[m][d] for m in METRICS for d in DEFECTIVE})
    sweep_metrics, sweep = severity_sweep(pools, ref, cfg, ctx, table, ideal_std)
    metrics.update(sweep_metrics)
    return metrics, spread, {"table": table, "relative": rel, "examples": examples, "sweep": sweep}


def severity_sweep(pools: df.Pools, ref: Reference, cfg: Config, ctx: RunContext, table: dict[str, dict[str, float]],
                   ideal_std: dict[str, float]) -> tuple[dict[str, float], dict[str, Any]]:
    """Blur and noise at the extra strengths of ``cfg.sweep``: ratios to ideal, with the main strength."""
    curves: dict[str, Any] = {}
    for defect, field_name in SEVERITY.items():
        main = float(getattr(cfg.defects, field_name))
        curves[defect] = {"strength": [main], "relative": {m: [relative(m, table[m][defect], table[m]["ideal"],
                                                                          ideal_std)] for m in METRICS}}
    metrics: dict[str, float] = {}
    for defect, strength in ctx.progress(cfg.sweep, desc="severity"):
        params = replace(cfg.defects, **{SEVERITY[defect]: float(strength)})
        samples = df.generate(defect, pools, cfg.samples, ctx.seed, params)
        values, _ = measure(samples.images, ref, cfg, ctx.seed)
        metrics[f"oracle_error.{defect}{strength:g}"] = oracle_error(samples, ref)
        curves[defect]["strength"].append(float(strength))
        for m in METRICS:
            ratio = relative(m, values[m], table[m]["ideal"], ideal_std)
            curves[defect]["relative"][m].append(ratio)
            metrics[f"{m}.{defect}{strength:g}.rel"] = ratio
    for curve in curves.values():  # sort by strength
        order = np.argsort(curve["strength"], kind="stable")
        curve["strength"] = [curve["strength"][i] for i in order]
        curve["relative"] = {m: [v[i] for i in order] for m, v in curve["relative"].items()}
    return metrics, curves


def skill_study(pools: df.Pools, ref: Reference, cfg: Config, ctx: RunContext) -> tuple[dict[str, float], dict[str, Any]]:
    """Part B: train the GAN, FID per snapshot, a tournament between all G and D snapshots."""
    paths = gan.train_gan(pools.reference, cfg.gan, ctx.seed, ctx.run_dir,
                          on_step=lambda s, dl, gl: ctx.log(s, d_loss=dl, g_loss=gl) if s % 50 == 0 else None)
    snapshots = [gan.load_snapshot(p) for p in paths]
    steps = [s for s, _, _ in snapshots]
    fids, examples = [], []
    for step, g, _ in ctx.progress(snapshots, desc="snapshots"):
        images = gan.sample(g, cfg.gan_samples, ctx.seed)
        fid = evaluate_sources(ref.features, images, metrics=["fid"], extractor=ref.extractor, float_policy="keep")
        fids.append(float(fid["fid"]["value"]))
        examples.append(df.to_uint8(images[:cfg.examples, 0]).tolist())
    tournament = play_tournament([gan.sampler(g) for _, g, _ in snapshots],
                                 [gan.discriminator_judge(d) for _, _, d in snapshots],
                                 real=torch.from_numpy(pools.reference), samples_per_match=cfg.samples_per_match,
                                 rounds=cfg.rounds, seed=ctx.seed, generator_names=[f"G{s}" for s in steps],
                                 discriminator_names=[f"D{s}" for s in steps])
    ratings = tournament["generator_ratings"][:len(steps)]
    metrics = {"skill.rho_step": spearman(ratings, steps), "skill.rho_neg_fid": spearman(ratings, [-f for f in fids]),
               "gan.fid.first": fids[0], "gan.fid.last": fids[-1]}
    metrics.update({f"gan.fid.step{s}": f for s, f in zip(steps, fids)})
    metrics.update({f"gan.rating.step{s}": r for s, r in zip(steps, ratings)})
    data = {"steps": steps, "fid": fids, "ratings": ratings, "rd": tournament["generator_rd"][:len(steps)],
            "tournament": tournament, "examples": examples}
    return metrics, data


def run(cfg: Config, ctx: RunContext) -> Outcome:
    """Both parts for one seed (the seed picks the reference split, the defects' draws and the GAN)."""
    pools = df.make_pools(cfg.reference_size, ctx.seed)
    ref = make_reference(pools, cfg, ctx.seed)
    metrics, spread, defect_data = defect_table(pools, ref, cfg, ctx)
    skill_metrics, skill_data = skill_study(pools, ref, cfg, ctx)
    metrics.update(skill_metrics)
    return Outcome(metrics=metrics, spread=spread, spread_kind="std over KID subsets / IS splits",
                   data={"defects": defect_data, "gan": skill_data, "defect_params": cfg.defects.__dict__})


# ---------------------------------------------------------------------------------------------- figures

def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_heatmap(outcomes: list[Outcome], figures: Any) -> None:
    """Metric × defect: log2(value / ideal), signed so that red = the metric calls the samples worse."""
    plt = _pyplot()
    ratios = np.array([[[o.data["defects"]["relative"][m][d] for d in DEFECTIVE] for m in METRICS]
                       for o in outcomes]).mean(axis=0)
    sign = np.array([1.0 if m in LOWER_IS_BETTER else -1.0 for m in METRICS])[:, None]
    logs = np.where(ratios > 0, np.log2(np.clip(ratios, 2.0 ** -4, 2.0 ** 4)), 0.0) * sign
    fig, ax = plt.subplots(figsize=(8, 5.5))
    image = ax.imshow(logs, cmap="RdBu_r", vmin=-4, vmax=4, aspect="auto")
    for i in range(len(METRICS)):
        for j in range(len(DEFECTIVE)):
            ax.text(j, i, f"{ratios[i, j]:.3g}", ha="center", va="center", fontsize=8)
    labels = [f"{m} ({'lower' if m in LOWER_IS_BETTER else 'higher'} = better)" for m in METRICS]
    ax.set(xticks=range(len(DEFECTIVE)), xticklabels=DEFECTIVE, yticks=range(len(METRICS)), yticklabels=labels,
           title="metric value / ideal generator's value")
    fig.colorbar(image, ax=ax, label="log2 ratio, signed: + = judged worse than ideal")
    fig.tight_layout()
    figures.save("metric_defect_heatmap", fig,
                 "Each metric on each defective generator divided by its value on the ideal generator (held-out real "
                 "digits); numbers are the ratios (mean over seeds), colour the log2 ratio (clipped to ±4) signed so "
                 "that red means the metric rates the generator worse than ideal; a ratio <= 0 (KID below the "
                 "ideal's noise floor) is drawn neutral. Digit-CNN features.")


def plot_skill_vs_fid(outcomes: list[Outcome], figures: Any) -> None:
    """Generator ratings (± RD) and FID over training, one line per seed."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    twin = ax.twinx()
    for k, o in enumerate(outcomes):
        g = o.data["gan"]
        ax.errorbar(g["steps"], g["ratings"], yerr=g["rd"], marker="o", capsize=3, color="tab:blue",
                    alpha=0.9, label="Glicko-2 rating" if k == 0 else None)
        twin.plot(g["steps"], g["fid"], marker="s", color="tab:red", alpha=0.9, label="FID" if k == 0 else None)
    ax.set(xlabel="training step", ylabel="generator rating (± RD)", title="skill rating vs FID over training")
    twin.set(ylabel="FID (digit-CNN features)", yscale="log")
    handles = [h for axis in (ax, twin) for h in axis.get_legend_handles_labels()[0]]
    ax.legend(handles, [h.get_label() for h in handles], loc="center right")
    fig.tight_layout()
    rhos = ", ".join(f"ρ(step)={o.metrics['skill.rho_step']:.2f}, ρ(−FID)={o.metrics['skill.rho_neg_fid']:.2f}"
                     for o in outcomes)
    figures.save("skill_vs_fid", fig, f"Glicko-2 rating of each generator snapshot (tournament against all "
                                      f"discriminator snapshots and a data player) and its FID, per seed; {rhos}.")


def plot_examples(outcomes: list[Outcome], figures: Any) -> None:
    """Example images: one row per controlled generator, then one row per GAN snapshot (first seed)."""
    plt = _pyplot()
    rows = [(d, o) for d, o in outcomes[0].data["defects"]["examples"].items()]
    g = outcomes[0].data["gan"]
    rows += [(f"GAN step {s}", images) for s, images in zip(g["steps"], g["examples"])]
    cols = max(len(images) for _, images in rows)
    fig, axes = plt.subplots(len(rows), cols, figsize=(cols * 0.9, len(rows) * 0.95), squeeze=False)
    for i, (name, images) in enumerate(rows):
        for j in range(cols):
            ax = axes[i, j]
            ax.axis("off")
            if j < len(images):
                ax.imshow(np.asarray(images[j], dtype=np.uint8), cmap="gray", vmin=0, vmax=255)
        axes[i, 0].set_title(name, fontsize=7, loc="left")
    fig.tight_layout()
    figures.save("examples", fig, "Samples of each controlled generator (ideal = held-out real digits) and of "
                                  "the GAN snapshots, first seed.")


def plot_severity(outcomes: list[Outcome], figures: Any) -> None:
    """IS, precision, recall, density and coverage (ratio to ideal) against blur σ and noise std (first seed)."""
    plt = _pyplot()
    sweep = outcomes[0].data["defects"]["sweep"]
    fig, axes = plt.subplots(1, len(sweep), figsize=(5 * len(sweep), 3.6), squeeze=False)
    for ax, (defect, curve) in zip(axes[0], sweep.items()):
        for m in SWEEP_METRICS:
            ax.plot(curve["strength"], curve["relative"][m], marker="o", label=m)
        ax.axhline(1.0, color="grey", linestyle=":")
        ax.set(xlabel=f"{defect} {SEVERITY[defect]}", ylabel="value / ideal", title=defect)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    figures.save("severity", fig, "How precision, recall, density, coverage and IS (ratio to the ideal generator) "
                                  "fall as blur σ and noise std grow (first seed); the claims use the largest "
                                  "strengths, fixed beforehand.")


def plot(cfg: Config, outcomes: list[Outcome], figures: Any) -> None:
    plot_heatmap(outcomes, figures)
    plot_severity(outcomes, figures)
    plot_skill_vs_fid(outcomes, figures)
    plot_examples(outcomes, figures)
    figures.save("tournament", plot_skill(outcomes[0].data["gan"]["tournament"], title="GAN snapshots"),
                 "Skill-rating tournament of the first seed: generator-side win rate against each discriminator "
                 "snapshot (left) and final Glicko-2 ratings ± RD (right).")


# ---------------------------------------------------------------------------------------------- claims
# Criteria fixed before the first run; r(m, d) = metric m on defect d / metric m on the ideal generator.
DIVERSITY_DEFECTS = ("mode_drop", "truncation")


def quality_defects(view: Mapping[str, Any]) -> dict[str, float]:
    """Every blur/noise setting measured (main and sweep) -> its oracle error (share of samples no longer recognised)."""
    return {k.removeprefix("oracle_error."): v for k, v in view.items() if k.startswith("oracle_error.")}


def matched_quality(view: Mapping[str, Any], lost: float) -> str:
    """The blur/noise setting whose oracle error is nearest ``lost`` (severity matched on the oracle scale)."""
    return min(quality_defects(view).items(), key=lambda item: abs(item[1] - lost))[0]


def matched_in_fid(view: Mapping[str, Any]) -> str:
    """The blur/noise setting whose FID ratio is nearest (in log) to mode dropping's: severity matched in FID."""
    target = math.log(view["fid.mode_drop.rel"])
    return min(quality_defects(view), key=lambda d: abs(math.log(view[f"fid.{d}.rel"]) - target))


def log_r(view: Mapping[str, Any], metric: str, defect: str) -> float:
    return math.log(max(view[f"{metric}.{defect}.rel"], 1e-12))


def quality_over_diversity(metric: str, sign: int) -> Callable[[Sequence[Mapping[str, Any]]], Interval]:
    """Effect for c24: how much more ``metric`` moves for a quality defect than for diversity defects of matched
    severity, sign·(log r(quality) − mean log r(diversity)); t interval over seeds. Severity: mode dropping loses
    ``dropped_classes``/10 of the classes; the quality defect is the blur/noise setting whose oracle error is nearest."""
    def effect(views: Sequence[Mapping[str, Any]]) -> Interval:
        values = []
        for v in views:
            quality = matched_quality(v, v["mode_drop.lost_share"])
            diversity = statistics.fmean(log_r(v, metric, d) for d in DIVERSITY_DEFECTS)
            values.append(sign * (log_r(v, metric, quality) - diversity))
        return mean_ci(values)
    effect.__qualname__ = f"quality_over_diversity[{metric}]"
    return effect


def separation(quality: str, diversity: str) -> Callable[[Sequence[Mapping[str, Any]]], Interval]:
    """Effect for c27: at severities matched in FID, how much more the quality metric falls for blur/noise than for
    mode dropping, plus how much more the diversity metric falls for mode dropping than for blur/noise (log ratios,
    mean of the two); t interval over seeds."""
    def effect(views: Sequence[Mapping[str, Any]]) -> Interval:
        values = []
        for v in views:
            q = matched_in_fid(v)
            values.append(0.5 * ((log_r(v, quality, "mode_drop") - log_r(v, quality, q))
                                 + (log_r(v, diversity, q) - log_r(v, diversity, "mode_drop"))))
        return mean_ci(values)
    effect.__qualname__ = f"separation[{quality},{diversity}]"
    return effect


def geometry_separation(views: Sequence[Mapping[str, Any]]) -> Interval:
    """Effect for c27 (geometry score): log r(GS, mode_drop) − log r(GS, FID-matched quality defect)."""
    return mean_ci([log_r(v, "gs", "mode_drop") - log_r(v, "gs", matched_in_fid(v)) for v in views])


def msssim_truncation(views: Sequence[Mapping[str, Any]]) -> Interval:
    return mean_ci([log_r(v, "msssim", "truncation") for v in views])


def msssim_blur(views: Sequence[Mapping[str, Any]]) -> Interval:
    return mean_ci([log_r(v, "msssim", "blur") for v in views])


def rho(key: str) -> Callable[[Sequence[Mapping[str, Any]]], Interval]:
    def effect(views: Sequence[Mapping[str, Any]]) -> Interval:
        return correlation_ci([v[key] for v in views])
    effect.__qualname__ = f"rho[{key}]"
    return effect


BLUR_NOT_DIVERSITY = Control("blur does not read as lost diversity", "r(MS-SSIM, blur) < 1.2 on every seed (a "
                             "negative control: blurred images are alike, not fewer)",
                             lambda views: all(v["msssim.blur.rel"] < 1.2 for v in views), negative=True)
GAN_LEARNS = Control("the GAN learns in its budget", "FID of the last snapshot ≤ half the first's, every seed",
                     lambda views: all(v["gan.fid.last"] <= 0.5 * v["gan.fid.first"] for v in views))
LOG2 = math.log(2.0)


def _c24(metric: str, name: str, sign: int) -> Claim:
    return Claim(
        id=f"{metric}-misses-diversity", ledger=("c24",),
        statement=f"IS and FID mainly measure sample quality and do not really capture sample diversity — {name}.",
        criterion=f"d = {'+' if sign > 0 else '−'}(log r({name}, quality defect) − mean log r({name}, mode dropping, "
                  "truncation)), with the quality defect (blur or noise, main or sweep strength) whose share of "
                  "samples the digit classifier no longer recognises is nearest mode dropping's share of lost classes "
                  "(matched severity); t 95 % over seeds: supported if the interval lies above log 2 (it moves ≥ 2× "
                  "more, in ratio, for quality loss); refuted if it lies below 0 (it moves at least as much for "
                  "diversity loss).",
        effect=quality_over_diversity(metric, sign), effect_name=f"{name}: quality − diversity sensitivity (log ratio)",
        measures=(f"{metric}.mode_drop.rel", f"{metric}.truncation.rel", f"{metric}.blur.rel", f"{metric}.noise.rel"),
        support=LOG2, trained=False)


def _c27(quality: str, diversity: str) -> Claim:
    return Claim(
        id=f"{quality}-{diversity}-separate", ledger=("c27",),
        statement=f"Precision/recall-type metrics measure what they claim (quality vs coverage) — {quality} and "
                  f"{diversity}.",
        criterion=f"at severities matched in FID (the blur/noise setting whose FID ratio is nearest mode dropping's): "
                  f"½[(log r({quality}, mode_drop) − log r({quality}, quality defect)) + (log r({diversity}, quality "
                  f"defect) − log r({diversity}, mode_drop))], t 95 % over seeds: supported if the interval lies above "
                  f"log 1.25 (each metric falls ≥ 25 % more for its own kind of defect); refuted if it lies below 0. "
                  f"(Kynkäänniemi et al. 2019 show precision rising and recall falling under truncation; their table "
                  f"is not reproduced here.)",
        effect=separation(quality, diversity), effect_name=f"{quality}/{diversity} separation (log ratio)",
        measures=tuple(f"{name}.{d}.rel" for name in (quality, diversity) for d in ("mode_drop", "blur", "noise")),
        support=math.log(1.25), trained=False)


CLAIMS = (
    _c24("fid", "FID", +1),
    _c24("is", "IS", -1),
    Claim(id="msssim-detects-lost-diversity", ledger=("c25",),
          statement="MS-SSIM can assess diversity on its own…",
          criterion="log r(all-pairs MS-SSIM, truncation-like prototypes), t 95 % over seeds: supported if the interval "
                    "lies above log 1.2; refuted if it lies below log 1.05. Negative control: blur must not read as "
                    "lost diversity.",
          effect=msssim_truncation, effect_name="log r(MS-SSIM, truncation)", measures=("msssim.truncation.rel",),
          support=math.log(1.2), refute=math.log(1.05), trained=False, controls=(BLUR_NOT_DIVERSITY,)),
    Claim(id="msssim-has-problems", ledger=("c25",),
          statement="…but has problems of its own (here: blur, a quality defect, makes samples more alike).",
          criterion="log r(all-pairs MS-SSIM, blur), t 95 % over seeds: supported if the interval lies above log 1.2 "
                    "(blur reads as lost diversity); refuted if it lies below log 1.05.",
          effect=msssim_blur, effect_name="log r(MS-SSIM, blur)", measures=("msssim.blur.rel",),
          support=math.log(1.2), refute=math.log(1.05), trained=False),
    _c27("precision", "recall"),
    _c27("density", "coverage"),
    Claim(id="geometry-score-sees-topology", ledger=("c27",),
          statement="The geometry score measures the geometry of the data manifold: dropping modes changes it more "
                    "than a quality defect of the same FID.",
          criterion="log r(GS, mode_drop) − log r(GS, FID-matched blur/noise), t 95 % over seeds: supported if the "
                    "interval lies above log 2; refuted if it lies below 0.",
          effect=geometry_separation, effect_name="log r(GS) mode drop − matched quality",
          measures=("gs.mode_drop.rel", "gs.blur.rel", "gs.noise.rel"), support=LOG2, trained=False),
    Claim(id="skill-tracks-training", ledger=("c27",),
          statement="Skill rating: a trained discriminator's verdict is informative for evaluation — ratings of G "
                    "snapshots track training.",
          criterion="Spearman ρ between the generator snapshots' Glicko-2 ratings and their training step, t 95 % over "
                    "seeds: supported if the interval lies above 0.3; refuted if it lies below 0. Control: the GAN "
                    "learns (FID halves).",
          effect=rho("skill.rho_step"), effect_name="Spearman ρ(rating, step)", measures=("skill.rho_step",),
          support=0.3, trained=False, controls=(GAN_LEARNS,)),
    Claim(id="skill-agrees-with-fid", ledger=("c27",),
          statement="Skill rating: a trained discriminator's verdict is informative — ratings agree with FID.",
          criterion="Spearman ρ between the snapshots' ratings and −FID, t 95 % over seeds: supported if the interval "
                    "lies above 0.3; refuted if it lies below 0. Control: the GAN learns (FID halves). (Olsson et al. "
                    "2018 report ratings that correlate with FID; their exact figure is not verified here.)",
          effect=rho("skill.rho_neg_fid"), effect_name="Spearman ρ(rating, −FID)", measures=("skill.rho_neg_fid",),
          support=0.3, trained=False, controls=(GAN_LEARNS,)),
)

SMOKE = Config(reference_size=200, samples=200, kid_subsets=20, gs_iterations=2, msssim_batches=1,
               gan=gan.GanConfig(steps=20, snapshots=(0, 10, 20)), gan_samples=200, samples_per_match=32,
               rounds=2, examples=4, sweep=(("blur", 0.5),))

FULL = Config(reference_size=1500, samples=1500, gs_iterations=100, gan_samples=1500, samples_per_match=128, rounds=5,
              gan=gan.GanConfig(steps=3000, snapshots=(0, 100, 250, 500, 1000, 2000, 3000)))

STUDY = Study(
    id="gan-evaluation",
    title="Which GAN metric detects which failure?",
    thought=THOUGHT,
    summary="Generators with one known defect each (mode dropping, memorisation, blur, noise, truncation-like "
            "prototypes) are scored on the MNIST subset with FID, KID, IS, precision/recall, density/coverage, "
            "MS-SSIM diversity and the Geometry Score, next to an ideal generator (held-out real digits). A small "
            "GAN is trained and its generator/discriminator snapshots play a Glicko-2 skill-rating tournament, "
            "compared with training step and FID (Odena 2019, Problem 5).",
    claims=CLAIMS,
    scales={"smoke": SMOKE, "quick": Config(), "full": FULL},
    run=run,
    plot=plot,
    seeds={"smoke": 1, "quick": 3, "full": 5},
)
