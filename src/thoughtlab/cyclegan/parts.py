"""CycleGAN's training parts (Zhu et al. 2017, §4 "Implementation"): LSGAN loss, D frozen during G's update, the
image pool, the schedule.

* LSGAN (Mao et al. 2017): D minimises E[(D(b) − 1)²] + E[D(G(a))²], G minimises E[(D(G(a)) − 1)²].
* Image pool (Shrivastava et al. 2017): D is updated with a history of generated images.  Until the
  pool holds ``size`` images each new fake is stored and returned; afterwards each fake is, with
  probability ½, returned as is, or swapped with a random stored fake (the stored one is returned,
  the new one takes its place).
* Learning rate: constant for ``n_epochs``, then linear decay over ``n_epochs_decay``:
  lr × (1 − max(0, epoch + epoch_count − n_epochs) / (n_epochs_decay + 1)), epoch from 0.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


def lsgan_loss(prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
    """Mean squared error of the patch scores against 1 (real) or 0 (fake)."""
    target = torch.ones_like(prediction) if target_is_real else torch.zeros_like(prediction)
    return F.mse_loss(prediction, target)


def set_requires_grad(nets: list[nn.Module], flag: bool) -> None:
    """Freeze (or free) every weight of ``nets``: G's update needs no gradient of D's weights."""
    for net in nets:
        net.requires_grad_(flag)


def lr_factor(epoch: int, n_epochs: int, n_epochs_decay: int, epoch_count: int = 1) -> float:
    """Multiplier of the base learning rate in (0-based) ``epoch``: 1, …, 1, then linearly down to 1/(n_decay+1)."""
    return 1.0 - max(0, epoch + epoch_count - n_epochs) / float(n_epochs_decay + 1)


class ImagePool:
    """A buffer of up to ``size`` generated images; ``query`` returns what D is trained on.

    ``size`` 0 disables the pool.  The coin flips and slot choices come from the pool's own
    generator, so a pool restored by :meth:`load_state_dict` continues exactly.
    """

    def __init__(self, size: int, seed: int = 0, device: torch.device | str = "cpu"):
        self.size, self.device = size, device
        self.images: list[torch.Tensor] = []
        self.generator = torch.Generator().manual_seed(seed)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """One image at a time, as the reference: store while filling, then swap with probability ½."""
        if self.size == 0:
            return images
        chosen = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image.clone())
                chosen.append(image)
            elif torch.rand((), generator=self.generator).item() > 0.5:
                slot = int(torch.randint(self.size, (), generator=self.generator))
                chosen.append(self.images[slot].clone())
                self.images[slot] = image.clone()
            else:
                chosen.append(image)
        return torch.cat(chosen)

    def state_dict(self) -> dict[str, Any]:
        stored = torch.cat(self.images) if self.images else torch.empty(0)
        return {"size": self.size, "images": stored.cpu(), "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.size = int(state["size"])
        self.images = [img.unsqueeze(0).to(self.device) for img in state["images"]] if state["images"].numel() else []
        self.generator.set_state(state["generator"])
