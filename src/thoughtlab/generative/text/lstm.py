"""The token LSTM shared by the SeqGAN oracle and the generator (Yu et al. 2017, ``target_lstm.py`` structure).

Gates are the standard LSTM without peepholes, in the SeqGAN file's order i, f, o, c::

    i = σ(x W_i + h U_i + b_i)   f = σ(x W_f + h U_f + b_f)   o = σ(x W_o + h U_o + b_o)
    c̃ = tanh(x W_c + h U_c + b_c)   c = f ⊙ c + i ⊙ c̃   h = o ⊙ tanh(c)
    p(y_t | y_<t) = softmax(h W_out + b_out)

The first input is the embedding of the start token 0; ``h0 = c0 = 0``.  Inputs may be token ids
or (soft) one-hot rows, which the Gumbel-softmax GAN needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

START = 0


@dataclass(frozen=True)
class LstmShape:
    """SeqGAN's synthetic setting: vocabulary 5,000, embedding and hidden 32, length 20."""

    vocab: int = 5000
    emb: int = 32
    hidden: int = 32
    length: int = 20


class TokenLSTM(nn.Module):
    """An LSTM language model with explicit SeqGAN-ordered weights (see the module docstring)."""

    def __init__(self, shape: LstmShape, init_std: float, seed: int):
        super().__init__()
        self.shape = shape
        g = torch.Generator().manual_seed(seed)
        v, e, h = shape.vocab, shape.emb, shape.hidden

        def normal(*size: int) -> nn.Parameter:
            return nn.Parameter(torch.randn(size, generator=g) * init_std)

        self.embedding = normal(v, e)
        self.W = normal(e, 4 * h)  # [W_i W_f W_o W_c]
        self.U = normal(h, 4 * h)
        self.b = normal(4 * h)
        self.W_out = normal(h, v)
        self.b_out = normal(v)

    def initial(self, batch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(first input embedding, h0, c0) for ``batch`` sequences."""
        x = self.embedding[START].expand(batch, -1)
        zeros = torch.zeros(batch, self.shape.hidden)
        return x, zeros, zeros

    def cell(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step: logits of the next token, new (h, c)."""
        i, f, o, cc = (x @ self.W + h @ self.U + self.b).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(cc)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h @ self.W_out + self.b_out, h, c

    def embed(self, tokens_or_onehot: torch.Tensor) -> torch.Tensor:
        if tokens_or_onehot.dtype == torch.long:
            return self.embedding[tokens_or_onehot]
        return tokens_or_onehot @ self.embedding

    def logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher-forced next-token logits (B, T, V) for token ids (B, T)."""
        x, h, c = self.initial(tokens.shape[0])
        out = []
        for t in range(tokens.shape[1]):
            logit, h, c = self.cell(x, h, c)
            out.append(logit)
            x = self.embed(tokens[:, t])
        return torch.stack(out, 1)

    def token_nll(self, tokens: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """−log p_τ(y_t | y_<t) per token (B, T) in nats, for softmax(logits / τ)."""
        logp = torch.log_softmax(self.logits(tokens) / temperature, -1)
        return -logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)

    @torch.no_grad()
    def sample(self, n: int, seed: int, temperature: float = 1.0, prefix: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` sequences of full length (token ids), continuing ``prefix`` (n, t) if given."""
        g = torch.Generator().manual_seed(seed)
        x, h, c = self.initial(n)
        tokens = []
        known = 0 if prefix is None else prefix.shape[1]
        for t in range(self.shape.length):
            logit, h, c = self.cell(x, h, c)
            if t < known:
                y = prefix[:, t]
            else:
                y = gumbel_argmax(logit / temperature, g)
            tokens.append(y)
            x = self.embedding[y]
        return torch.stack(tokens, 1)


def gumbel_argmax(logits: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """A draw from softmax(logits) by the Gumbel-max trick (Gumbel 1954; Maddison et al. 2014)."""
    u = torch.rand(logits.shape, generator=g).clamp_(1e-20, 1.0)
    return (logits - torch.log(-torch.log(u))).argmax(-1)


def sample_in_batches(model: TokenLSTM, n: int, seed: int, batch: int = 1000, temperature: float = 1.0) -> torch.Tensor:
    """``n`` samples drawn ``batch`` at a time, each batch from its own sub-seed."""
    parts = [model.sample(min(batch, n - k), seed * 7919 + k, temperature) for k in range(0, n, batch)]
    return torch.cat(parts)


@torch.no_grad()
def mean_nll(model: TokenLSTM, tokens: torch.Tensor, temperature: float = 1.0, batch: int = 1000) -> torch.Tensor:
    """Per-sequence mean token NLL (nats/token), one value per sequence."""
    return torch.cat([model.token_nll(tokens[k:k + batch], temperature).mean(1) for k in range(0, len(tokens), batch)])
