"""Exponential moving average of a model's weights (Polyak averaging)."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside a DistributedDataParallel / DataParallel wrapper."""
    return model.module if isinstance(model, (nn.parallel.DistributedDataParallel, nn.DataParallel)) else model


class EMA:
    """``ema <- decay * ema + (1 - decay) * weight`` after each :meth:`update`; buffers are copied.

    Polyak & Juditsky (1992), "Acceleration of stochastic approximation by
    averaging"; the exponential form is the one of Adam (Kingma & Ba 2015, sec. 7.2).
    ``module`` is the averaged copy, in eval mode with gradients off.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = float(decay)
        self.updates = 0
        self.module = copy.deepcopy(unwrap(model)).eval()
        self.module.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards ``model``'s current weights and copy its buffers."""
        source = unwrap(model)
        ema_params = dict(self.module.named_parameters())
        for name, param in source.named_parameters():
            ema_params[name].lerp_(param.detach().to(ema_params[name].dtype), 1.0 - self.decay)
        ema_buffers = dict(self.module.named_buffers())
        for name, buffer in source.named_buffers():
            ema_buffers[name].copy_(buffer)
        self.updates += 1

    def state_dict(self) -> dict[str, Any]:
        return {"decay": self.decay, "updates": self.updates, "module": self.module.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.decay = float(state["decay"])
        self.updates = int(state["updates"])
        self.module.load_state_dict(state["module"])
