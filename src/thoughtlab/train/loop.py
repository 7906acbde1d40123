"""``fit``: a classifier recipe on :mod:`thoughtlab.train.core` for (x, y) tensors; and ``accuracy``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.errors import BadInput, UnknownName, UserError
from thoughtlab.train import distributed
from thoughtlab.train.core import BatchOrder, TrainState, log_scalars, train
from thoughtlab.train.ema import EMA

OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "sgd")


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes:
        model: the trained model (unwrapped, on the training device).
        losses: one loss per step, from step 0 (restored ones included): the
            mean over the global batch (all-reduced under DDP).
        ema: the weight average when ``ema_decay`` was given, else ``None``.
        start_step: the step training (re)started from; 0 unless resumed.
    """

    model: nn.Module
    losses: list[float]
    ema: EMA | None = None
    start_step: int = 0


def make_optimizer(
    name: str, params: Any, lr: float, momentum: float = 0.9, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """``adam``, ``adamw`` or ``sgd`` (with ``momentum``)."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise UnknownName("optimizer", name, OPTIMIZERS)


def _check_sizes(x: torch.Tensor, y: torch.Tensor, steps: int, batch_size: int, world: int) -> None:
    if len(x) != len(y):
        raise BadInput(f"x has {len(x)} rows but y has {len(y)}; pass one label per example")
    if steps < 0 or batch_size < 1:
        raise UserError(f"need steps >= 0 and batch_size >= 1, got steps={steps}, batch_size={batch_size}")
    if batch_size > len(x):
        raise UserError(f"batch_size {batch_size} exceeds the {len(x)} training examples; use batch_size <= {len(x)}")
    if batch_size % world:
        raise UserError(
            f"batch_size {batch_size} is not divisible by the world size {world}; "
            f"use a multiple of {world} or change --nproc_per_node"
        )


class _Classifier:
    """The recipe of :func:`fit`: one minibatch of ``(x, y)``, one optimiser step, the EMA after it."""

    def __init__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, order: BatchOrder, device: torch.device,
                 loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                 on_step: Callable[[int, nn.Module, float], None] | None):
        self.model, self.net = model, distributed.wrap(model)
        self.x, self.y, self.order, self.device = x, y, order, device
        self.local = distributed.local_slice(order.batch_size)
        self.loss_fn, self.on_step = loss_fn, on_step
        self.first_step: int | None = None

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = self.order.indices(step)[self.local].to(self.x.device)
        return self.x[idx].to(self.device, non_blocking=True), self.y[idx].to(self.device, non_blocking=True)

    def step(self, state: TrainState, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        if self.first_step is None:
            self.first_step = state.step
        opt = state.optimizers["model"]
        opt.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.net(batch[0]), batch[1])
        loss.backward()
        value = distributed.all_reduce_mean(loss.item())
        state.records["losses"].append(value)
        if self.on_step is not None:
            self.on_step(state.step, self.model, value)
        opt.step()
        for ema in state.emas.values():
            ema.update(self.model)
        return {"loss": value}


def fit(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
    optimizer: str = "adam",
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    device: str | torch.device = "cpu",
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 100,
    ema_decay: float | None = None,
    on_step: Callable[[int, nn.Module, float], None] | None = None,
    logger: Any = None,
    log_every: int = 10,
    progress: str | None = None,
) -> FitResult:
    """Train ``model`` on ``(x, y)`` for ``steps`` minibatch steps; reproducible bit for bit on CPU.

    Batches are seeded per-epoch permutations of ``x`` (:class:`BatchOrder`,
    from ``seed`` alone).  Randomness inside the model (dropout) uses torch's
    global RNG: seed it with :func:`seed_everything` before building the model.

    ``on_step(step, model, loss)`` runs after ``backward`` and before the
    optimizer step (gradients available; ``step`` is 0-based).  ``logger``
    (a :class:`ScalarLogger` or ``ctx.log``) gets ``loss`` every ``log_every``
    steps and at the last one.  ``progress`` names a tqdm bar, shown only when
    stderr is a terminal.

    With ``checkpoint``, model, optimizer, step, batch-order generator, torch
    RNG, EMA and loss history are saved every ``checkpoint_every`` steps and at
    the end; if the file exists, training resumes from it and ends with the
    same weights as an uninterrupted run.

    Under ``torchrun`` (see :mod:`thoughtlab.train.distributed`) each of the W
    processes takes its equal slice of the same global batch (``batch_size``
    must be divisible by W), the model is wrapped in DistributedDataParallel
    (which averages gradients), losses are global means, and only rank 0 writes
    checkpoints and logs.  BatchNorm statistics and dropout masks stay per-process
    under DDP, so only deterministic, batch-independent models match one process exactly.
    """
    dev = distributed.setup(device)
    _check_sizes(x, y, steps, batch_size, distributed.world_size())
    model = model.to(dev)
    order = BatchOrder(len(x), batch_size, seed)
    recipe = _Classifier(model, x, y, order, dev, loss_fn, on_step)
    recipe.net.train()
    config = {"seed": seed, "batch_size": batch_size, "examples": len(x), "optimizer": optimizer, "lr": lr,
              "momentum": momentum, "weight_decay": weight_decay, "ema_decay": ema_decay}
    state = TrainState(config, models={"model": model},
                       optimizers={"model": make_optimizer(optimizer, model.parameters(), lr, momentum, weight_decay)},
                       emas={"model": EMA(model, ema_decay)} if ema_decay is not None else {},
                       objects={"order": order}, records={"losses": []})
    zero_based = None if logger is None else (lambda step, **scalars: log_scalars(logger, step - 1, scalars))
    train(recipe, state, steps, checkpoint=checkpoint, every=checkpoint_every, logger=zero_based,
          log_every=lambda done, total: (done - 1) % log_every == 0 or done == total,
          progress=False if progress is None else None, desc=progress or "")
    start = state.step if recipe.first_step is None else recipe.first_step
    return FitResult(model=model, losses=[float(v) for v in state.records["losses"]],
                     ema=state.emas.get("model"), start_step=start)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> float:
    """Fraction of ``x`` whose arg-max logit equals ``y``; eval mode, no grad, train mode restored."""
    if len(x) == 0 or len(x) != len(y):
        raise BadInput(f"accuracy needs equal, non-empty x and y; got {len(x)} and {len(y)} rows")
    was_training = model.training
    param = next(model.parameters(), None)
    dev = param.device if param is not None else x.device
    model.eval()
    correct = 0
    try:
        for start in range(0, len(x), batch_size):
            predicted = model(x[start : start + batch_size].to(dev)).argmax(dim=1)
            correct += (predicted == y[start : start + batch_size].to(dev)).sum().item()
    finally:
        model.train(was_training)
    return correct / len(x)
