"""The GAN family: shapes, losses on known logits, spectral norm, packing, R1."""

import math

import pytest
import torch
from torch import nn

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.generative.models import gan


def test_mlp_shapes_and_pacgan_architecture():
    g = gan.MLPGenerator(z_dim=2, shape=(2,), width=400, depth=4)
    d = gan.MLPDiscriminator(in_dim=2, width=200, depth=3, activation="maxout", pieces=5, pack=3)
    x = g(torch.randn(12, 2))
    assert x.shape == (12, 2)
    assert d(x).shape == (4,)
    assert sum(isinstance(m, nn.BatchNorm1d) for m in g.modules()) == 4
    maxouts = [m for m in d.modules() if isinstance(m, gan.Maxout)]
    assert len(maxouts) == 3 and maxouts[0].linear.in_features == 6 and maxouts[0].linear.out_features == 1000


def test_image_shapes():
    g, d = gan.DCGANGenerator(z_dim=16, width=8), gan.DCGANDiscriminator(width=8, pack=2)
    x = g(torch.randn(6, 16))
    assert x.shape == (6, 1, 28, 28) and x.abs().max() <= 1
    assert d(x).shape == (3,)
    mlp_g = gan.MLPGenerator(16, (1, 28, 28), width=32, depth=2, output="tanh")
    assert mlp_g(torch.randn(4, 16)).shape == (4, 1, 28, 28)
    assert gan.MLPDiscriminator(784, width=32, depth=2)(mlp_g(torch.randn(4, 16))).shape == (4,)


def test_maxout_takes_the_max_over_pieces():
    unit = gan.Maxout(1, 1, pieces=3)
    with torch.no_grad():
        unit.linear.weight.copy_(torch.tensor([[1.0], [-1.0], [0.0]]))
        unit.linear.bias.copy_(torch.tensor([0.0, 0.0, 0.5]))
    assert unit(torch.tensor([[2.0], [-3.0], [0.1]])).squeeze(1).tolist() == [2.0, 3.0, 0.5]


def test_packing_groups_consecutive_samples():
    x = torch.arange(12.0).view(6, 2)
    assert gan.pack(x, 3).tolist() == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]
    assert gan.pack(torch.zeros(6, 1, 28, 28), 2).shape == (3, 2, 28, 28)
    assert gan.pack(x, 1) is x
    with pytest.raises(BadInput, match="packing degree 4"):
        gan.pack(x, 4)


LOGIT_CASES = [  # (loss, real logit, fake logit, D loss, G loss)
    ("ns", 0.0, 0.0, 2 * math.log(2), math.log(2)),
    ("ns", 30.0, -30.0, 0.0, 30.0),
    ("ns-bce", 0.0, 0.0, 2 * math.log(2), math.log(2)),
    ("ns-bce", 30.0, -30.0, 0.0, 30.0),
    ("hinge", 2.0, -2.0, 0.0, 2.0),
    ("hinge", 0.0, 0.0, 2.0, 0.0),
    ("hinge", 0.5, 1.0, 2.5, -1.0),
    ("lsgan", 1.0, 0.0, 0.0, 0.5),
    ("lsgan", 0.0, 1.0, 1.0, 0.0),
]


@pytest.mark.parametrize("kind,real,fake,d_value,g_value", LOGIT_CASES)
def test_losses_on_known_logits(kind, real, fake, d_value, g_value):
    r, f = torch.full((5,), real), torch.full((5,), fake)
    assert gan.discriminator_loss(kind, r, f).item() == pytest.approx(d_value, abs=1e-6)
    assert gan.generator_loss(kind, f).item() == pytest.approx(g_value, abs=1e-6)


def test_unknown_names_are_rejected():
    with pytest.raises(UnknownName, match="GAN loss"):
        gan.generator_loss("wasserstein", torch.zeros(2))
    with pytest.raises(UnknownName, match="discriminator activation"):
        gan.MLPDiscriminator(2, activation="relu")
    with pytest.raises(UnknownName, match="generator output"):
        gan.MLPGenerator(2, (2,), output="sigmoid")


@pytest.mark.parametrize("make", [lambda: gan.MLPDiscriminator(8, width=16, depth=2, spectral_norm=True),
                                  lambda: gan.DCGANDiscriminator(width=4, spectral_norm=True)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spectral_norm_bounds_each_layer(make, seed):
    """Power iteration (one step per training forward) converges like (sigma2/sigma1)^(2k); random
    weights can have a small gap, so the models are seeded and given 300 forwards, not left to chance."""
    torch.manual_seed(seed)
    d = make()
    with torch.no_grad():
        for layer in d.modules():
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                layer.parametrizations.weight.original.mul_(50.0)  # far above 1 before normalising
        x = torch.randn(4, 8) if isinstance(d, gan.MLPDiscriminator) else torch.randn(4, 1, 28, 28)
        for _ in range(300):
            d(x)
    d.eval()
    for layer in d.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            sigma = torch.linalg.matrix_norm(layer.weight.detach().flatten(1), ord=2)
            assert sigma == pytest.approx(1.0, abs=1e-2)


def test_r1_is_zero_for_a_constant_discriminator_and_exact_for_a_linear_one():
    d = gan.MLPDiscriminator(3, width=8, depth=2)
    nn.init.zeros_(d.net[-1].weight)
    assert gan.r1_penalty(d, torch.randn(10, 3), gamma=10.0).item() == 0.0
    linear = nn.Linear(3, 1)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 2.0, 2.0]]))
    penalty = gan.r1_penalty(lambda x: linear(x).squeeze(1), torch.randn(10, 3), gamma=4.0)
    assert penalty.item() == pytest.approx(0.5 * 4.0 * 9.0)
    penalty.backward()  # differentiable w.r.t. D's weights: d/dw (γ/2)‖w‖² = γ w
    assert torch.allclose(linear.weight.grad, 4.0 * linear.weight)


def test_r1_with_packing_sums_over_the_packed_samples():
    d = gan.MLPDiscriminator(2, width=8, depth=1, pack=2)
    nn.init.zeros_(d.net[0].bias)
    penalty = gan.r1_penalty(d, torch.randn(8, 2), gamma=2.0)
    assert penalty.item() > 0


def test_init_normal_sets_the_stated_moments():
    g = gan.init_normal(gan.MLPGenerator(2, (2,), width=400, depth=2), std=0.02)
    w = g.net[0].weight
    assert w.std().item() == pytest.approx(0.02, rel=0.1) and abs(w.mean().item()) < 0.005


def ring_data(n=512):
    angles = torch.arange(n) % 8 * (math.pi / 4)
    return torch.stack([angles.cos(), angles.sin()], 1) + 0.01 * torch.randn(n, 2, generator=torch.Generator().manual_seed(0))


def tiny_pair(pack=1, seed=0):
    torch.manual_seed(seed)
    return gan.MLPGenerator(2, (2,), width=16, depth=2), gan.MLPDiscriminator(2, width=16, depth=2, pack=pack)


@pytest.mark.parametrize("loss", gan.LOSSES)
def test_recipe_trains_reproducibly_with_every_loss_packing_and_r1(loss):
    cfg = gan.GanTraining(loss=loss, batch_size=8, lr_g=1e-3, lr_d=1e-3, r1_gamma=1.0, d_steps=2)
    runs = []
    for _ in range(2):
        g, d = tiny_pair(pack=2)
        state = gan.train_gan(g, d, ring_data(), cfg, steps=5, seed=3)
        runs.append(gan.sample(state.models["g"], 10, seed=1))
    assert state.step == 5 and torch.isfinite(runs[0]).all()
    assert torch.equal(runs[0], runs[1])


def test_ema_generator_follows_the_update_rule():
    g, d = tiny_pair()
    before = [p.detach().clone() for p in g.parameters()]
    state = gan.train_gan(g, d, ring_data(), gan.GanTraining(batch_size=8, ema_decay=0.9), steps=1, seed=0)
    ema = state.emas["g"].module
    for p0, p1, pe in zip(before, g.parameters(), ema.parameters()):
        assert torch.allclose(pe, 0.9 * p0 + 0.1 * p1.detach(), atol=1e-7)
    assert not torch.equal(before[0], next(g.parameters()).detach())


@pytest.mark.parametrize("simultaneous", [True, False])
def test_simultaneous_update_answers_the_old_discriminator(simultaneous):
    """With simultaneous updates G's step ignores D's step of the same iteration; alternating, it does not."""
    outcomes = []
    for lr_d in (0.0, 1e-2):
        g, d = tiny_pair()
        cfg = gan.GanTraining(batch_size=8, lr_d=lr_d, simultaneous=simultaneous, betas=(0.0, 0.999))
        gan.train_gan(g, d, ring_data(), cfg, steps=1, seed=0)
        outcomes.append(torch.cat([p.detach().flatten() for p in g.parameters()]))
    assert torch.equal(outcomes[0], outcomes[1]) == simultaneous


def test_recipe_resumes_exactly(tmp_path):
    cfg = gan.GanTraining(batch_size=8, ema_decay=0.99)
    full = gan.train_gan(*tiny_pair(), ring_data(), cfg, steps=6, seed=1)
    gan.train_gan(*tiny_pair(), ring_data(), cfg, steps=3, seed=1, checkpoint=tmp_path / "s.pt")
    resumed = gan.train_gan(*tiny_pair(), ring_data(), cfg, steps=6, seed=1, checkpoint=tmp_path / "s.pt")
    for a, b in zip(full.models["g"].state_dict().values(), resumed.models["g"].state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("cfg,match", [(gan.GanTraining(batch_size=600), "batch_size"),
                                       (gan.GanTraining(d_steps=0), "d_steps"),
                                       (gan.GanTraining(loss="wgan"), "GAN loss")])
def test_bad_training_settings(cfg, match):
    with pytest.raises((BadInput, UnknownName), match=match):
        gan.train_gan(*tiny_pair(), ring_data(), cfg, steps=1, seed=0)


def test_snapshots_are_saved_at_their_steps_and_not_again_on_resume(tmp_path):
    cfg = gan.GanTraining(batch_size=8)
    saved = []

    def save(state):
        saved.append(state.step)
        return tmp_path / f"snap{state.step}.pt"

    ckpt = tmp_path / "s.pt"
    state = gan.train_gan(*tiny_pair(), ring_data(), cfg, steps=3, seed=0, snapshots=(0, 2, 5), save_snapshot=save,
                          checkpoint=ckpt)
    assert saved == [0, 2] and state.records["snapshots"] == [str(tmp_path / "snap0.pt"), str(tmp_path / "snap2.pt")]
    resumed = gan.train_gan(*tiny_pair(), ring_data(), cfg, steps=6, seed=0, snapshots=(0, 2, 5), save_snapshot=save,
                            checkpoint=ckpt)
    assert saved == [0, 2, 5] and [p[-8:] for p in resumed.records["snapshots"]] == ["snap0.pt", "snap2.pt", "snap5.pt"]
    with pytest.raises(BadInput, match="save_snapshot"):
        gan.train_gan(*tiny_pair(), ring_data(), cfg, steps=1, seed=0, snapshots=(1,))


def test_recipe_reports_both_losses():
    logged = []
    state = gan.train_gan(*tiny_pair(), ring_data(), gan.GanTraining(batch_size=8), steps=2, seed=0,
                          logger=lambda step, **scalars: logged.append((step, sorted(scalars))), log_every=1)
    assert state.step == 2 and logged == [(1, ["d_loss", "g_loss"]), (2, ["d_loss", "g_loss"])]

