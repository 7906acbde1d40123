"""The claims of the ``gan-batch-size`` study (c29, c30): effects, controls and criteria, fixed before any run.

Each effect reads one view per seed (:mod:`thoughtlab.study`); the batch and τ sets come from the view's keys
(``modes.gan-B<B>-<rule>``, ``modes.ot-B<B>``, ``modes.stale-t<τ>-<method>``, ``acc.cls-t<τ>``), not from a scale,
so the same rules judge smoke, quick and full.  The study itself is :mod:`thoughtlab.generative.batch_size`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from thoughtlab.stats import Interval, exact, mean_ci
from thoughtlab.study import Claim, Control

MODES, MIN_MODES, MIN_HQ = 25, 24, 90.0  # the criterion: ≥ 24/25 modes and ≥ 90 % HQ on 2,500 samples
LEARNED_MODES, LEARNED_HQ = 15, 10.0  # "the GAN has learned the grid": the control's level, and the critical-batch target

Views = Sequence[Mapping[str, Any]]  # the claims read batch and τ sets from the view keys, not from a scale


def keys(view: Mapping[str, Any], prefix: str) -> list[str]:
    return [k for k in view if k.startswith(prefix)]


def batch_arm(view: Mapping[str, Any], kind: str, rule: str, largest: bool) -> str:
    """The arm of the smallest or largest batch of a sweep present in the view."""
    tail = f"-{rule}" if rule else ""
    batches = sorted(int(k.split("-B")[1].split("-")[0]) for k in keys(view, f"modes.{kind}-B") if k.endswith(tail))
    return f"{kind}-B{batches[-1 if largest else 0]}{tail}"


def batch_gain(views: Views, rule: str) -> Interval:
    return mean_ci([v[f"modes.{batch_arm(v, 'gan', rule, True)}"] - v[f"modes.{batch_arm(v, 'gan', rule, False)}"]
                    for v in views])


def batch_gain_fixed(views: Views) -> Interval:
    return batch_gain(views, "fixed")


def batch_gain_sqrt(views: Views) -> Interval:
    return batch_gain(views, "sqrt")


def batch_speedup(views: Views) -> Interval:
    """(steps-to-criterion at the smallest − at the largest batch) / budget, lr fixed."""
    return mean_ci([(v[f"steps_to_criterion.{batch_arm(v, 'gan', 'fixed', False)}"]
                     - v[f"steps_to_criterion.{batch_arm(v, 'gan', 'fixed', True)}"]) / v["budget_steps"] for v in views])


def ot_needs_batch(views: Views) -> Interval:
    """[OT(largest B) − OT(smallest B)] − [GAN − GAN at the same two batches, lr fixed], modes."""
    def gain(v: Mapping[str, Any]) -> float:
        small, large = batch_arm(v, "ot", "", False), batch_arm(v, "ot", "", True)
        return (v[f"modes.{large}"] - v[f"modes.{small}"]
                - v[f"modes.gan-{large[3:]}-fixed"] + v[f"modes.gan-{small[3:]}-fixed"])
    return mean_ci([gain(v) for v in views])


def dirac_error(views: Views) -> Interval:
    return exact(max(v["dirac_max_error"] for v in views), "largest |measured − predicted| growth per step")


def snapshot_gain(method: str):
    def effect(views: Views) -> Interval:
        return mean_ci([v[f"modes.stale-t0-{method}"] - v["modes.stale-t0-plain"] for v in views])
    effect.__qualname__ = effect.__name__ = f"snapshot_gain_{method}"
    return effect


def largest_tau(view: Mapping[str, Any]) -> int:
    return max(int(k.split("-t")[1].split("-")[0]) for k in keys(view, "modes.stale-t"))


def staleness_contrast(views: Views) -> Interval:
    """GAN quality lost at the largest τ (modes/25) − classifier quality lost (accuracy above chance)."""
    def lost(v: Mapping[str, Any]) -> float:
        t = largest_tau(v)
        gan = (v["modes.stale-t0-plain"] - v[f"modes.stale-t{t}-plain"]) / MODES
        chance = 100.0 / MODES
        cls = (v["acc.cls-t0"] - v[f"acc.cls-t{t}"]) / (100.0 - chance)
        return gan - cls
    return mean_ci([lost(v) for v in views])


def noise_scale_error(views: Views) -> Interval:
    """Mean over seeds of |log10 observed critical batch − log10 B_simple of G| (decades apart)."""
    return mean_ci([abs(v["log10_critical_batch"] - v["log10_predicted_batch_g"]) for v in views])


def gan_learns(views: Views) -> bool:
    return all(v["modes.stale-t0-plain"] >= LEARNED_MODES and v["hq.stale-t0-plain"] >= LEARNED_HQ for v in views)


def classifier_learns(views: Views) -> bool:
    return all(v["acc.cls-t0"] >= 90.0 for v in views)


def largest_batch_reaches(views: Views) -> bool:
    return all(v[f"reached.{batch_arm(v, 'gan', 'fixed', True)}"] == 1.0 for v in views)


def critical_batch_observed(views: Views) -> bool:
    return all(v["critical_batch_inside"] == 1.0 and v["predicted_batch_measured_g"] == 1.0
               and all(v[k] == 1.0 for k in keys(v, "reached_target.gan-B") if k.endswith("-fixed")) for v in views)


def ot_learns(views: Views) -> bool:
    return all(v[f"modes.{batch_arm(v, 'ot', '', True)}"] >= 10 for v in views)


GAN_LEARNS = Control("the GAN learns the grid", "≥ 15 of 25 modes and ≥ 10 % HQ at the reference batch, lr fixed, "
                     "τ = 0, every seed, each the mean over the last quarter of the budget (a generator spread "
                     "uniformly over the grid's square (−5, 5)² scores 1.8 % HQ yet 'captures' ≈ 21 modes by chance hits; ≥ 10 % HQ, over five times that, makes most captured "
                     "modes real)", gan_learns)
CLS_LEARNS = Control("the classifier learns", "≥ 90 % accuracy at τ = 0, every seed", classifier_learns)
REACHES = Control("the criterion is reachable in the budget", "the largest batch reaches ≥ 24 modes and ≥ 90 % HQ "
                  "in every seed (else steps-to-criterion are censored)", largest_batch_reaches)
CRITICAL_OBSERVED = Control(
    "a critical batch is observed and predicted", "in every seed every lr-fixed arm reaches the learned level, the fit "
    "S = S_min(1 + B_crit/B) shows both a fall and a floor (S_min > 0, B_crit > 0) with B_crit within 4× of the swept "
    "batches, and G's unbiased |G|² is positive at all four measurements", critical_batch_observed)
OT_LEARNS = Control("OT-GAN learns", "≥ 10 modes at its largest batch, every seed", ot_learns)
ENDPOINT = ("every mode count, % HQ and reverse KL is the mean of G's evaluations in the last quarter of the budget "
            "(four at quick, one at smoke): G hops between modes from one evaluation to the next, so a single "
            "reading is mostly the phase of that hop")
MODE_MARGIN = ("2 modes (8 % of the 25) is the smallest gain counted as an improvement: a mode is captured by a "
               "single high-quality sample among 2,500, so counts of one run are expected to wobble by a mode or so; "
               + ENDPOINT)

CLAIMS = (
    Claim(
        id="larger-batch-better", ledger=("c29",),
        statement="Increasing minibatch size improves quantitative results (BigGAN: IS 52.5 → 76.9 from batch 256 to 2,048).",
        criterion="Modes captured (of 25, on 2,500 samples) at the largest minus the smallest batch of the sweep, lr fixed "
                  "(BigGAN's protocol), same steps, paired by seed, Student-t 95 % CI: supported if it lies above +2 "
                  "modes, refuted if below +2 (and plateaued). " + MODE_MARGIN + ".",
        effect=batch_gain_fixed, effect_name="modes(largest B) − modes(smallest B), lr fixed",
        support=2.0, refute=2.0, controls=(GAN_LEARNS,)),
    Claim(
        id="larger-batch-better-sqrt-lr", ledger=("c29",),
        statement="Increasing minibatch size improves quantitative results — with the learning rate scaled ∝ √B.",
        criterion="As larger-batch-better with lr = lr₀·√(B/B_ref) (the noise-preserving scaling): supported if the CI "
                  "of the modes gained lies above +2, refuted if below +2 (and plateaued). " + MODE_MARGIN + ".",
        effect=batch_gain_sqrt, effect_name="modes(largest B) − modes(smallest B), lr ∝ √B",
        support=2.0, refute=2.0, controls=(GAN_LEARNS,)),
    Claim(
        id="larger-batch-faster", ledger=("c29",),
        statement="Increasing minibatch size reduces training time (fewer iterations to a given quality).",
        criterion="Steps to the criterion (≥ 24/25 modes and ≥ 90 % HQ, checked at eighths of the budget; censored runs "
                  "count the budget plus one eighth) at the smallest minus the largest batch, lr fixed, as a fraction "
                  "of the budget: supported if the CI lies above 0.125 (one evaluation interval), refuted if below it. "
                  "Needs the largest batch to reach the criterion in every seed.",
        effect=batch_speedup, effect_name="(steps(smallest B) − steps(largest B)) / budget",
        support=0.125, refute=0.125, trained=False, controls=(REACHES,)),
    Claim(
        id="noise-scale-predicts-critical-batch", ledger=("c29",),
        statement="The gradient noise scale B_simple = tr(Σ)/|G|² predicts the critical batch (McCandlish et al. 2018), "
                  "the batch beyond which more samples per step stop cutting the steps.",
        criterion="Observed critical batch: least-squares fit of S(B) = S_min(1 + B_crit/B) (McCandlish et al. eq. 2.11) "
                  "to each lr-fixed arm's steps to the learned level (≥ 15 of 25 modes and ≥ 10 % HQ, the positive "
                  "control's level: the strict 24-mode/90 % criterion is out of reach at quick, so every arm would be "
                  "censored), checked at every evaluation. Predicted: B_simple of G (the target reads G's samples; D's is "
                  "reported beside it) on the reference arm, geometric mean of its four measurements along training. "
                  "Effect: the mean over seeds of |log10 B_crit − log10 B_simple|, t 95 % CI: supported if it lies below "
                  "1 (within a factor 10, the order-of-magnitude agreement B_simple is meant for: it ignores curvature, "
                  "B_noise = tr(HΣ)/GᵀHG), refuted if it lies above 1. The fit uses the whole curve, so no plateau is "
                  "needed; lr is fixed, whereas the model assumes a tuned lr per batch.",
        effect=noise_scale_error, effect_name="|log10 critical batch − log10 B_simple(G)| (decades)",
        direction="less", support=1.0, refute=1.0, trained=False, controls=(CRITICAL_OBSERVED,)),
    Claim(
        id="ot-gan-needs-large-batches", ledger=("c29",),
        statement="OT-GAN needs a large batch size because it aligns batches of samples and training data.",
        criterion="Modes gained by OT-GAN from its smallest to its largest batch minus the modes the standard GAN "
                  "(lr fixed) gains between the same batches, paired by seed, t 95 % CI: supported if above +2, "
                  "refuted if below +2 (and plateaued). " + MODE_MARGIN + ".",
        effect=ot_needs_batch, effect_name="batch gain of OT-GAN − batch gain of the GAN (modes)",
        support=2.0, refute=2.0, controls=(OT_LEARNS, GAN_LEARNS)),
    Claim(
        id="dirac-growth-predicted", ledger=("c30",), kind="check",
        statement="With a delay τ in one player's parameters, the Dirac-GAN's growth rate is the spectral radius of "
                  "a companion matrix (exact, comparable with simulation).",
        criterion="The largest |measured − predicted| growth factor per step over τ ∈ {0, 1, 2, 4, 8}, simultaneous "
                  "and alternating, h = 0.5, stays below 10⁻³ (the growth factors differ by ≥ 10⁻² between τ values).",
        effect=dirac_error, effect_name="max |measured − predicted| growth per step",
        direction="less", support=1e-3, refute=1e-3, trained=False),
    *(Claim(
        id=f"snapshots-help-{method}", ledger=("c30",),
        statement="GANs seem to actually benefit from training on past parameter snapshots "
                  f"({label}).",
        criterion=f"Modes captured with {label} minus the plain GAN (τ = 0, reference batch, same seeds and "
                  "initial weights), t 95 % CI over seeds: supported if above +2, refuted if below +2 (and "
                  "plateaued). " + MODE_MARGIN + ".",
        effect=snapshot_gain(method), effect_name=f"modes({method}) − modes(plain)",
        support=2.0, refute=2.0, controls=(GAN_LEARNS,))
      for method, label in (("chekhov", "G against a uniform mixture of the last 4 D snapshots, Chekhov GAN"),
                            ("replay", "D on half replayed past fakes, SimGAN"),
                            ("history", "historical averaging, Salimans et al. 2016"),
                            ("ema", "an EMA of G's weights for evaluation, Yazici et al. 2019"))),
    Claim(
        id="async-helps-gans", ledger=("c30",),
        statement="Asynchronous SGD (stale parameters) may interact with GAN training in a special, even helpful, way.",
        criterion="Share of quality lost at the largest τ (GAN: modes/25 lost when G steps against a τ-old D; "
                  "classifier: accuracy above chance lost when its gradient is τ updates old) GAN minus classifier, "
                  "paired by seed, t 95 % CI: supported if it lies below −0.10 (the GAN loses at least 10 points of its "
                  "quality less than the classifier, or gains), refuted if above 0 (it loses as much or more); "
                  + ENDPOINT + ".",
        effect=staleness_contrast, effect_name="quality lost by staleness: GAN − classifier (fraction)",
        direction="less", support=-0.10, refute=0.0, controls=(GAN_LEARNS, CLS_LEARNS)),
)
