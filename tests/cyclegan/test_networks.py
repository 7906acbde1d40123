"""The reference networks: parameter counts, shapes, layout details, init; and the training parts."""

import pytest
import torch
from torch import nn

from thoughtlab.cyclegan.networks import NLayerDiscriminator, ResnetGenerator, count_parameters, init_weights
from thoughtlab.cyclegan.parts import ImagePool, lr_factor, lsgan_loss


@pytest.mark.parametrize("ngf, blocks, expected", [(64, 9, 11_378_179), (64, 6, 7_837_699), (32, 6, 1_965_059),
                                                   (16, 3, 272_515)])
def test_generator_parameter_count_matches_the_reference(ngf, blocks, expected):
    assert count_parameters(ResnetGenerator(3, 3, ngf, blocks)) == expected


@pytest.mark.parametrize("ndf, expected", [(64, 2_764_737), (32, 694_241), (16, 175_089)])
def test_discriminator_parameter_count_matches_the_reference(ndf, expected):
    assert count_parameters(NLayerDiscriminator(3, ndf, 3)) == expected


@pytest.mark.parametrize("size, patches", [(256, 30), (128, 14), (64, 6), (32, 2)])
def test_patchgan_output_map(size, patches):
    assert NLayerDiscriminator(3, 8)(torch.zeros(1, 3, size, size)).shape == (1, 1, patches, patches)


def test_generator_keeps_size_changes_channels_and_stays_in_tanh_range():
    g = init_weights(ResnetGenerator(1, 3, ngf=8, n_blocks=2))
    y = g(torch.randn(2, 1, 32, 32) * 5)
    assert y.shape == (2, 3, 32, 32) and y.abs().max() <= 1


def test_layout_reflection_padding_instance_norm_without_affine_and_transposed_upsampling():
    g = ResnetGenerator(3, 3, ngf=8, n_blocks=1)
    kinds = [type(m) for m in g.modules()]
    assert kinds.count(nn.ReflectionPad2d) == 2 + 2 and kinds.count(nn.ConvTranspose2d) == 2
    assert all(not m.affine for m in g.modules() if isinstance(m, nn.InstanceNorm2d))
    assert all(m.bias is not None for m in g.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))
    ups = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert all(m.output_padding == (1, 1) and m.stride == (2, 2) for m in ups)


def test_init_is_normal_0_002_with_zero_bias():
    torch.manual_seed(0)
    g = init_weights(ResnetGenerator(3, 3, ngf=64, n_blocks=2))
    weights = torch.cat([m.weight.flatten() for m in g.modules() if isinstance(m, nn.Conv2d)])
    assert abs(weights.mean().item()) < 1e-3 and weights.std().item() == pytest.approx(0.02, rel=0.02)
    assert all(m.bias.abs().max() == 0 for m in g.modules() if isinstance(m, nn.Conv2d))


def test_lsgan_loss_targets_one_and_zero():
    p = torch.tensor([0.0, 1.0, 2.0])
    assert lsgan_loss(p, True).item() == pytest.approx((1 + 0 + 1) / 3)
    assert lsgan_loss(p, False).item() == pytest.approx((0 + 1 + 4) / 3)


def test_schedule_is_constant_then_linear_to_one_over_decay_plus_one():
    factors = [lr_factor(e, 100, 100) for e in range(200)]
    assert factors[:100] == [1.0] * 100
    assert factors[100] == pytest.approx(1 - 1 / 101) and factors[-1] == pytest.approx(1 / 101)
    assert all(a > b for a, b in zip(factors[100:], factors[101:]))


def test_pool_fills_first_then_swaps_about_half():
    pool = ImagePool(50, seed=0)
    first = torch.arange(50.0).view(50, 1, 1, 1)
    assert torch.equal(pool.query(first), first)
    new = torch.arange(50.0, 2050.0).view(2000, 1, 1, 1)
    out = pool.query(new)
    swapped = (out != new).float().mean().item()
    assert set(out.flatten().tolist()) <= set(range(2050))  # only stored or current fakes come out
    assert 0.45 < swapped < 0.55  # 50 % rule


def test_pool_of_size_zero_passes_through_and_state_round_trips():
    x = torch.randn(3, 2, 4, 4)
    assert torch.equal(ImagePool(0).query(x), x)
    a = ImagePool(4, seed=1)
    a.query(torch.randn(6, 1, 2, 2))
    b = ImagePool(4, seed=99)
    b.load_state_dict(a.state_dict())
    nxt = torch.randn(5, 1, 2, 2)
    assert torch.equal(a.query(nxt), b.query(nxt))
