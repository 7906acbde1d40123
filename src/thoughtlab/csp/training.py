"""Detector-agnostic training of pedestrian detectors, with CSP as the first detector.

The recipe is CSP's (Liu et al., CVPR 2019, §4.1; official ``train_city.py`` / ``train_caltech.py``,
research notes csp.md §2.3): the augmentation of :mod:`thoughtlab.csp.augment`, hybrid batches of images
with and without people, Adam at a constant learning rate, and a mean teacher -- an EMA of the weights
(0.999) updated after every step (Tarvainen & Valpola, NeurIPS 2017) -- which is what gets saved and
evaluated.  A detector plugs in through :class:`DetectorSpec` (model, targets, collate, loss, decode);
see notes/CSP_INTERFACE.md.

The loop, checkpoints, resume, logging and progress are :func:`thoughtlab.train.train`'s; this file is the
recipe (:class:`DetectorRecipe`) and the validation hook.  Outputs in ``out_dir``: ``checkpoint.pt``
(the :class:`~thoughtlab.train.TrainState`, for ``resume``), ``model.pt`` (final teacher),
``best.pt`` (teacher with the best validation MR⁻² Reasonable), ``teacher@<fraction>.pt`` (optional
snapshots for learning curves), ``metrics.jsonl``, ``config.json``.
All sampling depends only on (seed, step), so a resumed run ends with the same weights as an
uninterrupted one, and under ``torchrun`` rank r trains on its own slice of each global batch.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from thoughtlab.csp.augment import augment
from thoughtlab.csp.detectors import weights_file
from thoughtlab.csp.inference import evaluate_model
from thoughtlab.csp.model import normalize_images
from thoughtlab.csp.spec import DetectorSpec
from thoughtlab.csp.train_config import TrainConfig, learning_rate
from thoughtlab.csp.training_data import HybridSampler, ImageSet, keyed_generator
from thoughtlab.errors import BadInput, UserError
from thoughtlab.fileio import atomic_write_json
from thoughtlab.train import EMA, Hook, ScalarLogger, TrainState, core, distributed, pick_device, save_checkpoint


@dataclass
class TrainResult:
    """The teacher (eval mode) and what happened in this call."""

    model: nn.Module
    steps: int
    seconds: float
    losses: list[float]
    val_history: list[tuple[int, float]]
    best_step: int | None
    best_val_mr2: float | None


def make_batch(spec: DetectorSpec, data: ImageSet, indices: Sequence[int], slots: Sequence[int], step: int,
               cfg: TrainConfig) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Augmented, normalised images (B, 3, crop) and collated targets; slot k's randomness is keyed (seed, step, k)."""
    images, targets = [], []
    for index, slot in zip(indices, slots):
        persons, ignore = data.boxes(index)
        generator = keyed_generator(cfg.seed, "augment", step, slot)
        image, persons, ignore = augment(data.image(index), persons, ignore, cfg.crop, cfg.augment, generator)
        images.append(image)
        targets.append(spec.targets(persons, ignore, cfg.crop))
    return normalize_images(torch.stack(images)), spec.collate(targets)


class DetectorRecipe:
    """One step of CSP's recipe (§4.1): this rank's slots of a hybrid batch, Adam at the scheduled rate,
    then the mean teacher's EMA update (with the optional warm-up of its decay)."""

    def __init__(self, spec: DetectorSpec, data: ImageSet, cfg: TrainConfig, device: torch.device):
        self.spec, self.data, self.cfg, self.device = spec, data, cfg, device
        self.sampler = HybridSampler(data, cfg.batch_size, cfg.hybrid_ratio, cfg.seed)
        local = distributed.local_slice(cfg.batch_size)
        self.slots = list(range(local.start, local.stop))
        self.net = distributed.wrap(spec.model)
        self.losses: list[float] = []

    def batch(self, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        indices = self.sampler.batch(step)
        return make_batch(self.spec, self.data, [indices[s] for s in self.slots], self.slots, step, self.cfg)

    def step(self, state: TrainState, batch: tuple[torch.Tensor, dict[str, torch.Tensor]]) -> dict[str, float]:
        images, targets = batch
        student, optimizer, teacher = state.models["student"], state.optimizers["student"], state.emas["teacher"]
        outputs = self.net(images.to(self.device))
        total, parts = self.spec.loss(outputs, {k: v.to(self.device) for k, v in targets.items()})
        if not torch.isfinite(total):
            raise UserError(f"training loss became {float(total)} at step {state.step}; lower the learning rate")
        optimizer.zero_grad(set_to_none=True)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(self.cfg, state.step)
        total.backward()
        optimizer.step()
        if self.cfg.ema_warmup:
            teacher.decay = min(1.0 - 1.0 / (teacher.updates + 1), self.cfg.ema_decay)
        teacher.update(student)
        self.losses.append(float(total.detach()))
        return {"loss": self.losses[-1], **parts, **resident_memory()}


#: settings a resumed run may change
_RESUME_FREE = {"steps", "checkpoint_every", "val_every", "log_every", "val_max_images", "device"}


def train_detector(spec: DetectorSpec, train: ImageSet, cfg: TrainConfig, out_dir: str | Path, *,
                   val: ImageSet | None = None, resume: bool = False, progress: bool | None = None,
                   stop_after: int | None = None, snapshots: Sequence[float] = ()) -> TrainResult:
    """Train ``spec.model`` on ``train`` with ``cfg``; see the module docstring.

    ``resume`` continues from ``out_dir/checkpoint.pt`` when it exists (a fresh start otherwise); without
    it an existing checkpoint is an error.  ``stop_after`` ends this call after that many total steps
    (as an interruption would), after writing a checkpoint.  Under torchrun (``distributed.init()``
    called), ``cfg.batch_size`` is the global batch and must divide by the world size.
    """
    cfg = cfg.validate()
    out = Path(out_dir)
    if cfg.batch_size % distributed.world_size():
        raise BadInput(f"batch size {cfg.batch_size} must be a multiple of the {distributed.world_size()} processes")
    ckpt = out / "checkpoint.pt"
    if ckpt.exists() and not resume:
        raise UserError(f"{out} already holds a training checkpoint; pass --resume or choose another --out")
    device = distributed.device() if distributed.is_distributed() else pick_device(cfg.device)
    student = spec.model.to(device).train()
    recipe = DetectorRecipe(spec, train, cfg, device)
    state = TrainState(
        {k: v for k, v in cfg.to_dict().items() if k not in _RESUME_FREE}, models={"student": student},
        optimizers={"student": torch.optim.Adam(student.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)},
        emas={"teacher": EMA(student, cfg.ema_decay)},
        records={"detector": spec.config, "val_history": [], "best": {"step": None, "mr2": None}})
    validate = Hook(lambda done, _: done % cfg.val_every == 0 or done == cfg.steps,
                    lambda state: _validate(spec, val, cfg, state, out))
    main = distributed.is_main()
    snapshot = Hook(core.at_fractions(*snapshots), lambda state: _snapshot(spec, state, cfg, snapshots, out))
    hooks = ([validate] if val is not None else []) + ([snapshot] if snapshots and main else [])
    if main:
        atomic_write_json(out / "config.json", {**cfg.to_dict(), "detector": spec.config})
    logger = ScalarLogger(out / "metrics.jsonl") if main else None
    end = min(cfg.steps, stop_after) if stop_after is not None else cfg.steps
    began = time.perf_counter()
    try:
        core.train(recipe, state, end, checkpoint=ckpt, every=cfg.checkpoint_every,
                   hooks=hooks, logger=logger, log_every=cfg.log_every, progress=progress)
    finally:
        if logger:
            logger.close()
    teacher = state.emas["teacher"].module
    if main and end == cfg.steps:
        save_checkpoint(out / "model.pt", weights_file(spec, teacher, end))
    best = state.records["best"]
    history = [(int(s), float(m)) for s, m in state.records["val_history"]]
    seconds = time.perf_counter() - began
    return TrainResult(teacher.eval(), end, seconds, recipe.losses, history, best["step"], best["mr2"])


def _validate(spec: DetectorSpec, val: ImageSet, cfg: TrainConfig, state: TrainState, out: Path) -> dict[str, float]:
    """Rank 0: MR⁻² Reasonable of the teacher on ``val``, recorded and logged; keeps ``best.pt``; others wait."""
    scalars = {}
    if distributed.is_main():
        teacher, step, best = state.emas["teacher"].module, state.step, state.records["best"]
        mr2 = evaluate_model(spec, teacher, val, cfg.score_threshold, cfg.val_max_images).mr2("Reasonable")
        if mr2 is not None:
            state.records["val_history"].append([step, float(mr2)])
            scalars = {"val_mr2_reasonable": mr2}
            if best["mr2"] is None or mr2 < best["mr2"]:
                best.update(step=step, mr2=float(mr2))
                save_checkpoint(out / "best.pt", weights_file(spec, teacher, step, val_mr2=float(mr2)))
    distributed.barrier()
    return scalars


def _snapshot(spec: DetectorSpec, state: TrainState, cfg: TrainConfig, fractions: Sequence[float], out: Path) -> None:
    """Save the teacher as ``teacher@<fraction>.pt`` at the fraction of ``cfg.steps`` that this step lands on."""
    for fraction in fractions:
        if round(fraction * cfg.steps) == state.step:
            save_checkpoint(out / f"teacher@{fraction:g}.pt", weights_file(spec, state.emas["teacher"].module, state.step))


def resident_memory() -> dict[str, float]:
    """``{"rss_mb": current resident set size}`` of this process (Linux ``/proc``; empty elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return {}
    return {"rss_mb": pages * os.sysconf("SC_PAGE_SIZE") / 2**20}


# ------------------------------------------------------------------------------------------ command line

def open_datasets(dataset: str | Path, cfg: TrainConfig, out_dir: str | Path) -> tuple[ImageSet, ImageSet | None]:
    """(train, val) of a folder in the written layout (``train_gt.json`` + ``images/train``, optional val).

    ``"synthetic"`` means ``out_dir/data``, generated there first (from ``cfg.synthetic``) when missing.
    """
    if str(dataset) == "synthetic":
        root = Path(out_dir) / "data"
        if not (root / "train_gt.json").is_file() and distributed.is_main():
            from thoughtlab.csp.synth import make_dataset

            spec = cfg.synthetic
            make_dataset(root, sizes=spec.get("sizes"), seed=int(spec.get("seed", 0)), preset=spec.get("preset", "default"),
                         width=spec.get("width"), height=spec.get("height"))
        distributed.barrier()
    else:
        root = Path(dataset)
        if not root.is_dir():
            raise BadInput(f"dataset folder {root} does not exist; give a folder with train_gt.json or 'synthetic'")
    train = ImageSet.from_split(root, "train", cfg.min_height, cfg.cache_images)
    val = ImageSet.from_split(root, "val", 0.0, cfg.cache_images) if (root / "val_gt.json").is_file() else None
    return train, val


def load_config(path: str | Path | None, preset: str | None) -> TrainConfig:
    """The preset (default ``quick``) with the keys of a JSON config file (optional) applied."""
    base = TrainConfig.preset(preset or "quick")
    if path is None:
        return base
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise BadInput(f"config file {path} does not exist; check the path") from None
    except (OSError, json.JSONDecodeError) as err:
        raise BadInput(f"config file {path} is not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise BadInput(f"config file {path} must hold a JSON object of TrainConfig fields")
    return TrainConfig.from_dict(data, base)
