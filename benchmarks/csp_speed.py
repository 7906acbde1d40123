"""CSP inference speed on this machine's CPU: images/s at 640x480 for each backbone.

Each row times inference on one 480x640 image, batch 1, after one warm-up
run, with freshly initialised weights: the forward pass (pad to 16, eval
mode, no grad) and, separately, decoding (sigmoid, threshold 0.1, boxes,
greedy NMS), whose cost depends on how many cells pass the threshold (shown;
with untrained weights that count is not what a trained model gives).  Rows: ResNet-18/34/50 at width 1.0
(ResNet-50 is the paper's network) and the small CPU configurations.

    .venv/bin/python benchmarks/csp_speed.py [--repeats 3] [--threads N]

The CPU may be shared with other jobs: figures are a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from thoughtlab.csp.decode import SCORE_THRESHOLD, decode
from thoughtlab.csp.model import CSP, count_parameters, pad_to_multiple

CONFIGS = (("resnet18", 1.0), ("resnet34", 1.0), ("resnet50", 1.0), ("resnet18", 0.5), ("resnet18", 0.25))
HEIGHT, WIDTH = 480, 640


def time_config(backbone: str, width: float, repeats: int) -> tuple[int, float, float, int]:
    """Parameter count, median forward seconds, median decode seconds, candidate cells."""
    torch.manual_seed(0)
    model = CSP(backbone, width=width).eval()
    image = torch.randn(1, 3, HEIGHT, WIDTH)
    forward_times, decode_times = [], []
    with torch.no_grad():
        for _ in range(repeats + 1):  # the first run is a warm-up
            start = time.perf_counter()
            outputs = model(pad_to_multiple(image)[0])
            middle = time.perf_counter()
            decode(outputs, [(HEIGHT, WIDTH)], score_threshold=SCORE_THRESHOLD)
            forward_times.append(middle - start)
            decode_times.append(time.perf_counter() - middle)
    candidates = int((torch.sigmoid(outputs.center) > SCORE_THRESHOLD).sum())
    return (count_parameters(model), statistics.median(forward_times[1:]), statistics.median(decode_times[1:]),
            candidates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"CSP inference, {WIDTH}x{HEIGHT}, batch 1, {torch.get_num_threads()} torch threads, "
          f"median of {args.repeats} runs")
    print(f"{'backbone':<10} {'width':>5} {'params':>12} {'forward s':>10} {'decode s':>9} {'cells':>6} {'img/s':>6}")
    for backbone, width in CONFIGS:
        params, forward, decoding, cells = time_config(backbone, width, args.repeats)
        print(f"{backbone:<10} {width:>5.2f} {params:>12,} {forward:>10.3f} {decoding:>9.4f} {cells:>6} "
              f"{1 / (forward + decoding):>6.2f}", flush=True)


if __name__ == "__main__":
    main()
