import random

import numpy as np
import pytest
import torch

from thoughtlab.errors import UnknownName, UserError
from thoughtlab.train import pick_device, seed_everything


def draws() -> tuple:
    return random.random(), np.random.rand(), torch.rand(1).item()


def test_seed_everything_seeds_all_rngs_and_returns_generator():
    g1 = seed_everything(3)
    first = draws() + (torch.rand(2, generator=g1).tolist(),)
    g2 = seed_everything(3)
    assert draws() + (torch.rand(2, generator=g2).tolist(),) == first
    assert torch.equal(torch.rand(2, generator=torch.Generator().manual_seed(3)), torch.tensor(first[3]))


def test_pick_device_cpu_and_auto():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_pick_device_cuda_without_cuda_is_a_one_line_user_error():
    with pytest.raises(UserError, match=r"CUDA was requested \(--device cuda\).*use --device cpu or auto") as err:
        pick_device("cuda")
    assert "\n" not in str(err.value)


def test_pick_device_unknown_name():
    with pytest.raises(UnknownName, match="unknown device 'tpu'; choose one of: auto, cpu, cuda"):
        pick_device("tpu")
