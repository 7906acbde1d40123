"""DistributedDataParallel under ``torchrun``: process group, rank helpers, model wrapping.

``torchrun`` sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` (plus the
rendezvous address); :func:`init` reads them.  Outside torchrun every helper
answers as a single process (rank 0 of 1), so code can call them anywhere.
Backend: ``nccl`` with CUDA, ``gloo`` on CPU.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import torch
import torch.distributed as dist
from torch import nn

from thoughtlab.train.seed import pick_device


def launched_by_torchrun() -> bool:
    """Whether the environment describes more than one process (``WORLD_SIZE`` > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init(backend: str | None = None) -> bool:
    """Join the process group torchrun describes; no-op outside torchrun or when already joined.

    Returns whether this process now runs distributed.
    """
    if is_distributed():
        return True
    if not launched_by_torchrun() or not dist.is_available():
        return False
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local_rank())
    dist.init_process_group(backend=backend)
    return True


def setup(choice: str | torch.device = "cpu") -> torch.device:
    """The training device for ``choice`` (:func:`~thoughtlab.train.seed.pick_device`); under torchrun, joins
    the process group first (nccl for CUDA, gloo for CPU) and uses ``cuda:LOCAL_RANK`` for CUDA."""
    chosen = pick_device(choice)
    init("nccl" if chosen.type == "cuda" else "gloo")
    if is_distributed() and chosen.type == "cuda":
        return torch.device("cuda", local_rank())
    return chosen


def local_slice(global_batch: int) -> slice:
    """This process's equal share ``[r·B/W, (r+1)·B/W)`` of a global batch of ``B`` (``W`` must divide ``B``)."""
    return slice(rank() * global_batch // world_size(), (rank() + 1) * global_batch // world_size())


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main() -> bool:
    """Rank 0: the one process that writes checkpoints, logs and files."""
    return rank() == 0


def device() -> torch.device:
    """This process's device: ``cuda:LOCAL_RANK`` under nccl, else CPU."""
    if is_distributed() and dist.get_backend() == "nccl":
        return torch.device("cuda", local_rank())
    return torch.device("cpu")


def wrap(model: nn.Module) -> nn.Module:
    """``DistributedDataParallel(model)`` when distributed (rank 0's weights are broadcast); else ``model``.

    Move the model to its device first.
    """
    if not is_distributed():
        return model
    param = next(model.parameters())
    device_ids = [param.device.index] if param.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def all_reduce_mean(value: float) -> float:
    """Mean of ``value`` over all processes (the value itself when not distributed)."""
    if not is_distributed():
        return float(value)
    tensor = torch.tensor([float(value)], dtype=torch.float64, device=device())
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.item() / world_size()


def average_gradients(parameters: Iterable[torch.Tensor]) -> None:
    """Under torchrun, replace each parameter's gradient by its mean over processes (what DDP's all-reduce does,
    for models not wrapped in DDP); a no-op in one process."""
    if not is_distributed():
        return
    for p in parameters:
        if p.grad is not None:
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad /= world_size()


def barrier() -> None:
    if is_distributed():
        dist.barrier()


def cleanup() -> None:
    """Leave the process group (call once at the end of a torchrun script)."""
    if is_distributed():
        dist.destroy_process_group()
