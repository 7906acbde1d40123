"""The training core: a :class:`TrainState` that saves and resumes bit-exactly, and one loop, :func:`train`.

A *recipe* supplies ``batch(step)`` (the data of 0-based step ``step``) and ``step(state, batch)``, which
updates any number of networks in turn and returns this step's scalars.  Everything else -- resuming,
atomic checkpoints, the changed-config check, progress, JSONL/TensorBoard logging, evaluation hooks and
the rank-0-only writes of torchrun -- happens here once.  A minimal two-network recipe, the GAN of
Goodfellow et al. (2014), Algorithm 1, with ``k`` discriminator steps per generator step::

    class Gan:
        def __init__(self, x, z_dim, seed, k=1):
            self.x, self.z_dim, self.k = x, z_dim, k
            self.noise = torch.Generator().manual_seed(seed)   # registered below: resumed exactly

        def batch(self, step):
            real = self.x[torch.randint(len(self.x), (self.k, 64), generator=self.noise)]
            return real, torch.randn(self.k, 64, self.z_dim, generator=self.noise)

        def step(self, state, batch):
            g, d = state.models["g"], state.models["d"]
            opt_g, opt_d = state.optimizers["g"], state.optimizers["d"]
            for real, z in zip(*batch):                          # k critic steps ...
                d_loss = -(F.logsigmoid(d(real)) + F.logsigmoid(-d(g(z).detach()))).mean()
                opt_d.zero_grad(); d_loss.backward(); opt_d.step()
            g_loss = -F.logsigmoid(d(g(z))).mean()               # ... then one generator step
            opt_g.zero_grad(); g_loss.backward(); opt_g.step()
            return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}

    recipe = Gan(x, z_dim=32, seed=0)
    state = TrainState({"seed": 0, "lr": 2e-4}, models={"g": g, "d": d},
                       optimizers={"g": Adam(g.parameters(), 2e-4), "d": Adam(d.parameters(), 2e-4)},
                       generators={"noise": recipe.noise})
    train(recipe, state, 1000, checkpoint="out/state.pt", every=100, logger=ScalarLogger("out/metrics.jsonl"),
          hooks=[Hook(at_fractions(0.25, 0.5, 0.75, 1.0), lambda state: {"fid": fid(state.models["g"])})])

What a checkpoint holds: every model, optimiser, LR scheduler, EMA copy, registered ``torch.Generator``
and stateful object (``state_dict``/``load_state_dict``: a :class:`BatchOrder`, an image pool), the
recipe's plain-data ``records`` (loss history, best score), the step, and the global RNG states of Python,
NumPy and torch (CPU and CUDA).  Restoring all of it makes the rest of a resumed run equal, bit for bit on
CPU, to the same steps of an uninterrupted one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from thoughtlab.errors import BadInput, UserError
from thoughtlab.train import distributed
from thoughtlab.train.checkpoint import load_checkpoint, save_checkpoint
from thoughtlab.train.ema import EMA
from thoughtlab.train.progress import progress_bar
from thoughtlab.train.seed import global_rng_state, set_global_rng_state

STATE_FORMAT = "thoughtlab.train/1"
#: ``when(done, total)``: whether something is due after ``done`` of ``total`` steps.
Schedule = Callable[[int, int], bool]


class Stateful(Protocol):
    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> Any: ...


class Recipe(Protocol):
    """What :func:`train` calls: the batch of a step, then the update(s) of that step."""

    def batch(self, step: int) -> Any: ...

    def step(self, state: "TrainState", batch: Any) -> Mapping[str, float]: ...


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


_GROUPS = ("models", "optimizers", "schedulers", "emas", "objects")


@dataclass(eq=False)
class TrainState:
    """Everything a run needs to continue exactly: named parts, the recipe's records and the step.

    ``config`` holds the settings a resumed run must share with the saved one (never ``steps``, log or
    checkpoint intervals); :meth:`load` refuses a checkpoint whose config differs, naming the keys.
    ``config`` and ``records`` are plain data only (numbers, strings, None, lists, tuples, dicts, tensors), so that
    the checkpoint loads with ``weights_only=True``.  ``step`` counts finished steps.
    """

    config: dict[str, Any]
    models: dict[str, nn.Module] = field(default_factory=dict)
    optimizers: dict[str, torch.optim.Optimizer] = field(default_factory=dict)
    schedulers: dict[str, Any] = field(default_factory=dict)
    emas: dict[str, EMA] = field(default_factory=dict)
    generators: dict[str, torch.Generator] = field(default_factory=dict)
    objects: dict[str, Stateful] = field(default_factory=dict)
    records: dict[str, Any] = field(default_factory=dict)
    step: int = 0

    def state_dict(self) -> dict[str, Any]:
        """Plain tensors and containers only, so that a checkpoint loads with ``weights_only=True``."""
        state = {group: {name: part.state_dict() for name, part in getattr(self, group).items()} for group in _GROUPS}
        return {"format": STATE_FORMAT, "config": self.config, "step": self.step, **state,
                "generators": {name: gen.get_state() for name, gen in self.generators.items()},
                "records": self.records, "rng": global_rng_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for group in (*_GROUPS, "generators"):
            _check_names(group, getattr(self, group), state[group])
        for group in _GROUPS:
            for name, part in getattr(self, group).items():
                part.load_state_dict(state[group][name])
        for name, generator in self.generators.items():
            generator.set_state(state["generators"][name])
        self.records.clear()
        self.records.update(state["records"])
        self.step = int(state["step"])
        set_global_rng_state(state["rng"])

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`state_dict` atomically (a kill mid-write leaves the previous checkpoint)."""
        return save_checkpoint(path, self.state_dict())

    def load(self, path: str | os.PathLike) -> None:
        """Restore a checkpoint written by :meth:`save`, refusing one made with another config.

        Raises:
            BadInput: not a checkpoint of this core, or one with other named parts.
            UserError: the saved config differs from ``self.config`` (the message names the keys).
        """
        state = load_checkpoint(path)
        if state.get("format") != STATE_FORMAT:
            raise BadInput(f"checkpoint {path} was not written by thoughtlab.train; delete it or pass another path")
        changed = changed_keys(state["config"], self.config)
        if changed:
            raise UserError(f"checkpoint {path} was made with other settings ({', '.join(changed)}); "
                            "resume with the same settings, or delete it (or choose another output) to start afresh")
        try:
            self.load_state_dict(state)
        except BadInput as err:
            raise BadInput(f"checkpoint {path} {err}") from None


def changed_keys(saved: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """Sorted keys whose values differ between two configs (a key missing on one side counts)."""
    return sorted(key for key in {*saved, *now} if key not in saved or key not in now or saved[key] != now[key])


def _check_names(group: str, live: Mapping[str, Any], saved: Mapping[str, Any]) -> None:
    if set(live) != set(saved):
        raise BadInput(f"holds {group} {sorted(saved)} but this recipe has {sorted(live)}; "
                       "delete it or pass another path")


@dataclass(frozen=True)
class Hook:
    """``fn(state)`` after the steps where ``at`` says so, before that step's checkpoint.

    ``at`` is a collection of finished-step counts or a :data:`Schedule`.  Scalars that ``fn`` returns
    are logged at that step (rank 0).
    """

    at: Schedule | Collection[int]
    fn: Callable[[TrainState], Mapping[str, float] | None]

    def due(self, done: int, total: int) -> bool:
        return self.at(done, total) if callable(self.at) else done in self.at


def periodic(n: int) -> Schedule:
    """Due after every ``n``-th step and after the last one."""
    return lambda done, total: done % n == 0 or done == total


def at_fractions(*fractions: float) -> Schedule:
    """Due at these fractions of the budget, e.g. ``at_fractions(0.25, 0.5, 0.75, 1.0)`` for learning curves.

    A fraction lands on step ``round(fraction * total)``; fractions that round to step 0 never fire.
    """
    return lambda done, total: any(round(f * total) == done for f in fractions)


def train(recipe: Recipe, state: TrainState, steps: int, *, checkpoint: str | os.PathLike | None = None,
          every: int = 100, hooks: Collection[Hook] = (), logger: Any = None, log_every: int | Schedule = 1,
          progress: bool | None = None, desc: str = "train") -> TrainState:
    """Run ``recipe`` from ``state.step`` to ``steps`` finished steps; returns ``state``.

    With ``checkpoint``, an existing file is resumed first (:meth:`TrainState.load`), and the state is saved
    there after every ``every``-th step and after the last.  ``logger`` (a :class:`ScalarLogger`, ``ctx.log``
    or any ``logger(step=..., **scalars)``) gets the step's scalars, averaged over torchrun processes, when
    ``log_every`` says so (an int n: every n-th step and the last), numbered by finished steps.  ``hooks``
    run after logging and before the checkpoint.  ``progress``: the bar rule of
    :func:`~thoughtlab.train.progress.show_progress` (``None``: only on a terminal).  Under torchrun only
    rank 0 logs and writes; all ranks meet at a barrier after each checkpoint.
    """
    if steps < 0:
        raise UserError(f"need steps >= 0, got steps={steps}")
    if checkpoint is not None and Path(checkpoint).exists():
        state.load(checkpoint)
    if state.step > steps:
        raise UserError(f"checkpoint {checkpoint} is at step {state.step} but steps={steps}; raise steps or delete it")
    log_due = periodic(log_every) if isinstance(log_every, int) else log_every
    main = distributed.is_main()
    bar = progress_bar(desc=desc, total=steps, initial=state.step, show=progress)
    try:
        for index in range(state.step, steps):
            scalars = recipe.step(state, recipe.batch(index))
            state.step = done = index + 1
            if log_due(done, steps):  # every rank takes part in the means, whether or not it logs
                means = {name: distributed.all_reduce_mean(value) for name, value in scalars.items()}
                log_scalars(logger if main else None, done, means)
                if not bar.disable:
                    bar.set_postfix({name: f"{value:.4g}" for name, value in means.items()}, refresh=False)
            for hook in hooks:
                if hook.due(done, steps):
                    log_scalars(logger if main else None, done, hook.fn(state) or {})
            if checkpoint is not None and (done % every == 0 or done == steps):
                save_on_rank0(state, checkpoint)
            bar.update(1)
    finally:
        bar.close()
    return state


def optimizer_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """One plain update: clear the gradients, back-propagate ``loss``, step ``optimizer``."""
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def save_on_rank0(state: TrainState, checkpoint: str | os.PathLike) -> None:
    """Rank 0 writes ``state`` to ``checkpoint``; every rank waits for the write (one process: just the write)."""
    if distributed.is_main():
        state.save(checkpoint)
    distributed.barrier()


def log_scalars(logger: Any, step: int, scalars: Mapping[str, float]) -> None:
    """Log to a :class:`ScalarLogger` (anything with ``.log``) or a plain callable such as ``ctx.log``."""
    if logger is not None and scalars:
        (logger.log if hasattr(logger, "log") else logger)(step=step, **scalars)
