"""The three experiments of ``gan-distributions``, one seed each: PacGAN replication, learnability map, triangles.

Each returns flat ``metrics`` / ``items`` dicts in the verdict protocol's convention (``"key@f"`` at a
fraction ``f`` of the training budget, the plain key at the end); :mod:`thoughtlab.generative.distributions`
assembles them into an :class:`~thoughtlab.study.Outcome` and judges the claims.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy import stats as scipy_stats
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from thoughtlab.generative.models import gan
from thoughtlab.generative.synthetic import mog
from thoughtlab.generative.synthetic import triangles as tri
from thoughtlab.stats import Interval, child_seed
from thoughtlab.train import Hook, at_fractions, train

FRACTIONS = (0.25, 0.5, 0.75, 1.0)
SUCCESS_MODES = 0.9  # a cell is learnt when >= 90 % of its modes are captured ...
SUCCESS_HQ = 50.0  # ... and at least half of the samples are high quality (PacGAN's GAN rows: 94-98 %)
PROPERTIES = ("k", "ratio", "dim")
BONFERRONI_LEVEL = 1 - 0.05 / len(PROPERTIES)  # three coefficients, family-wise 95 %


def key_at(key: str, fraction: float) -> str:
    """The protocol's learning-curve key: ``key@f`` before the end, ``key`` at it."""
    return key if fraction == 1.0 else f"{key}@{fraction:g}"


def learnt(score: mog.Coverage, k: int) -> float:
    """1.0 when the sample set captures >= 90 % of the K modes with >= 50 % high-quality samples, else 0.0."""
    return float(score.modes >= SUCCESS_MODES * k and score.hq_percent >= SUCCESS_HQ)


def coverage_hook(mixture: mog.Mixture, n: int, seed: int, steps: int,
                  record: Callable[[float, mog.Coverage], None]) -> Hook:
    """Score the generator at 25/50/75/100 % of the budget (same latents each time)."""
    def score(state) -> dict[str, float]:
        fraction = max(f for f in FRACTIONS if round(f * steps) == state.step)
        result = mog.coverage(mixture, gan.sample(state.models["g"], n, seed).numpy())
        record(fraction, result)
        return {"modes": float(result.modes), "hq_percent": result.hq_percent}
    return Hook(at_fractions(*FRACTIONS), score)


def train_on_mixture(mixture: mog.Mixture, g: torch.nn.Module, d: torch.nn.Module, training: gan.GanTraining,
                     steps: int, train_points: int, eval_samples: int, seed: int,
                     record: Callable[[float, mog.Coverage], None]) -> None:
    """Draw ``train_points`` from the mixture, train G/D for ``steps``, score at the budget fractions."""
    data = torch.from_numpy(mixture.sample(train_points, child_seed(seed, "data"))[0])
    recipe = gan.GanRecipe(data, g.z_dim, d.pack, training, child_seed(seed, "noise"))
    state = gan.gan_state(g.train(), d.train(), recipe, {"seed": seed})
    hook = coverage_hook(mixture, eval_samples, child_seed(seed, "eval"), steps, record)
    train(recipe, state, steps, hooks=[hook], progress=False)


# --- replication of PacGAN Table 1 --------------------------------------------------------------

@dataclass(frozen=True)
class ReplicationConfig:
    """PacGAN's 2-D experiments (Lin et al. 2018, §4.1 and App. D) at a reduced step budget.

    Fixed as in the paper: G 4×400 ReLU + BN from a 2-D Gaussian, D 3×200 maxout (5 pieces), init
    N(0, 0.02²), Adam lr 1e-4, β₁ = 0.8, batch 100 D inputs, 100k training points, non-saturating
    loss with simultaneous updates, 2,500 evaluation samples.  The paper trains 400 epochs ≈ 400k steps.
    """

    datasets: tuple[str, ...] = ("ring", "grid")
    packs: tuple[int, ...] = (1, 2, 3, 4)
    steps: int = 400
    train_points: int = 100_000
    eval_samples: int = mog.EVAL_SAMPLES


PAPER_STEPS = 400_000
PACGAN_TRAINING = gan.GanTraining(loss="ns", batch_size=100, lr_g=1e-4, lr_d=1e-4, betas=(0.8, 0.999),
                                  simultaneous=True)


def pacgan_pair(pack: int, seed: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    """PacGAN's MoG generator and packed maxout discriminator, initialised N(0, 0.02²) from ``seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        g = gan.init_normal(gan.MLPGenerator(2, (2,), width=400, depth=4))
        d = gan.init_normal(gan.MLPDiscriminator(2, width=200, depth=3, activation="maxout", pieces=5, pack=pack))
    return g, d


def run_replication(cfg: ReplicationConfig, seed: int) -> tuple[dict[str, float], dict[str, float]]:
    """modes / %HQ (metrics, along the budget) and final reverse KL of GAN (pack 1) and PacGAN2-4.

    Reverse KL is undefined for a run without high-quality samples, so it is returned apart (only
    the runs where it is defined), never as a metric that some seeds would lack.
    """
    metrics: dict[str, float] = {}
    reverse_kl: dict[str, float] = {}
    for name in cfg.datasets:
        mixture = {"ring": mog.ring, "grid": mog.grid}[name]()
        for pack in cfg.packs:
            prefix = f"rep.{name}.pack{pack}"

            def record(fraction: float, score: mog.Coverage, prefix: str = prefix) -> None:
                metrics[key_at(f"{prefix}.modes", fraction)] = float(score.modes)
                metrics[key_at(f"{prefix}.hq", fraction)] = score.hq_percent
                if fraction == 1.0 and math.isfinite(score.reverse_kl):
                    reverse_kl[f"{prefix}.rkl"] = score.reverse_kl
            g, d = pacgan_pair(pack, child_seed(seed, name, pack, "init"))
            train_on_mixture(mixture, g, d, PACGAN_TRAINING, cfg.steps, cfg.train_points, cfg.eval_samples,
                             child_seed(seed, name, pack), record)
    return metrics, reverse_kl


# --- the learnability map --------------------------------------------------------------------------

@dataclass(frozen=True)
class MapConfig:
    """The family grid K × separation/σ × dimension, one fixed small GAN and budget, and the EM contrast.

    GAN: G 3×``width`` ReLU + BN from an 8-D Gaussian, D 3×``width`` LeakyReLU(0.2), non-saturating
    loss, Adam 5e-4 (β 0.5, 0.999), alternating updates.  EM: sklearn ``GaussianMixture`` with the true
    K, full covariances, k-means initialisation, ``em_inits`` starts, fitted to the first ``em_points``
    of the GAN's training points.
    """

    ks: tuple[int, ...] = (4, 16, 36)
    ratios: tuple[float, ...] = (4.0, 16.0, 64.0)
    dims: tuple[int, ...] = (2, 16)
    steps: int = 600
    batch_size: int = 128
    width: int = 128
    z_dim: int = 8
    lr: float = 5e-4
    train_points: int = 20_000
    eval_samples: int = mog.EVAL_SAMPLES
    em_points: int = 5000
    em_inits: int = 1

    def cells(self) -> list[tuple[int, float, int]]:
        return [(k, r, d) for k in self.ks for r in self.ratios for d in self.dims]


def map_pair(cfg: MapConfig, dim: int, seed: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return (gan.MLPGenerator(cfg.z_dim, (dim,), width=cfg.width, depth=3),
                gan.MLPDiscriminator(dim, width=cfg.width, depth=3))


def em_score(mixture: mog.Mixture, cfg: MapConfig, seed: int) -> mog.Coverage:
    """Coverage of samples from a K-component Gaussian mixture fitted by EM to the cell's training points."""
    x = mixture.sample(cfg.train_points, child_seed(seed, "data"))[0][:cfg.em_points].astype(np.float64)
    model = GaussianMixture(mixture.k, covariance_type="full", n_init=cfg.em_inits, random_state=child_seed(seed, "em"))
    with threadpool_limits(1):  # BLAS threads would oversubscribe the seeds' processes
        model.fit(x)
        model.set_params(random_state=child_seed(seed, "em-sample"))
        return mog.coverage(mixture, model.sample(cfg.eval_samples)[0])


def run_map(cfg: MapConfig, seed: int) -> dict[str, list[float]]:
    """Per cell (in :meth:`MapConfig.cells` order): GAN success/modes/HQ along the budget, EM and true-data success."""
    items: dict[str, list[float]] = {}

    def append(key: str, value: float) -> None:
        items.setdefault(key, []).append(value)
    for k, ratio, dim in cfg.cells():
        cell_seed = child_seed(seed, "cell", k, ratio, dim)
        mixture = mog.family(k, ratio, dim, seed=child_seed(seed, "embed", k, ratio, dim))

        def record(fraction: float, score: mog.Coverage, k: int = k) -> None:
            append(key_at("map.gan_success", fraction), learnt(score, k))
            append(key_at("map.gan_modes", fraction), score.modes / k)
            append(key_at("map.gan_hq", fraction), score.hq_percent)
        training = gan.GanTraining(batch_size=cfg.batch_size, lr_g=cfg.lr, lr_d=cfg.lr, betas=(0.5, 0.999))
        g, d = map_pair(cfg, dim, child_seed(cell_seed, "init"))
        train_on_mixture(mixture, g, d, training, cfg.steps, cfg.train_points, cfg.eval_samples, cell_seed, record)
        em = em_score(mixture, cfg, cell_seed)
        append("map.em_success", learnt(em, k))
        append("map.em_modes", em.modes / k)
        true = mog.coverage(mixture, mixture.sample(cfg.eval_samples, child_seed(cell_seed, "true"))[0])
        append("map.true_success", learnt(true, k))
        for name, value in (("k", k), ("ratio", ratio), ("dim", dim)):
            append(f"map.{name}", float(value))
    return items


# --- triangles ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TriangleConfig:
    """Lucic et al.'s triangles: a small DCGAN against the mean image and a memorising generator.

    DCGAN: :class:`~thoughtlab.generative.models.gan.DCGANGenerator` / ``DCGANDiscriminator`` of
    ``width``, non-saturating loss, Adam 2e-4 (β 0.5, 0.999), batch 64.  ``samples`` generated images
    are vertex-fitted for precision and ``test`` held-out triangles inverted for recall, with
    ``restarts`` starts of ``fit_steps`` Adam steps each.
    """

    train: int = 8000
    test: int = 256
    samples: int = 256
    steps: int = 1500
    width: int = 16
    z_dim: int = 32
    restarts: int = 3
    fit_steps: int = 120


def run_triangles(cfg: TriangleConfig, seed: int) -> tuple[dict[str, float], torch.Tensor, torch.Tensor]:
    """Precision, recall and F1 of the DCGAN, the mean image and the memoriser; δ, the fit floor, 16 samples
    and every DCGAN sample's distance to the manifold.

    Diagnostics of the precision: the median distance to the manifold of each arm's samples, and for the
    DCGAN the median squared distance to its nearest training image and the fraction of samples whose
    vertex fit is at least as close as that training image (the fitter beats a lookup in the training set).
    """
    train_x, _ = tri.triangles(cfg.train, child_seed(seed, "train"))
    test_x, test_params = tri.triangles(cfg.test, child_seed(seed, "test"))
    delta = tri.vertex_tolerance(test_params, seed=child_seed(seed, "delta"))
    fit = dict(restarts=cfg.restarts, steps=cfg.fit_steps)
    metrics = {"tri.delta": delta,
               "tri.fit_floor": float(tri.manifold_distance(test_x[:64], seed=child_seed(seed, "floor"), **fit).quantile(0.99))}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(child_seed(seed, "init"))
        g, d = gan.DCGANGenerator(cfg.z_dim, cfg.width), gan.DCGANDiscriminator(cfg.width)
    training = gan.GanTraining(batch_size=64, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999))
    gan.train_gan(g, d, train_x * 2 - 1, training, cfg.steps, child_seed(seed, "noise"))
    g.eval()
    to_unit = lambda z: (g(z) + 1) / 2  # noqa: E731 - the generator in the triangles' [0, 1] range
    samples = gan.sample(g, cfg.samples, child_seed(seed, "samples")).add(1).div(2)
    pick = torch.randint(cfg.train, (cfg.samples,), generator=torch.Generator().manual_seed(child_seed(seed, "memo")))
    mean = train_x.mean(0, keepdim=True)
    distances = {
        "gan": (tri.manifold_distance(samples, seed=child_seed(seed, "fit"), **fit),
                tri.inversion_distance(to_unit, cfg.z_dim, test_x, cfg.restarts, cfg.fit_steps, seed=child_seed(seed, "inv"))),
        "memoriser": (tri.manifold_distance(train_x[pick], seed=child_seed(seed, "fit"), **fit),
                      torch.cdist(test_x.flatten(1), train_x.flatten(1)).pow(2).amin(1)),
        "mean": (tri.manifold_distance(mean, seed=child_seed(seed, "fit"), **fit).expand(cfg.samples),
                 (test_x - mean).pow(2).flatten(1).sum(1)),
    }
    for name, (to_manifold, to_generator) in distances.items():
        precision = float((to_manifold <= delta).float().mean())
        recall = float((to_generator <= delta).float().mean())
        metrics |= {f"tri.{name}.precision": precision, f"tri.{name}.recall": recall,
                    f"tri.{name}.f1": tri.f1(precision, recall),
                    f"tri.{name}.distance_median": float(to_manifold.median())}
    # the fitter's check: a training image is a point of the manifold, so a good fit is never farther
    nearest_train = torch.cdist(samples.flatten(1), train_x.flatten(1)).pow(2).amin(1)
    metrics["tri.gan.nearest_train_median"] = float(nearest_train.median())
    metrics["tri.gan.fit_beats_nearest_train"] = float((distances["gan"][0] <= nearest_train + 1e-3).float().mean())
    return metrics, samples[:16], distances["gan"][0]


# --- analysis of the map --------------------------------------------------------------------------

def map_rows(views: Sequence[Mapping[str, Any]], outcome: str = "map.gan_success") -> tuple[np.ndarray, np.ndarray]:
    """(log₂ K, log₂ separation/σ, log₂ dim) and the success indicator per (seed, cell)."""
    x = np.concatenate([np.log2(np.stack([np.asarray(v[f"map.{p}"], float) for p in PROPERTIES], 1)) for v in views])
    y = np.concatenate([np.asarray(v[outcome], float) for v in views])
    return x, y


def logistic_coefficients(x: np.ndarray, y: np.ndarray, ridge: float = 1.0, iterations: int = 25) -> np.ndarray:
    """Slopes of a logistic regression of ``y`` on ``x`` with penalty ½·ridge·‖w‖² (intercept free).

    The objective of sklearn's ``LogisticRegression(C=1/ridge)``, minimised by Newton's method (IRLS);
    the penalty keeps the slopes finite when the classes separate.  Zeros if only one class occurs.
    """
    if y.min() == y.max():
        return np.zeros(x.shape[1])
    design = np.column_stack([np.ones(len(x)), x])
    penalty = ridge * np.diag([0.0] + [1.0] * x.shape[1])
    w = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-design @ w))
        gradient = design.T @ (p - y) + penalty @ w
        hessian = (design * (p * (1 - p))[:, None]).T @ design + penalty + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w[1:]


def coefficient_intervals(views: Sequence[Mapping[str, Any]], n_resamples: int = 400) -> list[Interval]:
    """Each property's coefficient with a Bonferroni-adjusted (98.3 %) percentile bootstrap over (seed, cell) rows."""
    x, y = map_rows(views)
    estimate = logistic_coefficients(x, y)
    rows = np.arange(len(y))
    result = scipy_stats.bootstrap((rows,), lambda i: logistic_coefficients(x[i], y[i]), vectorized=False,
                                   confidence_level=BONFERRONI_LEVEL, method="percentile", n_resamples=n_resamples,
                                   random_state=np.random.default_rng(0))
    low, high = np.nan_to_num(result.confidence_interval.low), np.nan_to_num(result.confidence_interval.high)
    return [Interval(float(e), float(lo), float(hi), len(y), "percentile bootstrap over (seed, cell), 98.3 %")
            for e, lo, hi in zip(estimate, low, high)]
