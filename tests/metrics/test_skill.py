"""Skill rating: Glickman's worked example, simultaneous periods, ranking generators, seeds, bad input."""

import math

import matplotlib.figure
import numpy as np
import pytest
import torch

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.metrics import Rating, glicko2_update, play_tournament, plot_skill, rate_period

EXAMPLE_OPPONENTS = [Rating(1400, 30), Rating(1550, 100), Rating(1700, 300)]


def test_glickman_worked_example():
    """Glickman, "Example of the Glicko-2 system": r′ = 1464.06, RD′ = 151.52, σ′ = 0.05999 (τ = 0.5)."""
    new = glicko2_update(Rating(1500, 200, 0.06), EXAMPLE_OPPONENTS, [1, 0, 0], tau=0.5)
    assert abs(new.rating - 1464.06) < 0.01  # exact arithmetic gives 1464.0507; the paper rounds μ′ to -0.2069
    assert round(new.rd, 2) == 151.52
    assert abs(new.volatility - 0.05999) < 1e-5


def test_rating_and_rd_agree_with_the_glicko2_package():
    glicko2 = pytest.importorskip("glicko2")
    theirs = glicko2.Player(1500, 200, 0.06)
    theirs.update_player([r.rating for r in EXAMPLE_OPPONENTS], [r.rd for r in EXAMPLE_OPPONENTS], [1, 0, 0])
    ours = glicko2_update(Rating(1500, 200, 0.06), EXAMPLE_OPPONENTS, [1, 0, 0])
    # the package's volatility function uses μ² where Glickman has φ²: σ′ differs in the 6th decimal
    assert ours.rating == pytest.approx(theirs.rating, abs=1e-4)
    assert ours.rd == pytest.approx(theirs.rd, abs=1e-4)


def test_a_player_without_games_only_gains_deviation():
    new = glicko2_update(Rating(1600, 100, 0.06), [], [])
    assert new.rating == 1600 and new.volatility == 0.06
    assert new.rd == pytest.approx(math.hypot(100, 0.06 * 173.7178))


def test_rating_periods_are_simultaneous_and_order_free():
    start = [Rating(), Rating(1600, 80), Rating(1400, 200)]
    games = [(0, 1, 1.0), (1, 2, 0.25), (0, 2, 0.5)]
    assert rate_period(start, games) == rate_period(start, games[::-1])
    winner, loser = rate_period([Rating(), Rating()], [(0, 1, 1.0)])
    assert winner.rating - 1500 == pytest.approx(1500 - loser.rating) and winner.rating > 1500


def _generator(mean):
    return lambda n: torch.randn(n, 1) + mean


def _discriminator(mean):
    """Bayes-optimal D between N(0, 1) (real) and N(mean, 1) (fake), with equal priors."""
    return lambda x: torch.sigmoid(-(mean * x[:, 0] - mean * mean / 2))


def _tournament(seed=0, **kwargs):
    means = [3.0, 1.5, 0.5, 0.1]  # snapshots in training order: later generators are closer to the data
    real = torch.randn(500, 1, generator=torch.Generator().manual_seed(9))
    return play_tournament([_generator(m) for m in means], [_discriminator(m) for m in (3.0, 1.5, 0.5)], real,
                           samples_per_match=64, rounds=3, seed=seed, **kwargs)


def test_stronger_generators_get_higher_ratings():
    result = _tournament()
    ratings = result["generator_ratings"]
    assert result["generator_names"] == ["G0", "G1", "G2", "G3", "data"]
    assert ratings[0] < ratings[1] < ratings[2] < ratings[3]
    win_rate = np.asarray(result["win_rate"])
    assert win_rate.shape == (5, 3) and ((0 <= win_rate) & (win_rate <= 1)).all()
    assert result["tournament_win_rate"][0] < 0.1 and result["tournament_win_rate"][3] > 0.3
    assert len(result["history"]["generator_ratings"]) == 3
    majority = _tournament(outcome="majority")["generator_ratings"]
    assert majority[0] < majority[3]


def test_tournament_seeds_bit_for_bit():
    first = _tournament(seed=1)
    assert first == _tournament(seed=1)
    assert first["win_rate"] != _tournament(seed=2)["win_rate"]


def test_plot_returns_a_figure():
    figure = plot_skill(_tournament())
    assert isinstance(figure, matplotlib.figure.Figure) and len(figure.axes) >= 2


def test_skill_bad_inputs():
    gen, disc = _generator(1.0), _discriminator(1.0)
    with pytest.raises(BadInput, match="at least one generator"):
        play_tournament([], [disc])
    with pytest.raises(BadInput, match="sample\\(8\\) returned shape \\(7, 1\\)"):
        play_tournament([lambda n: torch.zeros(n - 1, 1)], [disc], samples_per_match=8)
    with pytest.raises(BadInput, match="NaN or Inf"):
        play_tournament([lambda n: torch.full((n, 1), float("nan"))], [disc])
    with pytest.raises(BadInput, match="probabilities in \\[0, 1\\]"):
        play_tournament([gen], [lambda x: x[:, 0] * 10])
    with pytest.raises(BadInput, match="returned 16 values for 8 samples"):
        play_tournament([gen], [lambda x: torch.rand(2 * len(x))], samples_per_match=8)
    with pytest.raises(BadInput, match="samples_per_match must be an integer"):
        play_tournament([gen], [disc], samples_per_match=0)
    with pytest.raises(UnknownName):
        play_tournament([gen], [disc], outcome="elo")
