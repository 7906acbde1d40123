"""Overhead of thoughtlab's training core against plain PyTorch loops, side by side.

Rows: a bare PyTorch classifier loop (the peer), ``thoughtlab.train.fit`` (a recipe on the core
``thoughtlab.train.train``: seeded batch order, loss history, logging schedule, progress rule), ``fit``
with an atomic checkpoint every 50 steps and an EMA; a bare two-network GAN loop (one D and one G Adam
step per iteration, as ``generative/gan.py``) against the same GAN as ``GanRecipe`` on the core; and
``thoughtlab.probe.Probe.measure`` against a plain forward pass.  Each pair does the same work (model,
data, optimizers, steps); each group's rows run interleaved, and the ratio is of CPU seconds (one thread:
this process's work, fair on a shared machine) to the group's peer.  The core's goal: <= 1.05x its bare loop.

    .venv/bin/python benchmarks/training.py [--steps 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.data import load_dataset
from thoughtlab.generative.gan import GanConfig, GanRecipe, build
from thoughtlab.probe import Probe
from thoughtlab.train import TrainState, fit, train
from timing import interleaved

GAN = GanConfig(z_dim=32, width=128, batch_size=64)


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


def gan_optimizers(g: nn.Module, d: nn.Module) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    return (torch.optim.Adam(g.parameters(), lr=GAN.lr, betas=(GAN.beta1, 0.999)),
            torch.optim.Adam(d.parameters(), lr=GAN.lr, betas=(GAN.beta1, 0.999)))


def bare_gan(x: torch.Tensor, steps: int) -> None:
    """Goodfellow et al. (2014) Alg. 1, k = 1, written out: the peer of the core's two-network recipe."""
    g, d = build(GAN, 0)
    opt_g, opt_d = gan_optimizers(g, d)
    noise = torch.Generator().manual_seed(0)
    ones, zeros = torch.ones(GAN.batch_size), torch.zeros(GAN.batch_size)
    for _ in range(steps):
        real = x[torch.randint(len(x), (GAN.batch_size,), generator=noise)]
        fake = g(torch.randn(GAN.batch_size, GAN.z_dim, generator=noise))
        d_loss = F.binary_cross_entropy_with_logits(d(real), ones) + F.binary_cross_entropy_with_logits(
            d(fake.detach()), zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.binary_cross_entropy_with_logits(d(fake), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        float(d_loss.detach()), float(g_loss.detach())


def core_gan(x: torch.Tensor, steps: int) -> None:
    """The same GAN as ``GanRecipe`` on ``thoughtlab.train.train`` (logging its two losses every step)."""
    g, d = build(GAN, 0)
    opt_g, opt_d = gan_optimizers(g, d)
    recipe = GanRecipe(x, GAN, 0)
    state = TrainState({}, models={"generator": g, "discriminator": d},
                       optimizers={"generator": opt_g, "discriminator": opt_d}, generators={"noise": recipe.noise})
    train(recipe, state, steps, logger=lambda step, **scalars: None, progress=False)


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
    images = x.reshape(-1, 1, 28, 28)
    groups = [  # each group: its peer first, then what is compared with it (interleaved, equal work)
        [("bare PyTorch loop (peer)", lambda: bare_loop(x, y, args.steps, args.batch)),
         ("thoughtlab fit (core)", lambda: with_fit(x, y, args.steps, args.batch, False)),
         ("fit + checkpoint/50 + EMA", lambda: with_fit(x, y, args.steps, args.batch, True))],
        [("bare GAN loop, G+D (peer)", lambda: bare_gan(images, args.steps)),
         ("GanRecipe on the core", lambda: core_gan(images, args.steps))],
        [("plain forward, 1024 images (peer)", lambda: plain_forward(x, y)),
         ("Probe.measure, 1024 images", lambda: probe_measure(x, y))],
    ]
    print(f"MLP 784-256x4-10 on mnist5k, {args.steps} steps of {args.batch}; MLP GAN (z 32, width 128, batch "
          f"{GAN.batch_size}), {args.steps} steps; {args.threads} thread(s), {args.repeats} interleaved repeats; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'what':<36} {'wall best':>10} {'cpu best':>9} {'cpu median':>11} {'ratio (cpu best)':>17}")
    for group in groups:
        results = interleaved([fn for _, fn in group], args.repeats)
        for (name, _), result in zip(group, results):
            ratio = result["cpu_best"] / results[0]["cpu_best"]
            print(f"{name:<36} {result['wall_best']:>10.3f} {result['cpu_best']:>9.3f} {result['cpu_median']:>11.3f} "
                  f"{ratio:>16.3f}x")


if __name__ == "__main__":
    main()
