"""The SeqGAN synthetic oracle: a random LSTM with N(0, 1) parameters, its entropy-rate floor, and the
user-file loader for the published parameters (Yu et al. 2017, §5; ``LantaoYu/SeqGAN`` ``target_lstm.py``).

Our oracle is *generated from a seed*, not the SeqGAN file, so its floor differs from the published
5.752 nats/token; a user holding ``target_params_py3.pkl`` can load it with :func:`load_seqgan_params`,
which unpickles through an allow-list of numpy's array reconstructors only — never a plain ``pickle.load``,
and score token sequences in SeqGAN's text format (:func:`load_tokens`; ``thoughtlab oracle``) or train
MLE and the two GANs against it (:mod:`~thoughtlab.generative.text.published`; ``thoughtlab oracle --train``).
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from thoughtlab.errors import BadInput
from thoughtlab.generative.text.lstm import LstmShape, TokenLSTM, mean_nll, sample_in_batches

PUBLISHED = {"floor": 5.752, "uniform": 11.435, "random_generator": 10.310, "mle": 9.038, "seqgan": 8.736}
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


def make_oracle(shape: LstmShape, seed: int) -> TokenLSTM:
    """The oracle: every parameter drawn from N(0, 1) with a local generator (SeqGAN's initialisation)."""
    oracle = TokenLSTM(shape, init_std=1.0, seed=seed)
    oracle.requires_grad_(False)
    return oracle


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that resolves only numpy's array reconstruction globals."""

    def find_class(self, module: str, name: str):  # noqa: ANN201 (pickle protocol)
        if (module, name) not in _ALLOWED:
            raise BadInput(f"pickle refers to {module}.{name}, which is not a numpy array; "
                           "only SeqGAN's list of 15 arrays can be loaded (convert the file to .npz)")
        return super().find_class(module, name)


def load_seqgan_params(path: str | Path, length: int = 20) -> TokenLSTM:
    """The published oracle from SeqGAN's ``target_params*.pkl`` (15 float32 arrays, see the module docstring),
    sampling sequences of ``length`` tokens (SeqGAN's 20)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read oracle file {path} ({exc.strerror}); pass SeqGAN's target_params_py3.pkl") from None
    try:
        arrays = _ArraysOnly(io.BytesIO(raw), encoding="latin1").load()
    except BadInput:
        raise
    except Exception as exc:  # corrupt or truncated pickle
        raise BadInput(f"{path} is not a readable pickle of arrays ({exc}); pass SeqGAN's target_params_py3.pkl") from None
    return oracle_from_arrays(arrays, length)


def oracle_from_arrays(arrays: object, length: int = 20) -> TokenLSTM:
    """Build the oracle from [embedding, Wi, Ui, bi, Wf, Uf, bf, Wo, Uo, bo, Wc, Uc, bc, W_out, b_out]."""
    if not isinstance(arrays, (list, tuple)) or len(arrays) != 15 or not all(isinstance(a, np.ndarray) for a in arrays):
        raise BadInput("oracle parameters must be a list of 15 numpy arrays (SeqGAN order); got something else")
    emb, *gates, w_out, b_out = (np.asarray(a, np.float32) for a in arrays)
    v, e = emb.shape if emb.ndim == 2 else (0, 0)
    h = w_out.shape[0] if w_out.ndim == 2 else 0
    expected = [(e, h), (h, h), (h,)] * 4
    if v == 0 or h == 0 or [g.shape for g in gates] != expected or w_out.shape != (h, v) or b_out.shape != (v,):
        raise BadInput(f"oracle arrays have the wrong shapes ({[a.shape for a in arrays]}); expected SeqGAN's order")
    if not all(np.isfinite(a).all() for a in (emb, *gates, w_out, b_out)):
        raise BadInput("oracle arrays contain NaN or infinity; pass SeqGAN's target_params_py3.pkl unmodified")
    shape = LstmShape(vocab=v, emb=e, hidden=h, length=length)
    oracle = TokenLSTM(shape, init_std=0.0, seed=0)
    with torch.no_grad():
        oracle.embedding.copy_(torch.from_numpy(emb))
        oracle.W.copy_(torch.from_numpy(np.concatenate(gates[0::3], axis=1)))
        oracle.U.copy_(torch.from_numpy(np.concatenate(gates[1::3], axis=1)))
        oracle.b.copy_(torch.from_numpy(np.concatenate(gates[2::3])))
        oracle.W_out.copy_(torch.from_numpy(w_out))
        oracle.b_out.copy_(torch.from_numpy(b_out))
    oracle.requires_grad_(False)
    return oracle


def load_tokens(path: str | Path, vocab: int) -> torch.Tensor:
    """Token sequences in SeqGAN's text format (``save/real_data.txt``, ``generator_sample.txt``): one sequence
    per line, token ids 0..vocab−1 separated by spaces, every line the same length.  Returns (N, T) int64."""
    try:
        lines = Path(path).read_text(encoding="ascii").split("\n")
    except OSError as exc:
        raise BadInput(f"cannot read token file {path} ({exc.strerror}); pass a text file of token ids") from None
    except UnicodeDecodeError:
        raise BadInput(f"token file {path} is not plain text; write one sequence of space-separated ids per line") from None
    rows = [line.split() for line in lines if line.strip()]
    if not rows:
        raise BadInput(f"token file {path} has no sequences; write one sequence of space-separated ids per line")
    lengths = {len(r) for r in rows}
    if len(lengths) != 1:
        raise BadInput(f"token file {path} has lines of {min(lengths)} to {max(lengths)} tokens; give every sequence the same length")
    if not all(t.isdigit() for r in rows for t in r):
        raise BadInput(f"token file {path} has an entry that is not a non-negative integer; write token ids only")
    tokens = np.array([[int(t) for t in r] for r in rows])
    if tokens.max() >= vocab:
        raise BadInput(f"token file {path} has id {int(tokens.max())} but the oracle's vocabulary is 0..{vocab - 1}; "
                       "score tokens of this oracle")
    return torch.from_numpy(tokens).long()


@dataclass(frozen=True)
class Rate:
    """A per-token NLL (nats/token) with a 95 % Student-t interval over independent sequences."""

    mean: float
    low: float
    high: float
    n: int


def rate(per_sequence: torch.Tensor) -> Rate:
    """Mean of per-sequence NLLs with its t interval (sequences are i.i.d. draws)."""
    x = per_sequence.double().numpy()
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return Rate(float(x.mean()), float(x.mean() - half), float(x.mean() + half), len(x))


def entropy_rate(oracle: TokenLSTM, n: int, seed: int) -> Rate:
    """The floor: the oracle's own samples scored by the oracle (its per-token entropy rate, by sampling)."""
    return rate(mean_nll(oracle, sample_in_batches(oracle, n, seed)))


def uniform_rate(oracle: TokenLSTM, n: int, seed: int) -> Rate:
    """NLL_oracle of uniformly random tokens: the trivial generator's score."""
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, oracle.shape.vocab, (n, oracle.shape.length), generator=g)
    return rate(mean_nll(oracle, tokens))
