"""MLE and the two adversarial remedies on a tiny oracle; NLL scores and the temperature-curve comparison."""

import copy

import pytest
import torch

from thoughtlab.errors import UnknownName
from thoughtlab.generative.text import evaluate as V
from thoughtlab.generative.text import oracle as O
from thoughtlab.generative.text import train as T
from thoughtlab.generative.text.lstm import LstmShape, TokenLSTM, sample_in_batches

SHAPE = LstmShape(vocab=20, emb=8, hidden=8, length=6)


@pytest.fixture(scope="module")
def setup():
    orc = O.make_oracle(SHAPE, 0)
    return orc, sample_in_batches(orc, 400, 1), sample_in_batches(orc, 100, 2)


def test_mle_approaches_the_oracle(setup):
    orc, data, test = setup
    gen = TokenLSTM(SHAPE, 0.1, 3)
    before = V.score(gen, orc, test, 100, 0).nll_test
    T.mle_train(gen, data, 150, 32, 1e-2, 0)
    after = V.score(gen, orc, test, 100, 0).nll_test
    floor = O.entropy_rate(orc, 2000, 5).mean
    assert after < before - 0.5 * (before - floor)


def test_temperature_changes_nll_test_consistently(setup):
    orc, _, test = setup
    p = V.score(orc, orc, test, 50, 0, temperature=0.5)
    assert p.nll_test == pytest.approx(float(orc.token_nll(test, 0.5).mean()), rel=1e-6)
    assert V.score(orc, orc, test, 50, 0, temperature=1.0).nll_test < p.nll_test  # the oracle is best at τ = 1


def test_gumbel_sequences_are_one_hot_and_carry_gradients():
    gen = TokenLSTM(SHAPE, 0.1, 0)
    y = T.gumbel_sequences(gen, 4, 1.0, torch.Generator().manual_seed(0))
    assert y.shape == (4, 6, 20) and torch.allclose(y.sum(-1), torch.ones(4, 6))
    assert set(y.detach().unique().tolist()) <= {0.0, 1.0}
    (y * torch.randn(y.shape)).sum().backward()
    assert gen.W_out.grad.abs().sum() > 0


def test_rollout_rewards_are_probabilities_ending_with_d_of_the_sequence():
    gen = TokenLSTM(SHAPE, 0.1, 0)
    disc = T.SeqDiscriminator(20)
    seqs = gen.sample(5, 0)
    q = T.rollout_rewards(gen, disc, seqs, 3, 0)
    assert q.shape == (5, 6) and (q >= 0).all() and (q <= 1).all()
    assert torch.allclose(q[:, -1], torch.sigmoid(disc(seqs)))


def test_sample_keeps_the_prefix():
    gen = TokenLSTM(SHAPE, 0.1, 0)
    prefix = torch.tensor([[1, 2], [3, 4]])
    assert torch.equal(gen.sample(2, 0, prefix=prefix)[:, :2], prefix)


@pytest.mark.parametrize("remedy", T.REMEDIES)
def test_adversarial_updates_generator_and_calls_checkpoints(setup, remedy):
    _, data, _ = setup
    gen = TokenLSTM(SHAPE, 0.1, 0)
    before = copy.deepcopy(gen.state_dict())
    seen = []
    T.adversarial(remedy, gen, data, T.AdvConfig(steps=3, batch=4, d_warmup=1), 0, (1, 3), lambda s, st: seen.append(s))
    assert seen == [1, 3]
    assert any(not torch.equal(before[k], v) for k, v in gen.state_dict().items())


def test_unknown_remedy():
    with pytest.raises(UnknownName, match="remedy"):
        T.adversarial("maligan", TokenLSTM(SHAPE, 0.1, 0), torch.zeros(4, 6, dtype=torch.long), T.AdvConfig(), 0)


def _pt(test, oracle, tau=1.0):
    return V.Point(tau, oracle, test, (), ())


def test_curve_gap_interpolates_on_the_frontier_and_flags_outside():
    curve = [_pt(1.0, 3.0), _pt(2.0, 2.0), _pt(3.0, 1.0), _pt(2.5, 2.5)]  # the last is dominated
    assert [p.nll_test for p in V.frontier(curve)] == [1.0, 2.0, 3.0]
    assert V.curve_gap(curve, _pt(2.0, 1.5)) == (pytest.approx(0.5), True)
    assert V.curve_gap(curve, _pt(1.5, 2.6)) == (pytest.approx(-0.1), True)
    gap, inside = V.curve_gap(curve, _pt(0.5, 2.0))
    assert gap == pytest.approx(1.0) and not inside  # nearest end used


def _same_parameters(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_mle_resumes_bit_exactly(setup, tmp_path):
    _, data, _ = setup
    straight = TokenLSTM(SHAPE, 0.1, 3)
    T.mle_train(straight, data, 4, 8, 1e-2, 0)
    T.mle_train(TokenLSTM(SHAPE, 0.1, 3), data, 2, 8, 1e-2, 0, checkpoint=tmp_path / "m.pt")
    resumed = TokenLSTM(SHAPE, 0.1, 3)
    T.mle_train(resumed, data, 4, 8, 1e-2, 0, checkpoint=tmp_path / "m.pt")
    assert _same_parameters(straight, resumed)
    assert not _same_parameters(straight, TokenLSTM(SHAPE, 0.1, 3))


@pytest.mark.parametrize("remedy", T.REMEDIES)
def test_adversarial_resumes_bit_exactly_past_the_warm_up(setup, remedy, tmp_path):
    _, data, _ = setup

    def run(steps, checkpoint=None):
        gen = TokenLSTM(SHAPE, 0.1, 0)
        state = T.adversarial(remedy, gen, data, T.AdvConfig(steps=steps, batch=4, d_warmup=2), 0, checkpoint=checkpoint)
        return state

    straight = run(4)
    assert run(1, tmp_path / "a.pt").step == 3  # two warm-up steps and one adversarial step
    resumed = run(4, tmp_path / "a.pt")
    assert resumed.step == 6
    assert _same_parameters(straight.models["gen"], resumed.models["gen"])
    assert _same_parameters(straight.models["disc"], resumed.models["disc"])
