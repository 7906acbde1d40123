"""Skill rating of GAN snapshots (Olsson, Bhupatiraju, Brown, Odena & Goodfellow 2018, "Skill Rating
for Generative Models", arXiv:1808.04888) with Glicko-2 (Glickman, "Example of the Glicko-2 system").

Players are generator and discriminator snapshots.  In a match a discriminator D judges
``samples_per_match`` samples of a generator G; each sample is a game that G wins when D calls it
real (score > 0.5).  When real data is given, a "data" player joins the generator side: it plays D
on real samples and wins a game when D calls a real sample fake, so a discriminator that calls
everything fake is not rewarded.  A match's outcome for the generator side is its fraction of
games won (``outcome="fraction"``, a soft Glicko score) or 1 / ½ / 0 by majority
(``outcome="majority"``); the discriminator scores the complement.

Each of ``rounds`` rating periods plays every (generator-side, discriminator) pair once on fresh
samples and then updates all players simultaneously from their pre-period ratings (Glicko-2 steps
1–8, volatility by the Illinois iteration).  Ratings are relative to the tournament.

Glicko-2 is implemented here rather than taken from the PyPI ``glicko2`` 2.1.0 package: that
package evaluates Glickman's volatility function f with μ² where the formula has φ² (so its σ′ in
the worked example is 0.0599934 instead of 0.0599960), and it updates one player at a time.

User callables: a generator is ``sample(n) -> tensor (n, ...)``; a discriminator is
``score(x) -> tensor (n,)`` of probabilities that x is real.  Calls run inside
``torch.random.fork_rng`` seeded per (round, generator), so callables drawing from torch's global
generator give bit-identical tournaments for a given seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from thoughtlab.errors import BadInput
from thoughtlab.metrics.checks import choice, positive_int, require_finite, to_numpy
from thoughtlab.stats import child_seed

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GLICKO2_SCALE = 173.7178
OUTCOMES = ("fraction", "majority")


@dataclass(frozen=True)
class Rating:
    """A Glicko-2 rating on the Glicko scale: rating r, deviation RD and volatility σ."""

    rating: float = 1500.0
    rd: float = 350.0
    volatility: float = 0.06


def _g(phi: float) -> float:
    return 1.0 / math.sqrt(1.0 + 3.0 * phi * phi / math.pi ** 2)


def _new_volatility(phi: float, sigma: float, delta: float, v: float, tau: float, epsilon: float) -> float:
    """Step 5: σ′ = exp(A/2) with A the root of Glickman's f, found by the Illinois iteration."""
    a = math.log(sigma * sigma)

    def f(x: float) -> float:
        ex = math.exp(x)
        return ex * (delta * delta - phi * phi - v - ex) / (2.0 * (phi * phi + v + ex) ** 2) - (x - a) / tau ** 2

    big_a = a
    if delta * delta > phi * phi + v:
        big_b = math.log(delta * delta - phi * phi - v)
    else:
        k = 1
        while f(a - k * tau) < 0:
            k += 1
        big_b = a - k * tau
    f_a, f_b = f(big_a), f(big_b)
    while abs(big_b - big_a) > epsilon:
        big_c = big_a + (big_a - big_b) * f_a / (f_b - f_a)
        f_c = f(big_c)
        if f_c * f_b <= 0:
            big_a, f_a = big_b, f_b
        else:
            f_a /= 2.0
        big_b, f_b = big_c, f_c
    return math.exp(big_a / 2.0)


def glicko2_update(player: Rating, opponents: Sequence[Rating], scores: Sequence[float], tau: float = 0.5,
                   epsilon: float = 1e-6) -> Rating:
    """One Glicko-2 rating period for ``player`` against ``opponents`` with ``scores`` in [0, 1] (steps 1–8).

    A player without games keeps r and σ and has φ′ = √(φ² + σ²) (step 6 only).
    """
    mu, phi = (player.rating - 1500.0) / GLICKO2_SCALE, player.rd / GLICKO2_SCALE
    if not opponents:
        return Rating(player.rating, math.sqrt(phi ** 2 + player.volatility ** 2) * GLICKO2_SCALE, player.volatility)
    inv_v, improvement = 0.0, 0.0
    for opponent, score in zip(opponents, scores):
        g = _g(opponent.rd / GLICKO2_SCALE)
        expected = 1.0 / (1.0 + math.exp(-g * (mu - (opponent.rating - 1500.0) / GLICKO2_SCALE)))
        inv_v += g * g * expected * (1.0 - expected)
        improvement += g * (score - expected)
    v = 1.0 / inv_v
    sigma = _new_volatility(phi, player.volatility, v * improvement, v, tau, epsilon)
    phi_star = math.sqrt(phi * phi + sigma * sigma)
    new_phi = 1.0 / math.sqrt(1.0 / phi_star ** 2 + 1.0 / v)
    new_mu = mu + new_phi ** 2 * improvement
    return Rating(new_mu * GLICKO2_SCALE + 1500.0, new_phi * GLICKO2_SCALE, sigma)


def rate_period(ratings: Sequence[Rating], games: Sequence[tuple[int, int, float]], tau: float = 0.5) -> list[Rating]:
    """Update all players simultaneously from ``games`` (i, j, score of i against j) played in one period."""
    opponents: list[list[Rating]] = [[] for _ in ratings]
    scores: list[list[float]] = [[] for _ in ratings]
    for i, j, score in games:
        opponents[i].append(ratings[j])
        scores[i].append(score)
        opponents[j].append(ratings[i])
        scores[j].append(1.0 - score)
    return [glicko2_update(r, o, s, tau) for r, o, s in zip(ratings, opponents, scores)]


def _samples(generator: Callable[[int], Any], n: int, seed: int, name: str) -> torch.Tensor:
    """``generator(n)`` under a forked torch RNG seeded with ``seed``, checked for shape and finiteness."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        with torch.no_grad():
            x = generator(n)
    x = x if torch.is_tensor(x) else torch.from_numpy(np.asarray(to_numpy(x, name)))
    if x.ndim == 0 or x.shape[0] != n:
        raise BadInput(f"{name}: sample({n}) returned shape {tuple(x.shape)}; it must return {n} samples "
                       "along the first dimension")
    require_finite(x.detach().cpu().double().reshape(n, -1).numpy(), f"samples of {name}")
    return x


def _error_rate(discriminator: Callable[[Any], Any], x: torch.Tensor, real: bool, name: str) -> float:
    """Fraction of ``x`` that ``discriminator`` misjudges (calls real samples fake, fake samples real)."""
    with torch.no_grad():
        scores = discriminator(x)
    p = np.asarray(to_numpy(scores, name), dtype=np.float64).reshape(-1)
    if p.shape != (len(x),):
        raise BadInput(f"{name}: score(x) returned {np.size(p)} values for {len(x)} samples; return one "
                       "probability of 'real' per sample")
    if not np.isfinite(p).all() or p.min() < 0 or p.max() > 1:
        raise BadInput(f"{name}: scores must be finite probabilities in [0, 1]; apply a sigmoid to logits")
    called_real = p > 0.5
    return float(np.mean(~called_real if real else called_real))


def _match_score(error_rate: float, outcome: str) -> float:
    """The generator side's Glicko score of one match."""
    if outcome == "fraction":
        return float(error_rate)
    return 1.0 if error_rate > 0.5 else 0.5 if error_rate == 0.5 else 0.0


def play_tournament(generators: Sequence[Callable[[int], Any]], discriminators: Sequence[Callable[[Any], Any]],
                    real: Any = None, *, samples_per_match: int = 64, rounds: int = 3, seed: int = 0,
                    outcome: str = "fraction", tau: float = 0.5, initial: Rating = Rating(),
                    generator_names: Sequence[str] | None = None,
                    discriminator_names: Sequence[str] | None = None) -> dict[str, Any]:
    """Round-robin tournament of generator against discriminator snapshots, rated with Glicko-2.

    Args:
        generators: ``sample(n) -> tensor`` callables (e.g. snapshots in training order).
        discriminators: ``score(x) -> tensor of P(real)`` callables.
        real: optional real samples (array/tensor, first dimension = samples); adds the "data" player.
        samples_per_match: games per match.  rounds: rating periods (fresh samples each).
        seed: seeds every sample draw.  outcome: ``"fraction"`` or ``"majority"``.  tau: Glicko-2 τ.

    Returns:
        A dict with ``"generator_names"``, ``"discriminator_names"``, ``"win_rate"`` (generator side ×
        discriminators: mean fraction of games the generator side won), ``"tournament_win_rate"``
        (its row means), final ``"generator_ratings"``/``"generator_rd"``/``"discriminator_ratings"``/
        ``"discriminator_rd"``, ``"history"`` (ratings after each round) and ``"protocol"``.
    """
    if not generators or not discriminators:
        raise BadInput("a tournament needs at least one generator and one discriminator snapshot")
    n = positive_int(samples_per_match, "samples_per_match")
    rounds = positive_int(rounds, "rounds")
    outcome = choice(outcome, "match outcome", OUTCOMES)
    g_names = list(generator_names or [f"G{i}" for i in range(len(generators))])
    d_names = list(discriminator_names or [f"D{j}" for j in range(len(discriminators))])
    if len(g_names) != len(generators) or len(d_names) != len(discriminators):
        raise BadInput("generator_names/discriminator_names must have one name per snapshot")
    players: list[Callable[[int], Any]] = list(generators)
    if real is not None:
        real_data = real if torch.is_tensor(real) else torch.from_numpy(np.asarray(to_numpy(real, "real samples")))
        if real_data.ndim == 0 or len(real_data) < 1:
            raise BadInput("real samples: pass at least one sample along the first dimension")
        players.append(lambda k: real_data[torch.randint(len(real_data), (k,))])
        g_names.append("data")
    side, n_d = len(players), len(discriminators)
    ratings = [initial] * (side + n_d)
    wins = np.zeros((rounds, side, n_d))
    history: list[list[Rating]] = []
    for round_index in range(rounds):
        games = []
        for g, player in enumerate(players):
            x = _samples(player, n, child_seed(seed, round_index, g), g_names[g])
            for d, discriminator in enumerate(discriminators):
                wins[round_index, g, d] = _error_rate(discriminator, x, g == len(generators), d_names[d])
                games.append((g, side + d, _match_score(wins[round_index, g, d], outcome)))
        ratings = rate_period(ratings, games, tau)
        history.append(ratings)
    win_rate = wins.mean(axis=0)

    def column(period: list[Rating], start: int, stop: int, key: str) -> list[float]:
        return [getattr(r, key) for r in period[start:stop]]

    return {
        "generator_names": g_names, "discriminator_names": d_names,
        "win_rate": win_rate.tolist(), "tournament_win_rate": win_rate.mean(axis=1).tolist(),
        "generator_ratings": column(ratings, 0, side, "rating"), "generator_rd": column(ratings, 0, side, "rd"),
        "discriminator_ratings": column(ratings, side, side + n_d, "rating"),
        "discriminator_rd": column(ratings, side, side + n_d, "rd"),
        "history": {"generator_ratings": [column(p, 0, side, "rating") for p in history],
                    "discriminator_ratings": [column(p, side, side + n_d, "rating") for p in history]},
        "protocol": {"samples_per_match": n, "rounds": rounds, "seed": seed, "outcome": outcome, "tau": tau,
                     "initial": {"rating": initial.rating, "rd": initial.rd, "volatility": initial.volatility},
                     "game": "generator side wins when D misjudges a sample (threshold 0.5)",
                     "data_player": real is not None, "update": "simultaneous per round (Glicko-2)"}}


def plot_skill(result: dict[str, Any], title: str = "Skill rating") -> Figure:
    """Win-rate heat map (generator side × discriminators) and final ratings ± RD over snapshots; a Figure."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    heat, line = fig.subplots(1, 2)
    image = heat.imshow(np.asarray(result["win_rate"]), vmin=0, vmax=1, cmap="viridis", aspect="auto")
    heat.set(xticks=range(len(result["discriminator_names"])), xticklabels=result["discriminator_names"],
             yticks=range(len(result["generator_names"])), yticklabels=result["generator_names"],
             xlabel="discriminator", ylabel="generator side", title="generator-side win rate")
    fig.colorbar(image, ax=heat)
    has_data = result["protocol"]["data_player"]
    n_generators = len(result["generator_names"]) - int(has_data)
    for key, count in (("generator", n_generators), ("discriminator", len(result["discriminator_names"]))):
        line.errorbar(np.arange(count), result[f"{key}_ratings"][:count], yerr=result[f"{key}_rd"][:count],
                      marker="o", capsize=3, label=f"{key}s")
    if has_data:
        line.axhline(result["generator_ratings"][-1], color="grey", linestyle="--", label="data")
    line.set(xlabel="snapshot", ylabel="Glicko-2 rating (± RD)", title=title)
    line.legend()
    fig.tight_layout()
    return fig
