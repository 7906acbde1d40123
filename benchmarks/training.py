"""Overhead of thoughtlab's training helpers against plain PyTorch, side by side.

Rows: a bare PyTorch loop (the peer), ``thoughtlab.train.fit`` (seeded batch
order, loss history), ``fit`` with an atomic checkpoint every 50 steps and an
EMA, and ``thoughtlab.probe.Probe.measure`` against a plain forward pass.
Same model, data, optimizer and steps in each row; the ratio is to the bare loop
(or to the plain forward for the probe).

    .venv/bin/python benchmarks/training.py [--steps 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.data import load_dataset
from thoughtlab.probe import Probe
from thoughtlab.train import fit
from timing import best_of


def make_model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Flatten(), nn.Linear(784, 256), nn.ReLU()]
    for _ in range(3):
        layers += [nn.Linear(256, 256), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(256, 10))


def bare_loop(x: torch.Tensor, y: torch.Tensor, steps: int, batch: int) -> None:
    model = make_model(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    perm = torch.randperm(len(x), generator=generator)
    for step in range(steps):
        start = (step * batch) % (len(x) - batch)
        idx = perm[start : start + batch]
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()


def with_fit(x: torch.Tensor, y: torch.Tensor, steps: int, batch: int, checkpoint: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fit(make_model(0), x, y, steps=steps, batch_size=batch, lr=1e-3, seed=0,
            checkpoint=Path(tmp) / "ckpt.pt" if checkpoint else None, checkpoint_every=50,
            ema_decay=0.999 if checkpoint else None)


def probe_measure(x: torch.Tensor, y: torch.Tensor) -> None:
    model = make_model(0)
    with Probe(model) as probe:
        probe.measure(x[:1024], y[:1024])


@torch.no_grad()
def plain_forward(x: torch.Tensor, y: torch.Tensor) -> None:
    make_model(0)(x[:1024])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    split = load_dataset("mnist5k")
    x, y = torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)
    rows = [
        ("bare PyTorch loop (peer)", lambda: bare_loop(x, y, args.steps, args.batch), None),
        ("thoughtlab fit", lambda: with_fit(x, y, args.steps, args.batch, False), 0),
        ("fit + checkpoint/50 + EMA", lambda: with_fit(x, y, args.steps, args.batch, True), 0),
        ("plain forward, 1024 images (peer)", lambda: plain_forward(x, y), None),
        ("Probe.measure, 1024 images", lambda: probe_measure(x, y), 3),
    ]
    print(f"MLP 784-256x4-10 on mnist5k, {args.steps} steps of {args.batch}, {args.threads} thread(s), "
          f"best of {args.repeats}")
    print(f"{'what':<36} {'best s':>9} {'median s':>9} {'ratio':>7}")
    results = []
    for name, fn, peer in rows:
        best, median = best_of(fn, args.repeats)
        results.append(best)
        ratio = f"{best / results[peer]:.2f}x" if peer is not None else "1.00x"
        print(f"{name:<36} {best:>9.3f} {median:>9.3f} {ratio:>7}")


if __name__ == "__main__":
    main()
