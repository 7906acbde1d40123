"""Gradient estimators for a discrete choice, judged exactly on the Bernoulli toy.

The toy (Tucker et al. 2017, REBAR, §6.1; Grathwohl et al. 2018, RELAX, §6.1): minimise
``L(θ) = E_{b~Bernoulli(θ)}[(b − t)²] = θ(1 − t)² + (1 − θ)t²``, whose exact gradient is
``dL/dθ = 1 − 2t`` (0.1 at t = 0.45, 0.002 at t = 0.499).

Every estimator here is a deterministic function of uniform noise ``(u, v) ∈ (0, 1)²``:
``u`` decides ``b = H(z)``, ``z = logit θ + logit u`` (the Gumbel / logistic reparameterisation),
``v`` is a second draw (the conditional ``z̃ | b`` of REBAR/RELAX, or a second sample for the
leave-one-out baseline).  Monte-Carlo moments use random ``(u, v)``; *exact* moments integrate the
same function with Gauss–Legendre nodes on ``u ∈ (0, 1 − θ) ∪ (1 − θ, 1)`` × ``v ∈ (0, 1)``
(:func:`exact_moments`), splitting at the jump of ``b``.

Estimators of ``dL/dθ`` (θ is the probability; ``logit θ`` carries the gradient through ``z``):

- REINFORCE (Williams 1992): ``f(b) ∂log p(b|θ)/∂θ``.
- REINFORCE with a baseline: two samples, each baselined by the other (leave-one-out, Kool et al. 2019).
- Concrete / Gumbel-softmax (Maddison et al. 2017; Jang et al. 2017): ``∂f(σ(z/λ))/∂θ`` — biased.
- Straight-through Gumbel (Jang et al. 2017 §2.2): forward ``H(z)``, backward ``∂σ(z/λ)/∂θ`` — biased.
- REBAR (Tucker et al. 2017, eq. 6): ``[f(b) − η f(σ(z̃/λ))] ∂log p/∂θ + η ∂f(σ(z/λ))/∂θ − η ∂f(σ(z̃/λ))/∂θ``.
- RELAX (Grathwohl et al. 2018, eq. 8): REBAR with a learned control ``c_φ(z) = f(σ(z/λ)) + r_φ(z)``,
  ``φ`` trained to minimise the estimator's second moment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from thoughtlab.errors import BadInput
from thoughtlab.train import TrainState, train

Control = Callable[[torch.Tensor], torch.Tensor]  # z -> c(z), differentiable
UNBIASED = ("reinforce", "reinforce_baseline", "rebar", "relax")
RELAXED = ("concrete", "straight_through")
ESTIMATORS = (*UNBIASED[:2], *RELAXED, *UNBIASED[2:])


def loss(theta: float, t: float) -> float:
    """Exact ``L(θ) = θ(1 − t)² + (1 − θ)t²``."""
    return theta * (1 - t) ** 2 + (1 - theta) * t**2


def exact_gradient(t: float) -> float:
    """Exact ``dL/dθ = 1 − 2t`` (independent of θ)."""
    return 1.0 - 2.0 * t


def reinforce_variance(theta: float, t: float) -> float:
    """Closed-form variance of plain REINFORCE: ``(1−t)⁴/θ + t⁴/(1−θ) − (1 − 2t)²``."""
    return (1 - t) ** 4 / theta + t**4 / (1 - theta) - exact_gradient(t) ** 2


def _f(b: torch.Tensor, t: float) -> torch.Tensor:
    return (b - t) ** 2


def _score(b: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """∂ log p(b | θ) / ∂θ for a Bernoulli probability θ."""
    return b / theta - (1 - b) / (1 - theta)


def _logit(x: torch.Tensor) -> torch.Tensor:
    return torch.log(x) - torch.log1p(-x)


def _conditional_u(b: torch.Tensor, v: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """u | b, reparameterised by v: U(1 − θ, 1) if b = 1, U(0, 1 − θ) if b = 0."""
    return torch.where(b > 0, 1 - theta + v * theta, v * (1 - theta))


@dataclass(frozen=True)
class Toy:
    """The Bernoulli toy at target ``t`` and temperature ``lam`` of the relaxations."""

    t: float
    lam: float = 0.5
    eta: float = 1.0  # REBAR's control-variate scale


def estimate(name: str, toy: Toy, theta: float, u: torch.Tensor, v: torch.Tensor,
             control: Control | None = None) -> torch.Tensor:
    """Per-sample gradient estimates of ``dL/dθ`` (float64, shape of ``u``) for noise ``(u, v)``.

    ``control`` is RELAX's ``c_φ(z)``; required for ``relax``, ignored otherwise.
    """
    if name not in ESTIMATORS:
        raise BadInput(f"unknown estimator {name!r}; choose one of {', '.join(ESTIMATORS)}")
    if not 0 < theta < 1:
        raise BadInput(f"theta must lie in (0, 1), got {theta}; pass a probability")
    if name == "relax" and control is None:
        raise BadInput("relax needs a control c(z); fit one with fit_relax_control")
    u, v = u.to(torch.float64), v.to(torch.float64)
    th = torch.full_like(u, theta, requires_grad=True)  # one θ per sample: grads stay per-sample
    z = _logit(th) + _logit(u)
    b = (z > 0).to(torch.float64).detach()
    f = _f(b, toy.t)
    if name == "reinforce":
        return (f * _score(b, th)).detach()
    if name == "reinforce_baseline":
        z2 = _logit(th) + _logit(v)
        b2 = (z2 > 0).to(torch.float64).detach()
        f2 = _f(b2, toy.t)
        return (0.5 * ((f - f2) * _score(b, th) + (f2 - f) * _score(b2, th))).detach()
    soft = torch.sigmoid(z / toy.lam)
    if name == "concrete":
        surrogate = _f(soft, toy.t)
    elif name == "straight_through":
        surrogate = (2 * (b - toy.t)) * soft  # forward H(z), backward through σ(z/λ)
    else:
        c = control if name == "relax" else (lambda zz: toy.eta * _f(torch.sigmoid(zz / toy.lam), toy.t))
        z_tilde = _logit(th) + _logit(_conditional_u(b, v, th))
        c_tilde = c(z_tilde)
        keep = name == "relax" and torch.is_grad_enabled()  # RELAX trains φ through the estimate itself
        (path,) = torch.autograd.grad((c(z) - c_tilde).sum(), th, create_graph=keep)
        grad = (f - c_tilde) * _score(b, th) + path
        return grad if keep else grad.detach()
    (grad,) = torch.autograd.grad(surrogate.sum(), th)
    return grad


def sample_noise(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` uniform pairs (u, v) in the open unit square from a local generator."""
    g = torch.Generator().manual_seed(seed)
    eps = torch.finfo(torch.float64).eps
    u, v = torch.rand(2, n, generator=g, dtype=torch.float64).clamp(eps, 1 - eps)
    return u, v


def quadrature(theta: float, nodes: int = 200) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gauss–Legendre nodes (u, v) and weights on (0,1)², ``u`` split at ``1 − θ`` (where b jumps)."""
    x, w = np.polynomial.legendre.leggauss(nodes)
    x01, w01 = (x + 1) / 2, w / 2
    u = np.concatenate([x01 * (1 - theta), (1 - theta) + x01 * theta])
    wu = np.concatenate([w01 * (1 - theta), w01 * theta])
    uu, vv = np.meshgrid(u, x01, indexing="ij")
    ww = np.outer(wu, w01)
    return (torch.from_numpy(uu.ravel()), torch.from_numpy(vv.ravel()), torch.from_numpy(ww.ravel()))


@dataclass(frozen=True)
class Moments:
    """Mean, bias (mean − exact gradient) and variance of one estimator."""

    mean: float
    bias: float
    variance: float
    bias_halfwidth: float = 0.0  # 95 % CI half-width of the bias (0 for exact moments)


def exact_moments(name: str, toy: Toy, theta: float, control: Control | None = None, nodes: int = 200) -> Moments:
    """Moments of an estimator by quadrature over its noise (exact up to quadrature error)."""
    u, v, w = quadrature(theta, nodes)
    g = estimate(name, toy, theta, u, v, control).detach()
    mean = float((w * g).sum())
    return Moments(mean, mean - exact_gradient(toy.t), float((w * (g - mean) ** 2).sum()))


def mc_moments(name: str, toy: Toy, theta: float, n: int, seed: int, control: Control | None = None) -> Moments:
    """Monte-Carlo moments from ``n`` draws, with a 95 % normal interval on the bias."""
    u, v = sample_noise(n, seed)
    g = estimate(name, toy, theta, u, v, control).detach()
    mean, var = float(g.mean()), float(g.var())
    return Moments(mean, mean - exact_gradient(toy.t), var, 1.96 * (var / n) ** 0.5)


class RelaxControl(nn.Module):
    """RELAX's control ``c_φ(z) = f(σ(z/λ)) + r_φ(z)``, ``r_φ`` a one-hidden-layer MLP (Grathwohl et al. §3.3)."""

    def __init__(self, toy: Toy, hidden: int = 10, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.toy = toy
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, 1)).double()
        with torch.no_grad():
            for p in self.net.parameters():
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return _f(torch.sigmoid(z / self.toy.lam), self.toy.t) + self.net(z.unsqueeze(-1)).squeeze(-1)


class RelaxFit:
    """Recipe: minimise ``E[ĝ²]`` over φ at fixed θ (= the variance, since ĝ is unbiased for every φ); the noise
    of step k is drawn from its own seed, so a resumed run draws the same."""

    def __init__(self, toy: Toy, theta: float, batch: int, seed: int):
        self.toy, self.theta, self.size, self.seed = toy, theta, batch, seed

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        return sample_noise(self.size, self.seed * 100_003 + step + 1)

    def step(self, state: TrainState, noise: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        g = estimate("relax", self.toy, self.theta, *noise, state.models["control"])
        loss = (g**2).mean()
        opt = state.optimizers["control"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"second_moment": loss.item()}


def fit_relax_control(toy: Toy, theta: float, steps: int = 200, batch: int = 256, seed: int = 0,
                      checkpoint: Path | None = None) -> RelaxControl:
    """RELAX's control trained on the training core (resumed from ``checkpoint`` if it exists)."""
    control = RelaxControl(toy, seed=seed)
    state = TrainState({"t": toy.t, "lam": toy.lam, "theta": theta, "batch": batch, "seed": seed},
                       models={"control": control}, optimizers={"control": torch.optim.Adam(control.parameters(), lr=1e-2)})
    train(RelaxFit(toy, theta, batch, seed), state, steps, checkpoint=checkpoint, every=max(steps // 4, 1), desc="relax")
    return control


def moment_table(toys: tuple[Toy, ...], theta: float, n: int, seed: int, relax_steps: int = 200,
                 nodes: int = 200, workdir: Path | None = None) -> list[dict[str, float | str | None]]:
    """Exact and Monte-Carlo bias/variance of every estimator at each toy (rows for JSON and figures); with
    ``workdir`` each RELAX control checkpoints there (``relax_t<t>.pt``)."""
    rows = []
    for toy in toys:
        ckpt = None if workdir is None else workdir / f"relax_t{toy.t:g}.pt"
        control = fit_relax_control(toy, theta, relax_steps, seed=seed, checkpoint=ckpt)
        for name in ESTIMATORS:
            exact = exact_moments(name, toy, theta, control, nodes)
            mc = mc_moments(name, toy, theta, n, seed + 1, control)
            rows.append({"t": toy.t, "estimator": name, "exact_mean": exact.mean, "exact_bias": exact.bias,
                         "exact_variance": exact.variance, "mc_mean": mc.mean, "mc_bias": mc.bias,
                         "mc_bias_halfwidth": mc.bias_halfwidth, "mc_variance": mc.variance,
                         "snr": abs(exact.mean) / exact.variance**0.5 if exact.variance > 0 else None})
    return rows


def plot_moments(rows: list[dict[str, float | str]], ax_bias, ax_var) -> None:
    """Bias (with MC intervals) and log-variance per estimator, one group of bars per t."""
    ts = sorted({float(r["t"]) for r in rows})
    width = 0.8 / len(ts)
    for k, t in enumerate(ts):
        sel = [r for r in rows if r["t"] == t]
        x = np.arange(len(sel)) + k * width
        ax_bias.bar(x, [r["exact_bias"] for r in sel], width, label=f"t = {t} (exact)")
        ax_bias.errorbar(x, [r["mc_bias"] for r in sel], yerr=[r["mc_bias_halfwidth"] for r in sel],
                         fmt="k.", capsize=2)
        ax_var.bar(x, [np.log10(max(float(r["exact_variance"]), 1e-300)) for r in sel], width, label=f"t = {t}")
    names = [r["estimator"] for r in rows if r["t"] == ts[0]]
    for ax in (ax_bias, ax_var):
        ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names, rotation=30, ha="right")
        ax.legend(fontsize=7)
    ax_bias.axhline(0, color="grey", lw=0.5)
    ax_bias.set_ylabel("bias of dL/dθ estimate")
    ax_var.set_ylabel("log10 variance")
