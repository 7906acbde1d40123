"""Pooling a set or sequence into one vector, and the weights each item got.

Every pooling here has the same interface::

    pooled, weights = pool(x, mask=None)

``x`` is ``(B, T, D)``; ``mask`` is ``(B, T)`` bool with ``True`` for real items
(``None``: all real).  ``pooled`` is ``(B, D)``.  ``weights`` is ``(B, T)``, a
distribution over the items of each row (``(B, heads, T)`` for multi-head);
masked items get exactly zero weight and never change ``pooled``.

Example (usable on its own):

>>> import torch
>>> from thoughtlab.attention import make_pooling
>>> pool = make_pooling("gated", dim=8)
>>> x = torch.randn(2, 5, 8)
>>> mask = torch.tensor([[True] * 5, [True, True, True, False, False]])
>>> pooled, weights = pool(x, mask)
>>> pooled.shape, weights.shape
(torch.Size([2, 8]), torch.Size([2, 5]))
>>> w = weights.detach()  # padded items get exactly zero weight
>>> float(w[1, 3:].sum()), round(float(w[1].sum()), 4)
(0.0, 1.0)

Papers: Raffel & Ellis 2016 (feed-forward attention, arXiv 1512.08756, eqs. 1-3);
Bahdanau et al. 2015 (additive score, arXiv 1409.0473, eq. 6 / appendix A.1.2);
Vaswani et al. 2017 (scaled dot product and multi-head, arXiv 1706.03762, eqs. 1
and MultiHead); Ilse, Tomczak & Welling 2018 (attention-based MIL pooling,
arXiv 1802.04712, eqs. 8-9, with mean and max pooling as baselines, eqs. 6-7).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from thoughtlab.errors import BadInput, UnknownName

POOLINGS: tuple[str, ...] = ("mean", "max", "dot", "additive", "gated", "multihead")
ATTENTION_POOLINGS: tuple[str, ...] = ("dot", "additive", "gated", "multihead")


def check_inputs(x: torch.Tensor, mask: torch.Tensor | None, dim: int) -> torch.Tensor:
    """Validate ``x`` (B, T, dim) and ``mask`` (B, T); return the bool mask (all True if None)."""
    if x.dim() != 3 or x.shape[-1] != dim:
        raise BadInput(f"pooling expects x of shape (batch, items, {dim}), got {tuple(x.shape)}; reshape your input")
    if x.shape[1] == 0:
        raise BadInput("pooling got sets with no items (T = 0); pass at least one item per set")
    if mask is None:
        return torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    if mask.shape != x.shape[:2]:
        raise BadInput(f"mask must have shape {tuple(x.shape[:2])} (batch, items), got {tuple(mask.shape)}")
    mask = mask.to(torch.bool)
    if not bool(mask.any(dim=1).all()):
        empty = (~mask.any(dim=1)).nonzero().flatten().tolist()
        raise BadInput(f"rows {empty[:5]} of the mask have no real item; drop empty sets before pooling")
    return mask


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis where masked entries get exactly zero weight."""
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)


def weighted_sum(weights: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """``sum_t weights[b, t] * values[b, t, :]`` -> (B, D)."""
    return torch.einsum("bt,btd->bd", weights, values)


class MeanPool(nn.Module):
    """Unweighted mean over the real items (Ilse et al. 2018 eq. 7; Raffel & Ellis' "mean" baseline).

    Every real item gets weight 1/n, so one informative item among n carries
    only 1/n of the pooled vector.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        mask = check_inputs(x, mask, self.dim)
        weights = mask.to(x.dtype) / mask.sum(dim=1, keepdim=True).to(x.dtype)
        return weighted_sum(weights, x), weights


class MaxPool(nn.Module):
    """Feature-wise maximum over the real items (Ilse et al. 2018 eq. 6).

    The weight of an item is the share of feature dimensions whose maximum it
    supplied, so the weights still sum to one.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        mask = check_inputs(x, mask, self.dim)
        pooled, winner = x.masked_fill(~mask[..., None], float("-inf")).max(dim=1)
        counts = torch.zeros(x.shape[:2], dtype=x.dtype, device=x.device)
        counts.scatter_add_(1, winner, torch.ones_like(pooled))
        return pooled, counts / self.dim


class DotProductAttentionPool(nn.Module):
    """Scaled dot-product attention with one learned query (Vaswani et al. 2017 eq. 1).

    ``e_t = q . (W_k x_t) / sqrt(D)``, ``a = softmax(e)``, ``pooled = sum_t a_t x_t``.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.key = nn.Linear(dim, dim, bias=False)
        self.query = nn.Parameter(torch.randn(dim) / math.sqrt(dim))

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        return self.key(x) @ self.query / math.sqrt(self.dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        mask = check_inputs(x, mask, self.dim)
        weights = masked_softmax(self.scores(x), mask)
        return weighted_sum(weights, x), weights


class AdditiveAttentionPool(DotProductAttentionPool):
    """Additive (feed-forward) attention: ``e_t = w . tanh(V x_t + b)``.

    The score network of Bahdanau et al. 2015 (eq. 6) applied to a set as in
    Raffel & Ellis 2016 (eqs. 1-3: ``e_t = a(h_t)``, ``a = softmax(e)``,
    ``c = sum_t a_t h_t``) and Ilse et al. 2018 (eq. 8).  Raffel & Ellis' own
    code uses the one-unit case ``tanh(w . h_t + b)``, whose score margin is at
    most 2; here ``w`` is free, so the margin can grow as ``ln T`` requires.
    """

    def __init__(self, dim: int, hidden: int | None = None):
        nn.Module.__init__(self)
        self.dim = dim
        hidden = hidden or dim
        self.project = nn.Linear(dim, hidden)
        self.score = nn.Linear(hidden, 1, bias=False)

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        return self.score(torch.tanh(self.project(x))).squeeze(-1)


class GatedAttentionPool(AdditiveAttentionPool):
    """Gated attention of Ilse et al. 2018 (eq. 9): ``e_t = w . (tanh(V x_t) * sigmoid(U x_t))``."""

    def __init__(self, dim: int, hidden: int | None = None):
        super().__init__(dim, hidden)
        self.gate = nn.Linear(dim, self.project.out_features)

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        return self.score(torch.tanh(self.project(x)) * torch.sigmoid(self.gate(x))).squeeze(-1)


class MultiHeadAttentionPool(nn.Module):
    """Multi-head attention with one learned query per head (Vaswani et al. 2017, "MultiHead").

    Head ``i`` attends with ``softmax(q_i . K_i x_t / sqrt(D/h))`` over
    ``V_i x_t``; the heads are concatenated and mixed by ``W_o``.  The weights
    returned are per head: ``(B, heads, T)``.
    """

    def __init__(self, dim: int, heads: int = 4):
        super().__init__()
        if heads < 1 or dim % heads:
            raise BadInput(f"multi-head pooling needs dim divisible by heads, got dim={dim}, heads={heads}")
        self.dim, self.heads, self.head_dim = dim, heads, dim // heads
        self.key = nn.Linear(dim, dim, bias=False)
        self.value = nn.Linear(dim, dim, bias=False)
        self.out = nn.Linear(dim, dim)
        self.query = nn.Parameter(torch.randn(heads, self.head_dim) / math.sqrt(self.head_dim))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        mask = check_inputs(x, mask, self.dim)
        batch, items, _ = x.shape
        keys = self.key(x).view(batch, items, self.heads, self.head_dim)
        values = self.value(x).view(batch, items, self.heads, self.head_dim)
        scores = torch.einsum("bthd,hd->bht", keys, self.query) / math.sqrt(self.head_dim)
        weights = masked_softmax(scores, mask[:, None, :])
        heads = torch.einsum("bht,bthd->bhd", weights, values).reshape(batch, self.dim)
        return self.out(heads), weights


def make_pooling(name: str, dim: int, hidden: int | None = None, heads: int = 4) -> nn.Module:
    """A pooling module by name: one of :data:`POOLINGS`.

    ``hidden`` sizes the score network of ``additive`` and ``gated`` (default
    ``dim``); ``heads`` is for ``multihead``.  Unknown names raise UnknownName.
    """
    if name == "mean":
        return MeanPool(dim)
    if name == "max":
        return MaxPool(dim)
    if name == "dot":
        return DotProductAttentionPool(dim)
    if name == "additive":
        return AdditiveAttentionPool(dim, hidden)
    if name == "gated":
        return GatedAttentionPool(dim, hidden)
    if name == "multihead":
        return MultiHeadAttentionPool(dim, heads)
    raise UnknownName("pooling", name, POOLINGS)
