"""Studies, claims and verdicts.

A *study* tests sentences of the research notes (the ledger :mod:`thoughtlab.ledger`, ids c1–c30) with an
experiment.  ``Study.run`` executes once per seed and returns an :class:`Outcome`; ``Study.plot`` draws
figures from all seeds' outcomes.  Each :class:`Claim` is judged once, on all seeds together:

1. its ``effect`` turns the seeds' measurements into an effect size with a 95 % interval
   (:mod:`thoughtlab.stats`: paired over seeds and test items where the arms share them);
2. thresholds fixed in code before the run decide: with ``direction="greater"`` the claim is
   *supported* when the whole interval lies above ``support`` and *refuted* when it lies below
   ``refute`` (mirrored for ``"less"``); otherwise *inconclusive*;
3. a failed positive (or negative) control makes the verdict inconclusive: the experiment could not
   have shown the effect;
4. for a trained claim, *refuted* also needs the effect to have plateaued — its change over the last
   quarter of the budget lies within the final interval's half-width, and it did not move toward
   support at each of the curve's last three steps — else the verdict is inconclusive, "still
   changing at the end of the budget".

Learning curves follow one convention: a metric (or item list) measured at a fraction ``f`` of the
training budget is stored under ``"key@f"`` (``"acc@0.25"``); the plain ``"key"`` is the final value.

A ``kind="check"`` claim is an algebraic or analytic fact: it is shown with its numbers (verdict
``holds`` / ``fails``) but never counted as empirical support.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from thoughtlab.errors import UnknownName
from thoughtlab.stats import Interval

Verdict = Literal["supported", "refuted", "inconclusive", "holds", "fails"]
VERDICTS: tuple[str, ...] = typing.get_args(Verdict)  # the last two are a check's
SCALES: tuple[str, ...] = ("smoke", "quick", "full")
FINAL = 1.0


@dataclass(frozen=True)
class Control:
    """A control experiment a claim's verdict depends on.

    Attributes:
        name: what it shows, e.g. "short bags are learnable in the budget".
        rule: the pass rule in words (shown in the report).
        passed: the rule, on the per-seed views at the end of the budget.
        negative: ``False`` for a positive control (the task is learnable), ``True`` for a negative one
            (a nuisance must not produce the effect).
    """

    name: str
    rule: str
    passed: Callable[[Sequence[Mapping[str, Any]]], bool]
    negative: bool = False


@dataclass(frozen=True)
class Claim:
    """One sentence of the notes, made testable.

    Attributes:
        id: short slug, unique within the study.
        ledger: the ledger ids it tests (``("c5",)``).
        statement: the note's own sentence (not a weaker rewording).
        criterion: the rule in words, with the thresholds and why they were chosen.
        effect: ``effect(views) -> Interval``; one view per seed (metrics and items at one budget point).
        measures: metric keys shown beside the verdict.
        direction: ``"greater"`` if the note predicts a large effect, ``"less"`` if a small one.
        support, refute: thresholds on the interval (see the module docstring).
        kind: ``"empirical"`` (counted) or ``"check"`` (an algebraic fact, shown but not counted).
        trained: the effect comes from training within a budget; refutation then needs a plateau.
        controls: positive/negative controls; any failure makes the verdict inconclusive.
        effect_name: what the effect is, with its unit ("accuracy gap linear − ReLU, pp").
    """

    id: str
    ledger: tuple[str, ...]
    statement: str
    criterion: str
    effect: Callable[[Sequence[Mapping[str, Any]]], Interval]
    effect_name: str
    measures: tuple[str, ...] = ()
    direction: Literal["greater", "less"] = "greater"
    support: float = 0.0
    refute: float = 0.0
    kind: Literal["empirical", "check"] = "empirical"
    trained: bool = True
    controls: tuple[Control, ...] = ()

    def criterion_source(self) -> str:
        """Everything the verdict depends on, as text: hashed into result.json as the pre-registration."""
        parts = [self.criterion, self.direction, repr(self.support), repr(self.refute), self.kind, repr(self.trained)]
        parts += [source_of(self.effect)] + [source_of(c.passed) + c.rule for c in self.controls]
        return "\n".join(parts)

    def criterion_hash(self) -> str:
        return hashlib.sha256(self.criterion_source().encode()).hexdigest()[:16]


def source_of(function: Callable[..., Any]) -> str:
    """The source code of ``function`` (its qualified name if the source is not available)."""
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return getattr(function, "__qualname__", repr(function))


@dataclass
class Outcome:
    """What one seed of a study measured.

    Attributes:
        metrics: scalars (JSON numbers), with ``"key@f"`` for points along training.
        items: per-test-item values (lists in a fixed item order shared by the arms), same convention.
        spread: within-run uncertainty of some metrics (name it in ``spread_kind``).
        data: curves and tables for figures and for result.json (JSON-able).
    """

    metrics: dict[str, float]
    items: dict[str, list[float]] = field(default_factory=dict)
    spread: dict[str, float] = field(default_factory=dict)
    spread_kind: str = "95% CI half-width"
    data: dict[str, Any] = field(default_factory=dict)


class RunContext(Protocol):
    """What a study's ``run`` may use (implemented by :mod:`thoughtlab.runs`)."""

    seed: int
    scale: str
    device: Any  # torch.device
    run_dir: Any  # pathlib.Path, for checkpoints of this seed

    def log(self, step: int | None = None, **scalars: float) -> None: ...

    def progress(self, iterable: Any, desc: str = "", total: int | None = None) -> Any: ...


class FigureSink(Protocol):
    """Where ``Study.plot`` saves its matplotlib figures (PNG)."""

    def save(self, name: str, fig: Any, caption: str) -> None: ...


@dataclass(frozen=True)
class Study:
    """A runnable test of some claims of one thought.

    Attributes:
        id: kebab-case id (``relu-collapse``).
        title: a short human title.
        thought: which thought of the notes it belongs to.
        summary: the experiment in two or three sentences.
        claims: the claims, criteria fixed here.
        scales: scale name -> config (a dataclass instance) for smoke/quick/full.
        run: ``run(config, ctx) -> Outcome`` for one seed (``ctx.seed``).
        plot: ``plot(config, outcomes, figures)`` draws figures from all seeds.
        seeds: default number of seeds per scale (``--seeds`` overrides).
    """

    id: str
    title: str
    thought: str
    summary: str
    claims: tuple[Claim, ...]
    scales: Mapping[str, Any]
    run: Callable[[Any, RunContext], Outcome]
    plot: Callable[[Any, list[Outcome], FigureSink], None]
    seeds: Mapping[str, int] = field(default_factory=lambda: {"smoke": 1, "quick": 3, "full": 5})

    def config(self, scale: str) -> Any:
        if scale not in self.scales:
            raise UnknownName("scale", scale, list(self.scales))
        return self.scales[scale]


def split_key(key: str) -> tuple[str, float]:
    """``"acc@0.25"`` -> ``("acc", 0.25)``; a plain key is the final value (fraction 1)."""
    base, at, fraction = key.rpartition("@")
    if at:
        try:
            return base, float(fraction)
        except ValueError:
            pass
    return key, FINAL


def budget_points(outcome: Outcome) -> list[float]:
    """The budget fractions at which the outcome has measurements, ascending, ending with 1."""
    keys = [*outcome.metrics, *outcome.items]
    return sorted({split_key(k)[1] for k in keys} | {FINAL})


def view_at(outcome: Outcome, fraction: float) -> dict[str, Any]:
    """The seed's measurements as they stood at ``fraction`` of the budget.

    A key measured along the curve takes its value at ``fraction``; a key measured only at the end
    (e.g. a control) keeps its final value.
    """
    view: dict[str, Any] = {}
    for source in (outcome.metrics, outcome.items):
        for key, value in source.items():
            base, at = split_key(key)
            if at == FINAL:
                view.setdefault(base, value)
            if at == fraction:
                view[base] = value
    return view


def decide(claim: Claim, final: Interval, plateaued: bool | None, failed_controls: list[str]) -> tuple[Verdict, str]:
    """The verdict and its reason, from the final interval, the plateau state and the controls."""
    sign = 1 if claim.direction == "greater" else -1
    supported = sign * (final.low if sign > 0 else final.high) > sign * claim.support
    refuted = sign * (final.high if sign > 0 else final.low) < sign * claim.refute
    interval = f"{final.estimate:.4g} [{final.low:.4g}, {final.high:.4g}]"
    if claim.kind == "check":
        return ("holds", f"{interval} passes the check") if supported else ("fails", f"{interval} does not pass the check")
    if failed_controls:
        return "inconclusive", "control failed: " + "; ".join(failed_controls)
    if supported:
        return "supported", f"the interval {interval} lies on the supporting side of {claim.support:g}"
    if refuted:
        if not claim.trained or plateaued:
            why = "plateaued" if claim.trained else "no training budget involved"
            return "refuted", f"the interval {interval} lies on the refuting side of {claim.refute:g} ({why})"
        if plateaued is None:
            return "inconclusive", f"the interval {interval} refutes, but no learning curve shows the effect has plateaued"
        return "inconclusive", f"the interval {interval} refutes, but the effect was still changing at the end of the budget"
    return "inconclusive", f"the interval {interval} straddles the thresholds ({claim.refute:g} / {claim.support:g})"


def is_plateau(curve: list[tuple[float, Interval]], direction: str = "greater") -> bool | None:
    """Plateau rule: the estimate's change over the last quarter lies within the final half-width, and the
    curve is not still moving toward support at every one of its last three steps.

    The first part compares the final point with the last point at ≤ 75 % of the budget (``None`` without
    one). The second (with ≥ 4 points) catches a curve that keeps improving in small steps under a wide
    interval — a flat noisy curve does that with probability 1/8, so it can only make a refutation more
    cautious, never easier.
    """
    final = curve[-1][1]
    earlier = [iv for f, iv in curve if f <= 0.75 + 1e-9]
    if not earlier or not math.isfinite(final.half_width):
        return None
    if abs(final.estimate - earlier[-1].estimate) > final.half_width:
        return False
    sign = 1 if direction == "greater" else -1
    last = [iv.estimate for _, iv in curve[-4:]]
    steps = [sign * (b - a) for a, b in zip(last, last[1:])]
    return not (len(steps) == 3 and all(step > 0 for step in steps))


class TrackedView(dict):
    """A view that remembers which keys an effect read (to find the budget points it was measured at)."""

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)


def judged_curve(claim: Claim, outcomes: list[Outcome]) -> list[tuple[float, Interval]]:
    """The effect at every budget fraction where each key the effect reads was measured, ending with the final one.

    The final effect is computed first on views that record which keys it reads; earlier fractions are judged
    only where all of those keys have a ``key@f`` value (a key measured only at the end makes no curve).
    """
    views = [TrackedView(view_at(o, FINAL)) for o in outcomes]
    final = claim.effect(views)
    read = set().union(*(v.read for v in views))
    stored = [{*o.metrics, *o.items} for o in outcomes]
    early = [f for f in budget_points(outcomes[0]) if f < FINAL
             and all(f"{key}@{f:g}" in keys for key in read for keys in stored)]
    return [*((f, claim.effect([view_at(o, f) for o in outcomes])) for f in early), (FINAL, final)]


def judge_claim(claim: Claim, outcomes: list[Outcome]) -> dict[str, Any]:
    """Judge one claim on all seeds; a JSON-ready record with the effect, curve, controls and reason."""
    curve = judged_curve(claim, outcomes)
    final_views = [view_at(o, FINAL) for o in outcomes]
    failed = [c.name for c in claim.controls if not c.passed(final_views)]
    plateaued = is_plateau(curve, claim.direction) if len(curve) > 1 else None
    verdict, reason = decide(claim, curve[-1][1], plateaued, failed)
    return {
        "id": claim.id,
        "ledger": list(claim.ledger),
        "kind": claim.kind,
        "statement": claim.statement,
        "criterion": claim.criterion,
        "measures": list(claim.measures),
        "effect_name": claim.effect_name,
        "effect": curve[-1][1].to_json(),
        "curve": [{"fraction": f, **iv.to_json()} for f, iv in curve],
        "plateaued": plateaued,
        "controls": [{"name": c.name, "rule": c.rule, "negative": c.negative, "passed": c.name not in failed}
                     for c in claim.controls],
        "verdict": verdict,
        "reason": reason,
        "criterion_hash": claim.criterion_hash(),
    }


def verdicts(study: Study, outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """Judge every claim of ``study`` on all seeds' outcomes."""
    return [judge_claim(claim, outcomes) for claim in study.claims]


def summarize(values: list[float]) -> dict[str, float]:
    """Mean and sample std (0 for one value) of one metric over seeds."""
    mean = math.fsum(values) / len(values)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return {"mean": mean, "std": std, "n": len(values)}
