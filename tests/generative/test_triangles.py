"""Lucic et al.'s triangles: the recipe's raster, its geometry, and the precision/recall distances."""

import math

import numpy as np
import pytest
import torch
from matplotlib import path
from scipy.ndimage import convolve

from thoughtlab.errors import BadInput
from thoughtlab.generative.synthetic import triangles as tr


def recipe_raster(v: np.ndarray, r: int = 8) -> np.ndarray:
    """The compare_gan colab's rasterisation: Path test on the integer sub-grid, 8×8 box, every 8th."""
    grid = np.mgrid[0:28 * r, 0:28 * r].reshape(2, -1).T
    outside = ~path.Path(v * r).contains_points(grid).reshape(28 * r, 28 * r)
    return convolve(outside.astype(np.float32), np.ones((r, r)), mode="constant", cval=1.0)[::r, ::r] / r**2


def test_raster_matches_the_recipe():
    images, params = tr.triangles(6, seed=0)
    v = tr.vertices(params).numpy()
    for i in range(6):
        assert np.abs(images[i, 0].numpy() - recipe_raster(v[i])).max() < 1e-6


def circumcentre(v: np.ndarray) -> np.ndarray:
    (ax, ay), (bx, by), (cx, cy) = v
    d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
    ux = ((ax**2 + ay**2) * (by - cy) + (bx**2 + by**2) * (cy - ay) + (cx**2 + cy**2) * (ay - by)) / d
    uy = ((ax**2 + ay**2) * (cx - bx) + (bx**2 + by**2) * (ax - cx) + (cx**2 + cy**2) * (bx - ax)) / d
    return np.array([ux, uy])


def test_geometry_of_the_recipe():
    images, params = tr.triangles(200, seed=1)
    assert images.shape == (200, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
    v = tr.vertices(params).double().numpy()
    assert np.allclose(v.mean(1), 14.0)
    for tri in v[:50]:
        rel = tri - circumcentre(tri)
        assert np.allclose(np.linalg.norm(rel, axis=1), 10.5)
        angles = np.sort(np.degrees(np.arctan2(rel[:, 1], rel[:, 0])) % 360)
        gaps = np.diff(np.r_[angles, angles[0] + 360])
        assert gaps.min() >= 10.0 - 1e-6  # half the minimum segment angle of 20°
    assert np.array_equal(tr.triangles(5, 7)[0], tr.triangles(5, 7)[0])


def test_true_triangles_sit_on_the_manifold_and_the_mean_image_does_not():
    images, params = tr.triangles(4, seed=2)
    delta = tr.vertex_tolerance(tr.draw_parameters(200, 3))
    assert 2.0 < delta < 30.0
    on = tr.manifold_distance(images, restarts=3, steps=100)
    assert on.max() < 0.05 * delta
    mean = tr.triangles(500, seed=4)[0].mean(0, keepdim=True)
    blank = torch.ones(1, 1, 28, 28)  # the smallest valid triangle covers ~15 px
    assert (tr.manifold_distance(torch.cat([mean, blank]), restarts=3, steps=60) > delta).all()


def test_inversion_recovers_a_triangle_generator_and_not_a_constant_one():
    def triangle_generator(z):
        return tr.soft_rasterize(tr.vertices(torch.sigmoid(z)))
    target = triangle_generator(torch.tensor([[0.3, -1.0, 0.8, 0.0]])).detach()
    assert tr.inversion_distance(triangle_generator, 4, target, restarts=4, steps=200).item() < 0.5
    constant = torch.full((1, 1, 28, 28), 0.9)
    d = tr.inversion_distance(lambda z: constant.expand(len(z), -1, -1, -1) + 0 * z.sum(), 4, target, 2, 5)
    assert d.item() == pytest.approx((constant - target).pow(2).sum().item(), rel=1e-5)


def test_f1():
    assert tr.f1(1.0, 1.0) == 1.0 and tr.f1(0.0, 0.0) == 0.0
    assert tr.f1(1.0, 0.5) == pytest.approx(2 / 3)


@pytest.mark.parametrize("images,match", [(torch.zeros(2, 28, 28), "must be"), (torch.zeros(2, 1, 14, 14), "must be"),
                                          (torch.full((1, 1, 28, 28), math.nan), "NaN")])
def test_bad_images(images, match):
    with pytest.raises(BadInput, match=match):
        tr.manifold_distance(images, restarts=1, steps=1)


def test_vertex_fit_of_off_manifold_images_is_no_worse_than_their_source_triangle():
    """Blurred, noisy triangles (GAN-like) fit to within their distance from the triangle they came from:
    the fitter finds a manifold point at least that close, so a low precision is not the fitter missing."""
    images, _ = tr.triangles(6, seed=5)
    kernel = torch.full((1, 1, 3, 3), 1 / 9)
    noise = 0.1 * torch.randn(images.shape, generator=torch.Generator().manual_seed(0))
    damaged = (torch.nn.functional.conv2d(images, kernel, padding=1) + noise).clamp(0, 1)
    source = (damaged - images).pow(2).flatten(1).sum(1)
    fitted = tr.manifold_distance(damaged, restarts=3, steps=60)
    assert (fitted <= source * 1.02).all()
    assert (fitted > 0.5 * source).all()  # and it cannot make the damage vanish
