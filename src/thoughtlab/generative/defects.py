"""Controlled "generators" on the MNIST subset whose only defect is known by construction.

Odena (2019, "Open Questions about Generative Adversarial Networks", Distill, Problem 5: how
should we evaluate GANs?) asks which metric detects which failure.  A trained GAN mixes its
failures, so here each failure is made alone out of real digits:

* ``ideal`` — held-out real images (never seen by the metrics' reference set): the yardstick.
* ``mode_drop`` — held-out real images of only ``10 − k`` classes; the ``k`` dropped classes are
  drawn per seed (Arjovsky & Bottou 2017's "mode dropping"; here whole classes, exactly).
* ``memorise`` — verbatim copies of the *reference* ("training") images, drawn with replacement:
  a generator that has memorised its training set.
* ``blur`` — a fresh draw of held-out images (as ``ideal``) filtered with a Gaussian of ``blur_sigma`` pixels (zero padding, as
  the black background): lower quality (fewer high frequencies), same classes and layout.
* ``noise`` — a fresh draw of held-out images plus i.i.d. Gaussian pixel noise of std ``noise_std``, clipped to [0, 1].
* ``truncation`` — high quality, low diversity, as the truncation trick (Brock et al. 2019, §3.1;
  Karras et al. 2019, ψ < 1) concentrates samples near the modes.  Exactly: for every class,
  its held-out images are ranked by Euclidean pixel distance to that class's mean held-out image;
  the nearest ``ceil(truncation_keep · count)`` are the class's *prototypes*; each class gets
  ``n / 10`` samples (the remainder to the lowest classes) drawn uniformly with replacement
  from its prototypes (then shuffled).  Every sample is a real, typical digit; the spread around each class
  core is gone.  Distances are in pixels so that no evaluation network picks the prototypes.

The data: all 5,000 ``mnist5k`` images (500 per class) are split per seed, stratified, into a
*reference* set of ``reference_size`` images (the real set every metric compares against, and
the GAN's training set) and the *held-out* rest, from which the ideal and the defective
generators draw.  Images are float32 (N, 1, 28, 28) in [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from thoughtlab.data import load_dataset
from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.stats import child_rng

DEFECTS: tuple[str, ...] = ("ideal", "mode_drop", "memorise", "blur", "noise", "truncation")
NUM_CLASSES = 10


@dataclass(frozen=True)
class DefectParams:
    """Strength of each defect: classes dropped, blur σ (pixels), noise std, prototype fraction."""

    dropped_classes: int = 5
    blur_sigma: float = 1.5
    noise_std: float = 0.3
    truncation_keep: float = 0.1


@dataclass(frozen=True)
class Pools:
    """The per-seed split of mnist5k: reference ("training") images and held-out images, with labels."""

    reference: np.ndarray
    reference_labels: np.ndarray
    held_out: np.ndarray
    held_out_labels: np.ndarray


@dataclass(frozen=True)
class Samples:
    """One generator's output: images (n, 1, 28, 28) float32 in [0, 1], the class of each source image,
    which pool the sources came from and their indices there, and defect-specific facts."""

    images: np.ndarray
    labels: np.ndarray
    source: str
    indices: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def make_pools(reference_size: int, seed: int) -> Pools:
    """Split all 5,000 mnist5k images into a class-stratified reference set and the held-out rest."""
    if reference_size % NUM_CLASSES or not 0 < reference_size <= 2500:
        raise BadInput(f"reference_size={reference_size}: use a multiple of 10 between 10 and 2500")
    split = load_dataset("mnist5k")
    images = np.concatenate([split.x_train, split.x_test])
    labels = np.concatenate([split.y_train, split.y_test])
    rng = child_rng(seed, 101)
    per_class = reference_size // NUM_CLASSES
    chosen = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in range(NUM_CLASSES)])
    chosen = np.sort(chosen)
    rest = np.setdiff1d(np.arange(len(labels)), chosen)
    return Pools(images[chosen], labels[chosen], images[rest], labels[rest])


def gaussian_blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian filter (radius ⌈3σ⌉ taps, zero padding) of (N, 1, H, W) images, clipped to [0, 1]."""
    if sigma <= 0:
        raise BadInput(f"blur sigma must be > 0, got {sigma}")
    radius = math.ceil(3 * sigma)
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    taps = torch.exp(-0.5 * (offsets / sigma) ** 2)
    taps = taps / taps.sum()
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    x = F.conv2d(x, taps.view(1, 1, 1, -1), padding=(0, radius))
    x = F.conv2d(x, taps.view(1, 1, -1, 1), padding=(radius, 0))
    return x.clamp(0, 1).numpy()


def _draw(rng: np.random.Generator, candidates: np.ndarray, n: int) -> np.ndarray:
    if n > len(candidates):
        raise BadInput(f"asked for {n} samples but the pool holds only {len(candidates)} images; lower samples "
                       "or reference_size")
    return np.sort(rng.choice(candidates, n, replace=False))


def _from_held_out(pools: Pools, idx: np.ndarray, info: dict[str, Any] | None = None) -> Samples:
    return Samples(pools.held_out[idx], pools.held_out_labels[idx], "held_out", idx, info or {})


def ideal(pools: Pools, n: int, rng: np.random.Generator) -> Samples:
    """n held-out real images, without replacement."""
    return _from_held_out(pools, _draw(rng, np.arange(len(pools.held_out)), n))


def mode_drop(pools: Pools, n: int, rng: np.random.Generator, dropped_classes: int) -> Samples:
    """n held-out images of the classes left after dropping ``dropped_classes`` random ones."""
    if not 0 < dropped_classes < NUM_CLASSES:
        raise BadInput(f"dropped_classes={dropped_classes}: drop between 1 and 9 of the 10 classes")
    dropped = np.sort(rng.choice(NUM_CLASSES, dropped_classes, replace=False))
    kept = np.flatnonzero(~np.isin(pools.held_out_labels, dropped))
    return _from_held_out(pools, _draw(rng, kept, n), {"dropped": dropped.tolist()})


def memorise(pools: Pools, n: int, rng: np.random.Generator) -> Samples:
    """n verbatim copies of reference images, drawn with replacement."""
    idx = rng.integers(0, len(pools.reference), n)
    return Samples(pools.reference[idx].copy(), pools.reference_labels[idx], "reference", idx)


def blur(pools: Pools, n: int, rng: np.random.Generator, sigma: float) -> Samples:
    """n held-out images (drawn as ``ideal``), Gaussian-blurred with ``sigma`` pixels."""
    base = ideal(pools, n, rng)
    return Samples(gaussian_blur(base.images, sigma), base.labels, base.source, base.indices, {"sigma": sigma})


def noise(pools: Pools, n: int, rng: np.random.Generator, std: float) -> Samples:
    """n held-out images (drawn as ``ideal``) plus Gaussian pixel noise of ``std``, clipped to [0, 1]."""
    base = ideal(pools, n, rng)
    noisy = np.clip(base.images + rng.normal(0.0, std, base.images.shape).astype(np.float32), 0.0, 1.0)
    return Samples(noisy, base.labels, base.source, base.indices, {"std": std})


def prototypes(pools: Pools, keep: float) -> dict[int, np.ndarray]:
    """Per class: held-out indices of the ``ceil(keep·count)`` images nearest (pixels) to the class mean."""
    if not 0 < keep <= 1:
        raise BadInput(f"truncation_keep={keep}: use a fraction in (0, 1]")
    result = {}
    for c in range(NUM_CLASSES):
        members = np.flatnonzero(pools.held_out_labels == c)
        flat = pools.held_out[members].reshape(len(members), -1).astype(np.float64)
        distance = np.linalg.norm(flat - flat.mean(axis=0), axis=1)
        order = np.lexsort((members, distance))  # ties broken by index: deterministic
        result[c] = members[order[:math.ceil(keep * len(members))]]
    return result


def truncation(pools: Pools, n: int, rng: np.random.Generator, keep: float) -> Samples:
    """n samples, balanced over classes, drawn with replacement from each class's prototypes."""
    protos = prototypes(pools, keep)
    counts = [n // NUM_CLASSES + (c < n % NUM_CLASSES) for c in range(NUM_CLASSES)]
    idx = np.concatenate([rng.choice(protos[c], counts[c], replace=True) for c in range(NUM_CLASSES)])
    idx = rng.permutation(idx)  # classes interleaved, as a generator's samples
    return _from_held_out(pools, idx, {"prototypes_per_class": [len(protos[c]) for c in range(NUM_CLASSES)]})


def generate(defect: str, pools: Pools, n: int, seed: int, params: DefectParams = DefectParams()) -> Samples:
    """n samples of the generator ``defect`` (one of DEFECTS); each defect has its own seeded stream."""
    if defect not in DEFECTS:
        raise UnknownName("defect", defect, DEFECTS)
    rng = child_rng(seed, 202, DEFECTS.index(defect))
    if defect == "ideal":
        return ideal(pools, n, rng)
    if defect == "mode_drop":
        return mode_drop(pools, n, rng, params.dropped_classes)
    if defect == "memorise":
        return memorise(pools, n, rng)
    if defect == "blur":
        return blur(pools, n, rng, params.blur_sigma)
    if defect == "noise":
        return noise(pools, n, rng, params.noise_std)
    return truncation(pools, n, rng, params.truncation_keep)


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Float images in [0, 1] -> uint8 by rounding (for MS-SSIM and figures)."""
    return np.rint(np.clip(images, 0, 1) * 255).astype(np.uint8)
