"""The detectors the trainer knows, by name, and their saved weights.

A detector plugs into :func:`thoughtlab.csp.training.train_detector` through a
:class:`~thoughtlab.csp.spec.DetectorSpec` (model, targets, collate, loss, decode; conventions in
notes/CSP_INTERFACE.md).  :data:`DETECTORS` maps each name to the function that builds its spec from a
config: CSP (Liu et al., CVPR 2019) and the anchor-based baseline (:mod:`thoughtlab.csp.anchors`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from thoughtlab.csp.anchors import anchor_spec
from thoughtlab.csp.decode import ImageDetections, decode
from thoughtlab.csp.loss import LOSS_WEIGHTS, SCALE_FORMS, csp_loss
from thoughtlab.csp.model import CSP
from thoughtlab.csp.spec import DetectorSpec, stack_dicts
from thoughtlab.csp.targets import CSPTargets, make_targets
from thoughtlab import validate
from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.train import STATE_FORMAT, load_checkpoint, seed_everything

WEIGHTS_FORMAT = "thoughtlab-detector-v1"


CSP_DEFAULTS: dict[str, Any] = {"detector": "csp", "backbone": "resnet50", "width": 1.0, "head_bn_momentum": 0.01,
                                "backbone_weights": None, "aspect_ratio": 0.41, "nms_iou": 0.5, "pre_nms_top_k": 1000,
                                "loss_weights": list(LOSS_WEIGHTS), "scale_loss": "relative"}


def csp_spec(config: dict[str, Any] | None = None) -> DetectorSpec:
    """The CSP detector (model.py, targets.py, loss.py, decode.py) as a :class:`DetectorSpec`."""
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

    def decode_fn(outputs: Any, sizes: list[tuple[int, int]], score_threshold: float) -> list[ImageDetections]:
        return decode(outputs, sizes, score_threshold=score_threshold, aspect_ratio=float(cfg["aspect_ratio"]),
                      nms_threshold=float(cfg["nms_iou"]), pre_nms_top_k=cfg["pre_nms_top_k"])

    return DetectorSpec("csp", cfg, model, targets, stack_dicts, loss, decode_fn)


#: name -> builder of its spec from a config (the builder must accept the ``config`` it saves).
DETECTORS: dict[str, Callable[[dict[str, Any]], DetectorSpec]] = {"csp": csp_spec, "anchor": anchor_spec}


def build_detector(config: dict[str, Any] | None = None) -> DetectorSpec:
    """The spec named by ``config["detector"]`` (default ``"csp"``), built from the rest of ``config``."""
    config = dict(config or {})
    name = config.get("detector", "csp")
    if name not in DETECTORS:
        raise UnknownName("detector", str(name), sorted(DETECTORS))
    return DETECTORS[name](config)


def seeded_detector(config: dict[str, Any] | None, seed: int) -> DetectorSpec:
    """:func:`build_detector` with the global RNGs seeded first, so the initial weights depend only on ``seed``."""
    seed_everything(seed)
    return build_detector(config)



def weights_file(spec: DetectorSpec, teacher: nn.Module, step: int, **extra: Any) -> dict[str, Any]:
    """What ``model.pt`` / ``best.pt`` hold: the detector config and the teacher's weights at ``step``."""
    return {"format": WEIGHTS_FORMAT, "detector": spec.config, "model": teacher.state_dict(), "step": step, **extra}


# CSP options (detectors.CSP_DEFAULTS) -> (type, low, high): a stored or given config must fit before a model is built
CSP_OPTION_TYPES: dict[str, tuple[type, float | None, float | None]] = {
    "detector": (str, None, None), "backbone": (str, None, None), "width": (float, 1e-3, 4.0),
    "head_bn_momentum": (float, 0.0, 1.0), "aspect_ratio": (float, 1e-3, 1e3), "nms_iou": (float, 0.0, 1.0),
    "pre_nms_top_k": (int, 1, None), "scale_loss": (str, None, None)}


def check_detector_config(config: Any, source: str) -> None:
    """A detector config (a training option, or the one stored in a weights file) has JSON types and ranges
    that the builder can use: CSP's options per ``CSP_OPTION_TYPES``, ``loss_weights`` three numbers >= 0,
    ``backbone_weights`` a path or null; any other detector's numbers finite."""
    if not isinstance(config, dict):
        raise BadInput(f"{source} must be a JSON object such as {{\"detector\": \"csp\"}}, got {config!r}")
    name = config.get("detector", "csp")
    if not isinstance(name, str) or name not in DETECTORS:
        raise UnknownName(f"detector (in {source})", str(name), sorted(DETECTORS))
    if name != "csp":
        _check_finite_numbers(config, source)
        return
    for key, value in config.items():
        if key in CSP_OPTION_TYPES:
            kind, low, high = CSP_OPTION_TYPES[key]
            if kind is float:
                validate.number(value, f"{source} {key}", low=low, high=high)
            elif kind is int:
                validate.integer(value, f"{source} {key}", low=low, high=high)
            else:
                validate.json_typed(value, kind, f"{source} {key}")
    if "loss_weights" in config:
        weights = config["loss_weights"]
        if not isinstance(weights, (list, tuple)) or len(weights) != 3:
            raise BadInput(f"{source} loss_weights must be three numbers (center, scale, offset), got {weights!r}")
        for i, w in enumerate(weights):
            validate.number(w, f"{source} loss_weights[{i}]", low=0)
    if config.get("backbone_weights") is not None:
        validate.json_typed(config["backbone_weights"], str, f"{source} backbone_weights")


def _check_finite_numbers(value: Any, name: str) -> None:
    """Every number inside ``value`` (nested lists and dicts) is finite."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite_numbers(item, f"{name} {key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_finite_numbers(item, f"{name}[{i}]")
    elif isinstance(value, float):
        validate.number(value, name)



def load_detector(path: str | Path, overrides: dict[str, Any] | None = None) -> tuple[DetectorSpec, nn.Module]:
    """The spec and teacher weights of ``model.pt`` / ``best.pt`` / ``checkpoint.pt`` (``weights_only`` load).

    ``overrides`` change decode-time options of the saved detector config (e.g. ``aspect_ratio``).
    """
    state = load_checkpoint(path)
    if state.get("format") == STATE_FORMAT:  # a training checkpoint: the teacher is the EMA
        teacher = state["emas"].get("teacher", {})
        state = {"detector": state["records"].get("detector"), "model": teacher.get("module")}
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
