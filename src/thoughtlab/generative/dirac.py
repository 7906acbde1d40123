"""Dirac-GAN with stale discriminator snapshots: exact predicted growth factors beside simulation.

Mescheder, Geiger & Nowozin (2018), "Which Training Methods for GANs do actually Converge?", §2.2:
the data is a point mass at 0, the generator outputs θ, the discriminator is D(x) = ψx, and

    L(θ, ψ) = f(ψθ) + f(0),   f(t) = −log(1 + e^{−t}),   f′(0) = 1/2.

The discriminator ascends L in ψ, the generator descends it in θ, both with step h.  Near the
equilibrium (0, 0) the updates are linear with a = h f′(0):

* simultaneous:  θ′ = θ − a ψ,  ψ′ = ψ + a θ;  eigenvalues 1 ± i a, so |λ| = √(1 + a²) > 1 (it spirals
  outwards);
* alternating (D first, G against the new D):  ψ′ = ψ + a θ,  θ′ = θ − a ψ′; det = 1, trace 2 − a²,
  so |λ| = 1 for a < 2 (it circles forever).

Staleness (simulated asynchronous SGD): the generator's gradient uses the discriminator τ updates
older than the one it would use otherwise, ψ_{t−τ} (simultaneous) or ψ_{t+1−τ} (alternating).  The
state (θ_t, ψ_t, ψ_{t−1}, …, ψ_{t−τ}) then evolves by a (τ + 2) × (τ + 2) companion matrix whose
spectral radius is the exact asymptotic growth factor per step (:func:`predicted_growth`).
:func:`simulate` runs the *nonlinear* game with autograd gradients from a tiny start (so it stays in
the linear regime), and :func:`measured_growth` fits the per-step growth of |(θ, ψ)| from it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import torch

from thoughtlab.errors import BadInput

SLOPE = 0.5  # f′(0) for f(t) = −log(1 + e^{−t})


@dataclass(frozen=True)
class DiracRun:
    """Configuration of one Dirac-GAN dynamics: step h, staleness τ, alternating or simultaneous."""

    h: float = 0.1
    tau: int = 0
    alternating: bool = False


def check_run(run: DiracRun) -> None:
    if not (run.h > 0 and math.isfinite(run.h)):
        raise BadInput(f"Dirac-GAN step h must be a positive number, got {run.h}")
    if run.tau < 0:
        raise BadInput(f"staleness τ must be ≥ 0 steps, got {run.tau}")


def companion_matrix(run: DiracRun) -> np.ndarray:
    """The linearised update of the state (θ_t, ψ_t, ψ_{t−1}, …, ψ_{t−τ})."""
    check_run(run)
    a, tau = run.h * SLOPE, run.tau
    m = np.zeros((tau + 2, tau + 2))
    m[1, 0], m[1, 1] = a, 1.0  # ψ′ = ψ + a θ (the discriminator always sees the current θ)
    m[0, 0] = 1.0
    if not run.alternating:
        m[0, 1 + tau] -= a  # θ′ = θ − a ψ_{t−τ}
    elif tau == 0:
        m[0] -= a * m[1]  # θ′ = θ − a ψ′ = θ − a(ψ + a θ)
    else:
        m[0, tau] -= a  # θ′ = θ − a ψ_{t+1−τ}
    for k in range(2, tau + 2):
        m[k, k - 1] = 1.0  # shift the history of ψ
    return m


def predicted_growth(run: DiracRun) -> float:
    """Spectral radius of :func:`companion_matrix`: the asymptotic factor by which |(θ, ψ)| grows per step."""
    return float(np.abs(np.linalg.eigvals(companion_matrix(run))).max())


def f(t: torch.Tensor) -> torch.Tensor:
    """f(t) = −log(1 + e^{−t}) = −softplus(−t)."""
    return -torch.nn.functional.softplus(-t)


def simulate(run: DiracRun, steps: int, start: float = 1e-30, ceiling: float = 1e-6) -> np.ndarray:
    """|(θ_t, ψ_t)| for t = 0, 1, … from the nonlinear game with autograd gradients (float64).

    Starts at θ = ψ = ``start`` with the ψ history filled by ψ₀; stops early when the norm passes
    ``ceiling`` (beyond it f′(ψθ) moves away from f′(0) and the linear prediction no longer applies).
    """
    check_run(run)
    if steps < 2:
        raise BadInput(f"simulate at least 2 steps, got {steps}")
    theta = torch.tensor(start, dtype=torch.float64)
    psi = torch.tensor(start, dtype=torch.float64)
    history: deque[torch.Tensor] = deque([psi] * (run.tau + 1), maxlen=run.tau + 1)  # ψ_t … ψ_{t−τ}
    norms = [math.hypot(float(theta), float(psi))]
    for _ in range(steps):
        d_psi = grad_of(lambda p: f(p * theta), psi)
        new_psi = psi + run.h * d_psi  # discriminator ascends
        seen = history[-1] if not run.alternating else ([new_psi, *history][run.tau])
        theta = theta - run.h * grad_of(lambda t: f(seen * t), theta)  # generator descends against ψ seen
        psi = new_psi
        history.appendleft(psi)
        norms.append(math.hypot(float(theta), float(psi)))
        if norms[-1] > ceiling or norms[-1] == 0.0:
            break
    return np.asarray(norms)


def grad_of(fn, x: torch.Tensor) -> torch.Tensor:
    """d fn / d x at x (a scalar), detached."""
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(x), x)
    return g.detach()


def measured_growth(norms: np.ndarray) -> float:
    """exp of the least-squares slope of log |(θ, ψ)| over the second half of a trajectory."""
    if len(norms) < 8 or not np.all(norms > 0):
        raise BadInput(f"growth needs ≥ 8 positive norms, got {len(norms)}")
    tail = np.log(norms[len(norms) // 2:])
    slope = np.polyfit(np.arange(len(tail)), tail, 1)[0]
    return float(math.exp(slope))


def growth_table(h: float, taus: tuple[int, ...], steps: int) -> list[dict[str, float]]:
    """Predicted and simulated growth per step for each τ, simultaneous and alternating."""
    rows = []
    for tau in taus:
        for alternating in (False, True):
            run = DiracRun(h=h, tau=tau, alternating=alternating)
            rows.append({"tau": tau, "alternating": float(alternating), "h": h,
                         "predicted": predicted_growth(run), "measured": measured_growth(simulate(run, steps))})
    return rows
