"""``thoughtlab csp train`` under torchrun with two CPU processes (gloo): each rank trains its batch slice."""

import json
import os
import subprocess

import pytest
import torch

from thoughtlab.csp.detectors import load_detector


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch built without torch.distributed")
def test_two_process_training_writes_one_run(tmp_path, torchrun):
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"steps": 2, "val_every": 2, "checkpoint_every": 2}))
    out = tmp_path / "run"
    command = [*torchrun, "--standalone", "--nproc_per_node=2", "-m", "thoughtlab.cli", "csp", "train", str(config),
               "--preset", "smoke", "--out", str(out)]
    done = subprocess.run(command, check=False, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr[:3000] + " [...] " + done.stderr[-1500:]
    assert done.stdout.count("trained 2 steps") == 1  # rank 0 alone reports and writes
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines if "loss" in line] == [1, 2]
    _, model = load_detector(out / "model.pt")
    assert all(torch.isfinite(p).all() for p in model.parameters())
