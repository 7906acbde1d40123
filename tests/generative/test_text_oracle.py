"""The oracle LSTM, its entropy-rate floor and the restricted loader of SeqGAN's parameter file."""

import os
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from thoughtlab.errors import BadInput
from thoughtlab.generative.text import oracle as O
from thoughtlab.generative.text.lstm import LstmShape, mean_nll

SMALL = LstmShape(vocab=50, emb=8, hidden=8, length=6)


def seqgan_arrays(shape, seed=0):
    rng = np.random.default_rng(seed)
    e, h, v = shape.emb, shape.hidden, shape.vocab
    gates = [rng.standard_normal(s).astype(np.float32) for _ in range(4) for s in ((e, h), (h, h), (h,))]
    return [rng.standard_normal((v, e)).astype(np.float32), *gates,
            rng.standard_normal((h, v)).astype(np.float32), rng.standard_normal(v).astype(np.float32)]


def reference_step(arrays, x, h, c):
    """SeqGAN's target_lstm recurrence written out gate by gate in numpy."""
    _, wi, ui, bi, wf, uf, bf, wo, uo, bo, wc, uc, bc, w_out, b_out = arrays
    sig = lambda a: 1 / (1 + np.exp(-a))
    i, f, o = sig(x @ wi + h @ ui + bi), sig(x @ wf + h @ uf + bf), sig(x @ wo + h @ uo + bo)
    c = f * c + i * np.tanh(x @ wc + h @ uc + bc)
    h = o * np.tanh(c)
    return h @ w_out + b_out, h, c


def test_loaded_oracle_matches_the_seqgan_recurrence(tmp_path):
    arrays = seqgan_arrays(SMALL)
    path = tmp_path / "target_params_py3.pkl"
    path.write_bytes(pickle.dumps(arrays))
    oracle = O.load_seqgan_params(path)
    tokens = torch.tensor([[3, 1, 4, 1, 5, 9]])
    x, h, c = arrays[0][0], np.zeros(8, np.float32), np.zeros(8, np.float32)
    expected = 0.0
    for y in tokens[0].tolist():
        logits, h, c = reference_step(arrays, x, h, c)
        expected += -(logits[y] - np.log(np.exp(logits).sum()))
        x = arrays[0][y]
    assert mean_nll(oracle, tokens).item() == pytest.approx(expected / 6, rel=1e-5)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize("payload, match", [
    ([Evil()], "posix.system|os.system|not a numpy array"),
    (pickle.dumps(Evil()), None),
    ({"a": np.zeros(3)}, "15 numpy arrays"),
    ([np.zeros(3)] * 15, "wrong shapes"),
    (b"not a pickle", "not a readable pickle"),
])
def test_loader_refuses_anything_but_seqgan_arrays(tmp_path, payload, match):
    path = tmp_path / "p.pkl"
    if isinstance(payload, bytes) and match is None:
        path.write_bytes(payload)
        match = "not a numpy array"
    elif isinstance(payload, bytes):
        path.write_bytes(payload)
    else:
        path.write_bytes(pickle.dumps(payload))
    with pytest.raises(BadInput, match=match):
        O.load_seqgan_params(path)


def test_loader_names_a_missing_file(tmp_path):
    with pytest.raises(BadInput, match="cannot read oracle file"):
        O.load_seqgan_params(tmp_path / "missing.pkl")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["builtins", "os", "subprocess", "numpy", "torch"]), min_size=1, max_size=1),
       st.sampled_from(["eval", "system", "Popen", "load", "frombuffer"]))
def test_find_class_allows_only_array_reconstruction(modules, name):
    with pytest.raises(BadInput):
        O._ArraysOnly(__import__("io").BytesIO(b"")).find_class(modules[0], name)


def test_seeded_oracle_is_reproducible_and_standard_normal():
    a, b = O.make_oracle(SMALL, 3), O.make_oracle(SMALL, 3)
    assert torch.equal(a.W_out, b.W_out) and not torch.equal(a.W_out, O.make_oracle(SMALL, 4).W_out)
    big = O.make_oracle(LstmShape(vocab=2000), 0)
    assert big.embedding.std().item() == pytest.approx(1.0, abs=0.02)


def test_entropy_rate_is_below_uniform_and_matches_exact_enumeration():
    """On a 3-token, length-3 oracle the exact entropy rate is a finite sum over 27 sequences."""
    tiny = LstmShape(vocab=3, emb=4, hidden=4, length=3)
    oracle = O.make_oracle(tiny, 1)
    seqs = torch.tensor([[a, b, c] for a in range(3) for b in range(3) for c in range(3)])
    nll = oracle.token_nll(seqs).sum(1)
    exact = float((torch.exp(-nll) * nll).sum() / 3)
    assert float(torch.exp(-nll).sum()) == pytest.approx(1.0, abs=1e-5)
    est = O.entropy_rate(oracle, 20_000, seed=0)
    assert est.low <= exact <= est.high and est.high - est.low < 0.03
    assert est.high < O.uniform_rate(oracle, 2000, 0).low


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 60), min_size=1, max_size=6), min_size=1, max_size=5),
       st.sampled_from([" ", "  ", "\t"]), st.booleans())
def test_token_loader_reads_rectangular_ids_or_refuses(tmp_path_factory, rows, sep, trailing):
    path = tmp_path_factory.mktemp("tok") / "t.txt"
    path.write_text("\n".join(sep.join(map(str, r)) for r in rows) + ("\n\n" if trailing else ""))
    rectangular = len({len(r) for r in rows}) == 1
    if rectangular and max(max(r) for r in rows) < SMALL.vocab:
        assert O.load_tokens(path, SMALL.vocab).tolist() == rows
    else:
        with pytest.raises(BadInput):
            O.load_tokens(path, SMALL.vocab)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=200))
def test_loaders_never_fail_but_with_bad_input_on_arbitrary_bytes(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("raw") / "f"
    path.write_bytes(raw)
    for load in (O.load_seqgan_params, lambda p: O.load_tokens(p, SMALL.vocab)):
        try:
            load(path)
        except BadInput:
            pass


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 14), st.sampled_from([np.nan, np.inf, -np.inf]))
def test_param_loader_refuses_any_non_finite_array(tmp_path_factory, which, bad):
    arrays = seqgan_arrays(SMALL)
    arrays[which].flat[0] = bad
    path = tmp_path_factory.mktemp("nf") / "p.pkl"
    path.write_bytes(pickle.dumps(arrays))
    with pytest.raises(BadInput, match="NaN or infinity"):
        O.load_seqgan_params(path)
