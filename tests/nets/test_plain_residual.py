"""Plain vs residual nets: shapes, equal parameters, same init, identity shortcut, stable depth."""

import pytest
import torch

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.nets.plain_residual import count_parameters, make_net

SHAPE = (1, 8, 8)


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_shapes_and_equal_parameters(arch):
    plain = make_net(arch, 5, 12, False, SHAPE, 10, seed=3)
    residual = make_net(arch, 5, 12, True, SHAPE, 10, seed=3)
    x = torch.rand(4, *SHAPE)
    assert plain(x).shape == residual(x).shape == (4, 10)
    assert count_parameters(plain) == count_parameters(residual)
    for p, r in zip(plain.parameters(), residual.parameters()):
        assert torch.equal(p, r)  # same seed, same starting weights
    assert plain.weight_layer_names() == [f"blocks.{i}.layer" for i in range(5)]


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_residual_block_is_identity_when_branch_is_zero(arch):
    net = make_net(arch, 3, 6, True, SHAPE, 10)
    with torch.no_grad():
        for block in net.blocks:
            block.layer.weight.zero_()
    x = torch.rand(2, *SHAPE)
    stem = net.stem(x)
    h = stem
    for block in net.blocks:
        h = block(h)
    assert torch.allclose(h, stem)


def test_deep_residual_stays_bounded_and_plain_differs():
    x = torch.rand(64, *SHAPE)
    residual = make_net("mlp", 64, 32, True, SHAPE, 10, seed=1)
    plain = make_net("mlp", 64, 32, False, SHAPE, 10, seed=1)
    with torch.no_grad():
        stem_rms = residual.stem(x).pow(2).mean().sqrt()
        h = residual.stem(x)
        for block in residual.blocks:
            h = block(h)
        assert h.pow(2).mean().sqrt() < 4 * stem_rms  # variance grows by at most ~e
        assert not torch.allclose(plain(x), residual(x))


def test_bad_arguments():
    with pytest.raises(UnknownName):
        make_net("rnn", 2, 4, False, SHAPE, 10)
    with pytest.raises(BadInput):
        make_net("mlp", 0, 4, False, SHAPE, 10)
