"""Subprocess for test_fit's kill-and-resume test (not a test module).

    python resume_worker.py OUT_FILE STEPS SLEEP [CHECKPOINT]

Trains a small dropout MLP with Adam and EMA and saves final weights,
EMA weights and losses to OUT_FILE.  SLEEP seconds per step slow it down so
that the parent can kill it after its first checkpoint.
"""

import sys
import time

import torch
from torch import nn

from thoughtlab.train import fit, save_checkpoint, seed_everything

CHECKPOINT_EVERY = 4


def data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(100, 6, generator=g)  # 100 // 24 = 4 steps per epoch: resumes land mid-epoch
    return x, (x[:, 0] + x[:, 1] > 0).long()


def train(steps: int, checkpoint=None, sleep: float = 0.0):
    seed_everything(0)
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2))
    x, y = data()
    pause = (lambda *_: time.sleep(sleep)) if sleep else None
    return fit(model, x, y, steps=steps, batch_size=24, lr=0.01, seed=5, checkpoint=checkpoint,
               checkpoint_every=CHECKPOINT_EVERY, ema_decay=0.8, on_step=pause)


if __name__ == "__main__":
    out, steps, sleep = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    result = train(steps, sys.argv[4] if len(sys.argv) > 4 else None, sleep)
    save_checkpoint(out, {"model": result.model.state_dict(), "ema": result.ema.module.state_dict(),
                          "losses": result.losses, "start_step": result.start_step})
