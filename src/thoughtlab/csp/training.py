"""Detector-agnostic training of pedestrian detectors, with CSP as the first detector.

The recipe is CSP's (Liu et al., CVPR 2019, §4.1; official ``train_city.py`` / ``train_caltech.py``,
research notes csp.md §2.3): the augmentation of :mod:`thoughtlab.csp.augment`, hybrid batches of images
with and without people, Adam at a constant learning rate, and a mean teacher -- an EMA of the weights
(0.999) updated after every step (Tarvainen & Valpola, NeurIPS 2017) -- which is what gets saved and
evaluated.  A detector plugs in through :class:`DetectorSpec` (model, targets, collate, loss, decode);
see notes/CSP_INTERFACE.md.

Outputs in ``out_dir``: ``checkpoint.pt`` (full state, for ``resume``), ``model.pt`` (final teacher),
``best.pt`` (teacher with the best validation MR⁻² Reasonable), ``metrics.jsonl``, ``config.json``.
All sampling depends only on (seed, step), so a resumed run ends with the same weights as an
uninterrupted one, and under ``torchrun`` rank r trains on its own slice of each global batch.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from thoughtlab.csp.augment import augment
from thoughtlab.csp.detectors import (  # noqa: F401  (re-exported: the trainer's public names)
    CSP_DEFAULTS,
    DETECTOR_MODULES,
    DETECTORS,
    DetectorSpec,
    build_detector,
    csp_spec,
    register_detector,
    seeded_detector,
    stack_dicts,
)
from thoughtlab.csp.inference import evaluate_model, predict, to_eval_detections  # noqa: F401  (re-exported)
from thoughtlab.csp.model import normalize_images
from thoughtlab.csp.train_config import (  # noqa: F401
    LR_SCHEDULES,
    PRESETS,
    TrainConfig,
    check_detector_config,
    learning_rate,
)
from thoughtlab.csp.training_data import HybridSampler, ImageSet, keyed_generator
from thoughtlab.errors import BadInput, UserError
from thoughtlab.fileio import atomic_write_json
from thoughtlab.train import (
    EMA,
    ScalarLogger,
    distributed,
    load_checkpoint,
    pick_device,
    save_checkpoint,
)

WEIGHTS_FORMAT = "thoughtlab-detector-v1"


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


# ------------------------------------------------------------------------------------------ saved weights

def load_detector(path: str | Path, overrides: dict[str, Any] | None = None) -> tuple[DetectorSpec, nn.Module]:
    """The spec and teacher weights of ``model.pt`` / ``best.pt`` / ``checkpoint.pt`` (``weights_only`` load).

    ``overrides`` change decode-time options of the saved detector config (e.g. ``aspect_ratio``).
    """
    state = load_checkpoint(path)
    if not isinstance(state.get("detector"), dict) or not isinstance(state.get("model"), dict):
        raise BadInput(f"{path} is not a detector weights file (needs keys 'detector' and 'model'); "
                       "use model.pt or best.pt from 'thoughtlab csp train'")
    check_detector_config(state["detector"], f"{path}: the stored detector config")
    spec = build_detector({**state["detector"], "backbone_weights": None, **(overrides or {})})
    try:
        spec.model.load_state_dict(state["model"])
    except (RuntimeError, KeyError) as err:
        raise BadInput(f"{path}: weights do not fit the saved {spec.name} configuration ({str(err).splitlines()[0]})") from None
    return spec, spec.model.eval()


# ------------------------------------------------------------------------------------------ training

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


def _weights_file(spec: DetectorSpec, teacher: nn.Module, step: int, **extra: Any) -> dict[str, Any]:
    return {"format": WEIGHTS_FORMAT, "detector": spec.config, "model": teacher.state_dict(), "step": step, **extra}


_RESUME_FREE = {"steps", "checkpoint_every", "val_every", "log_every", "val_max_images", "device"}


def _resume_state(path: Path, cfg: TrainConfig) -> dict[str, Any]:
    state = load_checkpoint(path)
    saved = state.get("config")
    if not isinstance(saved, dict) or "student" not in state or "optimizer" not in state:
        raise BadInput(f"{path} is not a training checkpoint of 'thoughtlab csp train'; choose another --out")
    now = cfg.to_dict()
    changed = sorted(k for k in now if k not in _RESUME_FREE and saved.get(k) != now[k])
    if changed:
        raise UserError(f"{path} was written with a different configuration ({', '.join(changed)}); "
                        "resume with the same configuration or choose another --out")
    return state


def train_detector(spec: DetectorSpec, train: ImageSet, cfg: TrainConfig, out_dir: str | Path, *,
                   val: ImageSet | None = None, resume: bool = False, progress: bool | None = None,
                   stop_after: int | None = None) -> TrainResult:
    """Train ``spec.model`` on ``train`` with ``cfg``; see the module docstring.

    ``resume`` continues from ``out_dir/checkpoint.pt`` when it exists (a fresh start otherwise); without
    it an existing checkpoint is an error.  ``stop_after`` ends this call after that many total steps
    (as an interruption would), after writing a checkpoint.  Under torchrun (``distributed.init()``
    called), ``cfg.batch_size`` is the global batch and must divide by the world size.
    """
    cfg = cfg.validate()
    out = Path(out_dir)
    world, rank, main = distributed.world_size(), distributed.rank(), distributed.is_main()
    if cfg.batch_size % world:
        raise BadInput(f"batch size {cfg.batch_size} must be a multiple of the {world} processes")
    device = distributed.device() if distributed.is_distributed() else pick_device(cfg.device)
    model = spec.model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    ema = EMA(model, cfg.ema_decay)
    sampler = HybridSampler(train, cfg.batch_size, cfg.hybrid_ratio, cfg.seed)
    ckpt = out / "checkpoint.pt"
    start, history, best = 0, [], {"step": None, "mr2": None}
    if ckpt.exists() and not resume:
        raise UserError(f"{out} already holds a training checkpoint; pass --resume or choose another --out")
    if resume and ckpt.exists():
        state = _resume_state(ckpt, cfg)
        model.load_state_dict(state["student"])
        optimizer.load_state_dict(state["optimizer"])
        ema.module.load_state_dict(state["model"])
        ema.updates = int(state["ema_updates"])
        start, history, best = int(state["step"]), [tuple(h) for h in state["val_history"]], dict(state["best"])
    ddp = distributed.wrap(model)
    if main:
        atomic_write_json(out / "config.json", {**cfg.to_dict(), "detector": spec.config})
    logger = ScalarLogger(out / "metrics.jsonl") if main else None
    end = min(cfg.steps, stop_after) if stop_after is not None else cfg.steps
    show = (sys.stderr.isatty() if progress is None else progress) and main
    bar = _progress_bar(show, start, end)
    per_rank = cfg.batch_size // world
    slots = list(range(rank * per_rank, (rank + 1) * per_rank))
    losses: list[float] = []
    began = time.perf_counter()
    try:
        for step in range(start, end):
            indices = sampler.batch(step)
            images, targets = make_batch(spec, train, [indices[s] for s in slots], slots, step, cfg)
            outputs = ddp(images.to(device))
            total, parts = spec.loss(outputs, {k: v.to(device) for k, v in targets.items()})
            if not torch.isfinite(total):
                raise UserError(f"training loss became {float(total)} at step {step}; lower the learning rate")
            optimizer.zero_grad(set_to_none=True)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(cfg, step)
            total.backward()
            optimizer.step()
            if cfg.ema_warmup:
                ema.decay = min(1.0 - 1.0 / (ema.updates + 1), cfg.ema_decay)
            ema.update(model)
            losses.append(float(total.detach()))
            done = step + 1
            if done % cfg.log_every == 0 or done == end:
                mean_loss = distributed.all_reduce_mean(losses[-1])
                if logger:
                    logger.log(done, loss=mean_loss, **parts, **resident_memory())
            if val is not None and (done % cfg.val_every == 0 or done == cfg.steps):
                _validate(spec, ema.module, val, cfg, done, history, best, out, logger)
            if done % cfg.checkpoint_every == 0 or done == end:
                if main:
                    save_checkpoint(ckpt, {"format": WEIGHTS_FORMAT, "detector": spec.config, "config": cfg.to_dict(),
                                           "step": done, "model": ema.module.state_dict(), "ema_updates": ema.updates,
                                           "student": model.state_dict(), "optimizer": optimizer.state_dict(),
                                           "val_history": [list(h) for h in history], "best": best})
                distributed.barrier()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
        if main and end == cfg.steps:
            save_checkpoint(out / "model.pt", _weights_file(spec, ema.module, end))
    finally:
        if bar is not None:
            bar.close()
        if logger:
            logger.close()
    return TrainResult(ema.module.eval(), end, time.perf_counter() - began, losses, history, best["step"], best["mr2"])


def _validate(spec: DetectorSpec, teacher: nn.Module, val: ImageSet, cfg: TrainConfig, step: int,
              history: list, best: dict, out: Path, logger: ScalarLogger | None) -> None:
    """Rank 0: MR⁻² Reasonable of the teacher on ``val``; log it, keep ``best.pt``; other ranks wait."""
    if distributed.is_main():
        mr2 = evaluate_model(spec, teacher, val, cfg.score_threshold, cfg.val_max_images).mr2("Reasonable")
        if mr2 is not None:
            history.append((step, float(mr2)))
            if logger:
                logger.log(step, val_mr2_reasonable=mr2)
            if best["mr2"] is None or mr2 < best["mr2"]:
                best.update(step=step, mr2=float(mr2))
                save_checkpoint(out / "best.pt", _weights_file(spec, teacher, step, val_mr2=float(mr2)))
    distributed.barrier()


def resident_memory() -> dict[str, float]:
    """``{"rss_mb": current resident set size}`` of this process (Linux ``/proc``; empty elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return {}
    return {"rss_mb": pages * os.sysconf("SC_PAGE_SIZE") / 2**20}


def _progress_bar(show: bool, start: int, end: int) -> Any:
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=end, initial=start, desc="train", unit="step")


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
