"""Generator loading (own and reference layout), translation and evaluation metrics."""

import numpy as np
import pytest
import torch

from thoughtlab.cyclegan.digits import DigitTask, digit_task
from thoughtlab.cyclegan.networks import ResnetGenerator, init_weights
from thoughtlab.cyclegan.tools import evaluate_translation, load_generator
from thoughtlab.errors import BadInput


def test_a_reference_layout_state_dict_is_rebuilt_from_its_shapes(tmp_path):
    torch.manual_seed(0)
    net = init_weights(ResnetGenerator(3, 1, ngf=8, n_blocks=3))
    torch.save(net.state_dict(), tmp_path / "latest_net_G_A.pth")
    loaded = load_generator(tmp_path / "latest_net_G_A.pth")
    assert (loaded.input_nc, loaded.output_nc, len(loaded.model)) == (3, 1, len(net.model))
    x = torch.randn(2, 3, 16, 16)
    assert torch.equal(loaded(x), net.eval()(x))


@pytest.mark.parametrize("content, message", [
    ({"weight": torch.zeros(3)}, "not CycleGAN generator weights"),
    ({"format": "thoughtlab-digit-cnn-v1", "state_dict": {}}, "not CycleGAN generators"),
])
def test_other_weights_are_refused_in_one_line(tmp_path, content, message):
    torch.save(content, tmp_path / "w.pt")
    with pytest.raises(BadInput, match=message) as err:
        load_generator(tmp_path / "w.pt")
    assert "\n" not in str(err.value)


def test_a_state_dict_that_does_not_fit_its_shapes_is_refused(tmp_path):
    state = ResnetGenerator(3, 3, ngf=8, n_blocks=2).state_dict()
    state["model.10.conv_block.1.weight"] = torch.zeros(5, 5, 3, 3)
    torch.save(state, tmp_path / "w.pth")
    with pytest.raises(BadInput, match="do not fit a ResnetGenerator"):
        load_generator(tmp_path / "w.pth")


@pytest.fixture(scope="module")
def digits():
    return digit_task(DigitTask(size=32, train_per_domain=10, test_per_domain=150), seed=0)[0]


def test_evaluation_scores_a_content_keeping_map_high_and_a_shuffling_map_low(digits):
    keep = evaluate_translation(lambda x: x, lambda x: x, digits.test_a, digits.test_b)
    m = keep["metrics"]
    assert m["label_AtoB"] > 0.9 and m["label_BtoA"] > 0.9 and m["cycle_A"] == 0 and m["cycle_B"] == 0
    assert len(keep["items"]["label_AtoB"]) == 150 and m["label_real_B"] > 0.9
    shuffle = evaluate_translation(lambda x: x.roll(1, 0), lambda x: x, digits.test_a, digits.test_b)
    assert shuffle["metrics"]["label_AtoB"] < 0.3 and shuffle["metrics"]["cycle_A"] > 0
    # realism: grey A images are further from B than B's own test images are (FID/KID in digit-CNN features)
    real = evaluate_translation(lambda x: x.roll(1, 0), lambda x: x, digits.test_b, digits.test_b)
    assert real["metrics"]["fid_B"] < m["fid_B"] and np.isfinite(m["kid_B"])
