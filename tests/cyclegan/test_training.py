"""The recipe on tiny models: losses, checkpoints, bit-exact resume (also after SIGKILL), outputs, errors."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from thoughtlab.cyclegan.data import Domain, Unpaired
from thoughtlab.cyclegan.recipe import LOSS_NAMES, CycleGAN, Options, total_steps
from thoughtlab.cyclegan.training import CHECKPOINT, WEIGHTS, train
from thoughtlab.errors import UserError
from thoughtlab.train import load_checkpoint

TINY = dict(n_epochs=2, n_epochs_decay=2, ngf=4, ndf=4, n_blocks=1, n_layers_D=2, load_size=20, crop_size=16,
            batch_size=2, pool_size=3)


def tiny_data(channels_b=3, n_a=6, n_b=4):
    g = torch.Generator().manual_seed(0)
    a = torch.randint(0, 256, (n_a, 3, 20, 20), generator=g, dtype=torch.uint8)
    b = torch.randint(0, 256, (n_b, channels_b, 20, 20), generator=g, dtype=torch.uint8)
    return Unpaired(Domain(a, [f"a{i}" for i in range(n_a)]), Domain(b, [f"b{i}" for i in range(n_b)]))


def weights(state):
    return {f"{net}.{k}": v for net, model in state.models.items() for k, v in model.state_dict().items()}


def assert_same_weights(r1, r2):
    w1, w2 = weights(r1), weights(r2)
    assert w1.keys() == w2.keys() and all(torch.equal(w1[k], w2[k]) for k in w1)


def test_batches_depend_only_on_seed_and_step_and_cover_a_each_epoch():
    data, opt = tiny_data(), Options(**TINY)
    a1, b1 = CycleGAN(opt, data).batch(5)
    a2, b2 = CycleGAN(opt, data).batch(5)
    assert torch.equal(a1, a2) and torch.equal(b1, b2) and a1.shape == (2, 3, 16, 16)
    assert a1.min() >= -1 and a1.max() <= 1
    assert not torch.equal(CycleGAN(Options(**{**TINY, "seed": 1}), data).batch(5)[0], a1)
    assert total_steps(opt, data) == 4 * 3  # epochs x max(|A|, |B|) / batch


def test_training_changes_weights_logs_eight_losses_and_writes_outputs(tmp_path):
    state = train(Options(**TINY), tiny_data(), tmp_path)
    history = state.records["losses"]
    assert state.step == 12 and set(history) == set(LOSS_NAMES)
    assert all(len(v) == 12 and all(map(lambda x: x == x, v)) for v in history.values())
    assert history["idt_A"][0] > 0 and history["cycle_A"][0] > 0
    for name in (CHECKPOINT, WEIGHTS, "samples.png", "losses.png", "losses.json", "metrics.jsonl"):
        assert (tmp_path / name).stat().st_size > 0
    saved = load_checkpoint(tmp_path / WEIGHTS)
    assert saved["input_nc"] == 3 and set(saved) >= {"G_A", "G_B", "options"}


def test_zero_weights_switch_off_cycle_and_identity():
    opt = Options(**{**TINY, "lambda_A": 0.0, "lambda_B": 0.0, "n_epochs": 1, "n_epochs_decay": 0})
    history = train(opt, tiny_data()).records["losses"]
    assert set(history["cycle_A"]) == {0.0} and set(history["idt_B"]) == {0.0}
    with_idt = train(Options(**{**TINY, "lambda_A": 0.0, "lambda_B": 0.0, "identity_lambda": 10.0,
                                "n_epochs": 1, "n_epochs_decay": 0}), tiny_data())
    assert min(with_idt.records["losses"]["idt_B"]) > 0 and set(with_idt.records["losses"]["cycle_B"]) == {0.0}


def test_resume_after_a_stop_gives_the_uninterrupted_weights_bit_for_bit(tmp_path):
    opt, data = Options(**TINY), tiny_data()
    full = train(opt, data, tmp_path / "full")
    assert train(opt, data, tmp_path / "part", stop_after=5, save_latest_freq=1).step == 5
    resumed = train(opt, data, tmp_path / "part", continue_train=True)
    assert_same_weights(full, resumed)
    assert full.records == resumed.records


KILLED_RUN = """
import sys, torch
sys.path[:0] = [{tests!r}]
from test_training import TINY, tiny_data
from thoughtlab.cyclegan.recipe import Options
from thoughtlab.cyclegan.training import train
torch.set_num_threads(1)
train(Options(**{{**TINY, "n_epochs": 8, "n_epochs_decay": 8}}), tiny_data(), {out!r}, save_latest_freq=1,
      display_freq=10**9)
"""


def test_resume_after_sigkill_gives_the_uninterrupted_weights(tmp_path):
    opt, data = Options(**{**TINY, "n_epochs": 8, "n_epochs_decay": 8}), tiny_data()
    script = textwrap.dedent(KILLED_RUN).format(tests=os.path.dirname(__file__), out=str(tmp_path / "killed"))
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            path = tmp_path / "killed" / CHECKPOINT
            if path.exists() and load_checkpoint(path)["step"] >= 4:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the training process ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    killed_at = load_checkpoint(tmp_path / "killed" / CHECKPOINT)["step"]
    assert 4 <= killed_at < total_steps(opt, data)
    resumed = train(opt, data, tmp_path / "killed", continue_train=True)
    assert resumed.step == total_steps(opt, data)
    assert_same_weights(train(opt, data), resumed)


def test_resume_refuses_other_options_missing_checkpoints_and_overwrites(tmp_path):
    opt, data = Options(**TINY), tiny_data()
    train(opt, data, tmp_path, stop_after=2, save_latest_freq=1)
    with pytest.raises(UserError, match="other settings .*ngf"):
        train(Options(**{**TINY, "ngf": 8}), data, tmp_path, continue_train=True)
    with pytest.raises(UserError, match="--continue_train to resume"):
        train(opt, data, tmp_path)
    with pytest.raises(UserError, match="does not exist"):
        train(opt, data, tmp_path / "fresh", continue_train=True)


@pytest.mark.parametrize("change, message", [
    ({"crop_size": 16, "n_layers_D": 3}, "too small for --n_layers_D"),
    ({"ngf": 0}, "--ngf must be >= 1"),
    ({"n_epochs": 0, "n_epochs_decay": 0}, "at least 1"),
    ({"lambda_A": -1.0}, "must be >= 0"),
])
def test_bad_options_are_user_errors(change, message):
    with pytest.raises(UserError, match=message):
        Options(**{**TINY, **change})


def test_identity_loss_needs_equal_channels_and_gray_b_trains_without_it():
    with pytest.raises(UserError, match="--lambda_identity 0"):
        train(Options(**TINY), tiny_data(channels_b=1))
    state = train(Options(**{**TINY, "lambda_identity": 0.0, "n_epochs": 1, "n_epochs_decay": 0}), tiny_data(channels_b=1))
    assert state.models["G_A"].output_nc == 1
