"""CycleGAN training speed and memory: thoughtlab's recipe on the training core vs a bare PyTorch loop.

Both rows train the same networks (:mod:`thoughtlab.cyclegan.networks`, reference sizes of the notes'
table: 32² ngf/ndf 16, 3 blocks; 64² ngf/ndf 32, 6 blocks; 128² ngf/ndf 64, 6 blocks; batch 1) with
the same losses (LSGAN, L1 cycle λ = 10, identity 5, D × 0.5), image pool and Adam.  The bare loop is
written here in plain PyTorch; the thoughtlab row is ``thoughtlab.cyclegan.training.train`` (data
order, crops, recorded losses, core loop; no checkpoint).  Timing interleaves the two rows in one
process (bare, thoughtlab, bare, …; ``timing.interleaved``), after one warm-up run of each, and keeps
each row's fastest and median run in CPU seconds (one thread, so other jobs on a shared machine do not
count) and the fastest in wall seconds; the overhead compares the fastest CPU times.  Peak RSS (``ru_maxrss``)
comes from one run of each row in its own process.  Also: one forward + backward of G and D at 256² for the reference model (ngf 64,
9 blocks, 11.4 M + 2.8 M parameters).

    .venv/bin/python benchmarks/cyclegan.py [--steps 20] [--repeats 3] [--sizes 32 64 128] [--no-reference]
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys

import torch
import torch.nn.functional as F

from thoughtlab.cyclegan.networks import NLayerDiscriminator, ResnetGenerator, init_weights
from timing import interleaved

SIZES = {32: (16, 3), 64: (32, 6), 128: (64, 6)}  # size -> (ngf = ndf, blocks)
IMAGES = 8


def images(size: int) -> torch.Tensor:
    return torch.randint(0, 256, (IMAGES, 3, size, size), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)


def bare_loop(size: int, steps: int) -> None:
    """CycleGAN written out in plain PyTorch: four nets, pooled D updates, the same losses and optimisers."""
    width, blocks = SIZES[size]
    torch.manual_seed(0)
    g_a, g_b = (init_weights(ResnetGenerator(3, 3, width, blocks)) for _ in range(2))
    d_a, d_b = (init_weights(NLayerDiscriminator(3, width)) for _ in range(2))
    opt_g = torch.optim.Adam(itertools.chain(g_a.parameters(), g_b.parameters()), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(itertools.chain(d_a.parameters(), d_b.parameters()), 2e-4, betas=(0.5, 0.999))
    data_a, data_b = images(size).float() / 127.5 - 1, images(size).flip(0).float() / 127.5 - 1
    pools: dict[str, list[torch.Tensor]] = {"a": [], "b": []}
    gen = torch.Generator().manual_seed(1)

    def pool(name: str, fake: torch.Tensor) -> torch.Tensor:
        stored = pools[name]
        if len(stored) < 50:
            stored.append(fake.detach().clone())
            return fake.detach()
        if torch.rand((), generator=gen) > 0.5:
            i = int(torch.randint(50, (), generator=gen))
            old, stored[i] = stored[i], fake.detach().clone()
            return old
        return fake.detach()

    for step in range(steps):
        real_a, real_b = data_a[step % IMAGES][None], data_b[int(torch.randint(IMAGES, (), generator=gen))][None]
        fake_b, fake_a = g_a(real_a), g_b(real_b)
        rec_a, rec_b = g_b(fake_b), g_a(fake_a)
        for p in itertools.chain(d_a.parameters(), d_b.parameters()):
            p.requires_grad_(False)
        opt_g.zero_grad()
        pa, pb = d_a(fake_b), d_b(fake_a)
        loss_g = (F.mse_loss(pa, torch.ones_like(pa)) + F.mse_loss(pb, torch.ones_like(pb))
                  + 10 * F.l1_loss(rec_a, real_a) + 10 * F.l1_loss(rec_b, real_b)
                  + 5 * F.l1_loss(g_a(real_b), real_b) + 5 * F.l1_loss(g_b(real_a), real_a))
        loss_g.backward()
        opt_g.step()
        for p in itertools.chain(d_a.parameters(), d_b.parameters()):
            p.requires_grad_(True)
        opt_d.zero_grad()
        loss_d = 0.0
        for d, real, fake in ((d_a, real_b, pool("b", fake_b)), (d_b, real_a, pool("a", fake_a))):
            pr, pf = d(real), d(fake)
            loss_d = loss_d + 0.5 * (F.mse_loss(pr, torch.ones_like(pr)) + F.mse_loss(pf, torch.zeros_like(pf)))
        loss_d.backward()
        opt_d.step()


def thoughtlab_loop(size: int, steps: int) -> None:
    from thoughtlab.cyclegan.data import Domain, Unpaired
    from thoughtlab.cyclegan.recipe import Options
    from thoughtlab.cyclegan.training import train

    width, blocks = SIZES[size]
    names = [str(i) for i in range(IMAGES)]
    data = Unpaired(Domain(images(size), names), Domain(images(size).flip(0), names))
    opt = Options(ngf=width, ndf=width, n_blocks=blocks, load_size=size, crop_size=size, n_epochs=steps,
                  n_epochs_decay=0, epoch_size=1)
    train(opt, data, progress=False, log_every=10**9)


ROWS = {"bare": bare_loop, "thoughtlab": thoughtlab_loop}


def peak_rss_mb(row: str, size: int, steps: int) -> float:
    """Peak resident memory of a fresh process that runs ``row`` once."""
    torch.set_num_threads(1)
    ROWS[row](size, steps)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def alternate(size: int, steps: int, repeats: int) -> dict[str, dict[str, float]]:
    """Row -> iterations/s: fastest and median by CPU time, fastest by wall time (rows interleaved)."""
    torch.set_num_threads(1)
    timings = interleaved([lambda fn=fn: fn(size, steps) for fn in ROWS.values()], repeats)
    return {row: {"cpu": steps / t["cpu_best"], "cpu_median": steps / t["cpu_median"], "wall": steps / t["wall_best"]}
            for row, t in zip(ROWS, timings)}


def reference_forward_backward(repeats: int) -> dict[str, float]:
    """Seconds (fastest CPU and wall of ``repeats``, after a warm-up) for one forward + backward of G (ngf 64,
    9 blocks) and D (ndf 64) on one 256² image."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g, d = init_weights(ResnetGenerator(3, 3)), init_weights(NLayerDiscriminator(3))
    x = torch.randn(1, 3, 256, 256)

    def step() -> None:
        g.zero_grad(), d.zero_grad()
        d(g(x)).mean().backward()

    return interleaved([step], repeats)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="iterations per timed run at 32 px (fewer at 64/128)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--no-reference", action="store_true", help="skip the 256² forward+backward")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(peak_rss_mb(args.one[0], int(args.one[1]), args.steps)))
        return
    print(f"{'size':>5} {'row':<11} {'it/s CPU':>9} {'median':>8} {'it/s wall':>10} {'peak RSS MB':>12} {'overhead':>9}")
    for size in args.sizes:
        steps = max(2, args.steps * 32 // size // (2 if size > 64 else 1))
        speed = alternate(size, steps, args.repeats)
        for row, rate in speed.items():
            out = subprocess.run([sys.executable, __file__, "--one", row, str(size), "--steps", "2"],
                                 capture_output=True, text=True, check=True)
            peak = json.loads(out.stdout.strip().splitlines()[-1])
            overhead = "" if row == "bare" else f"{speed['bare']['cpu'] / rate['cpu'] - 1:+.1%}"
            print(f"{size:>5} {row:<11} {rate['cpu']:>9.2f} {rate['cpu_median']:>8.2f} {rate['wall']:>10.2f} {peak:>12.0f} "
                  f"{overhead:>9}", flush=True)
    if not args.no_reference:
        t = reference_forward_backward(args.repeats)
        print(f"256² reference (ngf 64, 9 blocks) G+D forward+backward, batch 1: {t['cpu_best']:.2f} s CPU "
              f"(median {t['cpu_median']:.2f}), {t['wall_best']:.2f} s wall")


if __name__ == "__main__":
    main()
