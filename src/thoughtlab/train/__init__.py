"""The shared training core: TrainState + train (any recipe), and fit, seeding, checkpoints, EMA, logging, DDP.

    from thoughtlab.train import TrainState, train, Hook, at_fractions, BatchOrder, \
        seed_everything, pick_device, fit, accuracy, EMA, ScalarLogger, save_checkpoint, load_checkpoint, LinearDecay

A recipe (``batch(step)``, ``step(state, batch)``) runs on :func:`train`; see :mod:`thoughtlab.train.core`.

DDP helpers live in :mod:`thoughtlab.train.distributed`; a runnable two-process
check in :mod:`thoughtlab.train.ddp_check`.
"""

from thoughtlab.train import distributed
from thoughtlab.train.checkpoint import load_checkpoint, save_checkpoint
from thoughtlab.train.core import (STATE_FORMAT, BatchOrder, Hook, Recipe, TrainState, at_fractions, optimizer_step,
                                   periodic, train)
from thoughtlab.train.ema import EMA
from thoughtlab.train.loop import FitResult, accuracy, fit, make_optimizer
from thoughtlab.train.progress import progress_bar, show_progress
from thoughtlab.train.scalars import ScalarLogger, append_jsonl, jsonl_line
from thoughtlab.train.schedule import LinearDecay
from thoughtlab.train.seed import pick_device, seed_everything

__all__ = [
    "EMA",
    "STATE_FORMAT",
    "BatchOrder",
    "FitResult",
    "Hook",
    "LinearDecay",
    "Recipe",
    "ScalarLogger",
    "TrainState",
    "accuracy",
    "append_jsonl",
    "at_fractions",
    "distributed",
    "fit",
    "jsonl_line",
    "load_checkpoint",
    "make_optimizer",
    "optimizer_step",
    "periodic",
    "pick_device",
    "progress_bar",
    "save_checkpoint",
    "seed_everything",
    "show_progress",
    "train",
]
