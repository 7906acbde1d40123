"""MLP GAN steps per second: thoughtlab's GAN recipe on the training core against a bare PyTorch loop.

Same networks (PacGAN's mixture-of-Gaussians pair: G 4×400 ReLU+BN, D 3×200 maxout with 5 pieces;
and the small 3×128 pair of the gan-distributions map), data (the 2-D ring, 100k points), loss
(non-saturating), Adam settings, batch (100 discriminator inputs) and alternating D/G updates in
each group; the ratio is of CPU seconds, recipe / bare loop (one thread, so CPU seconds count this
process's work only and stay comparable on a shared machine; rows of a group run interleaved).
The recipe row adds the core's per-step work (batch from a registered generator, scalar return,
step bookkeeping), no checkpoints or logging.  A third row per group is the recipe with PacGAN's
simultaneous update (both players' gradients from one forward pass, as the replication trains).

    .venv/bin/python benchmarks/gan_mlp.py [--steps 200] [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse

import torch

from thoughtlab.generative.models import gan
from thoughtlab.generative.synthetic import mog
from timing import interleaved

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


def recipe(make_g, make_d, data: torch.Tensor, steps: int, batch: int, pack: int, simultaneous: bool = False) -> None:
    torch.manual_seed(0)
    cfg = gan.GanTraining(batch_size=batch, lr_g=1e-4, lr_d=1e-4, betas=(0.8, 0.999), simultaneous=simultaneous)
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
          f"{args.repeats} interleaved repeats; steps/s from the fastest CPU and wall times")
    print(f"{'what':<50} {'CPU steps/s':>11} {'wall steps/s':>12} {'CPU ratio':>9}")
    for name, (make_g, make_d) in PAIRS.items():
        for pack in (1, 4):
            rows = {"bare loop (peer)": lambda: bare_loop(make_g, make_d, data, args.steps, args.batch, pack),
                    "GAN recipe": lambda: recipe(make_g, make_d, data, args.steps, args.batch, pack),
                    "GAN recipe, simultaneous": lambda: recipe(make_g, make_d, data, args.steps, args.batch, pack,
                                                               simultaneous=True)}
            results = interleaved(list(rows.values()), args.repeats)
            peer = results[0]["cpu_best"]
            for label, result in zip(rows, results):
                print(f"{name + f', pack {pack}: ' + label:<50} {args.steps / result['cpu_best']:>11.1f} "
                      f"{args.steps / result['wall_best']:>12.1f} {result['cpu_best'] / peer:>8.2f}x")


if __name__ == "__main__":
    main()
