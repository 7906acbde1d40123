"""``fit``: a seeded, resumable, DDP-aware training loop for (x, y) tensors; and ``accuracy``."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from thoughtlab.errors import BadInput, UnknownName, UserError
from thoughtlab.train import distributed
from thoughtlab.train.checkpoint import load_checkpoint, save_checkpoint
from thoughtlab.train.ema import EMA
from thoughtlab.train.seed import pick_device

OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "sgd")
CHECKPOINT_FORMAT = "thoughtlab.fit/1"


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


class BatchOrder:
    """Seeded per-epoch permutations of ``range(n)`` cut into global batches (the short tail is dropped).

    One ``torch.Generator(seed)`` draws a fresh permutation at the start of
    each epoch, so the order depends only on ``seed``, never on global RNG state.
    """

    def __init__(self, n: int, batch_size: int, seed: int):
        self.n, self.batch_size = n, batch_size
        self.per_epoch = n // batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.epoch = -1
        self.perm = torch.empty(0, dtype=torch.long)

    def indices(self, step: int) -> torch.Tensor:
        """Indices of the global batch of ``step`` (steps must come in order)."""
        epoch, position = divmod(step, self.per_epoch)
        while self.epoch < epoch:
            self.perm = torch.randperm(self.n, generator=self.generator)
            self.epoch += 1
        return self.perm[position * self.batch_size : (position + 1) * self.batch_size]

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state(), "epoch": self.epoch, "perm": self.perm}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.epoch, self.perm = int(state["epoch"]), state["perm"]


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


def _training_device(device: str | torch.device) -> torch.device:
    """``pick_device(device)``; under torchrun, joins the process group and uses ``cuda:LOCAL_RANK`` for CUDA."""
    chosen = pick_device(device)
    distributed.init("nccl" if chosen.type == "cuda" else "gloo")
    if distributed.is_distributed() and chosen.type == "cuda":
        return torch.device("cuda", distributed.local_rank())
    return chosen


def _emit(logger: Any, step: int, **scalars: float) -> None:
    """Log to a :class:`ScalarLogger` (or anything with ``.log``) or a plain callable such as ``ctx.log``."""
    (logger.log if hasattr(logger, "log") else logger)(step=step, **scalars)


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
    dev = _training_device(device)
    world, rank = distributed.world_size(), distributed.rank()
    _check_sizes(x, y, steps, batch_size, world)
    model = model.to(dev)
    opt = make_optimizer(optimizer, model.parameters(), lr, momentum, weight_decay)
    ema = EMA(model, ema_decay) if ema_decay is not None else None
    order = BatchOrder(len(x), batch_size, seed)
    config = {"seed": seed, "batch_size": batch_size, "examples": len(x), "optimizer": optimizer, "lr": lr,
              "momentum": momentum, "weight_decay": weight_decay, "ema_decay": ema_decay}
    losses: list[float] = []
    if checkpoint is not None and Path(checkpoint).exists():
        losses = _resume(Path(checkpoint), config, steps, model, opt, order, ema)
    start = len(losses)
    net = distributed.wrap(model)
    net.train()
    local = slice(rank * batch_size // world, (rank + 1) * batch_size // world)
    show = progress is not None and distributed.is_main() and sys.stderr.isatty()
    bar = tqdm(total=steps, initial=start, desc=progress, disable=not show, dynamic_ncols=True)
    for step in range(start, steps):
        idx = order.indices(step)[local].to(x.device)
        xb, yb = x[idx].to(dev, non_blocking=True), y[idx].to(dev, non_blocking=True)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(xb), yb)
        loss.backward()
        losses.append(distributed.all_reduce_mean(loss.item()))
        if on_step is not None:
            on_step(step, model, losses[-1])
        opt.step()
        if ema is not None:
            ema.update(model)
        last = step + 1 == steps
        if logger is not None and distributed.is_main() and (step % log_every == 0 or last):
            _emit(logger, step, loss=losses[-1])
        if checkpoint is not None and distributed.is_main() and ((step + 1) % checkpoint_every == 0 or last):
            save_checkpoint(checkpoint, _snapshot(config, model, opt, order, ema, losses, dev))
        bar.update(1)
        if show and (step % log_every == 0 or last):
            bar.set_postfix(loss=f"{losses[-1]:.4g}")
    bar.close()
    return FitResult(model=model, losses=losses, ema=ema, start_step=start)


def _snapshot(config: dict, model: nn.Module, opt: torch.optim.Optimizer, order: BatchOrder,
              ema: EMA | None, losses: list[float], dev: torch.device) -> dict[str, Any]:
    """Everything needed to continue exactly where training stands."""
    return {
        "format": CHECKPOINT_FORMAT,
        "config": config,
        "step": len(losses),
        "losses": list(losses),
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "order": order.state_dict(),
        "ema": ema.state_dict() if ema is not None else None,
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(dev) if dev.type == "cuda" else None,
    }


def _resume(path: Path, config: dict, steps: int, model: nn.Module, opt: torch.optim.Optimizer,
            order: BatchOrder, ema: EMA | None) -> list[float]:
    """Load a :func:`_snapshot` into the live objects; returns the loss history so far."""
    state = load_checkpoint(path)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise BadInput(f"checkpoint {path} was not written by thoughtlab.train.fit; delete it or pass another path")
    if state["config"] != config:
        changed = sorted(k for k in config if state["config"].get(k) != config[k])
        raise UserError(f"checkpoint {path} was made with other settings ({', '.join(changed)}); delete it to start afresh")
    if state["step"] > steps:
        raise UserError(f"checkpoint {path} is at step {state['step']} but steps={steps}; raise steps or delete it")
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    order.load_state_dict(state["order"])
    if ema is not None:
        ema.load_state_dict(state["ema"])
    torch.set_rng_state(state["torch_rng"])
    if state["cuda_rng"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda_rng"], next(model.parameters()).device)
    return [float(v) for v in state["losses"]]


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
