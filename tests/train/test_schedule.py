import pytest
import torch

from thoughtlab.train import LinearDecay, TrainState


def adam(model: torch.nn.Module) -> torch.optim.Adam:
    return torch.optim.Adam(model.parameters(), lr=1e-3)


def test_linear_decay_over_the_last_half_and_constant_without_decay():
    s = LinearDecay(lr=1.0, steps=100, decay=0.5)
    assert [s.at(k) for k in (0, 50, 75, 99)] == pytest.approx([1.0, 1.0, 0.5, 0.02])
    assert LinearDecay(lr=1.0, steps=100, decay=0.0).at(99) == 1.0
    assert LinearDecay(lr=1.0, steps=100, decay=0.25).at(80) == pytest.approx(0.8)


def test_apply_sets_every_optimiser_from_the_step_and_survives_a_reload():
    model = torch.nn.Linear(2, 1)
    state = TrainState({}, models={"m": model}, optimizers={"m": adam(model), "n": adam(model)})
    s = LinearDecay(lr=1e-3, steps=100)
    state.step = 75
    s.apply(state)
    s.apply(state)  # applied twice at one step: the rate comes from the step, not compounded
    assert [o.param_groups[0]["lr"] for o in state.optimizers.values()] == pytest.approx([5e-4, 5e-4])
    fresh = adam(model)
    fresh.load_state_dict(state.optimizers["m"].state_dict())
    reloaded = TrainState({}, models={"m": model}, optimizers={"m": fresh})
    reloaded.step = 90
    s.apply(reloaded)
    assert fresh.param_groups[0]["lr"] == pytest.approx(2e-4)
