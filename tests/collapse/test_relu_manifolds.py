"""Known-answer tests of the ReLU-collapse measures (thoughtlab.collapse.manifolds)."""

import math

import pytest
import torch

from thoughtlab.collapse import manifolds as mf
from thoughtlab.errors import BadInput, UnknownName


def lifts(draws: int, n: int, seed: int = 0) -> torch.Tensor:
    return mf.gaussian_embeddings(draws, n, torch.Generator().manual_seed(seed))


def spiral(points: int = 300) -> torch.Tensor:
    return mf.manifold_points("spiral", points, 0)[0]


@pytest.mark.parametrize("name", mf.MANIFOLDS)
def test_manifolds_have_unit_rms_radius_and_positions(name):
    x, position = mf.manifold_points(name, 500, 3, rms=2.0)
    assert x.shape == (500, 2) and x.dtype == torch.float64
    assert x.pow(2).sum(1).mean().sqrt().item() == pytest.approx(2.0)
    assert position.min() >= 0 and position.max() <= 1
    assert (x.norm(dim=1) > 0).all()  # origin dropped: points in general position


def test_identity_loses_nothing():
    x = spiral()
    T = lifts(5, 3)
    z, y = mf.lift_and_reconstruct(x, T, mf.activation("identity"))
    queries = mf.query_indices(len(x), 50)
    neighbours = mf.input_neighbours(x, 10, queries)
    assert not mf.unrecoverable_points(mf.informative_units("identity", z), T).any()
    assert torch.allclose(mf.affine_r2(y, x), torch.ones(5, dtype=torch.float64), atol=1e-12)
    assert torch.equal(mf.knn_preservation(y, neighbours, queries), torch.ones(5, dtype=torch.float64))


def test_hand_built_relu_recoverability():
    T = torch.eye(2, dtype=torch.float64).unsqueeze(0)  # units read x1 and x2
    x = torch.tensor([[1.0, 2.0], [1.0, -2.0], [-1.0, -2.0]], dtype=torch.float64)
    z, y = mf.lift_and_reconstruct(x, T, torch.relu)
    lost = mf.unrecoverable_points(mf.informative_units("relu", z), T)
    assert lost.tolist() == [[False, True, True]]
    assert torch.allclose(y[0, 0], x[0])  # both units active: exact
    assert torch.allclose(y[0, 1], torch.tensor([1.0, 0.0], dtype=torch.float64))


def test_parallel_active_rows_do_not_span_the_plane():
    T = torch.tensor([[[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]]], dtype=torch.float64)
    x = torch.tensor([[1.0, -1.0], [1.0, 1.0]], dtype=torch.float64)
    z, _ = mf.lift_and_reconstruct(x, T, torch.relu)
    # x=(1,-1): two units active but parallel rows -> lost; x=(1,1): all active -> kept.
    assert mf.unrecoverable_points(mf.informative_units("relu", z), T).tolist() == [[True, False]]


def test_relu6_saturated_units_are_not_informative():
    T = torch.eye(2, dtype=torch.float64).unsqueeze(0)
    x = torch.tensor([[7.0, 1.0], [5.0, 1.0]], dtype=torch.float64)
    z, _ = mf.lift_and_reconstruct(x, T, mf.activation("relu6"))
    assert mf.unrecoverable_points(mf.informative_units("relu6", z), T).tolist() == [[True, False]]


def test_leaky_relu_is_invertible():
    x = spiral()
    T = lifts(4, 2)
    z, y = mf.lift_and_reconstruct(x, T, mf.activation("leaky_relu", 0.1))
    assert not mf.unrecoverable_points(mf.informative_units("leaky_relu", z), T).any()


def test_exact_probability_formula():
    assert [mf.exact_unrecoverable_probability(n) for n in (1, 2, 3)] == [1.0, 0.75, 0.5]
    assert mf.exact_unrecoverable_probability(5) == pytest.approx(6 / 32)


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_exact_probability_matches_large_simulation(n):
    x = mf.manifold_points("circle", 20, 1)[0]
    T = lifts(20000, n, seed=n)
    z = torch.einsum("pj,dij->dpi", x, T)
    lost = mf.unrecoverable_points(mf.informative_units("relu", z), T).double().mean()
    assert lost.item() == pytest.approx(mf.exact_unrecoverable_probability(n), abs=0.01)


def test_r2_of_affine_maps_and_collapse():
    x = spiral()
    A = torch.tensor([[2.0, 0.5], [-1.0, 3.0]], dtype=torch.float64)
    affine = (x @ A + torch.tensor([4.0, -7.0], dtype=torch.float64)).unsqueeze(0)
    constant = torch.full_like(affine, 3.0)
    projected = torch.stack([x[:, 0], torch.zeros(len(x), dtype=torch.float64)], 1).unsqueeze(0)
    r2 = mf.affine_r2(torch.cat([affine, constant, projected]), x)
    xc = x - x.mean(0)
    # y = (x1, 0) explains all of x1 and the part of x2 that regresses on x1.
    explained = xc[:, 0].pow(2).sum() + (xc[:, 0] @ xc[:, 1]) ** 2 / xc[:, 0].pow(2).sum()
    share = explained / xc.pow(2).sum()
    assert r2.tolist() == pytest.approx([1.0, 0.0, share.item()], abs=1e-10)


def test_knn_is_scale_free_and_low_for_scrambles_and_collapse():
    x = spiral(400)
    queries = mf.query_indices(len(x), 100)
    neighbours = mf.input_neighbours(x, 10, queries)
    rotation = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)
    scrambled = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(0))]
    ys = torch.stack([1e-3 * x @ rotation, scrambled, torch.zeros_like(x)])
    kept = mf.knn_preservation(ys, neighbours, queries)
    assert kept[0].item() == 1.0
    assert kept[1].item() < 0.1  # about k/N = 0.025
    assert kept[2].item() == 0.0  # collapsed: ties count against preservation


def test_linear_regime_is_exact_and_wide_relu_halves():
    x = spiral()
    T = lifts(20, 3)
    z, y = mf.lift_and_reconstruct(x, T, torch.relu)
    errors = mf.linear_regime_errors(z, torch.relu(z), x, y)
    assert errors.numel() > 100 and errors.max().item() < 1e-12
    _, y_wide = mf.lift_and_reconstruct(x, lifts(20, 400), torch.relu)
    assert mf.plain_relative_error(y_wide, x).mean().item() == pytest.approx(0.5, abs=0.05)  # notes A1 warning


def test_bad_inputs_raise_user_errors():
    with pytest.raises(BadInput):
        lifts(3, 1)
    with pytest.raises(BadInput):
        lifts(0, 3)
    with pytest.raises(UnknownName):
        mf.activation("gelu")
    with pytest.raises(UnknownName):
        mf.informative_units("tanh", torch.zeros(1))
    with pytest.raises(UnknownName):
        mf.manifold_points("torus", 10, 0)
    with pytest.raises(BadInput):
        mf.manifold_points("spiral", 2, 0)
    with pytest.raises(BadInput):
        mf.input_neighbours(spiral(12), 11, torch.arange(3))
    with pytest.raises(BadInput):
        mf.exact_unrecoverable_probability(0)


def test_query_indices_are_even_and_unique():
    q = mf.query_indices(1000, 100)
    assert len(q) == 100 and q[0] == 0 and q[-1] == 999
    assert torch.equal(mf.query_indices(10, 50), torch.arange(10))
    assert math.isclose(float(q.diff().double().mean()), 999 / 99)
