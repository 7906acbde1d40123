"""The cyclegan-diversity study at smoke scale: keys, learning-curve points, verdicts, figures; and the toy."""

import numpy as np
import pytest
import torch

from thoughtlab.cyclegan.study import CLAIMS, STUDY
from thoughtlab.cyclegan.one_to_many import OneToManyRecipe, build, measure
from thoughtlab.cyclegan.toy import PointsTask, ToyConfig, modes_of
from thoughtlab.runs import LocalContext
from thoughtlab.study import verdicts


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    torch.manual_seed(0)
    ctx = LocalContext(0, "smoke", tmp_path_factory.mktemp("seed0"))
    return STUDY.run(STUDY.config("smoke"), ctx)


def test_smoke_run_has_learning_curve_points_and_every_claim_gets_a_verdict(outcome, figures):
    for key in ("cycle_label_AtoB", "gan_label_AtoB@0.5", "gan_identity_kid_B@0.25", "toy_noise_modes_per_input@0.75",
                "toy_cyclegan_style_lost_nu0.05", "toy_augmented_style_lost_nu0.05", "tints_noise_modes_per_input@0.25",
                "tints_augmented_content", "tints_cyclegan_style_lost_nu0.2", "tints_noise_cycle_A@0.5"):
        assert key in outcome.metrics or key in outcome.items, key
    assert len(outcome.items["cycle_label_AtoB"]) == STUDY.config("smoke").digits.test_per_domain
    records = verdicts(STUDY, [outcome])
    assert [r["id"] for r in records] == [c.id for c in CLAIMS]
    assert all(r["verdict"] in {"supported", "refuted", "inconclusive", "holds", "fails"} for r in records)
    assert {r["ledger"][0] for r in records} == {"c11", "c12", "c13"}
    assert all(len(r["curve"]) == 4 for r in records if r["kind"] == "empirical")
    STUDY.plot(STUDY.config("smoke"), [outcome], figures)
    assert set(figures.saved) == {"digits_curves", "digits_samples", "toy_outputs", "toy_noise", "tints_samples",
                                  "tints_modes"}


def test_toy_mode_counting_is_exact():
    cfg = ToyConfig(K=4, sigma=0.05)
    points = torch.tensor([[0.0, -1.5], [0.0, 0.52], [0.0, 0.3], [1.5, 1.5]])
    nearest, quality = modes_of(points, cfg)
    assert nearest.tolist() == [0, 2, 2, 3] and quality.tolist() == [True, True, False, False]


def test_plain_cyclegan_gives_one_output_per_input_and_keeps_content():
    cfg = ToyConfig(n_test=20, z_samples=4, width=8)
    state = build(PointsTask(cfg), "cyclegan", seed=0)
    with torch.no_grad():
        state.models["G_AB"].net[-1].bias.fill_(0.5)  # move every output onto the style level 0.5
        state.models["G_AB"].net[-1].weight.zero_()
    metrics, items = measure(PointsTask(cfg), "cyclegan", state, seed=0)
    assert items["modes_per_input"] == [1.0] * 20 and metrics["pairwise"] == 0 and metrics["coverage"] == 0.25
    assert metrics["high_quality"] == 1.0 and metrics["content"] == 1.0


def test_a_generator_that_reads_its_code_reaches_all_modes():
    cfg = ToyConfig(n_test=20, z_samples=40, width=8)
    state = build(PointsTask(cfg), "noise", seed=0)
    styles = cfg.styles()

    class CodeToStyle(torch.nn.Module):  # style level chosen by the quantile of z's first coordinate
        def forward(self, x):
            z = x[:, 2]
            return styles[torch.bucketize(z, torch.tensor([-0.674, 0.0, 0.674]))][:, None]

    state.models["G_AB"].net = CodeToStyle()
    metrics, items = measure(PointsTask(cfg), "noise", state, seed=0)
    assert np.mean(items["modes_per_input"]) > 3.5 and metrics["coverage"] == 1.0


@pytest.mark.parametrize("pool_size, stored", [(0, 0), (3, 3)])
def test_one_to_many_discriminators_see_an_image_pool_of_pool_size(pool_size, stored):
    task = PointsTask(ToyConfig(width=8, batch=4, steps=3, pool_size=pool_size))
    state = build(task, "noise", seed=0)
    recipe = OneToManyRecipe(task, "noise", seed=0)
    for step in range(3):
        recipe.step(state, recipe.batch(step))
    assert [len(state.objects[f"pool_{side}"].images) for side in "AB"] == [stored, stored]
    assert set(state.state_dict()["objects"]) == {"pool_A", "pool_B"}  # saved with the checkpoint


def test_one_to_many_generator_update_computes_no_discriminator_gradient():
    task = PointsTask(ToyConfig(width=8, batch=4, steps=1))
    state, recipe = build(task, "augmented", seed=0), OneToManyRecipe(task, "augmented", seed=0)
    discriminators = [p for name, net in state.models.items() if name.startswith("D") for p in net.parameters()]
    seen, g_step = [], state.optimizers["G"].step

    def spy(*args, **kwargs):
        seen.append([p.grad for p in discriminators])
        return g_step(*args, **kwargs)

    state.optimizers["G"].step = spy
    recipe.step(state, recipe.batch(0))
    assert seen and all(grad is None for grad in seen[0])
    assert all(p.requires_grad and p.grad is not None for p in discriminators)  # D's own update still runs
