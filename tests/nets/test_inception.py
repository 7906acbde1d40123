"""The FID Inception-v3 architecture, with random weights (the real ones are never downloaded)."""

import pytest
import torch

from thoughtlab.errors import BadInput
from thoughtlab.nets.inception import (
    NUM_CLASSES,
    POOL_DIM,
    WEIGHTS_ENV,
    FIDInceptionV3,
    _avg_pool,
    load_fid_inception,
)


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    model = FIDInceptionV3().eval()
    with torch.no_grad():  # non-trivial batch-norm statistics, as in trained weights
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    return model


@pytest.fixture(scope="module")
def images():
    return torch.rand(2, 3, 299, 299, generator=torch.Generator().manual_seed(1)) * 2 - 1


@pytest.fixture(scope="module")
def pool(net, images):
    with torch.no_grad():
        return net(images)


def test_pool_features_are_2048_d_and_deterministic(net, images, pool):
    assert pool.shape == (2, POOL_DIM)
    assert torch.isfinite(pool).all() and (pool >= 0).all()  # mean of ReLU outputs
    with torch.no_grad():
        assert torch.equal(net(images), pool)
        torch.testing.assert_close(net(images[1:]), pool[1:], rtol=1e-5, atol=1e-6)  # batch-size independent


def test_logits_head_has_1008_classes_and_unbiased_option(net, pool):
    with torch.no_grad():
        unbiased, biased = net.logits(pool), net.logits(pool, unbiased=False)
    assert unbiased.shape == biased.shape == (2, NUM_CLASSES)
    torch.testing.assert_close(biased - unbiased, net.fc.bias.expand(2, -1))


def test_layer_shapes_match_the_converted_weights():
    shapes = {k: tuple(v.shape) for k, v in FIDInceptionV3().state_dict().items()}
    assert shapes["Conv2d_1a_3x3.conv.weight"] == (32, 3, 3, 3)
    assert shapes["Mixed_5b.branch_pool.conv.weight"] == (32, 192, 1, 1)
    assert shapes["Mixed_6e.branch7x7dbl_5.conv.weight"] == (192, 192, 1, 7)
    assert shapes["Mixed_7c.branch3x3dbl_3b.conv.weight"] == (384, 384, 3, 1)
    assert shapes["fc.weight"] == (NUM_CLASSES, POOL_DIM)
    assert not any("AuxLogits" in k for k in shapes)
    assert FIDInceptionV3().Mixed_7c.max_pool and not FIDInceptionV3().Mixed_7b.max_pool


def test_average_pool_excludes_padding():
    assert torch.equal(_avg_pool(torch.ones(1, 1, 4, 4)), torch.ones(1, 1, 4, 4))


def test_loads_a_local_file_by_path_and_by_environment(tmp_path, net, images, pool, monkeypatch):
    file = tmp_path / "pt_inception.pth"
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}  # old format
    torch.save(state, file)
    with torch.no_grad():
        assert torch.equal(load_fid_inception(file)(images), pool)
        monkeypatch.setenv(WEIGHTS_ENV, str(file))
        assert torch.equal(load_fid_inception()(images), pool)


def test_missing_weights_name_the_flag_and_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    with pytest.raises(BadInput, match=f"--weights.*{WEIGHTS_ENV}"):
        load_fid_inception()
    with pytest.raises(BadInput, match="does not exist"):
        load_fid_inception(tmp_path / "nope.pth")


def test_mismatched_keys_name_the_file(tmp_path, net):
    state = dict(net.state_dict())
    state.pop("fc.bias")
    state["extra.weight"] = torch.zeros(1)
    file = tmp_path / "other.pth"
    torch.save(state, file)
    with pytest.raises(BadInput, match=r"other\.pth.*missing: fc\.bias.*unexpected: extra\.weight"):
        load_fid_inception(file)
    torch.save([1, 2], file)
    with pytest.raises(BadInput, match="not a state dict"):
        load_fid_inception(file)
    file.write_bytes(b"garbage")
    with pytest.raises(BadInput, match="cannot be read"):
        load_fid_inception(file)
