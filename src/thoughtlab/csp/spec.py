"""What a pedestrian detector gives the trainer: :class:`DetectorSpec` (conventions in notes/CSP_INTERFACE.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from thoughtlab.csp.decode import ImageDetections


@dataclass
class DetectorSpec:
    """What the trainer needs from a detector (conventions in notes/CSP_INTERFACE.md).

    ``targets(persons_xyxy, ignore_xyxy, (H, W)) -> dict`` of one crop's target tensors; ``collate`` stacks
    them; ``loss(outputs, batch) -> (total, {part: float})``; ``decode(outputs, sizes, score_threshold)``
    gives one :class:`~thoughtlab.csp.decode.ImageDetections` per image.  ``config`` rebuilds the spec via
    :func:`thoughtlab.csp.detectors.build_detector` and is saved with every checkpoint.
    """

    name: str
    config: dict[str, Any]
    model: nn.Module
    targets: Callable[[np.ndarray, np.ndarray, tuple[int, int]], dict[str, torch.Tensor]]
    collate: Callable[[list[dict[str, torch.Tensor]]], dict[str, torch.Tensor]]
    loss: Callable[[Any, dict[str, torch.Tensor]], tuple[torch.Tensor, dict[str, float]]]
    decode: Callable[[Any, list[tuple[int, int]], float], list[ImageDetections]]


def stack_dicts(items: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Default collate: ``torch.stack`` each key over the images of a batch."""
    return {key: torch.stack([item[key] for item in items]) for key in items[0]}
