"""Squeeze-and-excitation: channel attention for conv nets (Hu, Shen & Sun, CVPR 2018, arXiv 1709.01507).

Example (usable on its own):

>>> import torch
>>> from thoughtlab.attention import SqueezeExcitation
>>> se = SqueezeExcitation(channels=16, reduction=4)
>>> out, gates = se(torch.randn(2, 16, 8, 8))
>>> out.shape, gates.shape
(torch.Size([2, 16, 8, 8]), torch.Size([2, 16]))
"""

from __future__ import annotations

import torch
from torch import nn

from thoughtlab.errors import BadInput


class SqueezeExcitation(nn.Module):
    """Rescale each channel by a learned gate in (0, 1) computed from all channels' means.

    Squeeze (eq. 2): ``z_c = mean_{h,w} u_c``.  Excitation (eq. 3):
    ``s = sigmoid(W2 relu(W1 z))`` with ``W1`` of shape ``C/r x C`` and ``W2``
    of shape ``C x C/r``.  Scale (eq. 4): ``out_c = s_c * u_c``.  ``forward``
    returns ``(out, s)`` so the gates can be inspected.
    """

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        if channels < 1 or reduction < 1:
            raise BadInput(f"squeeze-excitation needs channels >= 1 and reduction >= 1, got {channels}, {reduction}")
        self.channels = channels
        hidden = max(1, channels // reduction)
        self.squeeze_to_hidden = nn.Linear(channels, hidden)
        self.hidden_to_gates = nn.Linear(hidden, channels)

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if u.dim() != 4 or u.shape[1] != self.channels:
            raise BadInput(f"squeeze-excitation expects (batch, {self.channels}, H, W), got {tuple(u.shape)}")
        z = u.mean(dim=(2, 3))
        gates = torch.sigmoid(self.hidden_to_gates(torch.relu(self.squeeze_to_hidden(z))))
        return u * gates[:, :, None, None], gates
