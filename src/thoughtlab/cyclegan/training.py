"""CycleGAN training on the shared core (:func:`thoughtlab.train.train`): checkpoints, resume, samples, curves.

``OUT/latest.pt`` (every ``save_latest_freq`` steps and at the end; atomic) is the core's TrainState:
networks, optimisers, image pools, loss history, RNG states.  Training started again with
``continue_train`` resumes from it and ends with the same weights, bit for bit on CPU, as an
uninterrupted run.  ``OUT/weights.pt`` holds the two generators and their architecture, for
``translate``.  ``OUT/samples.png`` (real, translated, reconstructed; both directions) and
``OUT/losses.png`` are redrawn every ``display_freq`` steps; ``OUT/losses.json`` holds the history,
``OUT/metrics.jsonl`` the logged losses.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from thoughtlab.cyclegan.data import Unpaired, to_model_range
from thoughtlab.cyclegan.recipe import CycleGAN, Options, new_state, total_steps
from thoughtlab.errors import UserError
from thoughtlab.fileio import atomic_write_bytes, atomic_write_json
from thoughtlab.train import Hook, ScalarLogger, TrainState, distributed, periodic, save_checkpoint
from thoughtlab.train import train as run_core

WEIGHTS_FORMAT = "thoughtlab.cyclegan.generators/1"
CHECKPOINT, WEIGHTS = "latest.pt", "weights.pt"


def save_generators(path: Path, opt: Options, state: TrainState) -> None:
    """The two generators and what rebuilds them (read back with weights_only=True by ``tools.load_generators``)."""
    m = state.models
    save_checkpoint(path, {"format": WEIGHTS_FORMAT, "options": opt.to_dict(), "input_nc": m["G_A"].input_nc,
                           "output_nc": m["G_A"].output_nc, "G_A": m["G_A"].state_dict(), "G_B": m["G_B"].state_dict()})


def train(opt: Options, data: Unpaired, out: str | Path | None = None, *, continue_train: bool = False,
          device: str | torch.device = "cpu", save_latest_freq: int = 500, display_freq: int = 200,
          stop_after: int | None = None, hooks: tuple[Hook, ...] = (), log_every: int = 50,
          progress: bool | None = None) -> TrainState:
    """Train CycleGAN for (n_epochs + n_epochs_decay) epochs; ``out`` None keeps nothing on disk.

    ``stop_after`` ends the run after that many steps in total (as if killed right after a
    checkpoint); ``hooks`` are core hooks (e.g. evaluations at fractions of the budget).
    """
    out = Path(out) if out is not None else None
    if opt.batch_size % distributed.world_size():
        raise UserError(f"--batch_size {opt.batch_size} is not divisible by the {distributed.world_size()} "
                        "processes; use a multiple")
    checkpoint = out / CHECKPOINT if out is not None else None
    if checkpoint is not None and checkpoint.exists() != continue_train:
        raise UserError(f"--continue_train but {checkpoint} does not exist; drop the flag to start afresh"
                        if continue_train else f"{checkpoint} exists; pass --continue_train to resume it or choose another --out")
    state = new_state(opt, data.train_a.channels, data.train_b.channels, torch.device(device))
    steps = total_steps(opt, data)
    end = steps if stop_after is None else min(steps, stop_after)
    drawing = () if out is None or not distributed.is_main() else (
        Hook(periodic(display_freq), lambda s: draw_progress(out, s, data)),)
    logger = ScalarLogger(out / "metrics.jsonl") if out is not None else None
    run_core(CycleGAN(opt, data), state, end, checkpoint=checkpoint, every=save_latest_freq,
             hooks=(*hooks, *drawing), logger=logger, log_every=log_every, progress=progress, desc="cyclegan")
    if out is not None and distributed.is_main() and state.step == steps:
        save_generators(out / WEIGHTS, opt, state)
        atomic_write_json(out / "losses.json", state.records["losses"])
    return state


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

    m = {name: state.models[name] for name in ("G_A", "G_B")}
    dom_a, dom_b = data.test_a or data.train_a, data.test_b or data.train_b
    dev = next(m["G_A"].parameters()).device
    count = min(count, len(dom_a), len(dom_b))
    a = to_model_range(dom_a.images[:count]).to(dev)
    b = to_model_range(dom_b.images[:count]).to(dev)
    crop = lambda x: x[..., : x.shape[-2] // 4 * 4, : x.shape[-1] // 4 * 4]  # noqa: E731
    a, b = crop(a), crop(b)
    fake_b, fake_a = m["G_A"](a), m["G_B"](b)
    rows = [("A", a), ("G(A)", fake_b), ("F(G(A))", m["G_B"](fake_b)), ("B", b), ("F(B)", fake_a),
            ("G(F(B))", m["G_A"](fake_a))]
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


def draw_progress(out: Path, state: TrainState, data: Unpaired) -> Mapping[str, float]:
    """Redraw OUT/samples.png and OUT/losses.png (a core hook; logs nothing)."""
    atomic_write_bytes(out / "samples.png", _png(sample_grid(state, data)))
    atomic_write_bytes(out / "losses.png", _png(loss_figure(state.records["losses"])))
    return {}
