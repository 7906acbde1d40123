"""CSP speed on this machine's CPU: inference images/s at 640x480 for each backbone, and training steps.

Each row times inference on one 480x640 image, batch 1, after one warm-up
run, with freshly initialised weights: the forward pass (pad to 16, eval
mode, no grad) and, separately, decoding (sigmoid, threshold 0.1, boxes,
greedy NMS), whose cost depends on how many cells pass the threshold (shown;
with untrained weights that count is not what a trained model gives).  Rows: ResNet-18/34/50 at width 1.0
(ResNet-50 is the paper's network) and the small CPU configurations; OpenCV's HOG people detector
(the study's classic baseline) on the same image size for comparison.

Training (``--train-steps N``, default 60): the ``quick`` preset of ``thoughtlab.csp.training`` for CSP
and for the anchor baseline with the same backbone, on 24 synthetic 320x240 scenes: seconds per step
(augmentation, targets, forward, backward, Adam, EMA) and the resident memory at the first and last
logged step (a leak across epochs would make it grow: the set is seen ~20 times).

    .venv/bin/python benchmarks/csp_speed.py [--repeats 3] [--threads N] [--train-steps 60]

The CPU may be shared with other jobs: figures are a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from thoughtlab.csp.decode import SCORE_THRESHOLD, decode
from thoughtlab.csp.model import CSP, count_parameters, pad_to_multiple
from timing import best_of

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


def time_hog(repeats: int) -> float:
    """Median seconds of OpenCV HOG people detection on one 480x640 textured image."""
    from thoughtlab.csp.hog import hog_detect

    image = np.random.default_rng(0).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    return best_of(lambda: hog_detect(image), repeats)[1]


def time_training(steps: int) -> None:
    """Seconds per training step and RSS (first / last logged step) for CSP and the anchor baseline."""
    from thoughtlab.csp.anchors import design_for_dataset
    from thoughtlab.csp.detectors import seeded_detector
    from thoughtlab.csp.study import anchor_detector
    from thoughtlab.csp.synth import make_dataset
    from thoughtlab.csp.train_config import PRESETS
    from thoughtlab.csp.training import train_detector
    from thoughtlab.csp.training_data import ImageSet

    quick = PRESETS["quick"]
    with tempfile.TemporaryDirectory() as tmp:
        make_dataset(Path(tmp) / "data", sizes={"train": 24}, width=320, height=240)
        train = ImageSet.from_split(Path(tmp) / "data", "train", quick.min_height, cache=True)
        design = design_for_dataset(train)
        print(f"\ntraining, quick preset (crop {quick.crop[0]}x{quick.crop[1]}, batch {quick.batch_size}), "
              f"{steps} steps, {torch.get_num_threads()} torch threads")
        print(f"{'detector':<8} {'backbone':<16} {'s/step':>7} {'RSS first MB':>13} {'RSS last MB':>12}")
        for name, detector in (("csp", quick.detector), ("anchor", anchor_detector(quick.detector, design))):
            cfg = replace(quick, detector=detector, steps=steps, log_every=10, checkpoint_every=steps)
            out = Path(tmp) / name
            result = train_detector(seeded_detector(detector, 0), train, cfg, out, progress=False)
            rss = [json.loads(line)["rss_mb"] for line in (out / "metrics.jsonl").read_text().splitlines()
                   if "rss_mb" in line]
            backbone = f"{detector['backbone']} x {detector['width']}"
            print(f"{name:<8} {backbone:<16} {result.seconds / steps:>7.3f} {rss[0]:>13.0f} {rss[-1]:>12.0f}",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--train-steps", type=int, default=60, help="training steps to time (0: skip)")
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
    hog = time_hog(args.repeats)
    print(f"{'HOG':<10} {'':>5} {'(OpenCV)':>12} {hog:>10.3f} {'':>9} {'':>6} {1 / hog:>6.2f}", flush=True)
    if args.train_steps:
        time_training(args.train_steps)


if __name__ == "__main__":
    main()
