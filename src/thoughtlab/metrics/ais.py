"""AIS log-likelihood of decoder-based generators and BDMC bounds (Wu et al. 2017; Grosse et al. 2015, 2016).

Model (Wu, Burda, Salakhutdinov & Grosse 2017, "On the Quantitative Analysis of Decoder-Based
Generative Models", §3): a standard normal prior and a Gaussian observation model around the
decoder output, with the *variance* σ² named ``obs_variance``,

    p(z) = N(z; 0, I_d),    log p(x|z) = −‖x − g(z)‖² / (2σ²) − (D/2)·log(2πσ²).

Annealed importance sampling (Neal 2001, "Annealed importance sampling", eqs. 2–4) moves from the
prior f_0 = p(z) to the unnormalised posterior f_T = p(z)·p(x|z) through

    f_t(z) = p(z) · p(x|z)^{β_t},   0 = β_0 < β_1 < … < β_T = 1,

with Wu et al.'s sigmoid schedule (§3.1; δ = 4)

    β_t = (s(δ(2t/T − 1)) − s(−δ)) / (s(δ) − s(−δ)),   s the logistic sigmoid.

A chain starts at z_0 ~ p(z) and, for t = 1..T, accumulates the log importance weight
log w += (β_t − β_{t−1})·log p(x|z_{t−1}) and then moves z_t ~ 𝒯_t(·|z_{t−1}) with an HMC kernel
leaving f_t invariant.  E[w] = Z_T/Z_0 = p(x) (Neal 2001, eq. 4), so with K chains

    log p̂(x) = log (1/K) Σ_k w_k   (log-mean-exp),

an unbiased estimate of p(x) and hence, by Jensen, a stochastic LOWER bound on log p(x).

HMC (Neal 2011) uses potential U(z) = ½‖z‖² − β·log p(x|z), unit-mass momenta, ``leapfrog``
steps, and a Metropolis test.  The step size adapts as in Wu et al.'s code (eval_gen, after the
deeplearning.net HMC tutorial): an exponential moving average (factor 0.9) of the acceptance
indicator, started at the target 0.65; the step is multiplied by 1.02 when the average exceeds the
target and by 0.98 otherwise, clipped to [1e-4, 0.5].  Here the average and the step are kept
per chain by default (eval_gen shares one across chains: ``share_step_size=True``).  Adapting the
kernel from the chain's own history is, strictly, outside Neal's assumptions; Wu et al. accept it.

BDMC (Grosse, Ghahramani & Adams 2015, "Sandwiching the marginal likelihood using bidirectional
Monte Carlo", §4; Grosse et al. 2016, §3): on data SIMULATED from the model, (z, x) ~ p(z)p(x|z),
z is an exact posterior sample.  Running the schedule backwards from it (β_T → β_0) gives weights
with E[w_rev] = Z_0/Z_T = 1/p(x), so −log (1/K) Σ_k w_rev,k is a stochastic UPPER bound on
log p(x).  The gap upper − lower bounds the error of either estimate on simulated data.

The decoder must map a batch of latents (B, d) to means (B, *event_shape) row by row (no
cross-row coupling such as batch norm in training mode) and be differentiable in z.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from thoughtlab.errors import BadInput
from thoughtlab.metrics.checks import positive_int
from thoughtlab.train.progress import show_progress

Decoder = Callable[[torch.Tensor], torch.Tensor]

SIGMOID_DELTA = 4.0
ACCEPTANCE_EMA = 0.9
STEP_INCREASE, STEP_DECREASE = 1.02, 0.98
STEP_BOUNDS = (1e-4, 0.5)


def sigmoid_schedule(steps: int, delta: float = SIGMOID_DELTA) -> np.ndarray:
    """β_0..β_T (T = ``steps``) of Wu et al. 2017 §3.1 in float64: 0 and 1 at the ends, increasing."""
    steps = positive_int(steps, "AIS steps")
    sigmoid = lambda v: 1.0 / (1.0 + np.exp(-v))
    raw = sigmoid(delta * (2.0 * np.arange(steps + 1) / steps - 1.0))
    betas = (raw - sigmoid(-delta)) / (sigmoid(delta) - sigmoid(-delta))
    betas[0], betas[-1] = 0.0, 1.0
    return betas


def gaussian_log_likelihood(x: torch.Tensor, mean: torch.Tensor, obs_variance: float) -> torch.Tensor:
    """log N(x; mean, σ²I) per row of the (B, D) inputs, σ² = ``obs_variance`` (the variance, not σ)."""
    dim = x.shape[1]
    return -(x - mean).pow(2).sum(dim=1) / (2.0 * obs_variance) - 0.5 * dim * math.log(2.0 * math.pi * obs_variance)


class _Target:
    """log p(x|z) and its gradient in z for B = n·K chains; x is repeated K times per example."""

    def __init__(self, decoder: Decoder, x: torch.Tensor, chains: int, obs_variance: float):
        self.decoder, self.obs_variance = decoder, obs_variance
        self.event_shape = tuple(x.shape[1:])
        self.x = x.reshape(len(x), -1).repeat_interleave(chains, dim=0)

    def __call__(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            mean = self.decoder(z)
            if not torch.is_tensor(mean) or tuple(mean.shape) != (len(z), *self.event_shape):
                shape = tuple(mean.shape) if torch.is_tensor(mean) else type(mean).__name__
                raise BadInput(f"decoder output has shape {shape} for {len(z)} latents but the data need "
                               f"{(len(z), *self.event_shape)}; make the decoder return one mean per latent row")
            log_lik = gaussian_log_likelihood(self.x, mean.reshape(len(z), -1).to(self.x.dtype), self.obs_variance)
            if not log_lik.requires_grad:
                raise BadInput("decoder output does not depend differentiably on z; AIS's HMC needs gradients")
            (grad,) = torch.autograd.grad(log_lik.sum(), z)
        return log_lik.detach(), grad


class _Sampler:
    """HMC with Wu et al.'s adaptive step size, run along a β schedule (Neal 2001 AIS)."""

    def __init__(self, target: _Target, leapfrog: int, step_size: float, target_acceptance: float,
                 share_step_size: bool, generator: torch.Generator):
        self.target, self.leapfrog, self.generator = target, leapfrog, generator
        self.initial_step, self.target_acceptance, self.share = step_size, target_acceptance, share_step_size

    def _randn(self, like: torch.Tensor) -> torch.Tensor:
        return torch.randn(like.shape, generator=self.generator, device=like.device, dtype=like.dtype)

    def _hmc(self, z, log_lik, grad, beta, step):
        """One HMC transition leaving f_β invariant; returns the new state and the acceptance indicator."""
        momentum = self._randn(z)
        p = momentum - 0.5 * step * (z - beta * grad)
        z_new = z
        for index in range(self.leapfrog):
            z_new = z_new + step * p
            log_lik_new, grad_new = self.target(z_new)
            scale = step if index < self.leapfrog - 1 else 0.5 * step
            p = p - scale * (z_new - beta * grad_new)
        h_old = 0.5 * z.pow(2).sum(1) - beta * log_lik + 0.5 * momentum.pow(2).sum(1)
        h_new = 0.5 * z_new.pow(2).sum(1) - beta * log_lik_new + 0.5 * p.pow(2).sum(1)
        uniform = torch.rand(len(z), generator=self.generator, device=z.device, dtype=z.dtype)
        accept = torch.log(uniform) < h_old - h_new  # NaN energies compare False: rejected
        keep = accept.unsqueeze(1)
        return (torch.where(keep, z_new, z), torch.where(accept, log_lik_new, log_lik),
                torch.where(keep, grad_new, grad), accept)

    def anneal(self, z: torch.Tensor, betas: Sequence[float], desc: str,
               progress: bool) -> tuple[torch.Tensor, dict[str, float]]:
        """log w (float64, one per chain) of AIS along ``betas`` from the start states ``z``."""
        log_lik, grad = self.target(z)
        if not (torch.isfinite(log_lik).all() and torch.isfinite(grad).all()):
            raise BadInput("decoder gives a NaN or Inf log-likelihood (or gradient) at the chains' start states; "
                           "check that the decoder is finite for latents drawn from N(0, I)")
        log_w = torch.zeros(len(z), dtype=torch.float64, device=z.device)
        step = torch.full((len(z), 1), self.initial_step, dtype=z.dtype, device=z.device)
        rate = torch.full((len(z), 1), self.target_acceptance, dtype=z.dtype, device=z.device)
        accepted = torch.zeros((), dtype=torch.float64, device=z.device)
        for t in tqdm(range(1, len(betas)), desc=desc, disable=not progress, leave=False):
            log_w += (betas[t] - betas[t - 1]) * log_lik.to(torch.float64)
            z, log_lik, grad, accept = self._hmc(z, log_lik, grad, betas[t], step)
            accepted += accept.sum()
            rate = self._adapt_rate(rate, accept)
            step = torch.where(rate > self.target_acceptance, step * STEP_INCREASE, step * STEP_DECREASE)
            step = step.clamp(*STEP_BOUNDS)
        diagnostics = {"acceptance_rate": float(accepted) / (len(z) * (len(betas) - 1)),
                       "final_step_size_mean": float(step.mean())}
        return log_w, diagnostics

    def _adapt_rate(self, rate: torch.Tensor, accept: torch.Tensor) -> torch.Tensor:
        observed = accept.to(rate.dtype).unsqueeze(1)
        if self.share:
            observed = observed.mean().expand_as(rate)
        return ACCEPTANCE_EMA * rate + (1.0 - ACCEPTANCE_EMA) * observed


def _log_mean_exp(log_w: torch.Tensor, n: int) -> torch.Tensor:
    """log (1/K) Σ_k exp(log w_k) per example, from chain-major-within-example log weights (n·K,)."""
    per_example = log_w.view(n, -1)
    return torch.logsumexp(per_example, dim=1) - math.log(per_example.shape[1])


def _check_data(x: Any) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not torch.is_tensor(x):
        raise BadInput(f"AIS data must be a torch tensor or numpy array, got {type(x).__name__}")
    if x.ndim < 2 or len(x) == 0:
        raise BadInput(f"AIS data must have shape (examples, *event) with at least one example, got "
                       f"{tuple(x.shape)}; add a batch dimension")
    if not x.is_floating_point():
        raise BadInput(f"AIS data have dtype {x.dtype}; convert to float on the decoder's output scale first")
    x = x.detach().float() if x.dtype in (torch.float16, torch.bfloat16) else x.detach()
    bad = (~torch.isfinite(x.reshape(len(x), -1))).any(dim=1).nonzero()
    if len(bad):
        raise BadInput(f"AIS data: {len(bad)} example(s) contain NaN or Inf (first: row {int(bad[0])}); "
                       "drop or fix those examples")
    return x


def _check_positive(value: Any, name: str, upper: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not 0.0 < float(value) < upper:
        bound = f" and < {upper:g}" if math.isfinite(upper) else " and finite"
        raise BadInput(f"{name} must be a number > 0{bound}, got {value!r}")
    return float(value)


def _settings(latent_dim, obs_variance, steps, chains, leapfrog, step_size, target_acceptance) -> dict[str, Any]:
    return {"latent_dim": positive_int(latent_dim, "latent_dim"),
            "obs_variance": _check_positive(obs_variance, "obs_variance (σ², the variance)"),
            "steps": positive_int(steps, "AIS steps"), "chains": positive_int(chains, "AIS chains"),
            "leapfrog": positive_int(leapfrog, "HMC leapfrog steps"),
            "initial_step_size": _check_positive(step_size, "HMC step_size"),
            "target_acceptance": _check_positive(target_acceptance, "HMC target_acceptance", upper=1.0)}


def _protocol(settings: dict[str, Any], n: int, obs_dim: int, seed: int, share_step_size: bool) -> dict[str, Any]:
    return {**settings, "examples": n, "obs_dim": obs_dim, "seed": seed, "prior": "N(0, I)",
            "observation_model": "N(x; g(z), obs_variance*I)", "schedule": f"sigmoid (delta={SIGMOID_DELTA:g})",
            "transition": "HMC, unit mass", "step_size_adaptation": {
                "per": "all chains (shared)" if share_step_size else "chain", "acceptance_ema": ACCEPTANCE_EMA,
                "increase": STEP_INCREASE, "decrease": STEP_DECREASE, "bounds": list(STEP_BOUNDS)},
            "estimator": "log-mean-exp of importance weights over chains", "units": "nats per example"}


def _summary(per_example: torch.Tensor) -> dict[str, Any]:
    values = per_example.cpu().double()
    std = float(values.std()) if len(values) > 1 else 0.0
    return {"value": float(values.mean()), "per_example": values.tolist(), "std": std,
            "stderr": std / math.sqrt(len(values))}


def _check_decoder(decoder: Any) -> None:
    if not callable(decoder):
        raise BadInput(f"decoder must be callable (latents (B, d) -> means), got {type(decoder).__name__}")


def ais_log_likelihood(decoder: Decoder, x: Any, *, latent_dim: int, obs_variance: float, steps: int = 10000,
                       chains: int = 16, leapfrog: int = 10, step_size: float = 0.01, target_acceptance: float = 0.65,
                       share_step_size: bool = False, seed: int = 0, progress: bool | None = None) -> dict[str, Any]:
    """Forward-AIS estimate of log p(x) (nats) for each example of ``x`` under N(x; g(z), σ²I), z ~ N(0, I).

    Args:
        decoder: g, mapping latents (B, latent_dim) to means (B, *x.shape[1:]), differentiable in z.
        x: data (n, *event), float, on the device the decoder runs on (the computation follows x's device/dtype).
        obs_variance: σ², the observation VARIANCE (eval_gen's ``sigma`` argument is this variance too).
        steps: T, the number of intermediate distributions of the sigmoid schedule (eval_gen: 10000).
        chains: K independent chains per example (eval_gen: 16); leapfrog: L steps per HMC move (10).
        step_size, target_acceptance: HMC initial step and the acceptance rate the adaptation aims for.
        share_step_size: adapt one step size for all chains (eval_gen) instead of one per chain.
        seed: seeds a torch.Generator on x's device; results are bit-for-bit repeatable on CPU.
        progress: tqdm bar over temperatures; default only when stderr is a terminal.

    Returns:
        ``{"value": mean log p̂(x) over examples, "per_example": [...], "std": std over examples (ddof=1),
        "stderr": std/√n, "diagnostics": {...}, "protocol": {...}}``; each estimate is a stochastic lower bound.
    """
    _check_decoder(decoder)
    data = _check_data(x)
    settings = _settings(latent_dim, obs_variance, steps, chains, leapfrog, step_size, target_acceptance)
    generator = torch.Generator(device=data.device).manual_seed(int(seed))
    n, k, d = len(data), settings["chains"], settings["latent_dim"]
    sampler = _Sampler(_Target(decoder, data, k, settings["obs_variance"]), settings["leapfrog"],
                       settings["initial_step_size"], settings["target_acceptance"], share_step_size, generator)
    z0 = torch.randn((n * k, d), generator=generator, device=data.device, dtype=data.dtype)
    betas = sigmoid_schedule(settings["steps"]).tolist()
    log_w, diagnostics = sampler.anneal(z0, betas, "AIS", show_progress(progress))
    estimate = _log_mean_exp(log_w, n)
    diagnostics["log_weight_std_over_chains"] = float(log_w.view(n, k).std(dim=1).mean()) if k > 1 else 0.0
    protocol = {**_protocol(settings, n, data[0].numel(), seed, share_step_size), "bound": "stochastic lower"}
    return {**_summary(estimate), "diagnostics": diagnostics, "protocol": protocol}


def simulate(decoder: Decoder, latent_dim: int, n: int, obs_variance: float, generator: torch.Generator,
             dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """(z, x) with z ~ N(0, I) and x ~ N(g(z), σ²I): z is an exact posterior sample for x (Grosse et al. 2015 §4)."""
    z = torch.randn((n, latent_dim), generator=generator, device=generator.device, dtype=dtype)
    with torch.no_grad():
        mean = decoder(z)
    if not torch.is_tensor(mean) or mean.ndim < 2 or len(mean) != n:
        shape = tuple(mean.shape) if torch.is_tensor(mean) else type(mean).__name__
        raise BadInput(f"decoder output has shape {shape} for {n} latents; return one mean per latent row")
    mean = mean.detach().to(dtype)
    if not torch.isfinite(mean).all():
        raise BadInput("decoder returned NaN or Inf for prior samples; check the decoder")
    noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=dtype)
    return z, mean + math.sqrt(obs_variance) * noise


def bdmc(decoder: Decoder, latent_dim: int, n: int, *, obs_variance: float, steps: int = 10000, chains: int = 16,
         leapfrog: int = 10, step_size: float = 0.01, target_acceptance: float = 0.65, share_step_size: bool = False,
         seed: int = 0, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
         progress: bool | None = None) -> dict[str, Any]:
    """Bidirectional Monte Carlo (Grosse et al. 2015, 2016) on ``n`` examples simulated from the model.

    The forward AIS chains (from the prior) give a stochastic lower bound on log p(x); reverse chains,
    all K started from the exact posterior sample z that generated x and annealed β = 1 → 0, give a
    stochastic upper bound.  Arguments as :func:`ais_log_likelihood`; ``device``/``dtype`` place the
    simulation.  One generator seeded with ``seed`` drives simulation, then the forward, then the reverse pass.

    Returns:
        ``{"lower", "upper", "gap" (upper − lower, mean nats per example), "lower_per_example",
        "upper_per_example", "gap_per_example", "lower_stderr", "upper_stderr", "diagnostics",
        "protocol", "x", "z"}`` — ``x`` and ``z`` are the simulated tensors.
    """
    _check_decoder(decoder)
    n = positive_int(n, "BDMC examples")
    settings = _settings(latent_dim, obs_variance, steps, chains, leapfrog, step_size, target_acceptance)
    if dtype not in (torch.float32, torch.float64):
        raise BadInput(f"BDMC dtype must be torch.float32 or torch.float64, got {dtype}")
    generator = torch.Generator(device=torch.device(device)).manual_seed(int(seed))
    d, k = settings["latent_dim"], settings["chains"]
    z, x = simulate(decoder, d, n, settings["obs_variance"], generator, dtype)
    sampler = _Sampler(_Target(decoder, x, k, settings["obs_variance"]), settings["leapfrog"],
                       settings["initial_step_size"], settings["target_acceptance"], share_step_size, generator)
    betas = sigmoid_schedule(settings["steps"]).tolist()
    show = show_progress(progress)
    z_prior = torch.randn((n * k, d), generator=generator, device=x.device, dtype=dtype)
    forward_log_w, forward_diag = sampler.anneal(z_prior, betas, "BDMC forward", show)
    reverse_log_w, reverse_diag = sampler.anneal(z.repeat_interleave(k, dim=0), betas[::-1], "BDMC reverse", show)
    lower = _summary(_log_mean_exp(forward_log_w, n))
    upper = _summary(-_log_mean_exp(reverse_log_w, n))
    gaps = [u - l for u, l in zip(upper["per_example"], lower["per_example"])]
    protocol = {**_protocol(settings, n, x[0].numel(), seed, share_step_size),
                "reverse_start": "the exact posterior sample that generated each x, shared by its K chains"}
    return {"lower": lower["value"], "upper": upper["value"], "gap": upper["value"] - lower["value"],
            "lower_per_example": lower["per_example"], "upper_per_example": upper["per_example"],
            "gap_per_example": gaps, "lower_stderr": lower["stderr"], "upper_stderr": upper["stderr"],
            "diagnostics": {"forward": forward_diag, "reverse": reverse_diag}, "protocol": protocol, "x": x, "z": z}
