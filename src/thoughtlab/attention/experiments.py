"""Train and measure one pooling on one task: the pieces the attention-noise study repeats.

A :class:`SetModel` is ``item encoder -> pooling -> head``; only the pooling
differs between the models compared on a task.  Sets travel through
:func:`thoughtlab.train.fit` as one tensor whose last channel is the mask.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score
from torch import nn

from thoughtlab.attention.pooling import make_pooling
from thoughtlab.attention.se import SqueezeExcitation
from thoughtlab.attention.tasks import Sets
from thoughtlab.train import fit, seed_everything

ADDING_TOLERANCE = 0.04  # Raffel & Ellis: an example is solved when |error| < 0.04


def pack(sets: Sets) -> torch.Tensor:
    """(N, T, D) items and (N, T) mask -> one (N, T, D + 1) tensor, mask last."""
    return torch.from_numpy(np.concatenate([sets.x, sets.mask[..., None].astype(np.float32)], axis=-1))


class SetModel(nn.Module):
    """Per-item encoder, a pooling from :func:`make_pooling`, and a head on the pooled vector."""

    def __init__(self, encoder: nn.Module, pooling: nn.Module, head: nn.Module):
        super().__init__()
        self.encoder, self.pooling, self.head = encoder, pooling, head

    def predict(self, packed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Outputs and item weights ``(B, T)`` (multi-head weights averaged over heads)."""
        items, mask = packed[..., :-1], packed[..., -1] > 0.5
        pooled, weights = self.pooling(self.encoder(items), mask)
        return self.head(pooled), weights.mean(dim=1) if weights.dim() == 3 else weights

    def forward(self, packed: torch.Tensor) -> torch.Tensor:
        return self.predict(packed)[0]


def adding_model(pooling: str, hidden: int) -> SetModel:
    """Raffel & Ellis 2016 sec. 3: dense-LReLU per step, pooling, dense-LReLU, linear output."""
    encoder = nn.Sequential(nn.Linear(2, hidden), nn.LeakyReLU())
    head = nn.Sequential(nn.Linear(hidden, hidden), nn.LeakyReLU(), nn.Linear(hidden, 1))
    return SetModel(encoder, make_pooling(pooling, hidden, hidden=score_hidden(hidden)), head)


def score_hidden(hidden: int) -> int:
    """Width of the additive/gated score network: half the item width (Ilse et al. use 128 for 500)."""
    return max(1, hidden // 2)


def classifier_model(pooling: str, inputs: int, hidden: int, classes: int = 2) -> SetModel:
    """Two-layer ReLU item encoder, pooling, linear classifier (the Ilse et al. layout)."""
    encoder = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
    return SetModel(encoder, make_pooling(pooling, hidden, hidden=score_hidden(hidden)), nn.Linear(hidden, classes))


def mse_on_scalar(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(output.squeeze(-1), target)


def train(
    build: Callable[[], SetModel], data: Sets, *, steps: int, batch_size: int, lr: float, seed: int,
    device: torch.device, loss_fn: Callable = F.cross_entropy,
    measure: Callable[[SetModel], dict[str, Any]] | None = None, fractions: tuple[float, ...] = (),
) -> tuple[SetModel, dict[str, dict[str, Any]]]:
    """Seed, build and fit a model with :func:`thoughtlab.train.fit` (Adam).

    Returns the model and, when ``measure`` is given, ``measure(model)`` after ``round(f · steps)``
    updates for each fraction ``f`` (keys ``"0.25"`` …): the learning curve.
    """
    seed_everything(seed)
    model = build()
    y = torch.from_numpy(data.y)
    at = {round(f * steps): f"{f:g}" for f in fractions}
    curve: dict[str, dict[str, Any]] = {}

    def on_step(step: int, net: nn.Module, loss: float) -> None:  # before update `step`: `step` updates done
        if measure is not None and step in at:
            curve[at[step]] = measure(net)

    result = fit(model, pack(data), y, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                 loss_fn=loss_fn, device=device, on_step=on_step)
    return result.model, curve


@torch.no_grad()
def predict(model: SetModel, data: Sets, chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Outputs and weights on ``data``, in eval mode, as numpy arrays."""
    model.eval()
    device = next(model.parameters()).device
    packed = pack(data)
    outputs, weights = [], []
    for start in range(0, len(packed), chunk):
        out, w = model.predict(packed[start : start + chunk].to(device))
        outputs.append(out.cpu())
        weights.append(w.cpu())
    model.train()
    return torch.cat(outputs).numpy(), torch.cat(weights).numpy()


def key_mass(weights: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Per row: the weight on the informative items (``key`` positions, -1 ignored)."""
    valid = key >= 0
    picked = np.take_along_axis(weights, np.where(valid, key, 0), axis=1)
    return (picked * valid).sum(axis=1)


def precision_at_1(weights: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Per row: 1 if the most-weighted item is an informative one."""
    top = weights.argmax(axis=1)
    return ((key == top[:, None]) & (key >= 0)).any(axis=1).astype(np.float64)


def binomial_halfwidth(p: float, n: int) -> float:
    """95 % normal-approximation half-width of a proportion."""
    return float(1.96 * np.sqrt(max(p * (1 - p), 1e-12) / n))


def auc_halfwidth(auc: float, positives: int, negatives: int) -> float:
    """95 % half-width of an AUC by Hanley & McNeil 1982 (eq. 2)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)) / (positives * negatives)
    return float(1.96 * np.sqrt(max(var, 1e-12)))


def measure_adding(model: SetModel, test: Sets) -> dict[str, float]:
    """Success share (|error| < 0.04) and the weight on the two marked steps."""
    out, weights = predict(model, test)
    hits = (np.abs(out[:, 0] - test.y) < ADDING_TOLERANCE).astype(np.float64)
    return {"success": float(hits.mean()), "mse": float(np.mean((out[:, 0] - test.y) ** 2)),
            "mass": float(key_mass(weights, test.key).mean()), "n": len(test.y), "per_item": hits.tolist()}


def measure_classifier(model: SetModel, test: Sets) -> dict[str, float]:
    """Accuracy, AUC, and on positive/needle rows the weight on the informative item and precision@1."""
    out, weights = predict(model, test)
    prob = torch.softmax(torch.from_numpy(out), dim=1)[:, 1].numpy()
    has_key = test.key[:, 0] >= 0
    correct = (out.argmax(axis=1) == test.y).astype(np.float64)
    return {
        "accuracy": float(correct.mean()),
        "per_item": correct.tolist(),
        "auc": float(roc_auc_score(test.y, prob)) if len(np.unique(test.y)) == 2 else 0.5,
        "mass": float(key_mass(weights[has_key], test.key[has_key]).mean()),
        "p1": float(precision_at_1(weights[has_key], test.key[has_key]).mean()),
        "n": len(test.y), "positives": int(test.y.sum()),
    }


class SEClassifier(nn.Module):
    """Squeeze-and-excitation on the input channels, then a small conv net (Hu et al. 2018, SE on a block input)."""

    def __init__(self, channels: int, reduction: int, width: int, classes: int = 10):
        super().__init__()
        self.se = SqueezeExcitation(channels, reduction)
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(width, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.se(x)[0])


@torch.no_grad()
def mean_gates(model: SEClassifier, x: torch.Tensor) -> np.ndarray:
    """Average SE gate of each channel over ``x``."""
    model.eval()
    gates = model.se(x.to(next(model.parameters()).device))[1].mean(dim=0).cpu().numpy()
    model.train()
    return gates


def gate_snr_correlation(gates: np.ndarray, snr: np.ndarray) -> float:
    """Spearman rank correlation of gates and per-channel SNR (0 when either is constant)."""
    if np.ptp(gates) == 0 or np.ptp(snr) == 0:
        return 0.0
    return float(spearmanr(gates, snr).statistic)
