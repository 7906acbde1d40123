"""Study ``residual-depth``: plain vs residual nets through depth, with per-layer probes.

He et al. 2016 ("Deep Residual Learning", CVPR, Fig. 1 and Fig. 6 left): deeper
plain nets reach a *higher training error* (degradation) while residual nets
do not.  The notes add that skip connections keep units alive and gradients
from vanishing, and that wider layers lose fewer units (research notes A2, A3).

We train plain and residual MLPs and small CNNs of equal width and parameter
count (:mod:`thoughtlab.nets.plain_residual`: no normalization, branch scale
1/sqrt(depth), same He-initial weights) at several depths on mnist5k with the
same optimizer, learning rate and step budget, and sweep the MLP width at a
fixed depth.  Each step records the gradient norms of the block weights; every
``probe_every`` steps a :class:`thoughtlab.probe.Probe` measures the dead-unit
fraction of every ReLU on a fixed evaluation batch.

Measurement definitions (fixed before any run):

- ``final_loss``: mean minibatch cross-entropy over the last 10 % of steps
  (a diverged, non-finite loss counts as chance, ln 10).
- ``steps_to_threshold``: steps until the mean loss of the last 10 steps first
  reaches ``LOSS_THRESHOLD`` = 1.0 nats; ``steps + 1`` if never (finite by design).
- ``dead_mean`` / ``dead_max``: mean / max over the net's ReLUs of the dead-unit
  fraction on the evaluation batch after training (dead: off for all inputs).
- ``grad_first``: ||dL/dW|| of the first block layer; ``grad_ratio_log10``:
  log10 of its ratio to the last block layer's (same shapes, so 0 means no
  attenuation).  Both are medians over the first 10 % of steps, before the
  nets' different losses change the gradient scale.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from thoughtlab.collapse import THOUGHT
from thoughtlab.collapse.residual_depth_config import (
    ARCHS,
    CURVE_POINTS,
    KINDS,
    LOSS_THRESHOLD,
    SCALES,
    ArchConfig,
    Config,
    check_config,
    run_specs,
    spec_key,
)
from thoughtlab.collapse.residual_depth_figures import draw_figures
from thoughtlab.data import load_dataset
from thoughtlab.nets.plain_residual import make_net
from thoughtlab.probe import Probe
from thoughtlab.stats import Interval, mean_ci
from thoughtlab.study import Claim, Control, FigureSink, Outcome, RunContext, Study
from thoughtlab.train import accuracy, fit

SMOOTH_STEPS = 10
EARLY_SHARE = 0.1
CURVE_FRACTIONS: tuple[float, ...] = (0.25, 0.5, 0.75)
TAIL_SHARE = 0.1


def prepare(arch_cfg: ArchConfig, cfg: Config, seed: int, device: torch.device) -> dict[str, torch.Tensor]:
    """mnist5k average-pooled to image_size, standardized with training statistics; fixed eval batch."""
    split = load_dataset("mnist5k")
    n = cfg.train_size or len(split.x_train)

    def pooled(x) -> torch.Tensor:
        return F.adaptive_avg_pool2d(torch.as_tensor(x), arch_cfg.image_size)

    x_train, x_test = pooled(split.x_train[:n]), pooled(split.x_test)
    mean, std = x_train.mean(0, keepdim=True), x_train.std()
    pick = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[: cfg.eval_size]
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    return {
        "x": x_train.to(device), "y": torch.as_tensor(split.y_train[:n]).to(device),
        "x_test": x_test.to(device), "y_test": torch.as_tensor(split.y_test).to(device),
        "x_eval": x_train[pick].to(device), "classes": split.num_classes,
    }


def train_one(spec: tuple[str, int, int, str], arch_cfg: ArchConfig, cfg: Config, data: dict, ctx: RunContext) -> dict[str, Any]:
    """Train one net; per-step block gradient norms, periodic dead fractions, final measurements."""
    arch, depth, width, kind = spec
    net = make_net(arch, depth, width, kind == "residual", tuple(data["x"].shape[1:]), data["classes"], seed=ctx.seed)
    names = net.weight_layer_names()
    first_last: list[tuple[float, float]] = []
    probes: dict[str, list] = {"steps": [], "dead": [], "layer_grads": []}
    with Probe(net) as probe:

        def on_step(step: int, model: torch.nn.Module, loss: float) -> None:
            weights = [model.get_submodule(name).weight for name in names]
            first_last.append((float(weights[0].grad.norm()), float(weights[-1].grad.norm())))
            if step % cfg.probe_every == 0:
                probes["steps"].append(step)
                probes["dead"].append(dead_fractions(probe, data["x_eval"]))
                probes["layer_grads"].append([float(w.grad.norm()) for w in weights])

        result = fit(net, data["x"], data["y"], steps=arch_cfg.steps, batch_size=arch_cfg.batch_size, lr=cfg.lr,
                     seed=ctx.seed, optimizer="sgd", momentum=cfg.momentum, device=ctx.device, on_step=on_step)
        final = probe.measure(data["x_eval"])
    dead_end = [finite(s.dead_fraction, 1.0) for s in final.values()]
    probes["steps"].append(arch_cfg.steps)
    probes["dead"].append(dead_end)
    metrics = {
        **curve_metrics(result.losses, probes, arch_cfg.steps, data["classes"]),
        "final_loss": final_loss(result.losses, data["classes"]),
        "test_acc": accuracy(result.model, data["x_test"], data["y_test"]),
        "steps_to_threshold": float(steps_to_threshold(result.losses)),
        "dead_mean": statistics.fmean(dead_end),
        "dead_max": max(dead_end),
        **early_gradients(first_last),
    }
    ctx.log(**{f"{spec_key(*spec)}.{k}": v for k, v in metrics.items()})
    return {"metrics": metrics, "losses": thin([finite(v, math.log(data["classes"])) for v in result.losses]),
            "rank_end": [finite(s.effective_rank, 0.0) for s in final.values()], **probes}


def curve_metrics(losses: list[float], probes: dict[str, list], steps: int, classes: int) -> dict[str, float]:
    """Training loss (last TAIL_SHARE of the steps so far) and mean dead fraction (latest probe) at 25/50/75 % of the budget."""
    out = {}
    for f in CURVE_FRACTIONS:
        done = max(1, round(f * steps))
        probe_at = max(i for i, s in enumerate(probes["steps"]) if s <= done)
        out[f"final_loss@{f:g}"] = final_loss(losses[:done], classes)
        out[f"dead_mean@{f:g}"] = statistics.fmean(probes["dead"][probe_at])
    return out


def dead_fractions(probe: Probe, x_eval: torch.Tensor) -> list[float]:
    return [finite(s.dead_fraction, 1.0) for s in probe.measure(x_eval).values()]


def finite(value: float, fallback: float) -> float:
    """``value`` if it is a finite number, else the documented ``fallback`` (diverged training)."""
    return float(value) if math.isfinite(value) else float(fallback)


def final_loss(losses: list[float], classes: int) -> float:
    """Mean loss over the last TAIL_SHARE of steps; non-finite losses count as chance (ln classes)."""
    tail = losses[-max(1, round(TAIL_SHARE * len(losses))):]
    return statistics.fmean(finite(v, math.log(classes)) for v in tail)


def steps_to_threshold(losses: list[float]) -> int:
    """Steps until the mean of the last SMOOTH_STEPS losses is <= LOSS_THRESHOLD; len(losses)+1 if never."""
    for step in range(len(losses)):
        window = losses[max(0, step + 1 - SMOOTH_STEPS): step + 1]
        if all(math.isfinite(v) for v in window) and statistics.fmean(window) <= LOSS_THRESHOLD:
            return step + 1
    return len(losses) + 1


def early_gradients(first_last: list[tuple[float, float]]) -> dict[str, float]:
    """Medians over the first EARLY_SHARE of steps of ||dL/dW_first|| and log10(first/last)."""
    early = first_last[: max(1, math.ceil(EARLY_SHARE * len(first_last)))]
    ratios = [math.log10(max(f, 1e-30) / max(last, 1e-30)) for f, last in early]
    return {
        "grad_first": finite(statistics.median(f for f, _ in early), 0.0),
        "grad_ratio_log10": finite(statistics.median(ratios), -30.0),
    }


def thin(values: list[float]) -> list[float]:
    """At most CURVE_POINTS evenly spaced values (for figures and result.json)."""
    stride = max(1, math.ceil(len(values) / CURVE_POINTS))
    return [round(v, 5) for v in values[::stride]]


def summary_metrics(cfg: Config, runs: Mapping[str, dict]) -> dict[str, float]:
    """The scale-independent numbers the claims read (see each Claim's criterion), with their learning curves."""
    def m(arch: str, depth: int, width: int, kind: str, name: str) -> float:
        return runs[spec_key(arch, depth, width, kind)]["metrics"][name]

    out: dict[str, float] = {}
    for arch in ARCHS:
        a = getattr(cfg, arch)
        deep, shallow = max(a.depths), min(a.depths)
        for kind in KINDS:
            for at in ("", *(f"@{f:g}" for f in CURVE_FRACTIONS)):
                out[f"{arch}.deepest.dead_mean.{kind}{at}"] = m(arch, deep, a.width, kind, f"dead_mean{at}")
                out[f"{arch}.loss_rise.{kind}{at}"] = (m(arch, deep, a.width, kind, f"final_loss{at}")
                                                      - m(arch, shallow, a.width, kind, f"final_loss{at}"))
            out[f"{arch}.deepest.grad_ratio_log10.{kind}"] = m(arch, deep, a.width, kind, "grad_ratio_log10")
            out[f"{arch}.shallow.final_loss.{kind}"] = m(arch, shallow, a.width, kind, "final_loss")
        for d in (d for d in a.depths if d >= cfg.deep_from):
            for kind in KINDS:
                out[f"{arch}.d{d}.steps.{kind}"] = m(arch, d, a.width, kind, "steps_to_threshold")
                out[f"{arch}.d{d}.reached.{kind}"] = float(out[f"{arch}.d{d}.steps.{kind}"] <= a.steps)
    for label, width in (("narrow", min(cfg.widths)), ("wide", max(cfg.widths))):
        for name in ("dead_mean", "grad_ratio_log10"):
            out[f"width.{label}.{name}"] = m("mlp", cfg.width_depth, width, "plain", name)
        for f in CURVE_FRACTIONS:
            out[f"width.{label}.dead_mean@{f:g}"] = m("mlp", cfg.width_depth, width, "plain", f"dead_mean@{f:g}")
    return out


def run(cfg: Config, ctx: RunContext) -> Outcome:
    """Train every net of the grid for seed ``ctx.seed``; per-run and summary metrics."""
    check_config(cfg)
    data = {arch: prepare(getattr(cfg, arch), cfg, ctx.seed, ctx.device) for arch in ARCHS}
    runs = {}
    for spec in ctx.progress(run_specs(cfg), desc="residual-depth"):
        runs[spec_key(*spec)] = train_one(spec, getattr(cfg, spec[0]), cfg, data[spec[0]], ctx)
    metrics = summary_metrics(cfg, runs)
    for key, record in runs.items():
        metrics.update({f"{key}.{name}": value for name, value in record["metrics"].items()})
    return Outcome(metrics=metrics, data={"runs": runs, "loss_threshold": LOSS_THRESHOLD})


# ---------------------------------------------------------------- claims


def per_arch(views: Sequence[Mapping[str, Any]], name: Callable[[str], tuple[str, str]]) -> Interval:
    """Mean of ``view[a] − view[b]`` over (seed, architecture) units, ``(a, b) = name(arch)``; Student-t interval."""
    return mean_ci([v[name(arch)[0]] - v[name(arch)[1]] for v in views for arch in ARCHS])


def dead_gap(views: Sequence[Mapping[str, Any]]) -> Interval:
    return per_arch(views, lambda a: (f"{a}.deepest.dead_mean.plain", f"{a}.deepest.dead_mean.residual"))


def gradient_gap(views: Sequence[Mapping[str, Any]]) -> Interval:
    return per_arch(views, lambda a: (f"{a}.deepest.grad_ratio_log10.residual", f"{a}.deepest.grad_ratio_log10.plain"))


def degradation_gap(views: Sequence[Mapping[str, Any]]) -> Interval:
    return per_arch(views, lambda a: (f"{a}.loss_rise.plain", f"{a}.loss_rise.residual"))


def deep_step_pairs(view: Mapping[str, Any]) -> list[tuple[float, float]]:
    """(plain, residual) steps to the loss threshold for every deep (arch, depth) of one seed."""
    keys = sorted(k[: -len(".steps.plain")] for k in view if k.endswith(".steps.plain"))
    return [(view[f"{k}.steps.plain"], view[f"{k}.steps.residual"]) for k in keys]


def speed_up(views: Sequence[Mapping[str, Any]]) -> Interval:
    """Mean log2(steps residual / steps plain) to reach loss 1.0 over (seed, arch, deep depth)."""
    return mean_ci([math.log2(res / plain) for v in views for plain, res in deep_step_pairs(v)])


def both_reach_threshold(views: Sequence[Mapping[str, Any]]) -> bool:
    """Positive control of the speed claim: every deep net reaches loss 1.0 within its budget (no censored counts)."""
    return all(v[k] == 1.0 for v in views for k in v if ".reached." in k)


def width_dead_gap(views: Sequence[Mapping[str, Any]]) -> Interval:
    return mean_ci([v["width.narrow.dead_mean"] - v["width.wide.dead_mean"] for v in views])


def width_gradient_gap(views: Sequence[Mapping[str, Any]]) -> Interval:
    return mean_ci([v["width.wide.grad_ratio_log10"] - v["width.narrow.grad_ratio_log10"] for v in views])


def nets_learn(views: Sequence[Mapping[str, Any]]) -> bool:
    """Positive control: the shallowest plain and residual nets of both architectures end below loss 1.0."""
    return all(v[f"{a}.shallow.final_loss.{k}"] < LOSS_THRESHOLD for v in views for a in ARCHS for k in KINDS)


LOG2 = math.log10(2.0)
LEARNS = Control("the shallow nets learn in the budget", f"the shallowest plain and residual nets end below training "
                 f"loss {LOSS_THRESHOLD}, both architectures, every seed", nets_learn)
REACH = Control("no censored step counts", "every deep plain and residual net reaches the loss threshold within its "
                "budget", both_reach_threshold)
CLAIMS = (
    Claim(
        id="skip-fewer-dead", ledger=("c6",),
        statement="Skip connections raise the redundancy of what the ReLU sees, so fewer ReLU outputs are zero.",
        criterion="mean dead-unit fraction plain − residual at the deepest depth after training, over (seed, MLP/CNN) "
                  "units, Student-t 95 % interval: supported if it lies above 0; refuted if it lies below 0 "
                  "(after the plateau rule).",
        effect=dead_gap, effect_name="dead fraction plain − residual",
        measures=("mlp.deepest.dead_mean.plain", "mlp.deepest.dead_mean.residual", "cnn.deepest.dead_mean.plain",
                  "cnn.deepest.dead_mean.residual"),
        controls=(LEARNS,),
    ),
    Claim(
        id="skip-keeps-gradient", ledger=("c7",),
        statement="…which lowers the chance that gradients vanish through ReLUs, so the network can go deeper.",
        criterion="log10 of the first/last block gradient-norm ratio, residual − plain, at the deepest depth, median "
                  "over the first 10 % of steps (measured early, so the budget does not limit it), over (seed, "
                  "MLP/CNN) units: supported if the interval lies above log10 2 (the residual net keeps ≥ 2× more "
                  "gradient at the first block); refuted if it lies below 0.",
        effect=gradient_gap, effect_name="log10 gradient ratio residual − plain",
        measures=("mlp.deepest.grad_ratio_log10.plain", "mlp.deepest.grad_ratio_log10.residual",
                  "cnn.deepest.grad_ratio_log10.plain", "cnn.deepest.grad_ratio_log10.residual"),
        support=LOG2, trained=False,
    ),
    Claim(
        id="skip-converges-faster", ledger=("c8",),
        statement="Feature reuse speeds learning: learning a residual from the identity converges faster than "
                  "learning everything from scratch.",
        criterion="log2(steps residual / steps plain) to reach training loss 1.0 at every depth ≥ deep_from, over "
                  "(seed, MLP/CNN, depth) units: supported if the interval lies below log2 0.9 (≥ 10 % fewer steps); "
                  "refuted if it lies above 0. Valid only when every such net reaches the threshold (control), which "
                  "makes the count independent of the budget.",
        effect=speed_up, effect_name="log2 steps residual/plain", direction="less",
        support=math.log2(0.9), refute=0.0, trained=False, controls=(REACH,),
    ),
    Claim(
        id="plain-degrades-residual-not", ledger=("c9",),
        statement="Skips make depth usable (a deeper plain network degrades; a residual one does not).",
        criterion="rise in final training loss from the shallowest to the deepest net, plain minus residual, over "
                  "(seed, MLP/CNN) units: supported if the interval lies above 0.05 nats; refuted if it lies below 0 "
                  "(after the plateau rule). He et al. 2016 Table 2 (ImageNet top-1 error): plain 18 → 34 layers "
                  "27.94 → 28.54 %, ResNet 27.88 → 25.03 %.",
        effect=degradation_gap, effect_name="loss rise plain − residual (nats)",
        measures=("mlp.loss_rise.plain", "mlp.loss_rise.residual", "cnn.loss_rise.plain", "cnn.loss_rise.residual"),
        support=0.05, controls=(LEARNS,),
    ),
    Claim(
        id="wider-fewer-dead", ledger=("c6",),
        statement="More redundancy (a wider layer) means fewer ReLU outputs are zero.",
        criterion="plain MLP at width_depth, mean dead fraction narrowest − widest width, over seeds: supported if the "
                  "interval lies above 0; refuted if it lies below 0 (after the plateau rule).",
        effect=width_dead_gap, effect_name="dead fraction narrow − wide",
        measures=("width.narrow.dead_mean", "width.wide.dead_mean"),
        controls=(LEARNS,),
    ),
    Claim(
        id="wider-keeps-gradient", ledger=("c7",),
        statement="More redundancy (a wider layer) lowers the chance that gradients vanish through ReLUs.",
        criterion="plain MLP at width_depth, early log10 first/last gradient ratio widest − narrowest, over seeds: "
                  "supported if the interval lies above 0; refuted if it lies below 0 (measured early: no budget rule).",
        effect=width_gradient_gap, effect_name="log10 gradient ratio wide − narrow",
        measures=("width.narrow.grad_ratio_log10", "width.wide.grad_ratio_log10"),
        trained=False,
    ),
)


# ---------------------------------------------------------------- figures


def plot(cfg: Config, outcomes: list[Outcome], figures: FigureSink) -> None:
    """Loss curves, dead-unit heat-maps, metrics vs depth, gradient per layer, width sweep."""
    draw_figures(cfg, outcomes, figures)


STUDY = Study(
    id="residual-depth",
    title="Plain vs residual depth: degradation, dead units, gradients",
    thought=THOUGHT,
    summary="Plain and residual MLPs and small CNNs (equal width and parameters, no normalization, branch scale "
    "1/sqrt(L), same initial weights) train on mnist5k at several depths with the same SGD and budget; a probe "
    "tracks dead ReLUs per layer and block gradient norms. An MLP width sweep at fixed depth tests redundancy. "
    "Caveat: in the residual nets each block's ReLU reads the identity path, which carries the input itself, so a "
    "unit there can hardly be off for every image; part of the dead-unit gap comes from where the ReLU sits.",
    claims=CLAIMS,
    scales=SCALES,
    run=run,
    plot=plot,
    seeds={"smoke": 1, "quick": 3, "full": 5},
)
