"""Study ``gan-batch-size``: batch size, optimal-transport GANs and stale parameters (c29, c30).

Odena (2019, "Open Questions about GANs", Distill, Problem 6): there is "some evidence that increasing
minibatch size improves quantitative results and reduces training time" (BigGAN), OT-GAN "need[s] a large
batch size", and "GANs seem to actually benefit from training on past parameter snapshots" — so does
asynchronous SGD (stale parameters) interact with GAN training in a special way?

On the 25-mode grid (PacGAN/VEEGAN spec, :mod:`thoughtlab.generative.synthetic.mog`), per seed:

1. **c29, batch sweep.** The alternating non-saturating GAN at each batch B with the learning rate fixed
   and with lr ∝ √B (equal at the reference batch); modes captured / % high quality / reverse KL on 2,500
   samples along training, steps- and samples-to-criterion (≥ 24 modes and ≥ 90 % HQ), collapse, and the
   gradient noise scale B_simple of D and G (McCandlish et al. 2018) as the predicted critical batch.
2. **c29, OT-GAN** (mini-batch energy distance, Sinkhorn, cosine cost in a learned critic) at several B.
3. **c30, Dirac-GAN**: predicted (companion matrix) vs simulated growth per step for staleness τ.
4. **c30, staleness on the grid**: the generator steps against the discriminator of τ updates ago, plain
   and with the snapshot methods (Chekhov mixture, replay, historical averaging; EMA generator evaluated
   from the plain run); the control is the same staleness on a classifier of the same data.

Metric keys: ``<metric>.<arm>`` with ``@0.25/@0.5/@0.75`` along the budget; arms ``gan-B<B>-<fixed|sqrt>``,
``ot-B<B>``, ``stale-t<τ>-<method>`` (``plain``, ``chekhov``, ``replay``, ``history``, ``ema``) and
``cls-t<τ>``.  Reverse KL is undefined without a high-quality sample; it is then scored log 25, the KL of
a point mass, its worst value.

**Budget changes after a pilot (disclosed).**  The first quick scale (800 steps, G and D 64×2, z ∈ R⁸, 5 seeds)
failed its positive control (15.6 ± 5.9 modes at B = 64).  A pilot on the control arm only (plain GAN,
B = 64, lr fixed, τ = 0; no other arm, no claim effect looked at) showed why: at 800 steps G is not on the
grid at all — 1–2 % of samples are high quality, and its 5–20 "modes" are chance hits of a spread-out
generator (one spread uniformly over (−5, 5)² scores 1.8 % HQ yet hits ≈ 21 modes in 2,500 samples).  The
mode-counting code was checked and is right; the GAN is simply slow to sharpen its modes (σ = 0.05 on a
±4 grid).  Pilot, % HQ of G (EMA) at the end, seeds 0/2: 64×2, z 8, 3,000 steps: 2/2 (2/2); 128×3, z 8,
3,000 steps: 13/20 (22/19); lr 3·10⁻⁴ or 10⁻⁴: worse (≤ 2); lr 2·10⁻³: 8/15 (18/33); 128×3, z 2 (PacGAN's
latent size), 3,000 steps: 19/23 (22/30); the same at 6,000 steps: 28/35 (62/68).  So the quick scale now
uses 128×3 nets, z ∈ R², 3,000 steps, and — to save CPU — 3 seeds, batches {16, 64, 256}, τ ∈ {0, 16}
with the snapshot methods at τ = 0 only (the arms the claims read; ``full`` keeps every arm).  Measured
(commit ace9f8b, load 10–22): 762 s user + 73 s sys in all, ≈ 270 s per seed — over the ≈ 650 s aimed at;
3 seeds on 2 workers take two seeds' time, ≈ 9 min on an idle machine.  That run's control failed on one
seed (14 modes at 17 % HQ), so its GAN verdicts are inconclusive; the control is borderline at this budget.  Since
a mode count means little when few samples are high quality, the GAN control now also requires ≥ 10 % HQ
(added after the pilot; it is stricter, so it can only turn verdicts inconclusive).  Even so the quick
GAN is far from PacGAN's regime (≈ 90 % HQ), and no quick arm is expected to reach the criterion.

**Second round (issue #16: ≥ 5 seeds, the noise scale as the predicted critical batch).**  The 3-seed quick run
above (338 s on an idle machine) failed the control on seed 1 only (14 modes).  A second pilot on the control
arm alone (seeds 0–2, 6,000 steps, G scored every 375 steps; no other arm, no effect looked at) showed that
more steps do not fix it: G's mode count does not grow with training, it wanders — seed 0: 10–19 modes
between steps 1,875 and 6,000 (15 at the end, 28 % HQ), seed 1: 12–21 (14 at 3,000, 17 at 6,000), seed 2:
20–25 — while % HQ rises (to 28–49 %).  The control's 15-mode bar sits inside that wander, so no budget makes
it pass reliably; it was left unchanged (no threshold or criterion changed after a result), and the quick
scale keeps 3,000 steps.  Profile (CPU s per arm at 3,000 steps, loaded machine): GAN B16 ≈ 11, B64 ≈ 14,
B256 ≈ 25, Chekhov ≈ 20, replay ≈ 14, historical averaging ≈ 20, τ = 16 ≈ 16; OT-GAN 400 steps B16/64/256 ≈
5/7/29; one B_simple measurement from 1,024 examples ≈ 2.8 (× 4 points × 3 arms).  Changes, to fit 5 seeds:
Adam's ``foreach`` path and no per-step copy of D when G steps against the current D (the control arm's
scores unchanged in a 600-step A/B; ≈ 12 % less CPU per step); OT-GAN at B ∈ {16, 256} (the claim reads only the smallest and largest batch); B_simple
from 512 examples.  Evaluated: training several arms as one batched model (stacked weights, ``baddbmm``,
foreach Adam) costs 10.1 ms per step for 4 GANs at B = 64 against 4.4 ms for one (1.75× saved; 1.5× at
B = 256), not adopted: the arms differ in their update rule (stale, mixture, replay, averaging), not only in
weights.  Evaluation moved to sixteenths of the budget for steps-to-target (steps-to-criterion still reads
the eighths, as its criterion says).  New claim ``noise-scale-predicts-critical-batch``, criterion fixed
before any run of it.  Measured (commit bfae496, 5 seeds, load 17–24): 938 s user + 53 s sys, 45.7 min wall
under that load; the control failed on seed 1 again (modes 17/14/22/16/22, % HQ 19/17/23/15/11), so the GAN
claims are inconclusive; B = 16 reached the learned level in no seed within 3,000 steps, so the critical
batch is censored below and that claim's control fails too.

**Third round (session 7): the endpoint, and the 8-minute budget.**  That 5-seed run took 511 s on an idle machine
(limit 480) and its control failed for the reason the second pilot had shown — a single reading of G's mode
count is mostly the phase of its mode hopping.  Decided before any run with it (the single-reading effects of
session 6 had been seen, as the README reports them): every mode count, % HQ and reverse KL (every arm, the control and the claims alike) is now the mean of G's
evaluations in a quarter of the budget — the last quarter for the result, the earlier quarters for the
@0.25/0.5/0.75 curve the plateau rule reads (four evaluations each at quick, eight at full, one at smoke);
steps-to-criterion and steps-to-target still read single evaluations.  Thresholds unchanged.  To fit the budget,
B_simple is measured on the reference arm only at quick (the only one the critical-batch claim reads; ``full``
measures every lr-fixed arm) and OT-GAN trains 300 steps instead of 400 at quick (its B = 256 arm was the most
expensive one, ≈ 29 CPU s per seed).  That run (commit 432e732, 5 seeds, 1,005 CPU s under load ≈ 7): the control
still failed — last-quarter means of the reference arm 15.5 / 14.25 / 22.25 / 14.75 / 21.75 modes at 10.8 / 12.0 /
15.4 / 10.5 / 10.0 % HQ.  A pilot on the control arm alone (5 study seeds, no other arm, no effect looked at) tried
two standard remedies for an oscillating GAN: (a) the learning rate decayed linearly to 0 over the second half of
the budget (CycleGAN's schedule): last-quarter modes 21.5 / 18.75 / 24.75 / 19.0 / 23.5 at 17.8 / 22.6 / 22.3 /
21.1 / 15.3 % HQ, the curve still rising; (b) two time-scale updates (D at 2·lr, G at lr/2; Heusel et al. 2017):
14.75 / 12.0 / 14.75 / 12.75 / 12.25 modes, worse.  So every arm — the GANs, OT-GAN and the classifier control,
so that the arms still differ only in what each claim varies — now decays its learning rate linearly to 0 over
the second half of its budget (``lr_decay``; the √B rule scales the initial rate).  The run with it (commit
04aaf42, 5 seeds, load 1–4): every control but "the criterion is reachable" and "a critical batch is observed"
passed; verdicts: √B-lr batch gain supported 5.35 [3.06, 7.64] modes, lr-fixed gain inconclusive 2.75 [−0.15,
5.65], the others inconclusive (OT-GAN, Chekhov, EMA and async refuted but still changing at the end; replay
and history straddle) — but it took 999 s user + 31 s sys, 536 s wall, over the 480 s limit.  Every arm costs
about in proportion to its steps, and no other cut saves enough (the evaluations cost 0.14 CPU s per arm, the
EMA 0.25), so quick now trains 2,400 steps instead of 3,000 (OT-GAN stays at 300), a cut chosen for the CPU
budget with the verdicts above already seen — they are printed here so that a reader can compare.  The control
arm alone at 2,400 steps (5 seeds): last-quarter modes 23.0 / 21.75 / 23.25 / 21.75 / 23.5 at 11.5 / 14.4 /
13.4 / 15.3 / 15.6 % HQ, so the control still passes, with less margin on % HQ.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from thoughtlab.generative import THOUGHT
from thoughtlab.generative import batch_training as bt
from thoughtlab.generative.batch_size_claims import CLAIMS, LEARNED_HQ, LEARNED_MODES, MIN_HQ, MIN_MODES, MODES
from thoughtlab.generative.batch_size_figures import plot
from thoughtlab.generative.critical_batch import fit_critical_batch
from thoughtlab.generative.dirac import growth_table
from thoughtlab.generative.models.gan import sample
from thoughtlab.generative.synthetic.mog import EVAL_SAMPLES, coverage, grid
from thoughtlab.study import Outcome, RunContext, Study
from thoughtlab.stats import child_seed
from thoughtlab.train import EMA, Hook, LinearDecay, TrainState, train

CURVE = (0.25, 0.5, 0.75)
BIGGAN_TABLE1 = (  # Brock et al. 2019, Table 1 rows 1-4 (ImageNet 128², recalled [R] in the research notes)
    {"batch": 256, "fid": 18.65, "is": 52.52}, {"batch": 512, "fid": 15.30, "is": 58.77},
    {"batch": 1024, "fid": 14.88, "is": 63.03}, {"batch": 2048, "fid": 12.39, "is": 76.85})


@dataclass(frozen=True)
class Config:
    """One scale.  ``batches``: the GAN sweep; ``reference_batch``: where both lr rules meet and the batch of
    the staleness runs; ``evals``: evaluation points (k/evals of the budget, a multiple of 8 above smoke) for
    steps-to-target; steps-to-criterion reads every (evals/8)-th of them, eighths of the budget; the scores are
    their means over each quarter (:func:`quarter_means`)."""

    steps: int = 800
    batches: tuple[int, ...] = (16, 64, 256, 1024)
    reference_batch: int = 64
    lr: float = 1e-3
    lr_decay: float = 0.5  # every arm's lr decays linearly to 0 over this last share of its budget (0: constant)
    ot_batches: tuple[int, ...] = (16, 64, 256)
    ot_steps: int = 400
    ot_eps: float = 0.1
    ot_iterations: int = 10
    taus: tuple[int, ...] = (0, 4, 16)
    snapshot_taus: tuple[int, ...] = (0, 4, 16)  # the τ at which the snapshot methods run (plain runs at every τ)
    classifier_steps: int = 400
    dirac_taus: tuple[int, ...] = (0, 1, 2, 4, 8)
    dirac_h: float = 0.5
    dirac_steps: int = 600
    noise_examples: int = 1024
    noise_batches: tuple[int, ...] | None = None  # the lr-fixed arms whose B_simple is measured (None: every one)
    evals: int = 8
    data_size: int = 100_000
    nets: bt.Nets = field(default_factory=bt.Nets)
    snapshots: bt.Snapshots = field(default_factory=bt.Snapshots)


def lr_for(cfg: Config, batch: int, rule: str) -> float:
    """The fixed learning rate, or lr·√(B / reference batch)."""
    return cfg.lr * (math.sqrt(batch / cfg.reference_batch) if rule == "sqrt" else 1.0)


def scores(mixture, g: torch.nn.Module, seed: int) -> tuple[float, float, float]:
    """(modes, % HQ, reverse KL with log K for "no HQ sample") of 2,500 samples; a non-finite G scores worst."""
    x = sample(g, EVAL_SAMPLES, seed).cpu().numpy()
    if not np.isfinite(x).all():
        return 0.0, 0.0, math.log(mixture.k)
    c = coverage(mixture, x)
    return float(c.modes), c.hq_percent, c.reverse_kl if math.isfinite(c.reverse_kl) else math.log(mixture.k)


def evaluate_curve(cfg: Config, mixture, seed: int, samples_per_step: int, steps: int) -> tuple[Hook, dict[str, list]]:
    """A hook scoring G and its EMA at k/evals of the budget of ``steps``; the curve it fills."""
    curve: dict[str, list] = {"step": [], "g": [], "ema": [], "budget": steps}
    due = [round(k * steps / cfg.evals) for k in range(1, cfg.evals + 1)]

    def fn(state: TrainState) -> dict[str, float]:
        curve["step"].append(state.step)
        curve["g"].append(scores(mixture, state.models["g"], child_seed(seed, "eval")))
        curve["ema"].append(scores(mixture, state.emas["g"].module, child_seed(seed, "eval")))
        return {"modes": curve["g"][-1][0]}

    curve["samples_per_step"] = samples_per_step
    return Hook(due, fn), curve


def quarter_means(points: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """(modes, % HQ, reverse KL) averaged over the evaluations in each quarter of the budget (one reading per
    quarter when there are four evaluations): G hops between modes from one evaluation to the next."""
    bounds = [round(k * len(points) / 4) for k in range(5)]
    return [tuple(float(v) for v in np.mean(points[a:b], axis=0)) for a, b in zip(bounds, bounds[1:])]


def arm_metrics(cfg: Config, name: str, curve: dict[str, list], which: str = "g") -> dict[str, float]:
    """Quarter means of the curve (the last is the arm's result), steps/samples to criterion at eighths of the
    budget (censored: budget + one eighth), steps to the learned level at every evaluation (censored: budget + one
    interval) and collapse."""
    points = curve[which]
    out: dict[str, float] = {}
    for fraction, (modes, hq, rkl) in zip((*CURVE, 1.0), quarter_means(points)):
        suffix = "" if fraction == 1.0 else f"@{fraction}"
        out |= {f"modes.{name}{suffix}": modes, f"hq.{name}{suffix}": hq, f"rkl.{name}{suffix}": rkl}
    every = max(cfg.evals // 8, 1)
    eighths = list(zip(curve["step"], points))[every - 1::every]
    reached = [s for s, (m, h, _) in eighths if m >= MIN_MODES and h >= MIN_HQ]
    steps = reached[0] if reached else curve["budget"] + curve["budget"] // (cfg.evals // every)
    learned = [s for s, (m, h, _) in zip(curve["step"], points) if m >= LEARNED_MODES and h >= LEARNED_HQ]
    target = learned[0] if learned else curve["budget"] + curve["budget"] // cfg.evals
    best = max(m for m, _, _ in points)
    return out | {f"reached.{name}": float(bool(reached)), f"steps_to_criterion.{name}": float(steps),
                  f"samples_to_criterion.{name}": float(steps * curve["samples_per_step"]),
                  f"reached_target.{name}": float(bool(learned)), f"steps_to_target.{name}": float(target),
                  f"collapsed.{name}": float(points[-1][0] < best / 2)}


def noise_hook(cfg: Config, data: torch.Tensor, seed: int, log: list) -> Hook:
    """B_simple terms of D and G at the curve's fractions, from ``noise_examples`` fresh examples."""
    due = [round(f * cfg.steps) for f in (*CURVE, 1.0)]

    def fn(state: TrainState) -> None:
        gen = torch.Generator().manual_seed(child_seed(seed, "noise", state.step))
        real = data[torch.randint(len(data), (cfg.noise_examples,), generator=gen)]
        z = torch.randn(cfg.noise_examples, cfg.nets.z_dim, generator=gen).to(data.device)
        log.append({"step": state.step, **bt.gan_noise_scales(state.models["g"], state.models["d"], real, z)})

    return Hook(due, fn)


def run_gan(cfg: Config, ctx: RunContext, data: torch.Tensor, mixture, name: str, batch: int, lr: float,
            tau: int = 0, method: str = "plain", noise: list | None = None) -> dict[str, list]:
    """Train one stale-GAN arm (τ = 0, plain: the ordinary GAN); its evaluation curve."""
    seed = child_seed(ctx.seed, name)
    g, d = (m.to(data.device) for m in bt.build_gan(cfg.nets, child_seed(ctx.seed, "init")))  # same in every arm
    recipe = bt.StaleGanRecipe(data, batch, tau, method, cfg.snapshots, cfg.nets.z_dim, seed, g, d,
                               LinearDecay(lr, cfg.steps, cfg.lr_decay))
    state = recipe.state(g, d, lr, {"arm": name, "seed": ctx.seed, "steps": cfg.steps})
    hook, curve = evaluate_curve(cfg, mixture, ctx.seed, batch, cfg.steps)
    hooks = [hook] + ([noise_hook(cfg, data, ctx.seed, noise)] if noise is not None else [])
    train(recipe, state, cfg.steps, hooks=hooks, progress=False)
    return curve


def run_ot(cfg: Config, ctx: RunContext, data: torch.Tensor, mixture, batch: int) -> dict[str, list]:
    name = f"ot-B{batch}"
    g = bt.build_gan(cfg.nets, child_seed(ctx.seed, "init"))[0].to(data.device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(child_seed(ctx.seed, "critic"))
        critic = bt.Critic(cfg.nets).to(data.device)
    recipe = bt.OTGanRecipe(data, batch, cfg.nets.z_dim, cfg.ot_eps, cfg.ot_iterations, child_seed(ctx.seed, name),
                            LinearDecay(cfg.lr, cfg.ot_steps, cfg.lr_decay))
    state = TrainState({"arm": name}, models={"g": g, "d": critic},
                       optimizers={"g": bt.adam(g, cfg.lr), "d": bt.adam(critic, cfg.lr)},
                       emas={"g": EMA(g, cfg.snapshots.ema_decay)}, generators={"noise": recipe.noise})
    hook, curve = evaluate_curve(cfg, mixture, ctx.seed, 2 * batch, cfg.ot_steps)
    train(recipe, state, cfg.ot_steps, hooks=[hook], progress=False)
    return curve


def run_classifier(cfg: Config, ctx: RunContext, data: torch.Tensor, labels: torch.Tensor, test: tuple,
                   tau: int) -> dict[str, float]:
    """Accuracy (%) of the stale classifier along its budget."""
    model = bt.classifier(cfg.nets, MODES, child_seed(ctx.seed, "init")).to(data.device)
    recipe = bt.StaleClassifierRecipe(data, labels, cfg.reference_batch, tau, child_seed(ctx.seed, f"cls{tau}"), model,
                                     LinearDecay(cfg.lr, cfg.classifier_steps, cfg.lr_decay))
    state = TrainState({"tau": tau}, models={"c": model}, optimizers={"c": bt.adam(model, cfg.lr)},
                       generators={"noise": recipe.noise}, objects={"queue": recipe.queue})
    out: dict[str, float] = {}

    def fn(s: TrainState) -> None:
        with torch.no_grad():
            acc = 100.0 * float((model(test[0]).argmax(1) == test[1]).float().mean())
        fraction = s.step / cfg.classifier_steps
        out[f"acc.cls-t{tau}" + ("" if fraction == 1.0 else f"@{fraction:g}")] = acc

    train(recipe, state, cfg.classifier_steps, hooks=[Hook([round(f * cfg.classifier_steps) for f in (*CURVE, 1.0)], fn)],
          progress=False)
    return out


def run(cfg: Config, ctx: RunContext) -> Outcome:
    mixture = grid()
    x, labels = mixture.sample(cfg.data_size, child_seed(ctx.seed, "data"))
    data = torch.from_numpy(x).to(ctx.device)  # noise and batch indices stay on CPU generators: same on any device
    metrics: dict[str, float] = {"budget_steps": float(cfg.steps)}
    data_out: dict[str, Any] = {"noise": {}, "curves": {}, "biggan": BIGGAN_TABLE1}
    arms = [(b, rule) for b in cfg.batches for rule in ("fixed", "sqrt") if not (rule == "sqrt" and b == cfg.reference_batch)]
    for batch, rule in ctx.progress(arms, desc="batch sweep"):
        measured = rule == "fixed" and (cfg.noise_batches is None or batch in cfg.noise_batches)
        name, noise = f"gan-B{batch}-{rule}", ([] if measured else None)
        curve = run_gan(cfg, ctx, data, mixture, name, batch, lr_for(cfg, batch, rule), noise=noise)
        metrics |= arm_metrics(cfg, name, curve)
        data_out["curves"][name] = curve
        if noise is not None:
            data_out["noise"][name] = noise
            metrics |= noise_metrics(name, noise)
        if batch == cfg.reference_batch:
            metrics |= arm_metrics(cfg, "stale-t0-plain", curve) | arm_metrics(cfg, "stale-t0-ema", curve, "ema")
    for batch in ctx.progress(cfg.ot_batches, desc="OT-GAN"):
        curve = run_ot(cfg, ctx, data, mixture, batch)
        metrics |= arm_metrics(cfg, f"ot-B{batch}", curve)
        data_out["curves"][f"ot-B{batch}"] = curve
    stale = [(t, m) for t in cfg.taus for m in bt.METHODS
             if (t, m) != (0, "plain") and (m == "plain" or t in cfg.snapshot_taus)]
    for tau, method in ctx.progress(stale, desc="staleness"):
        name = f"stale-t{tau}-{method}"
        curve = run_gan(cfg, ctx, data, mixture, name, cfg.reference_batch, cfg.lr, tau, method)
        metrics |= arm_metrics(cfg, name, curve)
        if method == "plain":
            metrics |= arm_metrics(cfg, f"stale-t{tau}-ema", curve, "ema")
    labels_t = torch.from_numpy(labels).to(ctx.device)
    test = tuple(torch.from_numpy(a).to(ctx.device) for a in mixture.sample(EVAL_SAMPLES, child_seed(ctx.seed, "test")))
    for tau in cfg.taus:
        metrics |= run_classifier(cfg, ctx, data, labels_t, test, tau)
    metrics |= critical_batch_metrics(cfg, metrics)
    dirac = growth_table(cfg.dirac_h, cfg.dirac_taus, cfg.dirac_steps)
    metrics["dirac_max_error"] = max(abs(r["measured"] - r["predicted"]) for r in dirac)
    data_out["dirac"] = dirac
    return Outcome(metrics=metrics, data=data_out)


def noise_metrics(name: str, log: list[dict[str, float]]) -> dict[str, float]:
    """log10 B_simple of D and G at each point; an unmeasurable |G|² (≤ 0) is capped at 10⁹."""
    out = {}
    for row, fraction in zip(log, (*CURVE, 1.0)):
        suffix = "" if fraction == 1.0 else f"@{fraction}"
        for player in ("d", "g"):
            b = row[f"{player}_trace"] / row[f"{player}_grad_sq"] if row[f"{player}_grad_sq"] > 0 else 1e9
            out[f"log10_bsimple_{player}.{name}{suffix}"] = math.log10(min(max(b, 1e-9), 1e9))
    return out


def critical_batch_metrics(cfg: Config, metrics: Mapping[str, float]) -> dict[str, float]:
    """The observed critical batch (McCandlish et al.'s S(B) fitted to steps-to-target of the lr-fixed arms) and
    the predicted one: B_simple of G and of D on the reference arm, geometric mean of the four measurements."""
    steps = [metrics[f"steps_to_target.gan-B{b}-fixed"] for b in cfg.batches]
    fit = fit_critical_batch(cfg.batches, steps)
    ref = f"gan-B{cfg.reference_batch}-fixed"
    out = {"critical_batch_inside": float(fit.inside),
           "log10_critical_batch": math.log10(fit.b_crit) if fit.inside else math.log10(max(cfg.batches) * 4.0)}
    for player in ("d", "g"):
        logs = [metrics[f"log10_bsimple_{player}.{ref}" + ("" if f == 1.0 else f"@{f}")] for f in (*CURVE, 1.0)]
        out[f"log10_predicted_batch_{player}"] = float(np.mean(logs))
        out[f"predicted_batch_measured_{player}"] = float(all(v < 9.0 for v in logs))
    return out


SMOKE = Config(steps=16, batches=(8, 16, 32), reference_batch=8, ot_batches=(8, 32), ot_steps=8, ot_iterations=3,
               taus=(0, 2), snapshot_taus=(0, 2),
               classifier_steps=8, dirac_taus=(0, 2), dirac_steps=200, noise_examples=8, evals=4, data_size=2000,
               nets=bt.Nets(width=16, depth=1))
QUICK = Config(steps=2400, batches=(16, 64, 256), ot_batches=(16, 256), ot_steps=300, taus=(0, 16), snapshot_taus=(0,),
               noise_examples=512, noise_batches=(64,), evals=16, nets=bt.Nets(z_dim=2, width=128, depth=3))
FULL = Config(steps=20_000, batches=(16, 32, 64, 128, 256, 512, 1024, 2048), reference_batch=64,
              ot_batches=(32, 128, 512, 2048), ot_steps=20_000, ot_iterations=50, taus=(0, 1, 4, 16, 64),
              snapshot_taus=(0, 1, 4, 16, 64), classifier_steps=5000, dirac_steps=2000, evals=32,
              nets=bt.Nets(z_dim=2, width=128, depth=3), snapshots=bt.Snapshots(ema_decay=0.999))

STUDY = Study(
    id="gan-batch-size",
    title="Batch size, OT-GANs and stale parameters on the 25-mode grid",
    thought=THOUGHT,
    summary="A batch sweep of a small GAN on the 25-Gaussian grid with lr fixed and ∝ √B (modes, % HQ, reverse KL, "
            "steps to criterion, gradient noise scale), OT-GAN at several batches, the Dirac-GAN's exact growth "
            "under staleness beside simulation, and generator steps against τ-old discriminators with four "
            "snapshot methods, contrasted with the same staleness on a classifier.",
    claims=CLAIMS,
    scales={"smoke": SMOKE, "quick": QUICK, "full": FULL},
    run=run,
    plot=plot,
    seeds={"smoke": 1, "quick": 5, "full": 5},
)
