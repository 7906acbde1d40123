"""Training against past parameters: stale snapshots, snapshot mixtures, replay and averaging.

Odena (2019, Distill, Problem 6) asks whether asynchronous SGD, whose limit is *stale* parameters,
"interact[s] in a special way with GAN training", since "GANs seem to actually benefit from training
on past parameter snapshots".  The tools here make the past explicit:

* :class:`SnapshotQueue` — the last ``depth + 1`` weights of a network.  ``call(x, age)`` runs the
  network as it was ``age`` pushes ago: a generator step against ``age = τ`` is the update an
  asynchronous worker makes with a discriminator τ steps stale (simulated async SGD).
  ``mixture_loss`` averages a loss over K consecutive snapshots: each player best-responds to the
  uniform mixture of the opponent's recent past (Grnarova et al. 2018, "An Online Learning Approach
  to Generative Adversarial Networks" — Chekhov GAN, §3).
* :class:`ReplayBuffer` — a store of past generated samples; the discriminator sees half current
  and half replayed fakes (Shrivastava et al. 2017, "Learning from Simulated and Unsupervised Images
  through Adversarial Training", §2.3).
* :class:`HistoricalAverage` — the penalty ‖θ − (1/t) Σ_i θ_i‖² (Salimans et al. 2016, "Improved
  Techniques for Training GANs", §3.3).
* an EMA of the generator's weights used for evaluation only (Yazici et al. 2019, "The Unusual
  Effectiveness of Averaging in GAN Training") is :class:`thoughtlab.train.EMA`.

Snapshots hold detached copies of parameters and buffers; calling one goes through
``torch.func.functional_call``, so gradients reach the *input* (the generator's samples) and never
the stored weights.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call

from thoughtlab.errors import BadInput

State = dict[str, torch.Tensor]


def frozen_state(model: nn.Module) -> State:
    """Detached copies of a module's parameters and buffers."""
    return {k: v.detach().clone() for k, v in [*model.named_parameters(), *model.named_buffers()]}


class SnapshotQueue:
    """The last ``depth + 1`` pushed weights of one network (age 0 = most recent push)."""

    def __init__(self, model: nn.Module, depth: int):
        if depth < 0:
            raise BadInput(f"snapshot depth must be ≥ 0, got {depth}")
        self.model = model
        self.depth = depth
        self.snapshots: deque[State] = deque(maxlen=depth + 1)

    def push(self) -> None:
        """Store the network's current weights as age 0 (the oldest one beyond ``depth`` is dropped)."""
        self.snapshots.appendleft(frozen_state(self.model))

    def __len__(self) -> int:
        return len(self.snapshots)

    def state_dict(self) -> dict[str, list[State]]:
        return {"snapshots": list(self.snapshots)}

    def load_state_dict(self, state: dict[str, list[State]]) -> None:
        self.snapshots = deque(state["snapshots"], maxlen=self.depth + 1)

    def state(self, age: int) -> State:
        """Weights ``age`` pushes old; early in training, when fewer exist, the oldest one kept.

        Clamping mirrors an asynchronous start: workers begin from the initial weights.
        """
        if not self.snapshots:
            raise BadInput("the snapshot queue is empty; push() the network's weights before calling it")
        if not 0 <= age <= self.depth:
            raise BadInput(f"snapshot age {age} is outside 0..{self.depth}; build the queue with depth ≥ {age}")
        return self.snapshots[min(age, len(self.snapshots) - 1)]

    def call(self, x: torch.Tensor, age: int) -> torch.Tensor:
        """The network's output on ``x`` with the weights of ``age`` pushes ago (gradient reaches x only)."""
        return functional_call(self.model, self.state(age), (x,))

    def mixture_loss(self, x: torch.Tensor, ages: range, loss: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """Mean of ``loss(output)`` over the snapshots of ``ages``: a best response to their uniform mixture.

        Ages beyond the pushes so far clamp to the oldest snapshot (see :meth:`state`).
        """
        if len(ages) < 1:
            raise BadInput("a snapshot mixture needs at least one age, e.g. range(k)")
        return torch.stack([loss(self.call(x, age)) for age in ages]).mean()


class ReplayBuffer:
    """Past generated samples for the discriminator (SimGAN §2.3).

    ``mix(fakes)`` returns a batch of the same size: half the current fakes and half drawn from the
    buffer (all current while the buffer holds fewer than half a batch), then stores the current
    fakes, overwriting random old entries once the buffer is full.
    """

    def __init__(self, capacity: int, seed: int):
        if capacity < 1:
            raise BadInput(f"replay buffer capacity must be ≥ 1, got {capacity}")
        self.capacity = capacity
        self.items: torch.Tensor | None = None
        self.gen = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return 0 if self.items is None else len(self.items)

    def state_dict(self) -> dict[str, torch.Tensor | None]:
        return {"items": self.items, "rng": self.gen.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor | None]) -> None:
        self.items = None if state["items"] is None else state["items"].clone()
        self.gen.set_state(state["rng"])

    def mix(self, fakes: torch.Tensor) -> torch.Tensor:
        fakes = fakes.detach()
        half = len(fakes) // 2
        if half and len(self) >= half:
            old = self.items[torch.randint(len(self), (half,), generator=self.gen)]
            batch = torch.cat([fakes[: len(fakes) - half], old])
        else:
            batch = fakes
        self.store(fakes)
        return batch

    def store(self, fakes: torch.Tensor) -> None:
        if self.items is None:
            self.items = fakes[: self.capacity].clone()
            fakes = fakes[self.capacity:]
        room = self.capacity - len(self.items)
        if room > 0 and len(fakes):
            self.items = torch.cat([self.items, fakes[:room]])
            fakes = fakes[room:]
        if len(fakes):
            slots = torch.randperm(self.capacity, generator=self.gen)[: len(fakes)]
            self.items[slots] = fakes[: len(slots)]


class HistoricalAverage:
    """Running mean θ̄_t = (1/t) Σ_{i≤t} θ_i of a network's parameters and the penalty ‖θ − θ̄‖²."""

    def __init__(self, model: nn.Module):
        self.mean = {k: v.detach().clone() for k, v in model.named_parameters()}
        self.count = 1

    def state_dict(self) -> dict[str, object]:
        return {"mean": self.mean, "count": self.count}

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.mean, self.count = dict(state["mean"]), int(state["count"])

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Add the current parameters to the average."""
        self.count += 1
        for name, param in model.named_parameters():
            self.mean[name] += (param.detach() - self.mean[name]) / self.count

    def penalty(self, model: nn.Module) -> torch.Tensor:
        """Σ over parameters of ‖θ − θ̄‖² (differentiable in θ)."""
        return sum(((p - self.mean[k]) ** 2).sum() for k, p in model.named_parameters())
