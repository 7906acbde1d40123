"""One replicate of the graph experiment (research notes E3c): GraphRNN MMDs of the adjacency GAN, the
size-matched MADE control, the density-matched Erdős–Rényi baseline and the train-vs-test floor.

Empty generated graphs are dropped (as GraphRNN does); if a model generates only empty graphs its MMDs
are recorded as 2, the largest value MMD² can take with kernels in [0, 1], and ``empty`` says so."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thoughtlab.generative.graphs import data, models, stats
from thoughtlab.train import Hook, TrainState

FRACTIONS = (0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class GraphConfig:
    n_train: int = 100
    n_test: int = 100
    n_samples: int = 100
    gan_steps: int = 800
    made_steps: int = 800
    batch: int = 32
    gan_lr: float = 2e-4
    made_lr: float = 3e-3


def run_graphs(cfg: GraphConfig, seed: int, workdir: Path | None = None) -> dict[str, Any]:
    """MMDs against the test graphs for floor, ER and both models at each budget fraction; with ``workdir``
    both models checkpoint there (``gan.pt``, ``made.pt``) and resume, keeping the MMDs taken so far."""
    train_graphs = data.community_graphs(cfg.n_train, seed)
    test = stats.graph_statistics(data.community_graphs(cfg.n_test, seed + 1))
    adj = data.to_adjacency(train_graphs, data.MAX_NODES, np.random.default_rng(seed + 2))
    out: dict[str, Any] = {
        "floor": stats.mmds(test, train_graphs),
        "er": stats.mmds(test, data.erdos_renyi_like(train_graphs, cfg.n_samples, seed + 3)),
        "density": data.density(train_graphs),
        "gan": {}, "made": {},
    }

    def scorer(steps: int, sample: Callable[[Any], np.ndarray]) -> Hook:
        """Scores at each budget fraction, kept in the state's records (so a resumed run keeps them)."""
        marks = tuple(max(1, round(f * steps)) for f in FRACTIONS)

        def score(state: TrainState) -> None:
            graphs = data.from_adjacency(sample(state.models))
            kept = [g for g in graphs if g.number_of_edges() > 0]
            scores = stats.mmds(test, kept) if kept else {s: 2.0 for s in stats.STATISTICS}
            state.records[str(FRACTIONS[marks.index(state.step)])] = scores | {"empty": 1 - len(kept) / len(graphs)}
        return Hook(set(marks), score)

    def ckpt(name: str) -> Path | None:
        return None if workdir is None else workdir / f"{name}.pt"

    gan_hook = scorer(cfg.gan_steps, lambda m: models.sample_gan(m["gen"], cfg.n_samples, seed + 4))
    gan = models.train_gan(adj, cfg.gan_steps, cfg.batch, seed + 5, cfg.gan_lr, hooks=[gan_hook],
                           checkpoint=ckpt("gan"))
    hidden = models.made_hidden_matching(gan.models["gen"])
    made_hook = scorer(cfg.made_steps, lambda m: models.sample_made(m["made"], cfg.n_samples, seed + 6))
    made = models.train_made(adj, hidden, cfg.made_steps, cfg.batch, seed + 7, cfg.made_lr, hooks=[made_hook],
                             checkpoint=ckpt("made"))
    for arm, state in (("gan", gan), ("made", made)):
        out[arm] = {f: state.records[str(f)] for f in FRACTIONS}
    out["parameters"] = {"gan_generator": models.parameter_count(gan.models["gen"]),
                         "made": models.parameter_count(made.models["made"])}
    return out
