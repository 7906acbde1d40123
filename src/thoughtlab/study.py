"""Studies, claims and verdicts.

A *study* tests sentences of the research notes with an experiment.  Each
sentence is a :class:`Claim` whose criterion is fixed in code *before* the run
(``decide`` only reads measurements).  A run executes ``Study.run`` once per
seed, each returning an :class:`Outcome`; ``Study.plot`` then draws figures
from all seeds' outcomes.  A claim's verdict is computed per seed and the run's
verdict is the common one, or ``inconclusive`` when seeds disagree.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Protocol

from thoughtlab.errors import UnknownName

Verdict = Literal["supported", "refuted", "inconclusive"]
SCALES: tuple[str, ...] = ("smoke", "quick", "full")


def judge(supported: bool, refuted: bool) -> Verdict:
    """Verdict from the two halves of a criterion; neither (or both) is inconclusive."""
    if supported and not refuted:
        return "supported"
    if refuted and not supported:
        return "refuted"
    return "inconclusive"


def combine(verdicts: list[Verdict]) -> Verdict:
    """All seeds must agree; otherwise the claim is inconclusive."""
    return verdicts[0] if verdicts and all(v == verdicts[0] for v in verdicts) else "inconclusive"


@dataclass(frozen=True)
class Claim:
    """One sentence of the notes, made testable.

    Attributes:
        id: short slug, unique within the study.
        statement: the note's claim in plain words.
        criterion: the rule in words, e.g. "supported if the unrecoverable
            fraction at n <= 3 is >= 0.4; refuted if < 0.2".
        measures: the metric keys the rule reads (shown beside the verdict).
        decide: the rule itself, on one seed's metrics -> Verdict.  Write it
            with :func:`judge`.
    """

    id: str
    statement: str
    criterion: str
    measures: tuple[str, ...]
    decide: Callable[[Mapping[str, float]], Verdict]


@dataclass
class Outcome:
    """What one seed of a study measured.

    Attributes:
        metrics: scalar measurements the claims are judged on (JSON numbers).
        spread: within-run uncertainty of some metrics (e.g. a 95 % CI
            half-width over random draws); name it in ``spread_kind``.
        data: curves and tables for figures and for result.json (JSON-able).
    """

    metrics: dict[str, float]
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
    seeds: Mapping[str, int] = field(default_factory=lambda: {"smoke": 1, "quick": 1, "full": 1})

    def config(self, scale: str) -> Any:
        if scale not in self.scales:
            raise UnknownName("scale", scale, list(self.scales))
        return self.scales[scale]


def summarize(values: list[float]) -> dict[str, float]:
    """Mean and sample std (0 for one value) of one metric over seeds."""
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": mean, "std": std, "n": len(values)}


def verdicts(study: Study, outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """Judge every claim on every seed and combine; JSON-ready records."""
    records = []
    for claim in study.claims:
        per_seed = [claim.decide(o.metrics) for o in outcomes]
        records.append(
            {
                "id": claim.id,
                "statement": claim.statement,
                "criterion": claim.criterion,
                "measures": list(claim.measures),
                "per_seed": per_seed,
                "verdict": combine(per_seed),
            }
        )
    return records
