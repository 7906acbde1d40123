"""The training core: bit-exact resume of a two-network recipe (also after kill -9 mid-write), the
changed-config refusal, hooks, logging and the progress rule."""

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

from thoughtlab.errors import BadInput, UserError
from thoughtlab.train import (
    Hook,
    ScalarLogger,
    TrainState,
    at_fractions,
    load_checkpoint,
    periodic,
    progress_bar,
    show_progress,
    train,
)
from thoughtlab.train import distributed

WORKER = Path(__file__).with_name("core_worker.py")
_spec = importlib.util.spec_from_file_location("core_worker", WORKER)
worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker)


def assert_equal(a, b, where="state"):
    """Exact equality of nested dicts/lists/tuples of tensors and plain values."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_equal(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_equal(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def uninterrupted(steps):
    recipe, state = worker.make()
    train(recipe, state, steps)
    return worker.final(state)


def test_two_network_resume_after_a_stop_is_bit_exact(tmp_path):
    ckpt = tmp_path / "state.pt"
    whole = uninterrupted(11)
    recipe, state = worker.make()
    train(recipe, state, 5, checkpoint=ckpt, every=worker.CHECKPOINT_EVERY)  # saved at 3 and 5
    assert load_checkpoint(ckpt)["step"] == 5
    recipe, state = worker.make()  # fresh objects, as a new process would build them
    train(recipe, state, 11, checkpoint=ckpt, every=worker.CHECKPOINT_EVERY)
    assert state.step == 11 and len(state.records["losses"]) == 11
    assert_equal(worker.final(state), whole)
    assert load_checkpoint(ckpt)["step"] == 11


def test_resume_is_needed_for_equality(tmp_path):
    """The equality above is not vacuous: a state rebuilt without its checkpoint ends elsewhere."""
    whole = uninterrupted(6)
    recipe, state = worker.make()
    train(recipe, state, 3)
    recipe, fresh = worker.make()
    fresh.step = 3
    train(recipe, fresh, 6)
    assert not torch.equal(fresh.models["g"][0].weight, whole["models"]["g"]["0.weight"])


def run_worker(*args):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "THOUGHTLAB_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(WORKER), *map(str, args)], env=env)


def test_kill_9_in_the_middle_of_a_checkpoint_write_then_resume_gives_the_same_final_state(tmp_path):
    steps, ckpt = 10, tmp_path / "state.pt"
    marker = ckpt.with_name(ckpt.name + ".writing")
    victim = run_worker(tmp_path / "victim.pt", steps, ckpt, 2)  # the 2nd save (step 6) is torn
    deadline = time.monotonic() + 120
    while not marker.exists() and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), "the worker never reached its second checkpoint write"
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL
    torn = list(tmp_path.glob(".state.pt.*.tmp"))
    assert len(torn) == 1 and 0 < torn[0].stat().st_size  # killed mid-write: a half temporary file ...
    assert load_checkpoint(ckpt)["step"] == 3  # ... and the previous checkpoint intact
    uninterrupted_run = run_worker(tmp_path / "whole.pt", steps, tmp_path / "other.pt")
    resumed = run_worker(tmp_path / "resumed.pt", steps, ckpt)
    assert resumed.wait() == 0 and uninterrupted_run.wait() == 0
    assert_equal(load_checkpoint(tmp_path / "resumed.pt"), load_checkpoint(tmp_path / "whole.pt"))
    assert not (tmp_path / "victim.pt").exists()


def test_a_checkpoint_with_another_config_is_refused_naming_the_keys(tmp_path):
    ckpt = tmp_path / "state.pt"
    recipe, state = worker.make()
    train(recipe, state, 2, checkpoint=ckpt)
    recipe, other = worker.make(seed=1, lr=0.01)
    with pytest.raises(UserError, match=r"state\.pt was made with other settings \(lr, seed\)"):
        train(recipe, other, 4, checkpoint=ckpt)
    recipe, same = worker.make()
    same.config["extra"] = 1  # a key on one side only counts too
    with pytest.raises(UserError, match=r"other settings \(extra\)"):
        same.load(ckpt)
    recipe, same = worker.make()
    with pytest.raises(UserError, match="is at step 2 but steps=1"):
        train(recipe, same, 1, checkpoint=ckpt)


def test_a_checkpoint_with_other_parts_or_another_format_is_bad_input(tmp_path):
    ckpt = tmp_path / "state.pt"
    recipe, state = worker.make()
    train(recipe, state, 1, checkpoint=ckpt)
    recipe, state = worker.make()
    del state.emas["g"]
    with pytest.raises(BadInput, match=r"holds emas \['g'\] but this recipe has \[\]"):
        state.load(ckpt)
    torch.save({"step": 3}, tmp_path / "plain.pt")
    with pytest.raises(BadInput, match="not written by thoughtlab.train"):
        worker.make()[1].load(tmp_path / "plain.pt")


def test_hooks_run_at_their_steps_before_the_checkpoint_and_their_scalars_are_logged(tmp_path):
    ckpt = tmp_path / "state.pt"
    seen = []

    def evaluate(state):
        seen.append(state.step)
        state.records["evaluated"] = state.step
        return {"score": float(state.step)}

    recipe, state = worker.make()
    with ScalarLogger(tmp_path / "m.jsonl") as logger:
        train(recipe, state, 8, checkpoint=ckpt, every=4, logger=logger, log_every=3,
              hooks=[Hook(at_fractions(0.25, 0.5, 0.75, 1.0), evaluate), Hook({5}, lambda s: None)])
    assert seen == [2, 4, 6, 8]
    assert load_checkpoint(ckpt)["records"]["evaluated"] == 8
    lines = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [(line["step"], sorted(line)) for line in lines] == [
        (2, ["score", "step"]), (3, ["d_loss", "g_loss", "step"]), (4, ["score", "step"]),
        (6, ["d_loss", "g_loss", "step"]), (6, ["score", "step"]), (8, ["d_loss", "g_loss", "step"]),
        (8, ["score", "step"])]
    assert lines[1]["g_loss"] == state.records["losses"][2][1]


def test_schedules():
    assert [n for n in range(1, 11) if periodic(4)(n, 10)] == [4, 8, 10]
    assert [n for n in range(1, 11) if at_fractions(0.25, 0.5, 1.0)(n, 10)] == [2, 5, 10]
    assert not any(at_fractions(0.01)(n, 10) for n in range(1, 11))


def test_logged_scalars_that_are_not_finite_become_null(tmp_path):
    class Diverging:
        def batch(self, step):
            return step

        def step(self, state, batch):
            return {"loss": float("nan") if batch else float("inf"), "ok": 1.0}

    with ScalarLogger(tmp_path / "m.jsonl") as logger:
        train(Diverging(), TrainState({}), 2, logger=logger)
    text = (tmp_path / "m.jsonl").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert [json.loads(line) for line in text.splitlines()] == [
        {"step": 1, "loss": None, "ok": 1.0}, {"step": 2, "loss": None, "ok": 1.0}]


def test_only_rank_0_logs_and_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(distributed, "rank", lambda: 1)
    calls = []
    recipe, state = worker.make()
    train(recipe, state, 2, checkpoint=tmp_path / "state.pt", logger=lambda step, **s: calls.append(step),
          hooks=[Hook({1}, lambda s: {"x": 1.0})])
    assert calls == [] and not (tmp_path / "state.pt").exists()


def test_progress_rule(capsys, monkeypatch):
    recipe, state = worker.make()
    train(recipe, state, 2, desc="quiet-run")
    assert "quiet-run" not in capsys.readouterr().err
    assert show_progress(True) and not show_progress(False) and show_progress() is False
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert show_progress() and not show_progress(False)
    train(recipe, state, 4, desc="shown-run")
    assert "shown-run" in capsys.readouterr().err
    train(recipe, state, 6, desc="never", progress=False)
    assert "never" not in capsys.readouterr().err
    monkeypatch.setattr(distributed, "rank", lambda: 1)
    assert not show_progress(True)
    for _ in progress_bar(range(2), desc="rank-1"):
        pass
    assert "rank-1" not in capsys.readouterr().err


def test_negative_steps_are_refused():
    with pytest.raises(UserError, match="steps >= 0"):
        train(*worker.make(), -1)
