"""Stale snapshots, snapshot mixtures, replay buffer and historical averaging."""

import pytest
import torch
from torch import nn

from thoughtlab.errors import BadInput
from thoughtlab.generative.staleness import HistoricalAverage, ReplayBuffer, SnapshotQueue


def set_weight(model: nn.Linear, value: float) -> None:
    with torch.no_grad():
        model.weight.fill_(value)
        model.bias.zero_()


def test_snapshot_queue_returns_the_weights_of_tau_pushes_ago():
    d = nn.Linear(1, 1)
    queue = SnapshotQueue(d, depth=3)
    for w in (1.0, 2.0, 3.0, 4.0, 5.0):
        set_weight(d, w)
        queue.push()
    x = torch.ones(1, 1)
    assert [float(queue.call(x, age)) for age in range(4)] == [5.0, 4.0, 3.0, 2.0]
    assert len(queue) == 4


def test_early_ages_clamp_to_the_oldest_snapshot():
    d = nn.Linear(1, 1)
    queue = SnapshotQueue(d, depth=4)
    set_weight(d, 7.0)
    queue.push()
    set_weight(d, 8.0)
    queue.push()
    assert float(queue.call(torch.ones(1, 1), 4)) == 7.0


def test_snapshots_are_copies_and_gradient_reaches_only_the_input():
    d = nn.Linear(1, 1)
    set_weight(d, 2.0)
    queue = SnapshotQueue(d, depth=1)
    queue.push()
    set_weight(d, -3.0)  # the live network changes; the snapshot must not
    x = torch.ones(1, 1, requires_grad=True)
    queue.call(x, 0).sum().backward()
    assert float(x.grad) == 2.0 and d.weight.grad is None


def test_mixture_loss_is_the_mean_over_the_last_k_snapshots():
    d = nn.Linear(1, 1)
    queue = SnapshotQueue(d, depth=2)
    for w in (1.0, 2.0, 6.0):
        set_weight(d, w)
        queue.push()
    x = torch.ones(1, 1)
    assert float(queue.mixture_loss(x, range(3), lambda out: out.sum())) == pytest.approx(3.0)
    assert float(queue.mixture_loss(x, range(2), lambda out: out.sum())) == pytest.approx(4.0)
    assert float(queue.mixture_loss(x, range(1, 3), lambda out: out.sum())) == pytest.approx(1.5)


def test_replay_buffer_mixes_half_past_fakes():
    buffer = ReplayBuffer(capacity=8, seed=0)
    first = torch.zeros(4, 2)
    assert torch.equal(buffer.mix(first), first)  # empty buffer: all current
    second = torch.ones(4, 2)
    batch = buffer.mix(second)
    assert batch.shape == (4, 2)
    assert torch.equal(batch[:2], second[:2]) and torch.equal(batch[2:], torch.zeros(2, 2))
    assert len(buffer) == 8


def test_replay_buffer_overwrites_when_full_and_keeps_capacity():
    buffer = ReplayBuffer(capacity=6, seed=1)
    for value in range(10):
        buffer.mix(torch.full((4, 1), float(value)))
    assert len(buffer) == 6
    assert float(buffer.items.max()) == 9.0  # the newest fakes are in
    assert set(buffer.items.flatten().tolist()) <= set(map(float, range(10)))


def test_historical_average_is_the_running_mean_and_penalty_pulls_towards_it():
    m = nn.Linear(1, 1)
    set_weight(m, 0.0)
    avg = HistoricalAverage(m)
    for w in (1.0, 2.0, 3.0):
        set_weight(m, w)
        avg.update(m)
    assert float(avg.mean["weight"]) == pytest.approx(1.5)  # mean of 0, 1, 2, 3
    penalty = avg.penalty(m)
    assert float(penalty.detach()) == pytest.approx((3.0 - 1.5) ** 2)  # bias stays at its mean 0
    penalty.backward()
    assert float(m.weight.grad) == pytest.approx(2 * 1.5)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: SnapshotQueue(nn.Linear(1, 1), depth=-1), "depth must be"),
        (lambda: SnapshotQueue(nn.Linear(1, 1), depth=1).call(torch.ones(1, 1), 0), "empty"),
        (lambda: _pushed(1).call(torch.ones(1, 1), 2), "outside 0..1"),
        (lambda: _pushed(1).mixture_loss(torch.ones(1, 1), range(2, 4), torch.sum), "outside 0..1"),
        (lambda: _pushed(1).mixture_loss(torch.ones(1, 1), range(0), torch.sum), "at least one age"),
        (lambda: ReplayBuffer(capacity=0, seed=0), "capacity"),
    ],
)
def test_bad_inputs(call, message):
    with pytest.raises(BadInput, match=message):
        call()


def _pushed(depth: int) -> SnapshotQueue:
    queue = SnapshotQueue(nn.Linear(1, 1), depth=depth)
    queue.push()
    return queue


def test_state_dicts_round_trip():
    d = nn.Linear(1, 1)
    queue, buffer, avg = SnapshotQueue(d, depth=2), ReplayBuffer(capacity=4, seed=0), HistoricalAverage(d)
    for w in (1.0, 2.0):
        set_weight(d, w)
        queue.push()
        buffer.mix(torch.full((4, 1), w))
        avg.update(d)
    queue2, buffer2, avg2 = SnapshotQueue(d, depth=2), ReplayBuffer(capacity=4, seed=9), HistoricalAverage(nn.Linear(1, 1))
    queue2.load_state_dict(queue.state_dict())
    buffer2.load_state_dict(buffer.state_dict())
    avg2.load_state_dict(avg.state_dict())
    assert float(queue2.call(torch.ones(1, 1), 1)) == 1.0
    assert torch.equal(buffer2.mix(torch.zeros(4, 1)), buffer.mix(torch.zeros(4, 1)))
    assert float(avg2.mean["weight"]) == float(avg.mean["weight"]) and avg2.count == avg.count == 3
