"""The ML recipes under torchrun: 2 gloo processes, each on its slice of the global batch, take the same steps
(losses and final weights) as 1 process with the same global batch."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

SCRIPT = textwrap.dedent('''
    import json, sys
    import torch
    from thoughtlab.generative.models import autoregressive as ar, flow as fl, recipes as rc
    from thoughtlab.train import distributed
    from thoughtlab.train.core import TrainState, train

    def run(family, steps=6):
        torch.manual_seed(0)
        data = torch.zeros(32, 1, 4, 4)
        data[:, :, 1:3, 1:3] = 200.0  # a bright block plus noise: learnable in a few steps
        data = (data + torch.randint(0, 40, data.shape, generator=torch.Generator().manual_seed(1))).round()
        if family == "flow":
            model = fl.RealNVP(fl.FlowConfig(shape=(1, 4, 4), levels=2, hidden=4))
            recipe = rc.FlowML(data, 8, seed=2)
        else:
            model = ar.MADE(ar.MadeConfig(dim=16, hidden=(12,), masks=2))
            recipe = rc.MadeML((data > 127).float(), 8, seed=2)
        state = TrainState({}, models={family: model}, optimizers={family: torch.optim.Adam(model.parameters(), 1e-2)})
        if hasattr(recipe, "noise"):
            state.generators["noise"] = recipe.noise
        losses = []
        train(recipe, state, steps, logger=lambda step, **s: losses.append(s), progress=False)
        return losses, {k: v.tolist() for k, v in model.state_dict().items()}

    if __name__ == "__main__":
        distributed.init("gloo")
        record = {"world_size": distributed.world_size(), **{f: run(f) for f in ("flow", "made")}}
        if distributed.is_main():
            with open(sys.argv[1], "w") as out:
                json.dump(record, out)
        distributed.cleanup()
''')


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch built without torch.distributed")
def test_two_gloo_processes_match_one_process(tmp_path, torchrun):
    script = tmp_path / "ddp_recipes.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    outputs = {}
    for processes, command in ((2, [*torchrun, "--standalone", "--nproc_per_node=2"]), (1, [sys.executable])):
        out = tmp_path / f"out{processes}.json"
        done = subprocess.run([*command, str(script), str(out)], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[:3000] + " [...] " + done.stderr[-1500:]
        outputs[processes] = json.loads(out.read_text())
    assert outputs[2]["world_size"] == 2 and outputs[1]["world_size"] == 1
    for family in ("flow", "made"):
        (losses2, weights2), (losses1, weights1) = outputs[2][family], outputs[1][family]
        key = "bpd" if family == "flow" else "nll"
        assert len(losses2) == len(losses1) == 6
        torch.testing.assert_close(torch.tensor([s[key] for s in losses2]), torch.tensor([s[key] for s in losses1]),
                                   rtol=1e-5, atol=1e-5)
        assert losses1[-1][key] < losses1[0][key]  # it trained
        for name, value in weights1.items():
            torch.testing.assert_close(torch.tensor(weights2[name]), torch.tensor(value), rtol=1e-4, atol=1e-5)
