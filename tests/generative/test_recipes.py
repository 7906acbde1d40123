"""Recipes on the training core: they learn, resume bit-exactly, and the CPU-budget driver records its curve."""

import math

import pytest
import torch

from thoughtlab.generative import gan
from thoughtlab.generative.models import autoregressive as ar
from thoughtlab.generative.models import flow as fl
from thoughtlab.generative.models import recipes as rc
from thoughtlab.train.core import TrainState, train


def digits(n: int = 64, size: int = 8) -> torch.Tensor:
    """Deterministic blob images, 8-bit pixel values as floats."""
    g = torch.Generator().manual_seed(0)
    base = torch.zeros(n, 1, size, size)
    base[:, :, 2:6, 3:5] = 200.0
    return (base + torch.randint(0, 40, base.shape, generator=g)).clamp(0, 255).round()


def flow_state(init: int = 0, size: int = 8) -> TrainState:
    torch.manual_seed(init)
    flow = fl.RealNVP(fl.FlowConfig(shape=(1, size, size), levels=2, hidden=8))
    with torch.no_grad():  # an init seed that matters: perturb the zero-initialised output layers
        for p in flow.parameters():
            p.add_(0.01 * torch.randn_like(p))
    return TrainState({"size": size}, models={"flow": flow}, optimizers={"flow": torch.optim.Adam(flow.parameters(), 1e-3)})


def test_flow_ml_learns_and_resumes_bit_exactly(tmp_path):
    pixels = digits()
    state = flow_state()
    recipe = rc.FlowML(pixels, 16, seed=0)
    state.generators["noise"] = recipe.noise
    state.objects["order"] = recipe.order
    losses = []
    train(recipe, state, 30, logger=lambda step, **s: losses.append(s["bpd"]), progress=False)
    assert losses[-1] < losses[0] - 0.5

    def run(stop_at: int | None, path) -> torch.Tensor:
        st = flow_state()
        rec = rc.FlowML(pixels, 16, seed=0)
        st.generators["noise"], st.objects["order"] = rec.noise, rec.order
        if stop_at:
            train(rec, st, stop_at, checkpoint=path, every=stop_at, progress=False)
            st = flow_state(init=5)  # a fresh process: other weights until the checkpoint is loaded
            rec = rc.FlowML(pixels, 16, seed=0)
            st.generators["noise"], st.objects["order"] = rec.noise, rec.order
        train(rec, st, 12, checkpoint=path, every=4, progress=False)
        return torch.cat([p.flatten() for p in st.models["flow"].parameters()])

    assert torch.equal(run(None, tmp_path / "a.pt"), run(5, tmp_path / "b.pt"))


def test_flow_gan_and_hybrid_steps_update_generator():
    pixels = digits(size=28)
    for weight in (0.0, 1.0):
        torch.manual_seed(0)
        g = fl.RealNVP(fl.FlowConfig(levels=2, hidden=4))
        d = gan.Discriminator(16)
        state = TrainState({}, models={"g": g, "d": d},
                           optimizers={"g": torch.optim.Adam(g.parameters(), 1e-3), "d": torch.optim.Adam(d.parameters(), 1e-3)})
        before = torch.cat([p.flatten().clone() for p in g.parameters()])
        recipe = rc.FlowGAN(pixels, 8, seed=0, nll_weight=weight)
        scalars = recipe.step(state, recipe.batch(0))
        assert ("bpd" in scalars) == (weight > 0)
        assert not torch.equal(before, torch.cat([p.flatten() for p in g.parameters()]))


@pytest.mark.parametrize("norm, expected", [(1.0, 0.0), (2.0, 1.0), (0.5, 0.25)])
def test_gradient_penalty_of_a_linear_critic_is_its_slope_error_squared(norm, expected):
    """D(x) = w·x has ‖∇D‖ = ‖w‖ everywhere, so the penalty is (‖w‖ − 1)² whatever the images and ε."""
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 1, bias=False), torch.nn.Flatten(0))
    with torch.no_grad():
        critic[1].weight.copy_(torch.full((1, 16), norm / 4.0))
    g = torch.Generator().manual_seed(0)
    real, fake, eps = torch.rand(5, 1, 4, 4, generator=g), torch.rand(5, 1, 4, 4, generator=g), torch.rand(5, generator=g)
    assert math.isclose(rc.gradient_penalty(critic, real, fake, eps).item(), expected, abs_tol=1e-6)


def test_flow_gan_takes_n_critic_critic_updates_per_generator_update():
    pixels = digits(size=28)
    torch.manual_seed(0)
    g, d = fl.RealNVP(fl.FlowConfig(levels=2, hidden=4)), gan.Discriminator(16)
    state = TrainState({}, models={"g": g, "d": d},
                       optimizers={"g": torch.optim.Adam(g.parameters(), 1e-3), "d": torch.optim.Adam(d.parameters(), 1e-3)})
    steps = {"g": 0, "d": 0}
    for name, opt in state.optimizers.items():
        opt.register_step_post_hook(lambda *a, name=name: steps.__setitem__(name, steps[name] + 1))
    recipe = rc.FlowGAN(pixels, 8, seed=0, n_critic=3)
    reals, zs, eps = recipe.batch(0)
    assert len(reals) == 3 and len(zs) == 4 and len(eps) == 3
    assert not torch.equal(reals[0], reals[1])  # a fresh real batch per critic update
    scalars = recipe.step(state, (reals, zs, eps))
    assert steps == {"g": 1, "d": 3} and {"d_loss", "gp", "g_loss"} <= set(scalars)


def test_pixelcnn_and_made_recipes_lower_their_nll():
    pixels = digits(32, size=6)
    torch.manual_seed(0)
    model = ar.GatedPixelCNN(ar.PixelCNNConfig(size=6, categories=4, channels=8, layers=2, first_kernel=3, head=8))
    state = TrainState({}, models={"pixelcnn": model}, optimizers={"pixelcnn": torch.optim.Adam(model.parameters(), 3e-3)})
    losses = []
    train(rc.PixelCNNML(pixels, 16, 0), state, 30, logger=lambda step, **s: losses.append(s["bpd"]), progress=False)
    assert losses[-1] < losses[0] - 0.3
    binary = (pixels > 100).float().flatten(1)
    made = ar.MADE(ar.MadeConfig(dim=36, hidden=(32,), masks=2))
    state = TrainState({}, models={"made": made}, optimizers={"made": torch.optim.Adam(made.parameters(), 3e-3)})
    losses = []
    train(rc.MadeML(binary, 16, 0), state, 30, logger=lambda step, **s: losses.append(s["nll"]), progress=False)
    assert losses[-1] < losses[0] - 3.0


def test_train_for_cpu_records_every_fraction_once_and_resumes(tmp_path):
    pixels = digits()
    calls = []

    def evaluate(st):
        calls.append(st.step)
        return {"score": float(st.step)}

    state = flow_state()
    curve = rc.train_for_cpu(rc.FlowML(pixels, 16, 0), state, 0.3, (0.5, 1.0), evaluate,
                             checkpoint=tmp_path / "s.pt", chunk=3)
    assert [p["fraction"] for p in curve] == [0.5, 1.0]
    assert curve[-1]["cpu_seconds"] >= 0.3 and curve[0]["step"] <= curve[1]["step"]
    again = flow_state()
    resumed = rc.train_for_cpu(rc.FlowML(pixels, 16, 0), again, 0.3, (0.5, 1.0), evaluate,
                               checkpoint=tmp_path / "s.pt", chunk=3)
    assert resumed == curve and len(calls) == 2 and again.step == state.step


@pytest.mark.parametrize("save_every_s, at_most", [(1e9, 1), (0.0, None)])
def test_train_for_cpu_saves_by_cpu_seconds_and_at_the_end(tmp_path, monkeypatch, save_every_s, at_most):
    saves = []
    monkeypatch.setattr(TrainState, "save", lambda self, path: saves.append(self.step))
    state = flow_state()
    rc.train_for_cpu(rc.FlowML(digits(), 16, 0), state, 0.3, (0.5, 1.0), lambda st: {},
                     checkpoint=tmp_path / "s.pt", chunk=2, save_every_s=save_every_s)
    assert saves[-1] == state.step
    assert len(saves) == 1 if at_most == 1 else len(saves) == state.step // 2


def test_train_for_cpu_refuses_torchrun(monkeypatch):
    """Per-process CPU budgets would make torchrun ranks evaluate and save at different steps (a deadlock)."""
    from thoughtlab.errors import UserError
    from thoughtlab.train import distributed

    monkeypatch.setattr(distributed, "is_distributed", lambda: True)
    with pytest.raises(UserError, match="under torchrun train a fixed number of steps"):
        rc.train_for_cpu(rc.FlowML(digits(), 16, 0), flow_state(), 0.3, (1.0,), lambda st: {})
