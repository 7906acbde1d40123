"""A runnable DDP check: a tiny MLP on synthetic data, trained by :func:`fit`.

    torchrun --standalone --nproc_per_node=2 -m thoughtlab.train.ddp_check OUT_DIR
    python -m thoughtlab.train.ddp_check OUT_DIR          # the same, one process

Rank 0 writes ``OUT_DIR/losses.json`` and ``OUT_DIR/weights.pt``.  Because every
process takes an equal slice of the same global batch and DDP averages the
gradients, both commands give the same loss curve and final weights up to
float rounding.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch import nn

from thoughtlab.train import distributed
from thoughtlab.train.checkpoint import save_checkpoint
from thoughtlab.train.loop import FitResult, fit
from thoughtlab.train.seed import seed_everything


def synthetic_data(seed: int, n: int = 256, dim: int = 8, classes: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian inputs labelled by a fixed random linear map (arg-max)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g)
    y = (x @ torch.randn(dim, classes, generator=g)).argmax(dim=1)
    return x, y


def tiny_mlp(dim: int = 8, hidden: int = 16, classes: int = 3) -> nn.Module:
    return nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, classes))


def train_tiny(steps: int = 20, batch_size: int = 32, seed: int = 0, optimizer: str = "sgd") -> FitResult:
    """Seed, build the tiny MLP and fit it (DDP-aware through :func:`fit`)."""
    seed_everything(seed)
    x, y = synthetic_data(seed)
    return fit(tiny_mlp(), x, y, steps=steps, batch_size=batch_size, lr=0.1, seed=seed, optimizer=optimizer)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--optimizer", default="sgd")
    args = parser.parse_args(argv)
    try:
        result = train_tiny(args.steps, args.batch_size, args.seed, args.optimizer)
        if distributed.is_main():
            args.out_dir.mkdir(parents=True, exist_ok=True)
            record = {"world_size": distributed.world_size(), "losses": result.losses}
            (args.out_dir / "losses.json").write_text(json.dumps(record))
            save_checkpoint(args.out_dir / "weights.pt", result.model.state_dict())
    finally:
        distributed.cleanup()


if __name__ == "__main__":
    main()
