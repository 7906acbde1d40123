import pytest
import torch

from thoughtlab.errors import BadInput
from thoughtlab.nets.mobilenet import InvertedResidual, TinyMobileNet


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("in_ch,out_ch,stride,residual,out_side", [
    (4, 4, 1, True, 8), (4, 4, 2, False, 4), (4, 6, 1, False, 8),
])
def test_block_shapes_and_residual_rule(in_ch, out_ch, stride, residual, out_side):
    block = InvertedResidual(in_ch, out_ch, hidden_channels=24, stride=stride)
    x = torch.randn(2, in_ch, 8, 8)
    y = block(x)
    assert y.shape == (2, out_ch, out_side, out_side)
    assert block.use_residual is residual
    block.eval()
    expected = block.branch(x) + x if residual else block.branch(x)
    torch.testing.assert_close(block(x), expected)


def test_bad_stride():
    with pytest.raises(BadInput, match="stride"):
        InvertedResidual(4, 4, 8, stride=3)


def test_bottleneck_nonnegative_only_with_relu6():
    torch.manual_seed(0)
    x = torch.randn(8, 4, 6, 6)
    relu6 = InvertedResidual(4, 3, 16, linear_bottleneck=False)
    linear = InvertedResidual(4, 3, 16, linear_bottleneck=True)
    linear.load_state_dict(relu6.state_dict())
    out_relu6, out_linear = relu6(x), linear(x)
    assert out_relu6.min() >= 0 and out_relu6.max() <= 6
    assert out_linear.min() < 0
    torch.testing.assert_close(out_relu6, out_linear.clamp(0, 6))


@pytest.mark.parametrize("side,stem_stride", [(8, 1), (28, 2)])
def test_classifier_shapes_params_and_gradients(side, stem_stride):
    kwargs = dict(in_channels=1, num_classes=10, width=3, hidden_channels=24, stem_stride=stem_stride)
    linear = TinyMobileNet(**kwargs, linear_bottleneck=True)
    relu6 = TinyMobileNet(**kwargs, linear_bottleneck=False)
    assert n_params(linear) == n_params(relu6)
    assert [b.use_residual for b in linear.blocks] == [False, True, False, True]
    x = torch.rand(5, 1, side, side)
    for model in (linear, relu6):
        logits = model(x)
        assert logits.shape == (5, 10)
        torch.nn.functional.cross_entropy(logits, torch.arange(5)).backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert model.stem[0].weight.grad.abs().sum() > 0


def test_classifier_rejects_bad_config():
    with pytest.raises(BadInput, match="width"):
        TinyMobileNet(1, 10, width=0, hidden_channels=8)
