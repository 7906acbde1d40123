"""One seed for everything, and the choice of device."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from thoughtlab.errors import UnknownName, UserError

DEVICE_CHOICES: tuple[str, ...] = ("auto", "cpu", "cuda")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's, NumPy's and torch's global RNGs; return a CPU generator seeded with ``seed``.

    Also makes cuDNN deterministic.  Prefer the returned generator (or one
    made from ``seed``) for data order so results do not depend on global state.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)


def pick_device(choice: str | torch.device = "auto") -> torch.device:
    """``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Raises:
        UserError: CUDA was asked for but is not available.
        UnknownName: any other name.
    """
    name = str(choice)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        return _cuda_device(name)
    raise UnknownName("device", name, DEVICE_CHOICES)


def _cuda_device(name: str) -> torch.device:
    if not torch.cuda.is_available():
        raise UserError(
            f"CUDA was requested (--device {name}) but torch.cuda.is_available() is False; "
            "use --device cpu or auto"
        )
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UnknownName("device", name, DEVICE_CHOICES) from None
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        raise UserError(f"--device {name} asks for GPU {device.index} but only {count} are visible; use cuda:0..{count - 1}")
    return device


def global_rng_state() -> dict[str, Any]:
    """Python's, NumPy's and torch's (CPU and every CUDA device) global RNG states, as plain data.

    Only tensors, ints, floats, strings and lists: a checkpoint holding it loads with ``weights_only=True``.
    """
    kind, keys, position, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "python": [version, list(internal), gauss_next],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(position), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_global_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`global_rng_state` captured (CUDA states only where as many devices are visible)."""
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
    kind, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available() and torch.cuda.device_count() == len(state["cuda"]):
        torch.cuda.set_rng_state_all(state["cuda"])
