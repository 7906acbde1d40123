"""Generative model families: PixelCNN fast vs naive sampling, RealNVP bits/dim throughput.

    PYTHONPATH=src python benchmarks/generative.py [--samples 8] [--repeats 1]

1. Gated PixelCNN (default config, 28×28, 256 levels, untrained weights): sampling the same
   ``--samples`` images from the same Gumbel noise with cached activations (Ramachandran et al.
   2017) and naively (the whole network re-run for each of the 784 pixels); the samples must be
   identical.  Target: ≥ 5× faster.
2. RealNVP (default config, 28×28): exact bits/dim evaluations per second (batch 256, no grad),
   and PixelCNN log-likelihood evaluations per second for comparison.

Torch runs on one thread (``THOUGHTLAB_THREADS`` is not read here: the comparison is per core).
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from timing import best_of  # noqa: E402

from thoughtlab.generative.models import autoregressive as ar  # noqa: E402
from thoughtlab.generative.models import flow as fl  # noqa: E402


def sampling(samples: int, repeats: int) -> list[tuple[str, str]]:
    torch.manual_seed(0)
    model = ar.GatedPixelCNN(ar.PixelCNNConfig()).eval()
    noise = ar.gumbel_noise(samples, model.config, torch.Generator().manual_seed(0))
    fast_images, naive_images = ar.sample_fast(model, noise), ar.sample_naive(model, noise)
    fast, _ = best_of(lambda: ar.sample_fast(model, noise), repeats)
    naive, _ = best_of(lambda: ar.sample_naive(model, noise), repeats)
    same = bool(torch.equal(fast_images, naive_images))
    return [("PixelCNN sampling, naive", f"{naive:.2f} s for {samples} images ({naive / samples:.2f} s/image)"),
            ("PixelCNN sampling, cached (fast)", f"{fast:.2f} s for {samples} images ({fast / samples:.3f} s/image)"),
            ("speed-up", f"{naive / fast:.1f}x (target >= 5x); identical samples: {same}")]


@torch.no_grad()
def throughput(repeats: int) -> list[tuple[str, str]]:
    torch.manual_seed(0)
    flow = fl.RealNVP(fl.FlowConfig()).eval()
    pixelcnn = ar.GatedPixelCNN(ar.PixelCNNConfig()).eval()
    pixels = torch.randint(0, 256, (256, 1, 28, 28)).float()
    generator = torch.Generator().manual_seed(0)
    flow_time, _ = best_of(lambda: fl.bits_per_dim(flow, pixels, generator), repeats)
    ar_time, _ = best_of(lambda: pixelcnn.bits_per_dim(pixels), repeats)
    return [(f"RealNVP bits/dim ({fl.parameter_count(flow):,} params)", f"{256 / flow_time:,.0f} images/s"),
            (f"PixelCNN bits/dim ({ar.parameter_count(pixelcnn):,} params)", f"{256 / ar_time:,.0f} images/s")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = sampling(args.samples, args.repeats) + throughput(max(args.repeats, 3))
    width = max(len(name) for name, _ in rows)
    print(f"{'measurement':<{width}}  result")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"load average: {os.getloadavg()[0]:.2f} (timings are inflated when the machine is shared)")


if __name__ == "__main__":
    main()
