"""Train the embedded digit CNN (:class:`thoughtlab.metrics.extractors.DigitCNN`) on ``mnist5k``.

    python -m thoughtlab.metrics.train_digit_cnn [--out PATH] [--steps 2000] [--seed 0]

Seeded and deterministic on CPU (one thread): Adam, batch 64, the project's ``fit`` loop, on the
4,000-image training split of ``load_dataset("mnist5k")`` plus ``SHIFTED_COPIES`` copies shifted by
up to ±2 pixels (seeded; translation augmentation as in Simard et al. 2003, "Best practices for
convolutional neural networks applied to visual document analysis", Sec. 2); the 1,000-image test
split gives the quoted accuracy, stored in the weights file next to the state dict.  The file is written
atomically and loaded with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
import torch

from thoughtlab.data import load_dataset
from thoughtlab.fileio import atomic_write_bytes
from thoughtlab.metrics.extractors import DIGIT_FORMAT, DIGIT_WEIGHTS, DigitClassifier
from thoughtlab.train import accuracy, fit, seed_everything

SHIFTED_COPIES = 4
MAX_SHIFT = 2


def shifted_copies(x: torch.Tensor, copies: int, seed: int) -> torch.Tensor:
    """``x`` followed by ``copies`` versions, each image translated by a seeded shift in [-2, 2]² (zero fill)."""
    rng = np.random.default_rng(seed)
    out = [x]
    for _ in range(copies):
        shifts = rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, size=(len(x), 2))
        padded = torch.nn.functional.pad(x, (MAX_SHIFT,) * 4)
        h, w = x.shape[-2:]
        out.append(torch.stack([padded[i, :, MAX_SHIFT + dy:MAX_SHIFT + dy + h, MAX_SHIFT + dx:MAX_SHIFT + dx + w]
                                for i, (dy, dx) in enumerate(shifts)]))
    return torch.cat(out)


def train(steps: int = 2000, seed: int = 0, batch_size: int = 64, lr: float = 2e-3) -> dict:
    """Train from ``seed``; return the weights blob (format tag, state dict, training record)."""
    seed_everything(seed)
    split = load_dataset("mnist5k")
    x_train, y_train = torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)
    x_test, y_test = torch.from_numpy(split.x_test), torch.from_numpy(split.y_test)
    x_aug, y_aug = shifted_copies(x_train, SHIFTED_COPIES, seed), y_train.repeat(SHIFTED_COPIES + 1)
    model = DigitClassifier()
    fit(model, x_aug, y_aug, steps=steps, batch_size=batch_size, lr=lr, seed=seed, progress="digit cnn")
    model.eval()
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return {"format": DIGIT_FORMAT, "state_dict": state, "dataset": "mnist5k", "seed": seed, "steps": steps,
            "batch_size": batch_size, "lr": lr, "shifted_copies": SHIFTED_COPIES, "train_accuracy": accuracy(model, x_train, y_train),
            "test_accuracy": accuracy(model, x_test, y_test), "n_test": len(y_test)}


def save(blob: dict, path: Path) -> None:
    buffer = io.BytesIO()
    torch.save(blob, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DIGIT_WEIGHTS, help="weights file (default: the shipped one)")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    blob = train(steps=args.steps, seed=args.seed)
    save(blob, args.out)
    print(f"{args.out}: test accuracy {blob['test_accuracy']:.4f} on {blob['n_test']} images "
          f"(train {blob['train_accuracy']:.4f}), {args.out.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
