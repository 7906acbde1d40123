"""The small GAN as a recipe on the training core: reproducible snapshots, resume, errors."""

import numpy as np
import pytest
import torch

from thoughtlab.errors import BadInput, UserError
from thoughtlab.generative import gan

CFG = gan.GanConfig(z_dim=4, width=8, steps=6, batch_size=8, snapshots=(0, 3, 6))


def digits(n=32):
    return np.random.default_rng(0).random((n, 1, 28, 28), dtype=np.float32)


def weights(path):
    _, g, d = gan.load_snapshot(path)
    return [*g.state_dict().values(), *d.state_dict().values()]


def test_snapshots_are_written_at_their_steps_and_reproducible(tmp_path):
    calls = []
    paths = gan.train_gan(digits(), CFG, 0, tmp_path / "a", on_step=lambda s, dl, gl: calls.append((s, dl, gl)))
    assert [gan.load_snapshot(p)[0] for p in paths] == [0, 3, 6]
    assert [s for s, _, _ in calls] == [1, 2, 3, 4, 5, 6] and all(np.isfinite([dl for _, dl, _ in calls]))
    again = gan.train_gan(digits(), CFG, 0, tmp_path / "b")
    for a, b in zip(paths, again):
        assert all(torch.equal(x, y) for x, y in zip(weights(a), weights(b)))
    other = gan.train_gan(digits(), CFG, 1, tmp_path / "c")
    assert not all(torch.equal(x, y) for x, y in zip(weights(paths[-1]), weights(other[-1])))


def test_resume_from_a_checkpoint_gives_the_same_snapshots(tmp_path):
    whole = gan.train_gan(digits(), CFG, 0, tmp_path / "whole")
    ckpt = tmp_path / "run" / "state.pt"
    first = gan.train_gan(digits(), gan.GanConfig(**{**CFG.__dict__, "steps": 3, "snapshots": (0, 3)}), 0,
                          tmp_path / "run", checkpoint=ckpt)
    assert [p.name for p in first] == ["gan_step00000.pt", "gan_step00003.pt"]
    rest = gan.train_gan(digits(), CFG, 0, tmp_path / "run", checkpoint=ckpt)
    assert [p.name for p in rest] == [p.name for p in whole]
    assert all(torch.equal(x, y) for x, y in zip(weights(rest[-1]), weights(whole[-1])))
    with pytest.raises(UserError, match=r"other settings \(lr\)"):
        gan.train_gan(digits(), gan.GanConfig(**{**CFG.__dict__, "lr": 0.1}), 0, tmp_path / "run", checkpoint=ckpt)


def test_bad_data_and_snapshots():
    with pytest.raises(BadInput, match="must be \\(N, 1, 28, 28\\)"):
        gan.train_gan(np.zeros((4, 28, 28), np.float32), CFG, 0, None)
    with pytest.raises(BadInput, match="snapshots"):
        gan.train_gan(digits(), gan.GanConfig(steps=5, snapshots=(0, 10)), 0, None)
