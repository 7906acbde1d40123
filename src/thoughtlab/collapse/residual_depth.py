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
from typing import Any, Mapping

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
from thoughtlab.study import Claim, FigureSink, Outcome, RunContext, Study, judge
from thoughtlab.train import accuracy, fit

SMOOTH_STEPS = 10
EARLY_SHARE = 0.1
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
    """The scale-independent numbers the claims read (see each Claim's criterion)."""
    def m(arch: str, depth: int, width: int, kind: str, name: str) -> float:
        return runs[spec_key(arch, depth, width, kind)]["metrics"][name]

    out: dict[str, float] = {}
    for arch in ARCHS:
        a = getattr(cfg, arch)
        deep, shallow = max(a.depths), min(a.depths)
        for kind in KINDS:
            out[f"{arch}.deepest.dead_mean.{kind}"] = m(arch, deep, a.width, kind, "dead_mean")
            out[f"{arch}.deepest.grad_ratio_log10.{kind}"] = m(arch, deep, a.width, kind, "grad_ratio_log10")
            out[f"{arch}.loss_rise.{kind}"] = m(arch, deep, a.width, kind, "final_loss") - m(arch, shallow, a.width, kind, "final_loss")
        deeper = [d for d in a.depths if d >= cfg.deep_from]
        ratios = [m(arch, d, a.width, "residual", "steps_to_threshold") / m(arch, d, a.width, "plain", "steps_to_threshold") for d in deeper]
        out[f"{arch}.deep.steps_ratio_max"] = max(ratios)
        out[f"{arch}.deep.steps_ratio_min"] = min(ratios)
        out[f"{arch}.deep.plain_reached"] = float(all(m(arch, d, a.width, "plain", "steps_to_threshold") <= a.steps for d in deeper))
    for label, width in (("narrow", min(cfg.widths)), ("wide", max(cfg.widths))):
        for name in ("dead_mean", "grad_ratio_log10"):
            out[f"width.{label}.{name}"] = m("mlp", cfg.width_depth, width, "plain", name)
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


def _per_arch(m: Mapping[str, float], supported, refuted) -> str:
    """Supported if every architecture supports, refuted if every one refutes, else inconclusive."""
    return judge(all(supported(m, a) for a in ARCHS), all(refuted(m, a) for a in ARCHS))


def _dead_gap(m: Mapping[str, float], a: str) -> float:
    return m[f"{a}.deepest.dead_mean.plain"] - m[f"{a}.deepest.dead_mean.residual"]


def _grad_gap(m: Mapping[str, float], a: str) -> float:
    return m[f"{a}.deepest.grad_ratio_log10.residual"] - m[f"{a}.deepest.grad_ratio_log10.plain"]


def _degrades(m: Mapping[str, float], a: str) -> bool:
    return m[f"{a}.loss_rise.plain"] >= 0.05 and m[f"{a}.loss_rise.residual"] < 0.05


def _no_degradation_contrast(m: Mapping[str, float], a: str) -> bool:
    return m[f"{a}.loss_rise.plain"] < 0.025 or m[f"{a}.loss_rise.residual"] >= m[f"{a}.loss_rise.plain"]


LOG2 = math.log10(2.0)
CLAIMS = (
    Claim(
        "skip-fewer-dead",
        "Skip connections lower the fraction of dead ReLU units.",
        "At the deepest depth, after training: supported if the plain net's mean dead fraction exceeds the residual "
        "net's by >= 0.05 for both MLP and CNN; refuted if, for both, the gap is <= 0.01 while the plain net has >= 0.05 dead.",
        ("mlp.deepest.dead_mean.plain", "mlp.deepest.dead_mean.residual", "cnn.deepest.dead_mean.plain", "cnn.deepest.dead_mean.residual"),
        lambda m: _per_arch(m, lambda m, a: _dead_gap(m, a) >= 0.05,
                            lambda m, a: _dead_gap(m, a) <= 0.01 and m[f"{a}.deepest.dead_mean.plain"] >= 0.05),
    ),
    Claim(
        "skip-keeps-gradient",
        "Skip connections keep gradients from vanishing on the way to the first layers.",
        "At the deepest depth, early in training (median over the first 10 % of steps): supported if the residual "
        "net's first/last block gradient ratio is >= 2x the plain net's for both MLP and CNN; refuted if it is <= the plain net's for both.",
        ("mlp.deepest.grad_ratio_log10.plain", "mlp.deepest.grad_ratio_log10.residual",
         "cnn.deepest.grad_ratio_log10.plain", "cnn.deepest.grad_ratio_log10.residual"),
        lambda m: _per_arch(m, lambda m, a: _grad_gap(m, a) >= LOG2, lambda m, a: _grad_gap(m, a) <= 0.0),
    ),
    Claim(
        "skip-converges-faster",
        "Residual nets converge faster than plain nets of the same depth.",
        "At every depth >= deep_from (16 at quick/full): supported if the residual net needs <= 0.9x the plain net's "
        "steps to reach loss 1.0, for both MLP and CNN; refuted if, for both, the plain net reaches it within the budget "
        "and no later than the residual net at every such depth.",
        ("mlp.deep.steps_ratio_max", "mlp.deep.steps_ratio_min", "mlp.deep.plain_reached",
         "cnn.deep.steps_ratio_max", "cnn.deep.steps_ratio_min", "cnn.deep.plain_reached"),
        lambda m: _per_arch(m, lambda m, a: m[f"{a}.deep.steps_ratio_max"] <= 0.9,
                            lambda m, a: m[f"{a}.deep.steps_ratio_min"] >= 1.0 and m[f"{a}.deep.plain_reached"] == 1.0),
    ),
    Claim(
        "plain-degrades-residual-not",
        "Deeper plain nets train worse than shallower ones (degradation) while residual nets do not.",
        "Final training loss, deepest minus shallowest depth: supported if the plain net's rises by >= 0.05 nats and the "
        "residual net's by < 0.05, for both MLP and CNN; refuted if, for both, the plain rise is < 0.025 or the residual "
        "rise is >= the plain rise.",
        ("mlp.loss_rise.plain", "mlp.loss_rise.residual", "cnn.loss_rise.plain", "cnn.loss_rise.residual"),
        lambda m: _per_arch(m, _degrades, _no_degradation_contrast),
    ),
    Claim(
        "wider-fewer-dead",
        "Wider (more redundant) layers lose fewer units.",
        "Plain MLP at width_depth, narrowest vs widest width: supported if the dead fraction falls by >= 0.05; refuted "
        "if it does not fall while the narrowest has >= 0.05 dead.",
        ("width.narrow.dead_mean", "width.wide.dead_mean"),
        lambda m: judge(m["width.narrow.dead_mean"] - m["width.wide.dead_mean"] >= 0.05,
                        m["width.wide.dead_mean"] >= m["width.narrow.dead_mean"] >= 0.05),
    ),
    Claim(
        "wider-keeps-gradient",
        "Wider layers lose less gradient through depth.",
        "Plain MLP at width_depth, early first/last block gradient ratio: supported if the widest net's is >= 2x the "
        "narrowest's; refuted if it is <= the narrowest's.",
        ("width.narrow.grad_ratio_log10", "width.wide.grad_ratio_log10"),
        lambda m: judge(m["width.wide.grad_ratio_log10"] - m["width.narrow.grad_ratio_log10"] >= LOG2,
                        m["width.wide.grad_ratio_log10"] <= m["width.narrow.grad_ratio_log10"]),
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
    seeds={"smoke": 1, "quick": 1, "full": 3},
)
