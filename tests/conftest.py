"""Shared fixtures: a tiny fake study registered through THOUGHTLAB_STUDIES; every test starts from fixed seeds."""

import random
import sys
import textwrap

import numpy as np
import pytest
import torch

# Tests exercise small models: one thread is as fast and keeps results independent of the machine's core count.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def fixed_global_seeds():
    """The global RNGs start at 0 in every test, so a test's draws do not depend on which tests ran before it
    (CI once failed on an unseeded draw that no local run had produced)."""
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)

FAKE_STUDY = '''
"""A fake study for the core tests: a coin whose bias depends on the seed."""
import os, time
from dataclasses import dataclass
import numpy as np
from thoughtlab.stats import mean_ci
from thoughtlab.study import Claim, Outcome, Study

@dataclass(frozen=True)
class Cfg:
    flips: int

def run(cfg, ctx):
    time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
    rng = np.random.default_rng(ctx.seed)
    heads = rng.random(cfg.flips) < 0.5 + 0.1 * (ctx.seed % 2)
    for step in ctx.progress(range(3), desc="fake"):
        ctx.log(step, heads=float(heads[: step + 1].mean()))
    mean = float(heads.mean())
    return Outcome(metrics={"heads": mean, "flips": float(cfg.flips)},
                   spread={"heads": 1.96 * float(heads.std()) / cfg.flips ** 0.5}, data={"first": heads[:5].tolist()})

def plot(cfg, outcomes, figures):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.bar(range(len(outcomes)), [o.metrics["heads"] for o in outcomes])
    figures.save("heads", fig, "Share of heads per seed.")

STUDY = Study(
    id="fake-coin", title="Fake coin", thought="0. Tests", summary="Flip a coin.",
    claims=(Claim("fair", ("c1",), "The coin is fair.", "supported if |heads - 0.5| < 0.05 over seeds; refuted if > 0.05",
                  effect=lambda views: mean_ci([abs(v["heads"] - 0.5) for v in views]), effect_name="|heads - 0.5|",
                  measures=("heads",), direction="less", support=0.05, refute=0.05, trained=False),),
    scales={"smoke": Cfg(2000), "quick": Cfg(20000), "full": Cfg(200000)},
    run=run, plot=plot, seeds={"smoke": 1, "quick": 2, "full": 3},
)
'''


@pytest.fixture(scope="session")
def fake_study_path(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fakestudies")
    (folder / "fake_coin_study.py").write_text(textwrap.dedent(FAKE_STUDY))
    return folder


@pytest.fixture
def fake_study(fake_study_path, monkeypatch):
    """Register the fake study for this test (in-process and for subprocesses)."""
    monkeypatch.syspath_prepend(str(fake_study_path))
    monkeypatch.setenv("PYTHONPATH", str(fake_study_path) + ":" + ":".join(sys.path))
    monkeypatch.setenv("THOUGHTLAB_STUDIES", "fake_coin_study")
    from thoughtlab.registry import get_study

    return get_study("fake-coin")


class FigureRecorder:
    """A stand-in for the runner's figure folder: records names and captions, closes figures."""

    def __init__(self):
        self.saved: dict[str, str] = {}

    def save(self, name, fig, caption):
        import matplotlib.pyplot as plt

        assert caption, f"figure {name} has no caption"
        self.saved[name] = caption
        plt.close(fig)


@pytest.fixture
def figures():
    return FigureRecorder()


@pytest.fixture
def torchrun():
    """The torchrun command of this interpreter (``python -m torch.distributed.run``)."""
    return [sys.executable, "-m", "torch.distributed.run"]
