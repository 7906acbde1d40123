"""Per-example gradients for the gradient noise scale: torch.func vmap+grad against a backward loop.

Rows: a loop of n single-example backward passes (the obvious peer: what B_simple costs without
torch.func) and :func:`thoughtlab.train.noise_scale.per_example_grads` (one vmap-ed grad).  Both
give the same per-example gradients (checked here before timing).  The model is the discriminator
size the ``gan-batch-size`` study uses on the 2-D grid (2 → width → width → 1, LeakyReLU), with
the non-saturating discriminator loss on (real, fake) pairs.

    .venv/bin/python benchmarks/noise_scale.py [--batch 256] [--width 128] [--repeats 5]
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.train.noise_scale import per_example_grads
from timing import best_of


def d_loss(forward, real, fake):
    """Non-saturating D loss of one (real, fake) pair, both through one forward call."""
    out = forward(torch.cat([real, fake]))
    return F.softplus(-out[0]).sum() + F.softplus(out[1]).sum()


def loop_grads(model: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> list[torch.Tensor]:
    rows = []
    for i in range(len(real)):
        model.zero_grad()
        d_loss(model, real[i:i + 1], fake[i:i + 1]).backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    return rows


def vmap_grads(model: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    grads = per_example_grads(model, d_loss, real, fake)
    return torch.cat([g.reshape(len(real), -1) for g in grads.values()], dim=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, args.width), nn.LeakyReLU(0.2), nn.Linear(args.width, args.width),
                          nn.LeakyReLU(0.2), nn.Linear(args.width, 1))
    real, fake = torch.randn(args.batch, 2), torch.randn(args.batch, 2)
    torch.testing.assert_close(torch.stack(loop_grads(model, real, fake)), vmap_grads(model, real, fake))
    loop_fast, loop_med = best_of(lambda: loop_grads(model, real, fake), args.repeats)
    vmap_fast, vmap_med = best_of(lambda: vmap_grads(model, real, fake), args.repeats)
    params = sum(p.numel() for p in model.parameters())
    print(f"per-example gradients: batch {args.batch}, MLP width {args.width} ({params} parameters), 1 thread")
    print(f"{'method':<34}{'fastest ms':>12}{'median ms':>12}{'speed-up':>10}")
    print(f"{'loop of single backward passes':<34}{loop_fast * 1e3:>12.2f}{loop_med * 1e3:>12.2f}{1.0:>10.1f}")
    print(f"{'torch.func vmap(grad) (thoughtlab)':<34}{vmap_fast * 1e3:>12.2f}{vmap_med * 1e3:>12.2f}"
          f"{loop_fast / vmap_fast:>10.1f}")


if __name__ == "__main__":
    main()
