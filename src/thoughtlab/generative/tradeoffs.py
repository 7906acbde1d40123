"""Study ``gan-tradeoffs``: GANs vs flows vs autoregressive models at an equal compute budget (Odena 2019, P1).

Odena ("Open Questions about GANs", Distill 2019, Problem 1) compares Glow (40 GPUs × 2 weeks, ~200 M
parameters, 256² faces) with Progressive GAN (8 GPUs × 4 days, 46 M parameters, 1024²): "17 times more
GPU days and 4 times more parameters to generate images with 16 times fewer pixels" (c16); autoregressive
models are "like flows that cannot be parallelised" (c17); the causes may be that maximum-likelihood
training is computationally harder than adversarial training, and that flows represent some functions
inefficiently (c18).  Research-note checks: 40×14 = 560 vs 8×4 = 32 GPU-days = 17.5× (8.75× with the Glow
author's "about a week"); 200/46.2 = 4.3× parameters (3.7× with the counted ~170 M); 16× pixels.

The experiment (research note E1): on the MNIST 5k subset (4,000 train / 1,000 test, 28×28, 8-bit), each
family — RealNVP (:mod:`~thoughtlab.generative.models.flow`), gated PixelCNN with a 256-way softmax
(:mod:`~thoughtlab.generative.models.autoregressive`) and the small MLP GAN (:mod:`thoughtlab.generative.gan`)
— trains on the training core for the same budget of CPU seconds in training steps
(:func:`~thoughtlab.generative.models.recipes.train_for_cpu`; CPU rather than wall time because the
machine is shared).  Measured: digit-CNN FID along the budget (time-to-quality curves), final KID,
precision/recall, density/coverage, exact test bits/dim (flow: dequantised bound; PixelCNN: exact discrete),
the GAN's AIS estimate under a Gaussian observation model (*not* a likelihood of the GAN; labelled so),
parameters, CPU time to draw 1,000 samples, sample quality (1/FID) per parameter and per second with each likelihood
family's ratios to the GAN beside the note's Glow/ProGAN figures (:func:`~thoughtlab.generative.tradeoffs_config.
efficiency`; in the JSON and the ``efficiency_ratios`` figure), and for c17 the CPU time of sampling and of density evaluation
at image sides 8…28 (untrained networks of the same architecture) and the sequential network evaluations
per sample.  Beside them, MADE's binarised-MNIST test NLL in nats next to the published 86.64 (a budget- and
data-limited replication: 4,000 training images, one 500-unit layer, seconds of CPU).

Budget change (disclosed): the quick per-family budget was 40 CPU s until the run of 2026-12-03 09:57 (c16
supported, c17 and c18 inconclusive at 766 CPU s in all, over the ≈ 650 CPU s a quick study may use); it is now
30 CPU s per family plus 15 CPU s for MADE, to fit that limit.  No threshold or effect changed with it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from thoughtlab.data import load_dataset
from thoughtlab.generative import THOUGHT, gan
from thoughtlab.generative.tradeoffs_config import (FAMILIES, MADE_PUBLISHED, PUBLISHED, Config, curve_of, efficiency,
                                                   time_to_quality)
from thoughtlab.generative.tradeoffs_figures import draw as draw_figures
from thoughtlab.generative.models import autoregressive as ar
from thoughtlab.generative.models import flow as fl
from thoughtlab.generative.models import recipes as rc
from thoughtlab.metrics import evaluate
from thoughtlab.metrics.ais import ais_log_likelihood
from thoughtlab.metrics.extractors import DigitCNNExtractor
from thoughtlab.stats import Interval, child_seed, exact, mean_ci
from thoughtlab.study import Claim, Control, Outcome, RunContext, Study
from thoughtlab.train.core import TrainState

def build(family: str, cfg: Config, pixels: torch.Tensor, seed: int, side: int = 28) -> tuple[Any, TrainState]:
    """Recipe and training state of one family (weights from ``child_seed(seed, family)``)."""
    torch.manual_seed(child_seed(seed, family))
    data_seed = child_seed(seed, family, "batches")
    if family == "flow":
        model = fl.RealNVP(fl.FlowConfig(shape=(1, side, side), levels=2, hidden=cfg.flow_hidden))
        recipe = rc.FlowML(pixels, cfg.batch_flow, data_seed)
        state = TrainState({"family": family}, models={"flow": model},
                           optimizers={"flow": torch.optim.Adam(model.parameters(), cfg.lr_flow)})
    elif family == "ar":
        model = ar.GatedPixelCNN(ar_config(cfg, side))
        recipe = rc.PixelCNNML(pixels, cfg.batch_ar, data_seed)
        state = TrainState({"family": family}, models={"pixelcnn": model},
                           optimizers={"pixelcnn": torch.optim.Adam(model.parameters(), cfg.lr_ar)})
    else:
        g, d = gan.Generator(32, cfg.gan_width), gan.Discriminator(cfg.gan_width)
        recipe = rc.AdversarialGAN(pixels, cfg.batch_gan, data_seed, z_dim=32)
        betas = (0.5, 0.999)
        state = TrainState({"family": family}, models={"g": g, "d": d}, optimizers={
            "g": torch.optim.Adam(g.parameters(), cfg.lr_gan, betas=betas),
            "d": torch.optim.Adam(d.parameters(), cfg.lr_gan, betas=betas)})
    state.generators["noise"] = recipe.noise
    state.objects["order"] = recipe.order
    return recipe, state


def ar_config(cfg: Config, side: int) -> ar.PixelCNNConfig:
    return ar.PixelCNNConfig(size=side, categories=256, channels=cfg.ar_channels, layers=cfg.ar_layers, head=32)


def sampler(family: str, state: TrainState) -> Callable[[int, torch.Generator], torch.Tensor]:
    """``draw(n, generator)`` → n images in [0, 1], (n, 1, H, W), in eval mode."""
    if family == "flow":
        flow = state.models["flow"]
        return lambda n, g: fl.sample_images(flow, n, g)
    if family == "ar":
        model = state.models["pixelcnn"]
        return lambda n, g: ar.sample_fast(model, ar.gumbel_noise(n, model.config, g)) / 255.0
    generator = state.models["g"]
    return lambda n, g: generator(torch.randn(n, generator.z_dim, generator=g))


@torch.no_grad()
def draw(family: str, state: TrainState, n: int, seed: int, chunk: int = 500) -> torch.Tensor:
    """n samples in eval mode (training mode restored)."""
    models = list(state.models.values())
    for m in models:
        m.eval()
    g = torch.Generator().manual_seed(seed)
    fn = sampler(family, state)
    images = torch.cat([fn(min(chunk, n - i), g) for i in range(0, n, chunk)])
    for m in models:
        m.train()
    return images


class Quality:
    """Sample quality in the embedded digit CNN's features against the real test images."""

    def __init__(self, test_images: np.ndarray, cfg: Config, seed: int):
        self.extractor = DigitCNNExtractor()
        self.real = self.extractor.features(test_images[:cfg.samples])
        self.cfg, self.seed = cfg, seed

    def __call__(self, images: torch.Tensor, full: bool = False) -> dict[str, float]:
        fake = self.extractor.features(images.numpy())
        names = ["fid", "kid", "pr", "dc"] if full else ["fid"]
        result = evaluate(self.real, fake, metrics=names, seed=self.seed, **({"kid_subsets": 50} if full else {}))
        return {key: float(value["value"]) for key, value in result.items()}


# ---------------------------------------------------------------------------------------- measuring
def train_family(family: str, cfg: Config, ctx: RunContext, pixels: torch.Tensor, quality: Quality
                 ) -> tuple[TrainState, dict[str, float]]:
    """Train within the CPU budget; FID at every curve point (and at initialisation)."""
    recipe, state = build(family, cfg, pixels, ctx.seed)
    metrics = {f"fid.{family}.init": quality(draw(family, state, cfg.samples, ctx.seed))["fid"]}
    evaluate_point = lambda st: quality(draw(family, st, cfg.samples, ctx.seed))
    curve = rc.train_for_cpu(recipe, state, cfg.budget_s, cfg.fractions, evaluate_point,
                             checkpoint=ctx.run_dir / f"{family}.pt", chunk=5, logger=ctx.log)
    for index, point in enumerate(curve):  # the whole curve also under plain keys, for time-to-quality
        metrics[f"curve.fid.{family}.{index}"], metrics[f"curve.cpu.{family}.{index}"] = point["fid"], point["cpu_seconds"]
        at = "" if point["fraction"] == 1.0 else f"@{point['fraction']:g}"
        metrics[f"fid.{family}{at}"] = point["fid"]
        metrics[f"cpu_s.{family}{at}"] = point["cpu_seconds"]
        metrics[f"steps.{family}{at}"] = float(point["step"])
    return state, metrics


@torch.no_grad()
def test_bits_per_dim(family: str, state: TrainState, pixels: torch.Tensor, cfg: Config, seed: int) -> float:
    """Exact test bits/dim (flow, AR); for the GAN the AIS estimate under N(y; G(z), σ²I), in the same units."""
    if family == "flow":
        flow = state.models["flow"].eval()
        return float(fl.bits_per_dim(flow, pixels, torch.Generator().manual_seed(seed)).mean())
    if family == "ar":
        model = state.models["pixelcnn"].eval()
        return float(torch.cat([model.bits_per_dim(pixels[i:i + 100]) for i in range(0, len(pixels), 100)]).mean())
    g = state.models["g"].eval()
    y = fl.dequantize(pixels[:cfg.ais_images], torch.Generator().manual_seed(seed)).flatten(1)
    with torch.enable_grad():
        est = ais_log_likelihood(lambda z: g(z).flatten(1), y, latent_dim=g.z_dim, obs_variance=cfg.ais_variance,
                                 steps=cfg.ais_steps, chains=4, leapfrog=5, seed=seed, progress=False)
    dim = y.shape[1]
    return (-est["value"] + dim * fl.LOG256) / (dim * math.log(2.0))


def cpu_time(fn: Callable[[], Any], repeats: int = 1) -> float:
    """Smallest CPU time (process_time) of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


@torch.no_grad()
def scaling(cfg: Config, seed: int) -> dict[str, float]:
    """c17: CPU time of sampling and of density evaluation vs image side (untrained nets), sequential evaluations."""
    metrics: dict[str, float] = {}
    n = cfg.timing_batch
    for side in cfg.sides:
        pixels = torch.randint(0, 256, (n, 1, side, side), generator=torch.Generator().manual_seed(seed)).float()
        flow = build("flow", cfg, pixels, seed, side)[1].models["flow"].eval()
        pixelcnn = build("ar", cfg, pixels, seed, side)[1].models["pixelcnn"].eval()
        g = torch.Generator().manual_seed(seed)
        noise = ar.gumbel_noise(n, pixelcnn.config, g)
        calls = count_calls(pixelcnn.head, lambda: ar.sample_fast(pixelcnn, noise))
        metrics[f"seq_evals.ar.s{side}"] = float(calls)
        metrics[f"seq_evals.flow.s{side}"] = float(count_calls(flow, lambda: fl.sample_images(flow, n, g), "inverse"))
        metrics[f"sample_s.ar.s{side}"] = cpu_time(lambda: ar.sample_fast(pixelcnn, noise))
        metrics[f"eval_s.ar.s{side}"] = cpu_time(lambda: pixelcnn.log_prob(pixels), 3)
        metrics[f"sample_s.flow.s{side}"] = cpu_time(lambda: fl.sample_images(flow, n, g), 3)
        metrics[f"eval_s.flow.s{side}"] = cpu_time(lambda: fl.bits_per_dim(flow, pixels, g), 3)
    return metrics


def count_calls(module: torch.nn.Module, fn: Callable[[], Any], method: str = "forward") -> int:
    """How many times ``module.<method>`` runs during ``fn()`` (forward via a hook, other methods by wrapping)."""
    count = [0]
    if method == "forward":
        handle = module.register_forward_hook(lambda *args: count.__setitem__(0, count[0] + 1))
        try:
            fn()
        finally:
            handle.remove()
        return count[0]
    original = getattr(module, method)
    setattr(module, method, lambda *a, **k: (count.__setitem__(0, count[0] + 1), original(*a, **k))[1])
    try:
        fn()
    finally:
        delattr(module, method)
    return count[0]


def made_replication(cfg: Config, ctx: RunContext, train_images: np.ndarray, test_images: np.ndarray
                     ) -> dict[str, float]:
    """MADE (Germain et al. 2015) on stochastically binarised digits: exact test NLL in nats (mask ensemble,
    §4.2) along a CPU budget.  A budget- and data-limited replication of the published 86.64 nats: 4,000
    training images instead of 50,000, ``made_hidden`` units instead of 2 × 8,000, seconds instead of epochs."""
    binarise = torch.Generator().manual_seed(child_seed(ctx.seed, "made", "binarise"))
    train_x = ar.binarize(torch.from_numpy(train_images), binarise).flatten(1)
    test_x = ar.binarize(torch.from_numpy(test_images), binarise).flatten(1)
    torch.manual_seed(child_seed(ctx.seed, "made"))
    made = ar.MADE(ar.MadeConfig(dim=train_x.shape[1], hidden=cfg.made_hidden, masks=cfg.made_masks),
                   seed=child_seed(ctx.seed, "made", "masks"))
    state = TrainState({"family": "made"}, models={"made": made},
                       optimizers={"made": torch.optim.Adam(made.parameters(), cfg.lr_made)})
    recipe = rc.MadeML(train_x, cfg.batch_made, child_seed(ctx.seed, "made", "batches"))
    state.objects["order"] = recipe.order

    @torch.no_grad()
    def test_nll(st: TrainState) -> dict[str, float]:
        return {"nll": float(-st.models["made"].ensemble_log_prob(test_x).mean())}

    curve = rc.train_for_cpu(recipe, state, cfg.made_budget_s, (0.25, 0.5, 0.75, 1.0), test_nll,
                             checkpoint=ctx.run_dir / "made.pt", chunk=20, logger=ctx.log)
    metrics = {"made_nll_nats" + ("" if p["fraction"] == 1.0 else f"@{p['fraction']:g}"): p["nll"] for p in curve}
    metrics["made_steps"] = float(curve[-1]["step"])
    metrics["made_params"] = float(rc.parameter_count(made))
    return metrics


def run(cfg: Config, ctx: RunContext) -> Outcome:
    """One seed: every family trained for the same CPU budget, then measured."""
    split = load_dataset("mnist5k")
    pixels = fl.to_pixels(torch.from_numpy(split.x_train[:cfg.train_limit]))
    test_pixels = fl.to_pixels(torch.from_numpy(split.x_test[:cfg.test_images]))
    quality = Quality(split.x_test, cfg, ctx.seed)
    metrics: dict[str, float] = {}
    examples: dict[str, list] = {}
    for family in FAMILIES:
        state, family_metrics = train_family(family, cfg, ctx, pixels, quality)
        metrics.update(family_metrics)
        samples = draw(family, state, cfg.samples, child_seed(ctx.seed, "final"))
        metrics.update({f"{k}.{family}": v for k, v in quality(samples, full=True).items()})
        metrics[f"bpd.{family}"] = test_bits_per_dim(family, state, test_pixels, cfg, ctx.seed)
        metrics[f"params.{family}"] = float(sum(rc.parameter_count(m) for m in state.models.values()))  # GAN: G + D
        metrics[f"draw_s.{family}"] = cpu_time(lambda: draw(family, state, cfg.draw, ctx.seed))
        examples[family] = samples[:16, 0].tolist()
        ctx.log(None, **{k: v for k, v in metrics.items() if k.endswith(f".{family}")})
    metrics.update(efficiency(metrics))
    metrics.update(scaling(cfg, ctx.seed))
    metrics.update(made_replication(cfg, ctx, split.x_train[:cfg.train_limit], split.x_test[:cfg.test_images]))
    return Outcome(metrics=metrics, data={"examples": examples, "published": PUBLISHED, "made_published": MADE_PUBLISHED})


# ------------------------------------------------------------------------------------------ verdicts
def ml_cost_ratio(view: Mapping[str, Any]) -> float:
    """log(T_ML / T_GAN): CPU time for the faster ML family (flow or PixelCNN) and for the GAN to reach q*, the
    worse of the GAN's and the best ML family's best FID along their curves (so both reach it within the budget)."""
    best = {family: float(np.min(curve_of(view, family)[1])) for family in FAMILIES}
    target = max(best["gan"], min(best["flow"], best["ar"]))
    t_ml = min(time_to_quality(*curve_of(view, family), target) for family in ("flow", "ar"))
    t_gan = time_to_quality(*curve_of(view, "gan"), target)
    return math.log(t_ml / t_gan)


def cost_ratio(views: Sequence[Mapping[str, Any]]) -> Interval:
    return mean_ci([ml_cost_ratio(v) for v in views])


def flow_quality_gap(views: Sequence[Mapping[str, Any]]) -> Interval:
    """log(FID_flow / FID_GAN) at the same CPU budget, t interval over seeds."""
    return mean_ci([math.log(v["fid.flow"] / v["fid.gan"]) for v in views])


def log_log_slope(view: Mapping[str, Any], family: str) -> float:
    """Least-squares slope of log(sampling time / density-evaluation time) against log(pixels)."""
    sides = sorted(int(k.rsplit(".s", 1)[1]) for k in view if k.startswith(f"sample_s.{family}.s"))
    ratio = [view[f"sample_s.{family}.s{s}"] / view[f"eval_s.{family}.s{s}"] for s in sides]
    return float(np.polyfit(np.log(np.square(sides)), np.log(ratio), 1)[0])


def sequential_slope_gap(views: Sequence[Mapping[str, Any]]) -> Interval:
    """slope(PixelCNN) − slope(RealNVP) of sampling/evaluation time vs pixels, t interval over seeds."""
    return mean_ci([log_log_slope(v, "ar") - log_log_slope(v, "flow") for v in views])


def sequential_evaluations(views: Sequence[Mapping[str, Any]]) -> Interval:
    """Per pixel, the PixelCNN's sequential network evaluations per sample (min over sides) if the flow needs
    exactly one pass at every side, else 0."""
    view = views[0]
    sides = sorted(int(k.rsplit(".s", 1)[1]) for k in view if k.startswith("seq_evals.ar.s"))
    flow_one = all(view[f"seq_evals.flow.s{s}"] == 1 for s in sides)
    per_pixel = min(view[f"seq_evals.ar.s{s}"] / s ** 2 for s in sides)
    return exact(per_pixel if flow_one else 0.0, "counted network calls (deterministic)")


def gan_learns(views: Sequence[Mapping[str, Any]]) -> bool:
    return all(v["fid.gan"] < 0.5 * v["fid.gan.init"] for v in views)


def ml_families_learn(views: Sequence[Mapping[str, Any]]) -> bool:
    return all(v[f"bpd.{f}"] < 8.0 and v[f"fid.{f}"] < v[f"fid.{f}.init"] for v in views for f in ("flow", "ar"))


GAN_LEARNS = Control("the GAN learns in the budget", "final FID < 0.5 × FID at initialisation, every seed", gan_learns)
ML_LEARNS = Control("the likelihood models learn in the budget", "flow and PixelCNN: test bits/dim < 8 (better "
                    "than uniform) and final FID below the FID at initialisation, every seed", ml_families_learn)
CLAIMS = (
    Claim(
        id="flows-cost-more",
        ledger=("c16",),
        statement="Flow models cost far more compute and parameters for comparable sample quality (Glow: 40 GPUs × "
                  "2 weeks, ~200 M parameters; Progressive GAN: 8 GPUs × 4 days, 46 M; 17× the GPU-days, 4× the "
                  "parameters, 16× fewer pixels).",
        criterion="at the same CPU budget, log(FID_flow / FID_GAN) in digit-CNN features, t interval over seeds: "
                  "supported if it lies above log 1.5 (the flow's samples clearly worse: a 1.5× FID gap is well "
                  "beyond seed noise of a few %); refuted if it lies below 0 (the flow at least as good at equal "
                  "compute).",
        effect=flow_quality_gap,
        effect_name="log(FID flow / FID GAN) at equal CPU budget",
        measures=("fid.flow", "fid.gan", "fid.ar", "params.flow", "params.gan", "params.ar", "kid.flow", "kid.gan",
                  "ratio.params.flow_gan", "ratio.train_s_to_quality.flow_gan", "ratio.quality_per_param.gan_flow",
                  "ratio.quality_per_train_s.gan_flow", "quality_per_mparam.flow", "quality_per_mparam.gan"),
        support=math.log(1.5),
        refute=0.0,
        controls=(GAN_LEARNS, ML_LEARNS),
    ),
    Claim(
        id="ar-sampling-sequential-count",
        ledger=("c17",),
        kind="check",
        statement="Autoregressive models are like flows that cannot be parallelised: sampling is sequential.",
        criterion="counted: the PixelCNN's sampler evaluates its output network once per pixel (H·W sequential "
                  "steps per sample at every side) while RealNVP samples in one inverse pass; holds if the AR count "
                  "per pixel is ≥ 0.999 and the flow's count is 1 at every side.",
        effect=sequential_evaluations,
        effect_name="PixelCNN sequential evaluations per pixel (0 if the flow needs more than one pass)",
        measures=("seq_evals.ar.s28", "seq_evals.flow.s28"),
        support=0.999,
        refute=0.999,
        trained=False,
    ),
    Claim(
        id="ar-sampling-grows-with-pixels",
        ledger=("c17",),
        statement="Autoregressive models are like flows that cannot be parallelised: sampling is sequential.",
        criterion="slope of log(sampling CPU time / density-evaluation CPU time, same net and batch) against "
                  "log(pixels) over sides 8–28, PixelCNN minus RealNVP, t interval over seeds: supported if it lies "
                  "above 0.5 (sequential sampling predicts 1 − 0; per-call overheads on a CPU can only lower the AR "
                  "slope, so half is the least a sequential sampler shows); refuted if it lies below 0.2.",
        effect=sequential_slope_gap,
        effect_name="slope gap of sampling/evaluation time vs pixels (AR − flow)",
        measures=("sample_s.ar.s28", "eval_s.ar.s28", "sample_s.flow.s28", "eval_s.flow.s28", "draw_s.ar",
                  "draw_s.flow", "draw_s.gan"),
        support=0.5,
        refute=0.2,
        trained=False,
    ),
    Claim(
        id="ml-training-costs-more",
        ledger=("c18",),
        statement="Possible causes: maximum-likelihood training is computationally harder than adversarial "
                  "training, and normalising flows may represent some functions inefficiently.",
        criterion="log(T_ML / T_GAN), the CPU seconds the faster ML family (flow or PixelCNN) and the GAN need to "
                  "reach q* = the worse of their best FIDs along the curve (first curve point at or below q*), t interval over "
                  "seeds: supported if it lies above log 2 (ML needs at least twice the compute); refuted if it "
                  "lies below 0 (ML reaches equal quality sooner).",
        effect=cost_ratio,
        effect_name="log(CPU time ML / CPU time GAN) to equal FID",
        measures=("cpu_s.flow", "cpu_s.ar", "cpu_s.gan", "steps.flow", "steps.ar", "steps.gan", "bpd.flow", "bpd.ar",
                  "bpd.gan", "made_nll_nats", "ratio.train_s_to_quality.ar_gan", "ratio.quality_per_param.gan_ar"),
        support=math.log(2.0),
        refute=0.0,
        trained=False,
        controls=(GAN_LEARNS, ML_LEARNS),
    ),
)


# ------------------------------------------------------------------------------------------- figures
def plot(cfg: Config, outcomes: list[Outcome], figures: Any) -> None:
    """The study's figures, drawn by :mod:`thoughtlab.generative.tradeoffs_figures`."""
    draw_figures(cfg, outcomes, figures)


STUDY = Study(
    id="gan-tradeoffs",
    title="GANs vs flows vs autoregressive models at equal compute",
    thought=THOUGHT,
    summary="RealNVP, a gated PixelCNN (256-way) and a small GAN train on the MNIST 5k subset for the same "
            "budget of CPU seconds. Time-to-quality curves (digit-CNN FID), final KID/P&R/D&C, exact test bits/dim "
            "(the GAN's is an AIS estimate under a Gaussian observation model), parameters, time to draw 1,000 "
            "samples, and how sampling time grows with the number of pixels, beside the note's Glow/ProGAN figures.",
    claims=CLAIMS,
    scales={
        "smoke": Config(budget_s=1.0, fractions=(0.5, 1.0), flow_hidden=4, ar_channels=4, ar_layers=2, gan_width=16,
                        batch_flow=8, batch_ar=4, batch_gan=8, samples=40, test_images=20, ais_images=2, ais_steps=3,
                        sides=(4, 28), timing_batch=2, draw=20, train_limit=100, made_budget_s=0.5,
                        made_hidden=(16,), batch_made=20),
        "quick": Config(budget_s=30.0, made_budget_s=15.0),
        "full": Config(budget_s=3600.0, flow_hidden=64, ar_channels=64, ar_layers=8, gan_width=256, samples=2000,
                       ais_images=100, ais_steps=1000),
    },
    run=run,
    plot=plot,
    seeds={"smoke": 1, "quick": 3, "full": 5},
)
