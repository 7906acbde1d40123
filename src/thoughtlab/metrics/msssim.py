"""MS-SSIM (Wang, Simoncelli & Bovik 2003) and its use as a sample-diversity measure for generators.

Plain MS-SSIM of two images (Wang et al. 2003, eq. 7): at scales j = 1..M (M = 5) the images are
filtered with an 11×11 Gaussian window (σ = 1.5, 'valid' filtering, as Wang's MATLAB code), giving
local means μ, variances σ² and covariance σ_xy; with C1 = (K1·L)², C2 = (K2·L)², K1 = 0.01,
K2 = 0.03 and L the data range,

    cs_j   = mean[(2σ_xy + C2) / (σ_x² + σ_y² + C2)]
    ssim_M = mean[(2μ_xμ_y + C1)(2σ_xy + C2) / ((μ_x² + μ_y² + C1)(σ_x² + σ_y² + C2))]
    MS-SSIM = ∏_{j<M} cs_j^{w_j} · ssim_M^{w_M},   w = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333),

the mean running over pixels and channels, and each scale made by 2×2 average pooling (odd sides
lose their last row/column).  Negative cs/ssim terms are clamped at 0 before the powers (the ReLU
of compare_gan and torchmetrics' default), so the value is always defined and lies in [0, 1].

Small images.  Five scales with an 11-tap window need sides ≥ 176 px; GAN samples are 28–128 px.
``small_images`` picks the policy (recorded in every protocol):
  * ``"shrink_window"`` (default; TF-models ``msssim.py``, the implementation AC-GAN most likely used):
    at each scale the window is min(11, h, w) taps with σ scaled by the same ratio;
  * ``"fewer_scales"``: keep only the scales whose sides fit the full window and rescale their
    weights so they keep the total exponent of all five;
  * ``"strict"``: refuse images too small for the full pyramid (plain MS-SSIM, as torchmetrics).
Large enough images get plain MS-SSIM under every policy.

Diversity (lower MS-SSIM between samples = more diverse), always set against the same statistic
on real images:
  * ``"within_class_pairs"``: Odena, Olah & Shlens 2017 (AC-GAN, §4.2): the mean over ``pairs``
    random pairs of distinct samples within each class;
  * ``"all_pairs"``: Fedus, Rosca et al. 2017 §5.3 (compare_gan): shuffled batches of 64, all pairs
    i ≠ j in each batch, averaged over 5 batches (MS-SSIM is symmetric, so each unordered pair once).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from thoughtlab.errors import BadInput
from thoughtlab.metrics.checks import choice, positive_int, require_finite, to_numpy

WANG_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
POLICIES = ("shrink_window", "fewer_scales", "strict")
PROTOCOLS = ("within_class_pairs", "all_pairs")
PIXELS_PER_CHUNK = 2 ** 20


def gaussian_taps(size: int, sigma: float) -> torch.Tensor:
    """Normalised 1-D Gaussian window of ``size`` taps centred between/at the middle tap (float64)."""
    offsets = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    taps = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return taps / taps.sum()


def pyramid_plan(height: int, width: int, window: int, sigma: float, small_images: str,
                 weights: tuple[float, ...] = WANG_WEIGHTS) -> tuple[list[tuple[int, float]], list[float]]:
    """Per-scale (window taps, σ) and weights for an image of ``height`` × ``width`` under the policy."""
    sides = [(height >> j, width >> j) for j in range(len(weights))]
    if min(sides[-1]) < 1:
        raise BadInput(f"MS-SSIM with {len(weights)} scales needs images of at least {2 ** (len(weights) - 1)} px "
                       f"per side, got {height}×{width}; upsample the images explicitly first")
    fits = [min(side) >= window for side in sides]
    if small_images == "strict" and not all(fits):
        raise BadInput(f"MS-SSIM with a {window}-tap window over {len(weights)} scales needs sides ≥ "
                       f"{window << (len(weights) - 1)} px, got {height}×{width}; use small_images='shrink_window' "
                       "or 'fewer_scales'")
    if small_images == "fewer_scales":
        kept = fits.index(False) if not all(fits) else len(weights)
        if kept == 0:
            raise BadInput(f"images of {height}×{width} are smaller than the {window}-tap window; "
                           "use small_images='shrink_window'")
        scale = sum(weights) / sum(weights[:kept])
        return [(window, sigma)] * kept, [w * scale for w in weights[:kept]]
    plan = []
    for h, w in sides:
        taps = min(window, h, w)
        plan.append((taps, sigma * taps / window))
    return plan, list(weights)


def valid_filter_matrix(taps: torch.Tensor, length: int) -> torch.Tensor:
    """(length, length − k + 1) matrix M, (v @ M)[i] = Σ_t taps[t]·v[i + t]: 'valid' correlation as a GEMM."""
    size = len(taps)
    matrix = torch.zeros(length, length - size + 1, dtype=taps.dtype)
    for t in range(size):
        matrix.diagonal(-t)[:] = taps[t]
    return matrix


def image_statistics(x: torch.Tensor, taps: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Local means and variances (clamped at 0) of (B, C, H, W) images, and the two filter matrices used."""
    rows, cols = valid_filter_matrix(taps, x.shape[2]).T, valid_filter_matrix(taps, x.shape[3])
    mean = rows @ (x @ cols)
    return mean, (rows @ ((x * x) @ cols) - mean * mean).clamp_min(0.0), rows, cols


def pair_terms(x: torch.Tensor, mean_x: torch.Tensor, var_x: torch.Tensor, y: torch.Tensor, mean_y: torch.Tensor,
               var_y: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, c1: float, c2: float
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pair mean SSIM and mean contrast-structure term cs (Wang et al. 2003, eqs. 5–6) at one scale."""
    cov = rows @ ((x * y) @ cols) - mean_x * mean_y
    cs_map = (2 * cov + c2) / (var_x + var_y + c2)
    ssim_map = (2 * mean_x * mean_y + c1) / (mean_x * mean_x + mean_y * mean_y + c1) * cs_map
    return ssim_map.flatten(1).mean(1), cs_map.flatten(1).mean(1)


def ssim_terms(x: torch.Tensor, y: torch.Tensor, taps: torch.Tensor, c1: float, c2: float
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean SSIM and mean cs of each aligned pair of (B, C, H, W) float64 batches at one scale."""
    mean_x, var_x, rows, cols = image_statistics(x, taps)
    mean_y, var_y, _, _ = image_statistics(y, taps)
    return pair_terms(x, mean_x, var_x, y, mean_y, var_y, rows, cols, c1, c2)


def _settings(height: int, width: int, data_range: float, window: int, sigma: float, k1: float, k2: float,
              small_images: str) -> dict[str, Any]:
    """The per-scale plan, weights and stabilising constants C1 = (K1·L)², C2 = (K2·L)²."""
    choice(small_images, "MS-SSIM small-image policy", POLICIES)
    plan, weights = pyramid_plan(height, width, window, sigma, small_images)
    return {"plan": plan, "weights": weights, "c1": (k1 * data_range) ** 2, "c2": (k2 * data_range) ** 2}


def _pair_values(images: torch.Tensor, first: torch.Tensor, second: torch.Tensor, settings: dict[str, Any]
                 ) -> torch.Tensor:
    """MS-SSIM of images[first[k]] and images[second[k]]; each image's pyramid statistics are computed once."""
    value = torch.ones(len(first), dtype=torch.float64)
    x, plan = images, settings["plan"]
    for scale, ((taps, scale_sigma), weight) in enumerate(zip(plan, settings["weights"])):
        if scale:
            x = F.avg_pool2d(x, 2)
        mean, var, rows, cols = image_statistics(x, gaussian_taps(taps, scale_sigma))
        ssim, cs = pair_terms(x[first], mean[first], var[first], x[second], mean[second], var[second], rows, cols,
                              settings["c1"], settings["c2"])
        value *= (ssim if scale == len(plan) - 1 else cs).clamp_min(0.0) ** weight
    return value


def ms_ssim(x: torch.Tensor, y: torch.Tensor, *, data_range: float = 255.0, window: int = 11, sigma: float = 1.5,
            k1: float = 0.01, k2: float = 0.03, small_images: str = "shrink_window") -> torch.Tensor:
    """MS-SSIM of each aligned pair of (B, C, H, W) image batches, in float64; returns shape (B,)."""
    if x.shape != y.shape or x.ndim != 4:
        raise BadInput(f"MS-SSIM needs two (B, C, H, W) batches of one shape, got {tuple(x.shape)} and "
                       f"{tuple(y.shape)}")
    settings = _settings(x.shape[2], x.shape[3], data_range, window, sigma, k1, k2, small_images)
    index = torch.arange(len(x))
    return _pair_values(torch.cat((x, y)).to(torch.float64), index, index + len(x), settings)


def as_images(images: Any, name: str, data_range: float | None) -> torch.Tensor:
    """(N, C, H, W) images from (N, H, W) or (N, C, H, W) arrays: uint8, or numbers in [0, data_range].

    uint8/float32/float64 are kept as they are (converted to float64 per chunk of pairs, so 50k RGB
    images stay in memory as uint8); other numeric types become float64.
    """
    arr = to_numpy(images, name)
    if arr.ndim == 3:
        arr = arr[:, None]
    if arr.ndim != 4 or arr.shape[1] not in (1, 3):
        raise BadInput(f"{name}: expected (N, H, W) or (N, C, H, W) images with 1 or 3 channels, got shape "
                       f"{arr.shape}; convert channels-last images with .transpose(0, 3, 1, 2)")
    if data_range is None:
        if arr.dtype != np.uint8:
            raise BadInput(f"{name}: expected uint8 images (0..255), got {arr.dtype}; quantise them explicitly "
                           "or pass data_range= (e.g. 1.0 for floats in [0, 1])")
    else:
        if arr.dtype.kind not in "fiu":
            raise BadInput(f"{name}: dtype {arr.dtype} is not numeric; pass image arrays")
        require_finite(arr.reshape(len(arr), -1), name)
        if arr.size and (arr.min() < 0 or arr.max() > data_range):
            raise BadInput(f"{name}: values span [{arr.min():g}, {arr.max():g}], outside [0, {data_range:g}]; "
                           "rescale the images or fix data_range")
    if arr.dtype not in (np.uint8, np.float32, np.float64):
        arr = arr.astype(np.float64)
    return torch.from_numpy(np.ascontiguousarray(arr))


def _pairwise_values(images: torch.Tensor, first: np.ndarray, second: np.ndarray, **kwargs: Any) -> np.ndarray:
    """MS-SSIM of images[first[k]] and images[second[k]] for every k, in chunks of pairs of bounded size."""
    settings = _settings(images.shape[2], images.shape[3], **kwargs, k1=0.01, k2=0.03)
    chunk = max(1, PIXELS_PER_CHUNK // images[0].numel())
    values = []
    for start in range(0, len(first), chunk):
        a, b = first[start:start + chunk], second[start:start + chunk]
        used = np.unique(np.concatenate((a, b)))
        local_a, local_b = torch.from_numpy(np.searchsorted(used, a)), torch.from_numpy(np.searchsorted(used, b))
        values.append(_pair_values(images[torch.from_numpy(used)].to(torch.float64), local_a, local_b, settings))
    return torch.cat(values).numpy() if values else np.empty(0)


def _random_pairs(n: int, pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``pairs`` random ordered pairs of distinct indices below ``n`` (drawn with replacement over pairs)."""
    first = rng.integers(0, n, size=pairs)
    second = (first + rng.integers(1, n, size=pairs)) % n
    return first, second


def within_class_values(images: torch.Tensor, labels: np.ndarray, pairs: int, seed: int,
                        **kwargs: Any) -> dict[Any, np.ndarray]:
    """AC-GAN protocol: per class (sorted; one rng stream each), MS-SSIM of ``pairs`` random distinct pairs."""
    classes = np.unique(labels)
    streams = np.random.SeedSequence(seed).spawn(len(classes))
    result = {}
    for cls, stream in zip(classes, streams):
        members = np.flatnonzero(labels == cls)
        if len(members) < 2:
            raise BadInput(f"class {cls} has {len(members)} image(s); within-class MS-SSIM needs at least 2 per class")
        first, second = _random_pairs(len(members), pairs, np.random.default_rng(stream))
        result[cls.item()] = _pairwise_values(images, members[first], members[second], **kwargs)
    return result


def all_pairs_values(images: torch.Tensor, batch_size: int, batches: int, seed: int, **kwargs: Any) -> np.ndarray:
    """compare_gan protocol: a seeded shuffle cut into ``batches`` batches; every unordered pair in each batch."""
    needed = batch_size * batches
    if len(images) < needed:
        raise BadInput(f"all-pairs MS-SSIM needs {batches} batches of {batch_size} = {needed} images, got "
                       f"{len(images)}; pass more images or lower batches/batch_size")
    order = np.random.default_rng(seed).permutation(len(images))[:needed].reshape(batches, batch_size)
    i, j = np.triu_indices(batch_size, k=1)
    return np.stack([_pairwise_values(images, batch[i], batch[j], **kwargs) for batch in order])


def _labels(labels: Any, n: int, name: str) -> np.ndarray:
    """Class labels as a 1-D integer array of length ``n`` (all zeros when None: one class)."""
    if labels is None:
        return np.zeros(n, dtype=np.int64)
    arr = to_numpy(labels, name)
    if arr.shape != (n,) or arr.dtype.kind not in "iu":
        raise BadInput(f"{name}: expected {n} integer class labels, got shape {arr.shape} dtype {arr.dtype}")
    return arr


def _summary(images: torch.Tensor, labels: Any, name: str, protocol: str, pairs: int, batch_size: int,
             batches: int, seed: int, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Mean, std (ddof=0, over pairs) and per-class or per-batch means of one image set's statistic."""
    if protocol == "all_pairs":
        values = all_pairs_values(images, batch_size, batches, seed, **kwargs)
        return {"value": float(values.mean()), "std": float(values.std()),
                "per_batch": [float(v) for v in values.mean(axis=1)]}
    per_class = within_class_values(images, _labels(labels, len(images), name), pairs, seed, **kwargs)
    values = np.concatenate(list(per_class.values()))
    return {"value": float(values.mean()), "std": float(values.std()),
            "per_class": {cls: float(v.mean()) for cls, v in per_class.items()}}


def real_class_comparisons(fake_per_class: dict[Any, float], real_per_class: dict[Any, float],
                           both_labelled: bool) -> dict[str, float]:
    """The AC-GAN (Odena, Olah & Shlens 2017, §4.2) comparisons of per-class fake MS-SSIM with real data.

    * ``real_max_msssim``: the largest per-class mean MS-SSIM of the real images (the least diverse
      real class; AC-GAN's "maximum over real classes" threshold, computed here from the real
      images given, never a recalled ImageNet constant);
    * ``classes_below_real_max``: the fraction of fake classes whose mean MS-SSIM is strictly below
      that maximum, i.e. more diverse than the least diverse real class;
    * ``classes_as_diverse_as_real`` (both sides labelled): the fraction of the classes present on
      both sides whose fake MS-SSIM is ≤ the real MS-SSIM of the same class.
    """
    real_max = max(real_per_class.values())
    result = {"real_max_msssim": real_max,
              "classes_below_real_max": float(np.mean([v < real_max for v in fake_per_class.values()]))}
    if both_labelled:
        shared = sorted(set(fake_per_class) & set(real_per_class))
        as_diverse = [fake_per_class[c] <= real_per_class[c] for c in shared]
        result["classes_as_diverse_as_real"] = float(np.mean(as_diverse)) if shared else 0.0
    return result


def compute_msssim_diversity(fake: Any, real: Any = None, *, fake_labels: Any = None, real_labels: Any = None,
                             protocol: str = "within_class_pairs", pairs: int = 100, batch_size: int = 64,
                             batches: int = 5, seed: int = 0, data_range: float | None = None,
                             small_images: str = "shrink_window", window: int = 11,
                             sigma: float = 1.5) -> dict[str, Any]:
    """MS-SSIM diversity of generated images, and the same statistic on real images when given.

    Args:
        fake, real: (N, H, W) or (N, C, H, W) images, uint8 unless ``data_range`` is given
            (then floats in [0, data_range]).  Channels-first; 1 or 3 channels; all one size.
        fake_labels, real_labels: integer classes for ``"within_class_pairs"`` (None: one class).
        protocol: ``"within_class_pairs"`` (AC-GAN) or ``"all_pairs"`` (compare_gan).
        pairs: random pairs per class (AC-GAN: 100).  batch_size, batches: all-pairs protocol (64, 5).
        seed: seeds the pair draws / shuffles (the same draws for real and fake).
        small_images, window, sigma: the small-image policy and Gaussian window (module docstring).

    Returns:
        ``{"value": mean fake MS-SSIM (lower = more diverse), "std": over pairs, "per_class" or
        "per_batch": ..., "real": the same dict for real images (when given), "protocol": {...}}``;
        with real images under ``"within_class_pairs"`` also ``"real_max_msssim"`` (the largest real
        per-class mean) and ``"classes_below_real_max"`` (the fraction of fake classes strictly below
        it), and with labels on both sides ``"classes_as_diverse_as_real"`` (the fraction of shared
        classes whose fake MS-SSIM is ≤ the real one of that class); see :func:`real_class_comparisons`.
    """
    protocol = choice(protocol, "MS-SSIM diversity protocol", PROTOCOLS)
    choice(small_images, "MS-SSIM small-image policy", POLICIES)
    pairs, batch_size = positive_int(pairs, "MS-SSIM pairs"), positive_int(batch_size, "batch_size", minimum=2)
    batches, window = positive_int(batches, "MS-SSIM batches"), positive_int(window, "MS-SSIM window")
    fake_images = as_images(fake, "fake images", data_range)
    data_range_used = 255.0 if data_range is None else float(data_range)
    kwargs = {"data_range": data_range_used, "window": window, "sigma": sigma, "small_images": small_images}
    plan, weights = pyramid_plan(fake_images.shape[2], fake_images.shape[3], window, sigma, small_images)
    result = _summary(fake_images, fake_labels, "fake labels", protocol, pairs, batch_size, batches, seed, kwargs)
    if real is not None:
        real_images = as_images(real, "real images", data_range)
        if real_images.shape[1:] != fake_images.shape[1:]:
            raise BadInput(f"real images are {tuple(real_images.shape[1:])} but fake images are "
                           f"{tuple(fake_images.shape[1:])}; resize one set explicitly first")
        result["real"] = _summary(real_images, real_labels, "real labels", protocol, pairs, batch_size, batches,
                                  seed, kwargs)
        if protocol == "within_class_pairs":
            result.update(real_class_comparisons(result["per_class"], result["real"]["per_class"],
                                                 fake_labels is not None and real_labels is not None))
    result["protocol"] = {
        "protocol": protocol, "pairs_per_class": pairs if protocol == "within_class_pairs" else None,
        "batch_size": batch_size if protocol == "all_pairs" else None,
        "batches": batches if protocol == "all_pairs" else None, "seed": seed,
        "data_range": data_range_used, "input": "uint8" if data_range is None else f"float in [0, {data_range:g}]",
        "small_images": small_images, "window_per_scale": [taps for taps, _ in plan],
        "sigma_per_scale": [s for _, s in plan], "weights": weights, "k1": 0.01, "k2": 0.03,
        "filtering": "valid", "downsampling": "2x2 average pooling", "negative_terms": "clamped at 0",
        "image_shape": list(fake_images.shape[1:]), "n_fake": len(fake_images),
        "n_real": None if real is None else len(real_images)}
    return result
