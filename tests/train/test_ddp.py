import json
import os
import subprocess

import pytest
import torch

from thoughtlab.train import load_checkpoint
from thoughtlab.train.ddp_check import train_tiny


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch built without torch.distributed")
def test_two_processes_match_one_process_with_the_same_global_batch(tmp_path, torchrun):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [*torchrun, "--standalone", "--nproc_per_node=2", "-m", "thoughtlab.train.ddp_check", str(tmp_path),
               "--steps", "20", "--batch-size", "32"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[:3000] + " [...] " + done.stderr[-1500:]
    record = json.loads((tmp_path / "losses.json").read_text())
    assert record["world_size"] == 2 and len(record["losses"]) == 20
    single = train_tiny(steps=20, batch_size=32)
    torch.testing.assert_close(torch.tensor(record["losses"]), torch.tensor(single.losses), rtol=1e-5, atol=1e-7)
    assert single.losses[-1] < single.losses[0]
    weights = load_checkpoint(tmp_path / "weights.pt")
    for name, value in single.model.state_dict().items():
        torch.testing.assert_close(weights[name], value, rtol=1e-5, atol=1e-6)
