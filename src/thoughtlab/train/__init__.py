"""Shared training helpers: seeding, device choice, checkpoint/resume, EMA, scalar logging, DDP.

    from thoughtlab.train import seed_everything, pick_device, fit, accuracy, EMA, ScalarLogger, \
        save_checkpoint, load_checkpoint

DDP helpers live in :mod:`thoughtlab.train.distributed`; a runnable two-process
check in :mod:`thoughtlab.train.ddp_check`.
"""

from thoughtlab.train import distributed
from thoughtlab.train.checkpoint import load_checkpoint, save_checkpoint
from thoughtlab.train.ema import EMA
from thoughtlab.train.loop import FitResult, accuracy, fit, make_optimizer
from thoughtlab.train.scalars import ScalarLogger
from thoughtlab.train.seed import pick_device, seed_everything

__all__ = [
    "EMA",
    "FitResult",
    "ScalarLogger",
    "accuracy",
    "distributed",
    "fit",
    "load_checkpoint",
    "make_optimizer",
    "pick_device",
    "save_checkpoint",
    "seed_everything",
]
