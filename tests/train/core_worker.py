"""A tiny two-network recipe on the training core, and a subprocess for test_core's kill-and-resume test.

    python core_worker.py OUT_FILE STEPS CHECKPOINT [KILL_AT_SAVE]

Trains the pair and saves the final state to OUT_FILE.  With KILL_AT_SAVE = k, the k-th checkpoint write
stops half-way (half of the bytes written to the temporary file), touches ``CHECKPOINT.writing`` and
sleeps, so that the parent can SIGKILL it in the middle of the write.

The recipe touches every kind of state the core must carry: two networks with their own optimisers
(n_critic = 2 discriminator steps per generator step), an LR scheduler, an EMA of the generator, a
registered ``torch.Generator`` for the data, an image pool (a stateful object using Python's ``random``),
dropout (torch's global RNG), NumPy's global RNG, and plain records (a loss history).
"""

import io
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.train import EMA, TrainState, save_checkpoint, seed_everything, train

CHECKPOINT_EVERY = 3
N_CRITIC = 2


class Pool:
    """A history of generated samples (Shrivastava et al. 2017; CycleGAN's image pool): half old, half new."""

    def __init__(self, size: int = 8):
        self.size, self.items = size, torch.empty(0, 4)

    def query(self, fake: torch.Tensor) -> torch.Tensor:
        out = []
        for sample in fake.detach():
            if len(self.items) < self.size:
                self.items = torch.cat([self.items, sample[None]])
                out.append(sample)
            elif random.random() < 0.5:
                k = random.randrange(self.size)
                out.append(self.items[k].clone())
                self.items[k] = sample
            else:
                out.append(sample)
        return torch.stack(out)

    def state_dict(self) -> dict:
        return {"items": self.items.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.items = state["items"].clone()


class PairRecipe:
    def __init__(self, seed: int):
        self.data = torch.Generator().manual_seed(seed)
        self.pool = Pool()

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        real = torch.randn(N_CRITIC, 6, 4, generator=self.data) * 0.5 + 1.0
        return real, torch.randn(N_CRITIC, 6, 3, generator=self.data)

    def step(self, state: TrainState, batch) -> dict:
        g, d = state.models["g"], state.models["d"]
        opt_g, opt_d = state.optimizers["g"], state.optimizers["d"]
        for real, z in zip(*batch):
            jitter = float(np.random.uniform(0.9, 1.1))  # NumPy's global RNG
            fake = self.pool.query(g(z))
            d_loss = F.softplus(-d(real * jitter)).mean() + F.softplus(d(fake)).mean()
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
        g_loss = F.softplus(-d(g(batch[1][-1]))).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        state.schedulers["g"].step()
        state.emas["g"].update(g)
        state.records["losses"].append([d_loss.item(), g_loss.item()])
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


def make(seed: int = 0, lr: float = 0.05) -> tuple[PairRecipe, TrainState]:
    seed_everything(seed)
    g = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 4))
    d = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    opt_g, opt_d = torch.optim.Adam(g.parameters(), lr), torch.optim.SGD(d.parameters(), lr, momentum=0.9)
    recipe = PairRecipe(seed)
    state = TrainState({"seed": seed, "lr": lr, "n_critic": N_CRITIC}, models={"g": g, "d": d},
                       optimizers={"g": opt_g, "d": opt_d},
                       schedulers={"g": torch.optim.lr_scheduler.StepLR(opt_g, step_size=4, gamma=0.5)},
                       emas={"g": EMA(g, 0.7)}, generators={"data": recipe.data}, objects={"pool": recipe.pool},
                       records={"losses": []})
    return recipe, state


def final(state: TrainState) -> dict:
    """What an end state is compared on: every part's state, the records, and the next global random draws."""
    return {**state.state_dict(),
            "next": [torch.rand(3), torch.from_numpy(np.random.rand(3)), torch.tensor(random.random())]}


def interrupt_at_save(k: int, marker: Path) -> None:
    """Make the k-th ``torch.save`` write half of its bytes, then wait to be killed."""
    original, calls = torch.save, [0]

    def save(obj, f, *args, **kwargs):
        calls[0] += 1
        if calls[0] != k:
            return original(obj, f, *args, **kwargs)
        buffer = io.BytesIO()
        original(obj, buffer)
        f.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        f.flush()
        marker.touch()
        time.sleep(120)

    torch.save = save


if __name__ == "__main__":
    out, steps, checkpoint = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    if len(sys.argv) > 4:
        interrupt_at_save(int(sys.argv[4]), checkpoint.with_name(checkpoint.name + ".writing"))
    recipe, state = make()
    train(recipe, state, steps, checkpoint=checkpoint, every=CHECKPOINT_EVERY)
    save_checkpoint(out, final(state))
