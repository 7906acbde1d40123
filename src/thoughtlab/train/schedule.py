"""Learning-rate schedules a recipe applies at the start of each step, from the state's step alone (so a resumed
run continues them exactly)."""

from __future__ import annotations

from dataclasses import dataclass

from thoughtlab.train.core import TrainState


@dataclass(frozen=True)
class LinearDecay:
    """``lr`` until the last ``decay`` share of ``steps``, then linearly down to 0 (CycleGAN's schedule, Zhu et al.
    2017 §4, counted in steps; ``decay`` 0: constant)."""

    lr: float
    steps: int
    decay: float = 0.5

    def at(self, step: int) -> float:
        remaining = (self.steps - step) / (self.decay * self.steps) if self.decay > 0 else 1.0
        return self.lr * min(1.0, remaining)

    def apply(self, state: TrainState) -> None:
        """Set every optimiser's rate for the step about to run."""
        lr = self.at(state.step)
        for optimizer in state.optimizers.values():
            for group in optimizer.param_groups:
                group["lr"] = lr
