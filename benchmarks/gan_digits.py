"""GAN-family training steps on 28×28 digits: thoughtlab's recipes on the training core against bare PyTorch loops.

Two pairs, each with the same networks, loss, Adam settings, batch and update order in both columns:

1. gan-tradeoffs' GAN: :class:`~thoughtlab.generative.models.recipes.AdversarialGAN` (MLP G/D of
   :mod:`thoughtlab.generative.gan`, width 128, non-saturating BCE loss, Adam 1e-3, β = (0.5, 0.999),
   batch 64, one D then one G update) run by :func:`thoughtlab.train.core.train`.
2. DCGAN pair of :mod:`thoughtlab.generative.models.gan` (width 32, ``ns`` loss, Adam 2e-4, batch 64)
   run by :func:`~thoughtlab.generative.models.gan.train_gan`, optionally with PacGAN packing 2 and R1 (γ = 1).

The peer is the loop a reader would write by hand (random minibatch indices, ``randn`` latents, the
losses written out).  The recipe column adds the core's per-step work: batch bookkeeping with registered
generators, scalar returns (``.item()``), the hook/log checks; no checkpoints or logging are written.
Timings are CPU seconds (``process_time``, one thread), runs interleaved, so the ratio stays fair on a
shared machine (wall seconds are printed beside them).  The ratio is recipe / bare (1.00 = no overhead).

    PYTHONPATH=src python benchmarks/gan_digits.py [--steps 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from timing import interleaved  # noqa: E402

from thoughtlab.generative import gan as mlp  # noqa: E402
from thoughtlab.generative.models import gan  # noqa: E402
from thoughtlab.generative.models import recipes as rc  # noqa: E402
from thoughtlab.train.core import TrainState, train  # noqa: E402

BATCH = 64


def digits(n: int = 1024) -> torch.Tensor:
    """Synthetic 8-bit 28×28 'digits' (a bright stroke plus noise); speed does not depend on the content."""
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 40, (n, 1, 28, 28), generator=g).float()
    x[:, :, 6:22, 12:16] += 200.0
    return x.clamp(0, 255)


def _adam(module: torch.nn.Module, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    return torch.optim.Adam(module.parameters(), lr, betas=betas)


def mlp_bare(pixels: torch.Tensor, steps: int) -> None:
    torch.manual_seed(0)
    g, d = mlp.Generator(32, 128), mlp.Discriminator(128)
    opt_g, opt_d = _adam(g, 1e-3, (0.5, 0.999)), _adam(d, 1e-3, (0.5, 0.999))
    noise = torch.Generator().manual_seed(0)
    ones, zeros = torch.ones(BATCH), torch.zeros(BATCH)
    for _ in range(steps):
        real = pixels[torch.randint(len(pixels), (BATCH,), generator=noise)] / 255.0
        fake = g(torch.randn(BATCH, 32, generator=noise))
        d_loss = F.binary_cross_entropy_with_logits(d(real), ones) + F.binary_cross_entropy_with_logits(d(fake.detach()), zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.binary_cross_entropy_with_logits(d(fake), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()


def mlp_recipe(pixels: torch.Tensor, steps: int) -> None:
    torch.manual_seed(0)
    g, d = mlp.Generator(32, 128), mlp.Discriminator(128)
    recipe = rc.AdversarialGAN(pixels, BATCH, 0, z_dim=32)
    state = TrainState({}, models={"g": g, "d": d},
                       optimizers={"g": _adam(g, 1e-3, (0.5, 0.999)), "d": _adam(d, 1e-3, (0.5, 0.999))},
                       generators={"noise": recipe.noise}, objects={"order": recipe.order})
    train(recipe, state, steps, progress=False)


def dcgan_bare(images: torch.Tensor, steps: int, pack: int, r1: float) -> None:
    torch.manual_seed(0)
    g, d = gan.DCGANGenerator(64, 32), gan.DCGANDiscriminator(32, pack=pack)
    opt_g, opt_d = _adam(g, 2e-4, (0.5, 0.999)), _adam(d, 2e-4, (0.5, 0.999))
    noise = torch.Generator().manual_seed(0)
    n = BATCH * pack
    for _ in range(steps):
        real = images[torch.randint(len(images), (n,), generator=noise)]
        fake = g(torch.randn(n, 64, generator=noise))
        d_loss = F.softplus(-d(real)).mean() + F.softplus(d(fake.detach())).mean()
        if r1 > 0:
            real = real.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(d(real).sum(), real, create_graph=True)
            d_loss = d_loss + 0.5 * r1 * grad.pow(2).flatten(1).sum(1).sum() / (len(real) // pack)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-d(fake)).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()


def dcgan_recipe(images: torch.Tensor, steps: int, pack: int, r1: float) -> None:
    torch.manual_seed(0)
    cfg = gan.GanTraining(loss="ns", batch_size=BATCH, lr_g=2e-4, lr_d=2e-4, r1_gamma=r1)
    gan.train_gan(gan.DCGANGenerator(64, 32), gan.DCGANDiscriminator(32, pack=pack), images, cfg, steps, seed=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    pixels = digits()
    images = pixels / 127.5 - 1.0  # the DCGAN pair works in [-1, 1]
    cases = {
        "gan-tradeoffs MLP GAN (AdversarialGAN)": (lambda: mlp_bare(pixels, args.steps),
                                                   lambda: mlp_recipe(pixels, args.steps)),
        "DCGAN w32, ns": (lambda: dcgan_bare(images, args.steps, 1, 0.0),
                          lambda: dcgan_recipe(images, args.steps, 1, 0.0)),
        "DCGAN w32, ns, pack 2 + R1": (lambda: dcgan_bare(images, args.steps, 2, 1.0),
                                       lambda: dcgan_recipe(images, args.steps, 2, 1.0)),
    }
    print(f"GAN steps on 28x28 digits, batch {BATCH}, {args.steps} steps, 1 thread, best of {args.repeats} "
          "(interleaved; CPU seconds)")
    print(f"{'pair':<40} {'bare steps/s':>13} {'recipe steps/s':>15} {'recipe/bare time':>17} {'wall ratio':>11}")
    for name, (bare, ours) in cases.items():
        t_bare, t_ours = interleaved([bare, ours], args.repeats)
        print(f"{name:<40} {args.steps / t_bare['cpu_best']:>13.1f} {args.steps / t_ours['cpu_best']:>15.1f} "
              f"{t_ours['cpu_best'] / t_bare['cpu_best']:>16.2f}x {t_ours['wall_best'] / t_bare['wall_best']:>10.2f}x")
    print(f"load average: {os.getloadavg()[0]:.2f} (CPU seconds are robust to sharing; wall seconds are not)")


if __name__ == "__main__":
    main()
