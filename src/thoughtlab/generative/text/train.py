"""Training the text generator: MLE, then adversarially by (a) a Gumbel-softmax relaxation or (b) SeqGAN.

- MLE: teacher-forced cross-entropy on oracle samples (Yu et al. 2017 pre-training).
- (a) Relaxation (Kusner & Hernández-Lobato 2016; Jang et al. 2017): each token is a straight-through
  Gumbel-softmax one-hot — hard in the forward pass, softmax((logits + g)/λ) in the backward pass — fed
  to the next step and to the discriminator; the generator minimises the non-saturating loss −log D(G(z)).
- (b) Estimator (SeqGAN, Yu et al. 2017, eqs. 2–4): REINFORCE with the action value
  ``Q(y_<t, y_t) = (1/K) Σ_k D(MC_k(y_≤t))`` from K Monte-Carlo rollouts of the current generator
  (the final token's value is D of the sequence itself).
The discriminator is a small CNN over token one-hots with several filter widths and max-over-time
pooling (SeqGAN's D, fewer widths).  One D step then one G step per adversarial batch.
Both are recipes on :func:`thoughtlab.train.train`, so every phase checkpoints and resumes bit-exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.errors import UnknownName
from thoughtlab.generative.text.lstm import TokenLSTM
from thoughtlab.train import Hook, TrainState, optimizer_step, train

REMEDIES = ("gumbel", "seqgan")


class SeqDiscriminator(nn.Module):
    """CNN text classifier on (soft) one-hot sequences: embed → conv widths → max-pool → linear logit."""

    def __init__(self, vocab: int, emb: int = 32, widths: tuple[int, ...] = (2, 3, 4, 5), filters: int = 24, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.embedding = nn.Parameter(torch.randn(vocab, emb) * 0.1)
        self.convs = nn.ModuleList(nn.Conv1d(emb, filters, w) for w in widths)
        self.out = nn.Linear(filters * len(widths), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logit of "real" per sequence for ids (B, T) or one-hots (B, T, V)."""
        e = self.embedding[x] if x.dtype == torch.long else x @ self.embedding
        e = e.transpose(1, 2)
        pooled = [F.relu(conv(e)).amax(-1) for conv in self.convs]
        return self.out(torch.cat(pooled, -1)).squeeze(-1)


@dataclass(frozen=True)
class AdvConfig:
    """Adversarial phase: steps, batch, learning rates, Gumbel temperature λ, SeqGAN rollouts K, D warm-up steps."""

    steps: int = 100
    batch: int = 32
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    gumbel_tau: float = 1.0
    rollouts: int = 2
    d_warmup: int = 50


class Mle:
    """Recipe: teacher-forced maximum likelihood on minibatches drawn by a seeded generator (``state.generators["data"]``)."""

    def __init__(self, data: torch.Tensor, batch: int, seed: int):
        self.data, self.size = data, batch
        self.draw = torch.Generator().manual_seed(seed)

    def batch(self, step: int) -> torch.Tensor:
        return self.data[torch.randint(0, len(self.data), (self.size,), generator=self.draw)]

    def step(self, state: TrainState, tokens: torch.Tensor) -> dict[str, float]:
        loss = state.models["gen"].token_nll(tokens).mean()
        optimizer_step(state.optimizers["gen"], loss)
        return {"nll": loss.item()}


def mle_train(gen: TokenLSTM, data: torch.Tensor, steps: int, batch: int, lr: float, seed: int,
              opt: torch.optim.Optimizer | None = None, checkpoint: Path | None = None,
              hooks: Collection[Hook] = ()) -> TrainState:
    """MLE for ``steps`` minibatches on the training core (resumed from ``checkpoint`` if it exists);
    ``opt`` continues an earlier optimiser (its moments), else a fresh Adam."""
    recipe = Mle(data, batch, seed)
    state = TrainState({"objective": "mle", "seed": seed, "lr": lr, "batch": batch}, models={"gen": gen},
                       optimizers={"gen": opt or torch.optim.Adam(gen.parameters(), lr=lr)},
                       generators={"data": recipe.draw})
    return train(recipe, state, steps, checkpoint=checkpoint, every=_every(steps), hooks=hooks, desc="mle")


def _every(steps: int) -> int:
    return max(steps // 4, 1)


def gumbel_sequences(gen: TokenLSTM, n: int, tau: float, g: torch.Generator) -> torch.Tensor:
    """Straight-through Gumbel-softmax one-hot sequences (n, T, V), differentiable w.r.t. ``gen``."""
    x, h, c = gen.initial(n)
    out = []
    for _ in range(gen.shape.length):
        logits, h, c = gen.cell(x, h, c)
        u = torch.rand(logits.shape, generator=g).clamp_(1e-20, 1.0)
        soft = torch.softmax((logits - torch.log(-torch.log(u))) / tau, -1)
        hard = F.one_hot(soft.argmax(-1), gen.shape.vocab).to(soft.dtype)
        y = hard - soft.detach() + soft
        out.append(y)
        x = y @ gen.embedding
    return torch.stack(out, 1)


@torch.no_grad()
def rollout_rewards(gen: TokenLSTM, disc: SeqDiscriminator, seqs: torch.Tensor, rollouts: int, seed: int) -> torch.Tensor:
    """SeqGAN's Q(y_<t, y_t) for every position (B, T): mean D-probability over K completions of each prefix."""
    b, length = seqs.shape
    rewards = torch.empty(b, length)
    for t in range(1, length):
        prefix = seqs[:, :t].repeat(rollouts, 1)
        full = gen.sample(len(prefix), seed * 1000 + t, prefix=prefix)
        rewards[:, t - 1] = torch.sigmoid(disc(full)).view(rollouts, b).mean(0)
    rewards[:, -1] = torch.sigmoid(disc(seqs))
    return rewards


def d_step(disc: SeqDiscriminator, opt: torch.optim.Optimizer, real: torch.Tensor, fake: torch.Tensor) -> float:
    """One logistic-loss step: real ids vs fake ids or one-hots (detached)."""
    loss = F.softplus(-disc(real)).mean() + F.softplus(disc(fake)).mean()
    optimizer_step(opt, loss)
    return float(loss.detach())


class Adversarial:
    """Recipe: ``cfg.d_warmup`` discriminator-only steps on MLE samples, then ``cfg.steps`` adversarial
    steps (one D step, one G step) with ``remedy``.  All draws happen inside :meth:`step` in the order of
    the paper's loop, from ``state.generators["data"]`` and per-step seeds, so a resumed run is exact."""

    def __init__(self, remedy: str, data: torch.Tensor, cfg: AdvConfig, seed: int):
        if remedy not in REMEDIES:
            raise UnknownName("remedy", remedy, REMEDIES)
        self.remedy, self.data, self.cfg, self.seed = remedy, data, cfg, seed
        self.draw = torch.Generator().manual_seed(seed)

    def real(self) -> torch.Tensor:
        return self.data[torch.randint(0, len(self.data), (self.cfg.batch,), generator=self.draw)]

    def batch(self, step: int) -> int:
        return step

    def step(self, state: TrainState, index: int) -> dict[str, float]:
        gen, disc = state.models["gen"], state.models["disc"]
        cfg, seed, opt_d = self.cfg, self.seed, state.optimizers["disc"]
        if index < cfg.d_warmup:
            return {"d_loss": d_step(disc, opt_d, self.real(), gen.sample(cfg.batch, seed * 7 + index))}
        step = index - cfg.d_warmup + 1
        if self.remedy == "gumbel":
            fake = gumbel_sequences(gen, cfg.batch, cfg.gumbel_tau, self.draw)
            d_loss = d_step(disc, opt_d, self.real(), fake.detach())
            loss = F.softplus(-disc(gumbel_sequences(gen, cfg.batch, cfg.gumbel_tau, self.draw))).mean()
        else:
            seqs = gen.sample(cfg.batch, seed * 100_003 + step)
            d_loss = d_step(disc, opt_d, self.real(), seqs)
            q = rollout_rewards(gen, disc, seqs, cfg.rollouts, seed * 100_003 + step)
            loss = (gen.token_nll(seqs) * q).sum(1).mean()  # −Σ_t log G(y_t|y_<t) · Q_t
        optimizer_step(state.optimizers["gen"], loss)
        return {"d_loss": d_loss, "g_loss": loss.item()}


def adversarial(remedy: str, gen: TokenLSTM, data: torch.Tensor, cfg: AdvConfig, seed: int,
                checkpoints: tuple[int, ...] = (), on_checkpoint: Callable[[int, TrainState], None] | None = None,
                checkpoint: Path | None = None) -> TrainState:
    """Fine-tune ``gen`` adversarially in place with ``remedy`` ∈ {gumbel, seqgan} on the training core;
    ``on_checkpoint(step, state)`` after adversarial step ``step`` ∈ ``checkpoints`` (D warm-up not counted)."""
    recipe = Adversarial(remedy, data, cfg, seed)
    disc = SeqDiscriminator(gen.shape.vocab, seed=seed)
    settings = {k: v for k, v in asdict(cfg).items() if k != "steps"}  # a resumed run may extend the budget
    state = TrainState({"objective": remedy, "seed": seed, **settings}, models={"gen": gen, "disc": disc},
                       optimizers={"gen": torch.optim.Adam(gen.parameters(), lr=cfg.lr_g),
                                   "disc": torch.optim.Adam(disc.parameters(), lr=cfg.lr_d)},
                       generators={"data": recipe.draw})
    hooks = [] if on_checkpoint is None else [
        Hook({cfg.d_warmup + s for s in checkpoints}, lambda st: on_checkpoint(st.step - cfg.d_warmup, st))]
    total = cfg.d_warmup + cfg.steps
    return train(recipe, state, total, checkpoint=checkpoint, every=_every(total), hooks=hooks, desc=remedy)
