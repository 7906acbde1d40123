import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from thoughtlab.errors import UnknownName, UserError
from thoughtlab.train import ScalarLogger, accuracy, distributed, fit, load_checkpoint, seed_everything

WORKER = Path(__file__).with_name("resume_worker.py")
_spec = importlib.util.spec_from_file_location("resume_worker", WORKER)
worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker)


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def tiny_problem(seed: int = 0):
    seed_everything(seed)
    x = torch.randn(64, 4)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), x, (x[:, 0] > 0).long()


def test_fit_is_bit_for_bit_reproducible_and_learns():
    runs = []
    for _ in range(2):
        model, x, y = tiny_problem()
        runs.append(fit(model, x, y, steps=30, batch_size=16, lr=0.05, seed=1))
    assert runs[0].losses == runs[1].losses and len(runs[0].losses) == 30
    assert_same_state(runs[0].model.state_dict(), runs[1].model.state_dict())
    assert runs[0].losses[-1] < runs[0].losses[0]
    assert runs[0].ema is None and runs[0].start_step == 0


def test_batch_order_ignores_global_rng_state():
    model, x, y = tiny_problem()
    first = fit(model, x, y, steps=6, batch_size=16, lr=0.05, seed=1, optimizer="sgd").losses
    model, x, y = tiny_problem()
    torch.rand(100)  # disturb the global generator after the model is built
    assert fit(model, x, y, steps=6, batch_size=16, lr=0.05, seed=1, optimizer="sgd").losses == first


def test_on_step_sees_gradients_before_the_update_and_logger_gets_losses(tmp_path):
    model, x, y = tiny_problem()
    seen = []

    def on_step(step, m, loss):
        grad = m[0].weight.grad
        seen.append((step, grad is not None and grad.abs().sum().item() > 0, loss))

    logger = ScalarLogger(tmp_path / "m.jsonl")
    result = fit(model, x, y, steps=5, batch_size=16, lr=0.05, seed=1, on_step=on_step, logger=logger, log_every=2)
    logger.close()
    assert [s for s, _, _ in seen] == [0, 1, 2, 3, 4] and all(g for _, g, _ in seen)
    assert [loss for _, _, loss in seen] == result.losses
    lines = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [0, 2, 4]
    assert lines[1]["loss"] == result.losses[2]


def test_plain_callable_logger_like_ctx_log():
    model, x, y = tiny_problem()
    calls = []
    fit(model, x, y, steps=3, batch_size=16, lr=0.05, seed=1, logger=lambda step=None, **s: calls.append(step), log_every=1)
    assert calls == [0, 1, 2]


def test_resume_after_a_step_limit_equals_an_uninterrupted_run(tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    whole = worker.train(steps=14)
    part = worker.train(steps=6, checkpoint=ckpt)  # saved at steps 4 and 6
    assert load_checkpoint(ckpt)["step"] == 6 and part.start_step == 0
    resumed = worker.train(steps=14, checkpoint=ckpt)
    assert resumed.start_step == 6
    assert resumed.losses == whole.losses
    assert_same_state(resumed.model.state_dict(), whole.model.state_dict())
    assert_same_state(resumed.ema.module.state_dict(), whole.ema.module.state_dict())
    again = worker.train(steps=14, checkpoint=ckpt)  # already finished: nothing left to do
    assert again.start_step == 14 and again.losses == whole.losses


def run_worker(*args, **popen) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(WORKER), *map(str, args)], env=env, **popen)


def test_resume_after_sigkill_gives_the_same_final_weights(tmp_path):
    steps, ckpt = 40, tmp_path / "ckpt.pt"
    victim = run_worker(tmp_path / "victim.pt", steps, 0.1, ckpt)
    deadline = time.monotonic() + 60
    while not ckpt.exists() and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL, "the worker ended before it could be killed"
    killed_at = load_checkpoint(ckpt)["step"]
    assert 0 < killed_at < steps
    assert run_worker(tmp_path / "resumed.pt", steps, 0.0, ckpt).wait() == 0
    resumed = load_checkpoint(tmp_path / "resumed.pt")
    assert resumed["start_step"] == killed_at and not (tmp_path / "victim.pt").exists()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the workers (OMP_NUM_THREADS=1)
    try:
        whole = worker.train(steps)
    finally:
        torch.set_num_threads(threads)
    assert resumed["losses"] == whole.losses
    assert_same_state(resumed["model"], whole.model.state_dict())
    assert_same_state(resumed["ema"], whole.ema.module.state_dict())


def test_resume_refuses_a_checkpoint_made_with_other_settings(tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    model, x, y = tiny_problem()
    fit(model, x, y, steps=2, batch_size=16, lr=0.05, seed=1, checkpoint=ckpt)
    with pytest.raises(UserError, match=r"ckpt\.pt was made with other settings \(lr, seed\)"):
        fit(model, x, y, steps=4, batch_size=16, lr=0.01, seed=2, checkpoint=ckpt)
    with pytest.raises(UserError, match="is at step 2 but steps=1"):
        fit(model, x, y, steps=1, batch_size=16, lr=0.05, seed=1, checkpoint=ckpt)


def test_batch_size_must_divide_by_world_size(monkeypatch):
    monkeypatch.setattr(distributed, "world_size", lambda: 3)
    model, x, y = tiny_problem()
    with pytest.raises(UserError, match="batch_size 16 is not divisible by the world size 3"):
        fit(model, x, y, steps=1, batch_size=16, lr=0.1, seed=0)


def test_other_input_errors():
    model, x, y = tiny_problem()
    with pytest.raises(UserError, match="exceeds the 64 training examples"):
        fit(model, x, y, steps=1, batch_size=65, lr=0.1, seed=0)
    with pytest.raises(UnknownName, match="unknown optimizer 'rmsprop'"):
        fit(model, x, y, steps=1, batch_size=8, lr=0.1, seed=0, optimizer="rmsprop")
    with pytest.raises(UserError, match="x has 64 rows but y has 63"):
        fit(model, x, y[:-1], steps=1, batch_size=8, lr=0.1, seed=0)


def test_progress_bar_only_on_a_terminal(capsys, monkeypatch):
    model, x, y = tiny_problem()
    fit(model, x, y, steps=3, batch_size=16, lr=0.1, seed=0, progress="quiet-run")
    assert "quiet-run" not in capsys.readouterr().err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    fit(model, x, y, steps=3, batch_size=16, lr=0.1, seed=0, progress="shown-run")
    assert "shown-run" in capsys.readouterr().err


def test_accuracy_uses_eval_mode_and_restores_train_mode():
    model = nn.Sequential(nn.Dropout(0.9), nn.Identity())
    x = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 1.0], [1.0, 0.0]])
    y = torch.tensor([0, 1, 1, 0])
    assert accuracy(model, x, y, batch_size=3) == 0.75  # dropout off: exact
    assert model.training
