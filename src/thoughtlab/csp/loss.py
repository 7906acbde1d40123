"""CSP training loss: focal-weighted center BCE, relative scale Smooth-L1, offset Smooth-L1.

Liu et al., CVPR 2019, §3.3, Eq. (1)-(4): L = lambda_c L_center +
lambda_s L_scale + lambda_o L_offset with lambda = 0.01, 1, 0.1.  The maths
follows the official code (``keras_csp/losses.py``: ``cls_center``,
``regr_h``, ``regr_offset``; identical in lwpyr ``net/loss.py``), research
notes csp.md §2.2.  With p = sigmoid(logit), y the positives, M the Gaussian
map, v the valid mask and K the number of positive cells in the batch
(floored at 1):

- L_center = sum over cells of w * BCE(p, y) / K, with w = (1 - p)^gamma at
  positives and w = v (1 - M)^beta p^gamma at the other cells (gamma = 2,
  beta = 4); ignore cells weigh 0.  The focal factors are not detached (as in
  the code).
- L_scale = SmoothL1((s - t) / t) summed over the 5x5 scale-mask cells and
  divided by their number (not by K), t = log(h / r).
- L_offset = SmoothL1 over (dy, dx) at the offset-mask cells, divided by
  their number (= K).

Code over paper: the paper writes Smooth-L1 on the log scale; every official
implementation uses the *relative* error and divides by the number of
window cells, which we follow by default (``scale_form="log"`` gives the
paper's form).  Two numerical choices differ from the Keras
code: the BCE is computed from logits (Pedestron) instead of clipped
probabilities, and the negatives are v (1 - y) instead of v - y (the same
whenever positives are valid cells; the code's form goes negative otherwise).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from thoughtlab.csp.model import CSPOutput
from thoughtlab.csp.targets import CSPTargets
from thoughtlab.errors import BadInput

LOSS_WEIGHTS = (0.01, 1.0, 0.1)  # center, scale, offset (paper §4.1; code)
FOCAL_GAMMA = 2.0
FOCAL_BETA = 4.0


class CSPLoss(NamedTuple):
    """The weighted total and the three unweighted parts (scalars)."""

    total: torch.Tensor
    center: torch.Tensor
    scale: torch.Tensor
    offset: torch.Tensor


def check_shapes(outputs: CSPOutput, targets: CSPTargets) -> None:
    """Raise BadInput unless the heads and target maps agree (N, h, w) and have the expected channels."""
    expected = ((outputs.center, 1, targets.center, 3), (outputs.scale, 1, targets.scale, 2),
                (outputs.offset, 2, targets.offset, 3))
    for name, (out, out_ch, tgt, tgt_ch) in zip(("center", "scale", "offset"), expected):
        if out.ndim != 4 or tgt.ndim != 4 or out.shape[1] != out_ch or tgt.shape[1] != tgt_ch \
                or out.shape[0] != tgt.shape[0] or out.shape[2:] != tgt.shape[2:]:
            raise BadInput(
                f"{name}: output {tuple(out.shape)} and target {tuple(tgt.shape)} do not match; expected "
                f"(N, {out_ch}, h, w) and (N, {tgt_ch}, h, w) (batch the targets with stack_targets)"
            )


def center_loss(logits: torch.Tensor, center: torch.Tensor, gamma: float = FOCAL_GAMMA,
                beta: float = FOCAL_BETA) -> torch.Tensor:
    """Focal-weighted BCE on center logits (N,1,h,w) against the (N,3,h,w) center targets, / K."""
    logits = logits[:, 0]
    gaussian, valid, positive = center[:, 0], center[:, 1], center[:, 2]
    prob = torch.sigmoid(logits)
    bce = F.binary_cross_entropy_with_logits(logits, positive, reduction="none")
    negative = valid * (1 - positive)
    weight = positive * (1 - prob) ** gamma + negative * (1 - gaussian) ** beta * prob ** gamma
    return (weight * bce).sum() / positive.sum().clamp_min(1.0)


SCALE_FORMS = ("relative", "log")


def scale_loss(pred: torch.Tensor, scale: torch.Tensor, form: str = "relative") -> torch.Tensor:
    """Smooth-L1 of the log-height error over the scale-mask cells, / their number.

    ``form="relative"`` (the official code): the error is (s - t) / t; ``"log"`` (the paper's Eq. 3):
    s - t itself, which does not down-weight tall people (large t).
    """
    mask = scale[:, 1] > 0
    target = scale[:, 0][mask]
    error = pred[:, 0][mask] - target
    if form == "relative":
        error = error / target
    return F.smooth_l1_loss(error, torch.zeros_like(error), reduction="sum") / mask.sum().clamp_min(1)


def offset_loss(pred: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """Smooth-L1 over (dy, dx) at the offset-mask cells, summed over both channels, / their number."""
    mask = offset[:, 2] > 0
    diff = pred.permute(0, 2, 3, 1)[mask] - offset[:, :2].permute(0, 2, 3, 1)[mask]
    return F.smooth_l1_loss(diff, torch.zeros_like(diff), reduction="sum") / mask.sum().clamp_min(1)


def csp_loss(outputs: CSPOutput, targets: CSPTargets, weights: tuple[float, float, float] = LOSS_WEIGHTS,
             gamma: float = FOCAL_GAMMA, beta: float = FOCAL_BETA, scale_form: str = "relative") -> CSPLoss:
    """The CSP loss of a batch: raw head outputs vs. targets from :func:`~thoughtlab.csp.targets.stack_targets`."""
    check_shapes(outputs, targets)
    parts = (center_loss(outputs.center, targets.center, gamma, beta),
             scale_loss(outputs.scale, targets.scale, scale_form),
             offset_loss(outputs.offset, targets.offset))
    total = sum(w * part for w, part in zip(weights, parts))
    return CSPLoss(total, *parts)
