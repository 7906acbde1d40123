"""MLP GAN steps per second: thoughtlab's GAN recipe on the training core against a bare PyTorch loop.

Same networks (PacGAN's mixture-of-Gaussians pair: G 4×400 ReLU+BN, D 3×200 maxout with 5 pieces;
and the small 3×128 pair of the gan-distributions map), data (the 2-D ring, 100k points), loss
(non-saturating), Adam settings, batch (100 discriminator inputs) and alternating D/G updates in
each pair of rows; the ratio is to the bare loop.  The recipe row adds the core's per-step work
(batch from a registered generator, scalar return, step bookkeeping), no checkpoints or logging.

    .venv/bin/python benchmarks/gan_mlp.py [--steps 200] [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse

import torch

from thoughtlab.generative.models import gan
from thoughtlab.generative.synthetic import mog
from timing import best_of

PAIRS = {
    "PacGAN MoG pair": (lambda: gan.MLPGenerator(2, (2,), 400, 4),
                        lambda pack: gan.MLPDiscriminator(2, 200, 3, "maxout", 5, pack=pack)),
    "small 3x128 pair": (lambda: gan.MLPGenerator(2, (2,), 128, 3),
                         lambda pack: gan.MLPDiscriminator(2, 128, 3, pack=pack)),
}


def bare_loop(make_g, make_d, data: torch.Tensor, steps: int, batch: int, pack: int) -> None:
    """The peer: one D step and one G step per iteration, written out by hand."""
    torch.manual_seed(0)
    g, d = make_g(), make_d(pack)
    opt_g = torch.optim.Adam(g.parameters(), 1e-4, betas=(0.8, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 1e-4, betas=(0.8, 0.999))
    noise = torch.Generator().manual_seed(0)
    n = batch * pack
    for _ in range(steps):
        real = data[torch.randint(len(data), (n,), generator=noise)]
        fake = g(torch.randn(n, 2, generator=noise))
        d_loss = torch.nn.functional.softplus(-d(real)).mean() + torch.nn.functional.softplus(d(fake.detach())).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = torch.nn.functional.softplus(-d(fake)).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()


def recipe(make_g, make_d, data: torch.Tensor, steps: int, batch: int, pack: int) -> None:
    torch.manual_seed(0)
    cfg = gan.GanTraining(batch_size=batch, lr_g=1e-4, lr_d=1e-4, betas=(0.8, 0.999))
    gan.train_gan(make_g(), make_d(pack), data, cfg, steps, seed=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = torch.from_numpy(mog.ring().sample(100_000, seed=0)[0])
    print(f"MLP GANs on the ring, {args.steps} steps, batch {args.batch} D inputs, {args.threads} thread(s), "
          f"best of {args.repeats}")
    print(f"{'what':<40} {'steps/s':>9} {'median':>9} {'ratio':>7}")
    for name, (make_g, make_d) in PAIRS.items():
        for pack in (1, 4):
            bare = best_of(lambda: bare_loop(make_g, make_d, data, args.steps, args.batch, pack), args.repeats)
            ours = best_of(lambda: recipe(make_g, make_d, data, args.steps, args.batch, pack), args.repeats)
            for label, (best, median) in ((f"{name}, pack {pack}: bare loop (peer)", bare),
                                          (f"{name}, pack {pack}: GAN recipe", ours)):
                print(f"{label:<40} {args.steps / best:>9.1f} {args.steps / median:>9.1f} {bare[0] / best:>6.2f}x")


if __name__ == "__main__":
    main()
