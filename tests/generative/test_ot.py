"""Sinkhorn in the log domain and OT-GAN's mini-batch energy distance."""

import math

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment

from thoughtlab.errors import BadInput
from thoughtlab.generative.ot import cosine_cost, minibatch_energy_distance, sinkhorn


def exact_assignment_cost(cost: torch.Tensor) -> float:
    rows, cols = linear_sum_assignment(cost.numpy())
    return float(cost.numpy()[rows, cols].mean())  # uniform 1/n masses: the optimal plan is a permutation / n


@pytest.mark.parametrize("seed", [0, 2])
def test_small_eps_converges_to_the_assignment_cost(seed):
    gen = torch.Generator().manual_seed(seed)
    cost = torch.rand(7, 7, generator=gen, dtype=torch.float64)
    exact = exact_assignment_cost(cost)
    gaps = []
    for eps in (0.1, 0.01, 0.001):
        t = sinkhorn(cost, eps, iterations=2000, tol=1e-7, scaling=True)
        assert t.marginal_error < 1e-5
        gaps.append(float(t.value) - exact)
    assert all(g >= -1e-4 for g in gaps)  # a (nearly) feasible plan never beats the optimum
    assert gaps[-1] < 0.001 * math.log(7)  # entropic bias ≤ ε log n
    assert gaps[0] >= gaps[-1]


def test_plan_has_uniform_marginals_and_gradient_flows_to_the_cost():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(5, 2, generator=gen, requires_grad=True)
    y = torch.randn(8, 2, generator=gen)
    t = sinkhorn(torch.cdist(x, y) ** 2, eps=0.05, iterations=2000, tol=1e-9)
    torch.testing.assert_close(t.plan.sum(1), torch.full((5,), 1 / 5), atol=1e-6, rtol=0)
    torch.testing.assert_close(t.plan.sum(0), torch.full((8,), 1 / 8), atol=1e-6, rtol=0)
    t.value.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_batch_4096_float32_is_finite():
    gen = torch.Generator().manual_seed(0)
    u, v = torch.randn(4096, 16, generator=gen), torch.randn(4096, 16, generator=gen) + 0.5
    t = sinkhorn(cosine_cost(u, v), eps=0.01, iterations=3)  # ε ≪ max C = 2: exp(−C/ε) underflows in float32
    assert t.plan.dtype == torch.float32
    assert torch.isfinite(t.plan).all() and math.isfinite(float(t.value))
    assert 0.0 <= float(t.value) <= 2.0
    assert float(t.plan.sum()) == pytest.approx(1.0, abs=1e-3)
    torch.testing.assert_close(t.plan.sum(0), torch.full((4096,), 1 / 4096), atol=1e-7, rtol=1e-3)


def test_naive_kernel_would_underflow_where_log_domain_does_not():
    cost = torch.tensor([[0.0, 2.0], [2.0, 0.0]]) + 1.0
    assert torch.exp(-cost / 0.005).sum() == 0  # the textbook K = exp(−C/ε) is all zeros in float32
    t = sinkhorn(cost, eps=0.005, iterations=50)
    assert float(t.value) == pytest.approx(1.0, abs=1e-5)


def test_cosine_cost_range_and_values():
    u = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    v = torch.tensor([[3.0, 0.0], [-1.0, 0.0]])
    torch.testing.assert_close(cosine_cost(u, v), torch.tensor([[0.0, 2.0], [1.0, 1.0]]))


def test_energy_distance_separates_different_distributions():
    gen = torch.Generator().manual_seed(0)
    feats = lambda t: torch.cat([t, t.square()], dim=1)  # noqa: E731  a fixed critic

    def batch(shift: float) -> torch.Tensor:
        return torch.randn(64, 2, generator=gen) + shift

    same = float(minibatch_energy_distance(batch(1), batch(1), batch(1), batch(1), feats))
    apart = float(minibatch_energy_distance(batch(1), batch(1), batch(-1), batch(-1), feats))
    assert apart > 0.2 and abs(same) < 0.25 * apart


def test_energy_distance_gradient_reaches_generator_and_critic():
    gen = torch.Generator().manual_seed(1)
    critic = torch.nn.Linear(2, 4)
    y = (torch.randn(16, 2, generator=gen) * 0.5).requires_grad_()
    y2 = torch.randn(16, 2, generator=gen) * 0.5
    x, x2 = torch.randn(16, 2, generator=gen) + 2, torch.randn(16, 2, generator=gen) + 2
    minibatch_energy_distance(x, x2, y, y2, critic, eps=0.1, iterations=50).backward()
    assert y.grad.abs().sum() > 0 and critic.weight.grad.abs().sum() > 0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: sinkhorn(torch.zeros(3), 0.1), "n × m matrix"),
        (lambda: sinkhorn(torch.zeros(2, 2), 0.0), "positive number"),
        (lambda: sinkhorn(torch.zeros(2, 2), float("nan")), "positive number"),
        (lambda: sinkhorn(torch.zeros(2, 2), 0.1, iterations=0), "at least one iteration"),
        (lambda: sinkhorn(torch.tensor([[0.0, float("inf")], [1.0, 0.0]]), 0.1), "NaN or infinite"),
        (lambda: cosine_cost(torch.zeros(2, 3), torch.zeros(2, 4)), "equal d"),
        (lambda: minibatch_energy_distance(*(torch.zeros(n, 2) for n in (2, 2, 2, 3)), features=lambda t: t), "one size"),
    ],
)
def test_bad_inputs(call, message):
    with pytest.raises(BadInput, match=message):
        call()


def test_exact_helper_is_a_permutation_average():
    cost = torch.tensor(np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert exact_assignment_cost(cost) == 0.0


def test_a_batch_of_problems_equals_each_problem_alone():
    gen = torch.Generator().manual_seed(4)
    costs = torch.rand(3, 5, 6, generator=gen, dtype=torch.float64)
    batched = sinkhorn(costs, eps=0.05, iterations=200)
    for i in range(3):
        alone = sinkhorn(costs[i], eps=0.05, iterations=200)
        torch.testing.assert_close(batched.value[i], alone.value)
        torch.testing.assert_close(batched.plan[i], alone.plan)
