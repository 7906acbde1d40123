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

from collections.abc import Callable, Mapping
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
    evaluate,
    geometry_score_from_rlts,
    play_tournament,
    plot_skill,
)
from thoughtlab.metrics.extractors import DigitCNNExtractor
from thoughtlab.study import Claim, Outcome, RunContext, Study, Verdict, judge

METRICS: tuple[str, ...] = ("fid", "kid", "is", "precision", "recall", "density", "coverage", "msssim", "gs")
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
    """Every metric of ``METRICS`` for one sample set against the reference; (values, std where defined)."""
    features, logits = ref.extractor.extract(images)
    result = evaluate(ref.features, features, metrics=["fid", "kid", "pr", "dc", "is"], seed=seed,
                      fake_logits=logits, kid_subsets=cfg.kid_subsets)
    values = {name: float(result[name]["value"]) for name in METRICS[:7]}
    values["msssim"] = float(compute_msssim_diversity(df.to_uint8(images), protocol="all_pairs",
                                                      batches=cfg.msssim_batches, seed=seed)["value"])
    rlts = compute_rlts(features, iterations=cfg.gs_iterations, seed=seed + 1, name="generated")
    values["gs"] = geometry_score_from_rlts(ref.rlts, rlts)
    return values, {"kid": float(result["kid"]["std"]), "is": float(result["is"]["std"])}


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
    metrics: dict[str, float] = {"msssim.real": ref.msssim}
    spread: dict[str, float] = {}
    table: dict[str, dict[str, float]] = {m: {} for m in METRICS}
    examples: dict[str, list] = {}
    ideal_std: dict[str, float] = {}
    for defect in ctx.progress(df.DEFECTS, desc="defects"):
        samples = df.generate(defect, pools, cfg.samples, ctx.seed, cfg.defects)
        values, stds = measure(samples.images, ref, cfg, ctx.seed)
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
        values, _ = measure(df.generate(defect, pools, cfg.samples, ctx.seed, params).images, ref, cfg, ctx.seed)
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
        features = ref.extractor.features(images)
        fids.append(float(evaluate(ref.features, features, metrics=["fid"])["fid"]["value"]))
        examples.append(df.to_uint8(images[:cfg.examples, 0]).tolist())
    tournament = play_tournament([gan.sampler(g) for _, g, _ in snapshots], [gan.judge(d) for _, _, d in snapshots],
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

def _mixes(m: Mapping[str, float]) -> Verdict:
    fid = [m[f"fid.{d}.rel"] >= 2.0 for d in ("blur", "mode_drop")]
    is_ = [m[f"is.{d}.rel"] <= 0.9 for d in ("blur", "mode_drop")]
    return judge(all(fid) and all(is_), not all(fid) and not all(is_))


def _separates(quality: str, diversity: str) -> Callable[[Mapping[str, float]], Verdict]:
    def decide(m: Mapping[str, float]) -> Verdict:
        q = {d: m[f"{quality}.{d}.rel"] for d in ("mode_drop", "blur", "noise")}
        v = {d: m[f"{diversity}.{d}.rel"] for d in ("mode_drop", "blur", "noise")}
        supported = (q["mode_drop"] >= 0.9 and max(q["blur"], q["noise"]) <= 0.8
                     and v["mode_drop"] <= 0.7 and min(v["blur"], v["noise"]) >= 0.8)
        refuted = (q["mode_drop"] < 0.8 or max(q["blur"], q["noise"]) > 0.9
                   or v["mode_drop"] > 0.85 or min(v["blur"], v["noise"]) < 0.6)
        return judge(supported, refuted)
    return decide


def _separation_claim(claim_id: str, quality: str, diversity: str) -> Claim:
    return Claim(
        claim_id,
        f"{quality.capitalize()} and {diversity} separate quality from diversity: {quality} falls for blur and "
        f"noise but not for mode dropping; {diversity} falls for mode dropping but not much for blur or noise.",
        f"r = value / ideal. Supported if r({quality}, mode_drop) >= 0.9, r({quality}, blur) and r({quality}, noise) "
        f"<= 0.8, r({diversity}, mode_drop) <= 0.7 and r({diversity}, blur), r({diversity}, noise) >= 0.8; refuted "
        f"if r({quality}, mode_drop) < 0.8, or r({quality}, blur or noise) > 0.9, or r({diversity}, mode_drop) "
        f"> 0.85, or r({diversity}, blur or noise) < 0.6.",
        tuple(f"{name}.{d}.rel" for name in (quality, diversity) for d in ("mode_drop", "blur", "noise")),
        _separates(quality, diversity))


CLAIMS = (
    Claim("is-fid-mix-failures",
          "IS and FID mix quality and diversity: each reacts both to a quality defect (blur) and to a diversity "
          "defect (mode dropping), so one number cannot tell which failure happened.",
          "r = value / ideal. FID reacts if r >= 2, IS if r <= 0.9. Supported if FID and IS both react to blur and "
          "to mode_drop; refuted if neither FID nor IS reacts to both.",
          ("fid.blur.rel", "fid.mode_drop.rel", "is.blur.rel", "is.mode_drop.rel"), _mixes),
    _separation_claim("precision-recall-separate", "precision", "recall"),
    _separation_claim("density-coverage-separate", "density", "coverage"),
    Claim("msssim-detects-lost-diversity",
          "MS-SSIM between samples detects lost diversity: it is higher for the truncation-like (prototype) "
          "generator than for real data.",
          "r = all-pairs MS-SSIM of truncation / of the ideal generator. Supported if r >= 1.2; refuted if r <= 1.05.",
          ("msssim.truncation.rel",),
          lambda m: judge(m["msssim.truncation.rel"] >= 1.2, m["msssim.truncation.rel"] <= 1.05)),
    Claim("skill-tracks-training",
          "A tournament between a GAN's generator and discriminator snapshots gives ratings that track training "
          "progress.",
          "Spearman ρ between the generator snapshots' final Glicko-2 ratings and their training step: supported if "
          "ρ >= 0.7; refuted if ρ <= 0.3.",
          ("skill.rho_step",), lambda m: judge(m["skill.rho_step"] >= 0.7, m["skill.rho_step"] <= 0.3)),
    Claim("skill-agrees-with-fid",
          "Skill ratings of GAN snapshots agree with FID over training.",
          "Spearman ρ between the generator snapshots' ratings and −FID: supported if ρ >= 0.7; refuted if ρ <= 0.3.",
          ("skill.rho_neg_fid",), lambda m: judge(m["skill.rho_neg_fid"] >= 0.7, m["skill.rho_neg_fid"] <= 0.3)),
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
    seeds={"smoke": 1, "quick": 1, "full": 3},
)
