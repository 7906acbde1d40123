"""The detectors the trainer knows: the :class:`DetectorSpec` interface and its registry.

A detector plugs into :func:`thoughtlab.csp.training.train_detector` through a spec (model, targets,
collate, loss, decode; conventions in notes/CSP_INTERFACE.md).  CSP (Liu et al., CVPR 2019) is built
in; the anchor-based baseline (:mod:`thoughtlab.csp.anchors`) is imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from thoughtlab.csp.decode import Detections
from thoughtlab.csp.loss import LOSS_WEIGHTS, SCALE_FORMS
from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.train import seed_everything


@dataclass
class DetectorSpec:
    """What the trainer needs from a detector (conventions in notes/CSP_INTERFACE.md).

    ``targets(persons_xyxy, ignore_xyxy, (H, W)) -> dict`` of one crop's target tensors; ``collate`` stacks
    them; ``loss(outputs, batch) -> (total, {part: float})``; ``decode(outputs, sizes, score_threshold)``
    gives one :class:`~thoughtlab.csp.decode.Detections` per image.  ``config`` rebuilds the spec via
    :func:`build_detector` and is saved with every checkpoint.
    """

    name: str
    config: dict[str, Any]
    model: nn.Module
    targets: Callable[[np.ndarray, np.ndarray, tuple[int, int]], dict[str, torch.Tensor]]
    collate: Callable[[list[dict[str, torch.Tensor]]], dict[str, torch.Tensor]]
    loss: Callable[[Any, dict[str, torch.Tensor]], tuple[torch.Tensor, dict[str, float]]]
    decode: Callable[[Any, list[tuple[int, int]], float], list[Detections]]


def stack_dicts(items: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Default collate: ``torch.stack`` each key over the images of a batch."""
    return {key: torch.stack([item[key] for item in items]) for key in items[0]}


CSP_DEFAULTS: dict[str, Any] = {"detector": "csp", "backbone": "resnet50", "width": 1.0, "head_bn_momentum": 0.01,
                                "backbone_weights": None, "aspect_ratio": 0.41, "nms_iou": 0.5, "pre_nms_top_k": 1000,
                                "loss_weights": list(LOSS_WEIGHTS), "scale_loss": "relative"}


def csp_spec(config: dict[str, Any] | None = None) -> DetectorSpec:
    """The CSP detector (model.py, targets.py, loss.py, decode.py) as a :class:`DetectorSpec`."""
    from thoughtlab.csp.decode import decode
    from thoughtlab.csp.loss import csp_loss
    from thoughtlab.csp.model import CSP
    from thoughtlab.csp.targets import CSPTargets, make_targets

    unknown = set(config or {}) - set(CSP_DEFAULTS)
    if unknown:
        raise UnknownName("CSP detector option", min(unknown), list(CSP_DEFAULTS))
    cfg = {**CSP_DEFAULTS, **(config or {}), "detector": "csp"}
    weights = tuple(float(w) for w in cfg["loss_weights"])
    if len(weights) != 3 or min(weights) < 0:
        raise BadInput(f"CSP loss_weights {cfg['loss_weights']} must be three non-negative numbers "
                       "(center, scale, offset; the paper's are 0.01, 1, 0.1)")
    if cfg["scale_loss"] not in SCALE_FORMS:
        raise UnknownName("CSP scale_loss", str(cfg["scale_loss"]), list(SCALE_FORMS))
    model = CSP(cfg["backbone"], float(cfg["width"]), head_bn_momentum=float(cfg["head_bn_momentum"]),
                backbone_weights=cfg["backbone_weights"])

    def targets(persons: np.ndarray, ignore: np.ndarray, size: tuple[int, int]) -> dict[str, torch.Tensor]:
        return make_targets(persons, size, ignore)._asdict()

    def loss(outputs: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        parts = csp_loss(outputs, CSPTargets(**batch), weights=weights, scale_form=cfg["scale_loss"])
        return parts.total, {name: float(getattr(parts, name).detach()) for name in ("center", "scale", "offset")}

    def decode_fn(outputs: Any, sizes: list[tuple[int, int]], score_threshold: float) -> list[Detections]:
        return decode(outputs, sizes, score_threshold=score_threshold, aspect_ratio=float(cfg["aspect_ratio"]),
                      nms_threshold=float(cfg["nms_iou"]), pre_nms_top_k=cfg["pre_nms_top_k"])

    return DetectorSpec("csp", cfg, model, targets, stack_dicts, loss, decode_fn)


DETECTORS: dict[str, Callable[[dict[str, Any]], DetectorSpec]] = {"csp": csp_spec}
#: builders imported on first use ("module:function"), so that e.g. ``detect`` finds them without an import.
DETECTOR_MODULES: dict[str, str] = {"anchor": "thoughtlab.csp.anchors:anchor_spec"}


def register_detector(name: str, builder: Callable[[dict[str, Any]], DetectorSpec]) -> None:
    """Make ``build_detector({"detector": name, ...})`` call ``builder(config)``."""
    DETECTORS[name] = builder


def build_detector(config: dict[str, Any] | None = None) -> DetectorSpec:
    """The spec named by ``config["detector"]`` (default ``"csp"``), built from the rest of ``config``."""
    config = dict(config or {})
    name = config.get("detector", "csp")
    if name not in DETECTORS and name in DETECTOR_MODULES:
        module, function = DETECTOR_MODULES[name].split(":")
        DETECTORS[name] = getattr(importlib.import_module(module), function)
    if name not in DETECTORS:
        raise UnknownName("detector", str(name), sorted({*DETECTORS, *DETECTOR_MODULES}))
    return DETECTORS[name](config)


def seeded_detector(config: dict[str, Any] | None, seed: int) -> DetectorSpec:
    """:func:`build_detector` with the global RNGs seeded first, so the initial weights depend only on ``seed``."""
    seed_everything(seed)
    return build_detector(config)

