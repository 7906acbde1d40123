"""The training loop around :mod:`~thoughtlab.cyclegan.recipe`: checkpoints, resume, samples, loss curves.

``OUT/latest.pt`` (every ``save_latest_freq`` steps and at the end; atomic) holds the whole
:class:`~thoughtlab.cyclegan.recipe.TrainState` and the loss history; training started again with
``continue_train`` resumes from it and ends with the same weights, bit for bit on CPU, as an
uninterrupted run (batches depend only on (seed, step); the pools and optimisers are restored).
``OUT/weights.pt`` holds the two generators and their architecture, for ``translate``.
``OUT/samples.png`` (real, translated, reconstructed; both directions) and ``OUT/losses.png`` are
redrawn every ``display_freq`` steps; ``OUT/losses.json`` holds the history.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from tqdm import tqdm

from thoughtlab.cyclegan.data import Unpaired, to_model_range
from thoughtlab.cyclegan.recipe import LOSS_NAMES, Options, TrainState, batch, epoch_size, new_state, step, total_steps
from thoughtlab.errors import BadInput, UserError
from thoughtlab.fileio import atomic_write_bytes, atomic_write_json
from thoughtlab.train import distributed, load_checkpoint, save_checkpoint

CHECKPOINT_FORMAT = "thoughtlab.cyclegan.train/1"
WEIGHTS_FORMAT = "thoughtlab.cyclegan.generators/1"
CHECKPOINT, WEIGHTS = "latest.pt", "weights.pt"


@dataclass
class TrainResult:
    state: TrainState
    history: dict[str, list[float]] = field(default_factory=dict)
    start_step: int = 0
    steps: int = 0


def _check_resume(path: Path, saved: dict[str, Any], opt: Options) -> None:
    if saved.get("format") != CHECKPOINT_FORMAT:
        raise BadInput(f"{path} is not a CycleGAN training checkpoint; pass another --out or delete it")
    changed = sorted(k for k, v in opt.to_dict().items() if saved["options"].get(k) != v)
    if changed:
        raise UserError(f"{path} was trained with other options ({', '.join(changed)}); use the same options or another --out")


def _resume_or_start(opt: Options, data: Unpaired, out: Path | None, continue_train: bool,
                     device: torch.device) -> tuple[TrainState, dict[str, list[float]]]:
    state = new_state(opt, data.train_a.channels, data.train_b.channels, device)
    history: dict[str, list[float]] = {name: [] for name in LOSS_NAMES}
    path = out / CHECKPOINT if out is not None else None
    if path is None or not path.exists():
        if continue_train and path is not None:
            raise UserError(f"--continue_train but {path} does not exist; drop the flag to start afresh")
        return state, history
    if not continue_train:
        raise UserError(f"{path} exists; pass --continue_train to resume it or choose another --out")
    saved = load_checkpoint(path, map_location=device)
    _check_resume(path, saved, opt)
    state.load_state_dict(saved["state"], device)
    return state, {k: [float(v) for v in vals] for k, vals in saved["history"].items()}


def save_generators(path: Path, opt: Options, state: TrainState) -> None:
    """The two generators and what rebuilds them (``load_generators`` reads it with weights_only=True)."""
    m = state.models
    save_checkpoint(path, {"format": WEIGHTS_FORMAT, "options": opt.to_dict(), "input_nc": m.G_A.input_nc,
                           "output_nc": m.G_A.output_nc, "G_A": m.G_A.state_dict(), "G_B": m.G_B.state_dict()})


def train(opt: Options, data: Unpaired, out: str | Path | None = None, *, continue_train: bool = False,
          device: str | torch.device = "cpu", save_latest_freq: int = 500, display_freq: int = 200,
          stop_after: int | None = None, hook: Callable[[int, TrainState], None] | None = None,
          progress: str | None = None) -> TrainResult:
    """Train CycleGAN for (n_epochs + n_epochs_decay) epochs; ``out`` None keeps nothing on disk.

    ``stop_after`` ends the run after that many steps in total (as if killed right after a
    checkpoint); ``hook(step, state)`` runs after every step (step counts done steps).
    """
    device = torch.device(device)
    out = Path(out) if out is not None else None
    world, rank = distributed.world_size(), distributed.rank()
    if opt.batch_size % world:
        raise UserError(f"--batch_size {opt.batch_size} is not divisible by the {world} processes; use a multiple")
    state, history = _resume_or_start(opt, data, out, continue_train, device)
    steps, per_epoch, start = total_steps(opt, data), epoch_size(opt, data), state.step
    end = steps if stop_after is None else min(steps, stop_after)
    local = slice(rank * opt.batch_size // world, (rank + 1) * opt.batch_size // world)
    main = distributed.is_main() and out is not None
    bar = tqdm(total=end, initial=start, desc=progress, disable=progress is None or not sys.stderr.isatty())
    for n in range(start, end):
        real_a, real_b = batch(opt, data, n)
        losses = step(opt, state, real_a[local].to(device), real_b[local].to(device), n // per_epoch)
        for name, value in losses.items():
            history[name].append(value)
        if hook is not None:
            hook(state.step, state)
        done = state.step == end
        if main and (state.step % save_latest_freq == 0 or done):
            save_checkpoint(out / CHECKPOINT, {"format": CHECKPOINT_FORMAT, "options": opt.to_dict(),
                                               "state": state.state_dict(), "history": history})
        if main and (state.step % display_freq == 0 or done):
            draw_progress(out, state, data, history)
        bar.update(1)
    bar.close()
    if main and state.step == steps:
        save_generators(out / WEIGHTS, opt, state)
        atomic_write_json(out / "losses.json", history)
    return TrainResult(state, history, start, state.step)


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


@torch.no_grad()
def sample_grid(state: TrainState, data: Unpaired, count: int = 6) -> Any:
    """A figure: rows real A, G(a), F(G(a)), real B, F(b), G(F(b)) on the first test (or train) images."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = state.models
    dom_a, dom_b = data.test_a or data.train_a, data.test_b or data.train_b
    dev = next(m.G_A.parameters()).device
    count = min(count, len(dom_a), len(dom_b))
    a = to_model_range(dom_a.images[:count]).to(dev)
    b = to_model_range(dom_b.images[:count]).to(dev)
    crop = lambda x: x[..., : x.shape[-2] // 4 * 4, : x.shape[-1] // 4 * 4]  # noqa: E731
    a, b = crop(a), crop(b)
    fake_b, fake_a = m.G_A(a), m.G_B(b)
    rows = [("A", a), ("G(A)", fake_b), ("F(G(A))", m.G_B(fake_b)), ("B", b), ("F(B)", fake_a), ("G(F(B))", m.G_A(fake_a))]
    fig, axes = plt.subplots(len(rows), len(a), figsize=(1.2 * len(a), 1.2 * len(rows)), squeeze=False)
    for r, (name, images) in enumerate(rows):
        for c in range(len(a)):
            image = ((images[c].cpu().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).squeeze(-1)
            axes[r, c].imshow(image.numpy(), cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(name, fontsize=8)
    fig.suptitle(f"step {state.step}", fontsize=9)
    return fig


def loss_figure(history: dict[str, list[float]]) -> Any:
    """Loss curves (moving average over 1 % of the run) of the eight losses."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    for ax, side in zip(axes, "AB"):
        for name in (f"D_{side}", f"G_{side}", f"cycle_{side}", f"idt_{side}"):
            values = np.asarray(history[name])
            width = max(1, len(values) // 100)
            smooth = np.convolve(values, np.ones(width) / width, mode="valid") if len(values) else values
            ax.plot(np.arange(len(smooth)) + width, smooth, label=name)
        ax.set_xlabel("iteration")
        ax.legend(fontsize=7)
    return fig


def draw_progress(out: Path, state: TrainState, data: Unpaired, history: dict[str, list[float]]) -> None:
    atomic_write_bytes(out / "samples.png", _png(sample_grid(state, data)))
    atomic_write_bytes(out / "losses.png", _png(loss_figure(history)))
