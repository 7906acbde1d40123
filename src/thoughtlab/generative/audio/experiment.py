"""One replicate of the audio experiment (research notes E3d): WaveGAN (± phase shuffle) and SpecGAN on
synthetic tones, scored exactly (pitch precision, coverage, reverse KL) and by the spectral Fréchet distance,
next to the held-out floor and the white-noise baseline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from thoughtlab.generative.audio import models, tones
from thoughtlab.train import Hook, TrainState

FRACTIONS = (0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class AudioConfig:
    n_train: int = 2000
    n_test: int = 500
    n_samples: int = 300
    gan: models.AudioGanConfig = field(default_factory=models.AudioGanConfig)
    variants: tuple[str, ...] = models.VARIANTS


def _scores(test: np.ndarray, clips: np.ndarray) -> dict[str, float]:
    return tones.pitch_scores(clips) | {"fd": tones.spectral_fd(test, clips)}


def run_audio(cfg: AudioConfig, seed: int, workdir: Path | None = None) -> dict[str, Any]:
    """Scores of every variant at each budget fraction, plus floor (held-out real) and noise baseline; with
    ``workdir`` each variant checkpoints there (``<variant>.pt``) and resumes, keeping the scores taken so far."""
    train, _ = tones.tone_clips(cfg.n_train, seed)
    test, _ = tones.tone_clips(cfg.n_test, seed + 1)
    heldout, _ = tones.tone_clips(cfg.n_samples, seed + 2)
    rms = float(np.sqrt((train**2).mean()))
    out: dict[str, Any] = {"floor": _scores(test, heldout), "noise": _scores(test, tones.white_noise(cfg.n_samples, seed + 3, rms))}
    marks = tuple(max(1, round(f * cfg.gan.steps)) for f in FRACTIONS)
    for variant in cfg.variants:  # each variant's seed is fixed by its name, not by which others run
        gan = models.AudioGan(variant, train, cfg.gan, seed + 10 + models.VARIANTS.index(variant))

        def score(state: TrainState, gan: models.AudioGan = gan) -> None:
            state.records[str(FRACTIONS[marks.index(state.step)])] = _scores(test, gan.sample(cfg.n_samples, seed + 4))

        state = gan.fit([Hook(set(marks), score)], None if workdir is None else workdir / f"{variant}.pt")
        out[variant] = {f: state.records[str(f)] for f in FRACTIONS}
    return out
