import doctest

import pytest
import torch

import thoughtlab.attention.pooling as pooling_module
import thoughtlab.attention.se as se_module
from thoughtlab.attention import POOLINGS, SqueezeExcitation, make_pooling
from thoughtlab.errors import BadInput, UnknownName

DIM = 8


def build(name: str, dtype=torch.float32) -> torch.nn.Module:
    torch.manual_seed(0)
    return make_pooling(name, DIM).to(dtype)


def flat_weights(weights: torch.Tensor) -> torch.Tensor:
    """(B, T) weights; multi-head (B, heads, T) are checked head by head."""
    return weights.reshape(-1, weights.shape[-1])


@pytest.mark.parametrize("name", POOLINGS)
def test_shapes_and_weights_form_a_distribution(name):
    pooled, weights = build(name)(torch.randn(3, 7, DIM))
    assert pooled.shape == (3, DIM)
    assert weights.shape == ((3, 4, 7) if name == "multihead" else (3, 7))
    rows = flat_weights(weights)
    assert torch.all(rows >= 0)
    torch.testing.assert_close(rows.sum(dim=1), torch.ones(len(rows)))


@pytest.mark.parametrize("name", POOLINGS)
def test_padding_never_changes_the_output(name):
    pool = build(name)
    x = torch.randn(2, 6, DIM)
    mask = torch.tensor([[True] * 6, [True, True, True, False, False, False]])
    other = x.clone()
    other[1, 3:] = 100.0 * torch.randn(3, DIM)  # huge values in the padding
    pooled, weights = pool(x, mask)
    pooled_other, _ = pool(other, mask)
    torch.testing.assert_close(pooled, pooled_other)
    assert torch.all(flat_weights(weights[1:])[:, 3:] == 0)
    alone, _ = pool(x[1:, :3])  # the same set without padding
    torch.testing.assert_close(pooled[1:], alone)


def test_mean_and_max_pool_by_definition():
    x = torch.randn(2, 5, DIM)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    x[1, 2:] = 50.0  # larger than any real item: max must ignore it
    mean, mean_w = make_pooling("mean", DIM)(x, mask)
    torch.testing.assert_close(mean[1], x[1, :2].mean(dim=0))
    torch.testing.assert_close(mean_w[1], torch.tensor([0.5, 0.5, 0, 0, 0]))
    top, _ = make_pooling("max", DIM)(x, mask)
    torch.testing.assert_close(top[1], x[1, :2].max(dim=0).values)


def test_attention_puts_weight_on_the_highest_score():
    pool = build("dot")
    x = torch.zeros(1, 4, DIM)
    x[0, 2] = 5 * pool.key.weight.T @ pool.query  # aligned with the query
    _, weights = pool(x)
    assert weights[0].argmax() == 2


@pytest.mark.parametrize("name", POOLINGS)
def test_gradients_match_finite_differences(name):
    pool = build(name, torch.float64)
    x = torch.randn(2, 4, DIM, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[True] * 4, [True, True, True, False]])
    assert torch.autograd.gradcheck(lambda inp: pool(inp, mask)[0], (x,))


@pytest.mark.parametrize("name", POOLINGS)
def test_every_parameter_gets_a_gradient(name):
    pool = build(name)
    x = torch.randn(3, 5, DIM, requires_grad=True)
    pooled, weights = pool(x)
    (pooled.square().sum() + weights.square().sum()).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    for param in pool.parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all() and param.grad.abs().sum() > 0


@pytest.mark.parametrize("x_shape,mask_shape,match", [
    ((5, DIM), None, "shape"),
    ((2, 5, DIM + 1), None, "shape"),
    ((2, 0, DIM), None, "no items"),
    ((2, 5, DIM), (2, 4), "mask"),
])
@pytest.mark.parametrize("name", POOLINGS)
def test_bad_shapes(name, x_shape, mask_shape, match):
    mask = None if mask_shape is None else torch.ones(mask_shape, dtype=torch.bool)
    with pytest.raises(BadInput, match=match):
        build(name)(torch.randn(x_shape), mask)


@pytest.mark.parametrize("name", POOLINGS)
def test_all_masked_row_is_refused(name):
    mask = torch.tensor([[True, True, False], [False, False, False]])
    with pytest.raises(BadInput, match="rows \\[1\\]"):
        build(name)(torch.randn(2, 3, DIM), mask)


def test_unknown_pooling_name():
    with pytest.raises(UnknownName, match="unknown pooling 'sum'"):
        make_pooling("sum", DIM)


def test_multihead_needs_divisible_dim():
    with pytest.raises(BadInput, match="divisible"):
        make_pooling("multihead", 6, heads=4)


def test_squeeze_excitation_gates_and_gradients():
    torch.manual_seed(0)
    se = SqueezeExcitation(channels=6, reduction=2)
    u = torch.randn(2, 6, 5, 5, requires_grad=True)
    out, gates = se(u)
    assert out.shape == u.shape and gates.shape == (2, 6)
    assert torch.all((gates > 0) & (gates < 1))
    torch.testing.assert_close(out, u * gates[:, :, None, None])
    out.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in se.parameters())
    se64 = SqueezeExcitation(channels=6, reduction=2).double()
    assert torch.autograd.gradcheck(lambda v: se64(v)[0], (torch.randn(1, 6, 3, 3, dtype=torch.float64, requires_grad=True),))


def test_squeeze_excitation_errors():
    with pytest.raises(BadInput, match="expects"):
        SqueezeExcitation(4)(torch.randn(2, 3, 5, 5))
    with pytest.raises(BadInput, match="reduction"):
        SqueezeExcitation(4, reduction=0)


@pytest.mark.parametrize("module", [pooling_module, se_module])
def test_docstring_examples_run(module):
    assert doctest.testmod(module).failed == 0
