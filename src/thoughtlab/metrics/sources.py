"""Metrics of two sample sources: images -> features -> :func:`~thoughtlab.metrics.suite.evaluate`.

A source is an image folder, a ``.npy``/``.npz`` file, an array or tensor of images (N, [C,] H, W)
or of features (N, d), saved FID statistics (a ``.npz`` with ``mu``, ``sigma``, or a
:class:`~thoughtlab.metrics.fid.FidStats`), or a generator: a callable ``sample(n) -> images`` or
``file.py:function`` / ``package.module:function``, drawn ``samples`` times
(:func:`thoughtlab.metrics.inputs.load_source`).  Images of both sides go through one feature
extractor, with an optional on-disk cache keyed by image content and extractor, as in
torch-fidelity's ``calculate_metrics`` (Obukhov et al. 2020).  ``thoughtlab eval`` is
:func:`compare_sources` plus printing.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thoughtlab.errors import BadInput
from thoughtlab.metrics.extractors import Extractor, get_extractor
from thoughtlab.metrics.fid import FidStats
from thoughtlab.metrics.inputs import FeatureCache, Features, Images, extract_features, load_source
from thoughtlab.metrics.suite import evaluate, metric_names
from thoughtlab.nets.inception import WEIGHTS_ENV
from thoughtlab.train import pick_device

DEFAULT_METRICS = ("fid", "kid", "pr", "dc")
IMAGE_METRICS = ("msssim",)  # computed on the images themselves; every other metric needs features

Loaded = Images | Features | FidStats


@dataclass(frozen=True)
class Comparison:
    """The metrics (as :func:`evaluate` returns them) and where each side's features came from."""

    metrics: dict[str, dict[str, Any]]
    real: dict[str, Any]
    fake: dict[str, Any]
    seed: int

    def record(self) -> dict[str, Any]:
        """The JSON record ``thoughtlab eval --json`` writes."""
        return {"metrics": self.metrics, "seed": self.seed, "real": self.real, "fake": self.fake}


def choose_extractor(extractor: str | Extractor = "auto", *, weights: str | Path | None = None,
                     resize: str | None = None, size: int | None = None, seed: int = 0) -> Extractor:
    """An :class:`Extractor` as given, or by name; ``"auto"`` is inception when Inception weights are
    given (``weights`` or THOUGHTLAB_INCEPTION_WEIGHTS), else the embedded digit CNN."""
    if isinstance(extractor, Extractor):
        return extractor
    if extractor == "auto":
        extractor = "inception" if (weights or os.environ.get(WEIGHTS_ENV)) else "digit-cnn"
    return get_extractor(extractor, weights=weights, resize_method=resize, size=size, seed=seed)


def source_features(loaded: Loaded, extractor: Callable[[], Extractor], *, cache_dir: str | Path | None = None,
                    batch_size: int = 256, device: str = "cpu") -> Features | FidStats:
    """Features of loaded images (extracted, or read from the cache under ``cache_dir``), else ``loaded`` itself.

    ``extractor`` is called only when there are images, so feature and statistics inputs need no network.
    """
    if not isinstance(loaded, Images):
        return loaded
    cache = FeatureCache(cache_dir) if cache_dir is not None else None
    return extract_features(loaded, extractor(), cache=cache, batch_size=batch_size, device=pick_device(device))


def _protocol(x: Loaded, source: Any) -> dict[str, Any]:
    if isinstance(x, FidStats):
        name = str(source) if isinstance(source, (str, os.PathLike)) else "statistics"
        return {"source": name, "saved statistics": True, "n": x.n}
    return x.protocol if isinstance(x, Features) else x.record


def _image_options(names: list[str], real: Loaded, fake: Loaded, fake_feats: Any) -> dict[str, Any]:
    """Inputs of the metrics that do not use features: IS (fake logits), MS-SSIM (the images)."""
    options: dict[str, Any] = {}
    if "is" in names:
        if not isinstance(fake_feats, Features) or fake_feats.logits is None:
            raise BadInput("the inception score needs class logits of FAKE images: use --extractor inception or "
                           "digit-cnn on images (not features or statistics)")
        options["fake_logits"] = fake_feats.logits
    if "msssim" in names:
        if not isinstance(fake, Images):
            raise BadInput("MS-SSIM diversity needs FAKE as images (a folder or an image array), not features")
        options["fake_images"] = fake.pixels
        if isinstance(real, Images):
            options["real_images"] = real.pixels
        if fake.pixels.dtype != "uint8":  # float policy "keep": MS-SSIM on [0, 1] floats
            options["msssim_data_range"] = 1.0
    return options


def compare_sources(real: Any, fake: Any, metrics: Iterable[str] | str | None = None, *,
                    extractor: str | Extractor = "auto", weights: str | Path | None = None, resize: str | None = None,
                    size: int | None = None, cache_dir: str | Path | None = None, samples: int | None = None,
                    mixed: str = "error", float_policy: str = "round", batch_size: int = 256, device: str = "cpu",
                    seed: int = 0, **options: Any) -> Comparison:
    """The metrics of ``fake`` against ``real`` with the protocol of each side (see :func:`evaluate_sources`)."""
    real_in, fake_in = (load_source(s, mixed=mixed, float_policy=float_policy, samples=samples,
                                    batch_size=batch_size) for s in (real, fake))
    if metrics is None:
        metrics = ("fid",) if any(isinstance(x, FidStats) for x in (real_in, fake_in)) else DEFAULT_METRICS
    names = metric_names(metrics)
    if any(name not in IMAGE_METRICS for name in names):
        network = functools.cache(lambda: choose_extractor(extractor, weights=weights, resize=resize, size=size,
                                                           seed=seed))
        real_x, fake_x = (source_features(x, network, cache_dir=cache_dir, batch_size=batch_size, device=device)
                          for x in (real_in, fake_in))
    else:
        real_x, fake_x = real_in, fake_in
    options = {**_image_options(names, real_in, fake_in, fake_x), **options}
    results = evaluate(*(x.features if isinstance(x, Features) else x if isinstance(x, FidStats) else None
                         for x in (real_x, fake_x)), metrics=names, seed=seed, **options)
    return Comparison(results, _protocol(real_x, real), _protocol(fake_x, fake), seed)


def evaluate_sources(real: Any, fake: Any, metrics: Iterable[str] | str | None = None, *,
                     extractor: str | Extractor = "auto", cache_dir: str | Path | None = None,
                     samples: int | None = None, seed: int = 0, **kwargs: Any) -> dict[str, dict[str, Any]]:
    """Compute ``metrics`` of ``fake`` against ``real`` from images, features, statistics or generators.

    Args:
        real, fake: sources (module docstring).  Saved statistics give FID only.
        metrics: names as in :func:`evaluate`; default ``fid, kid, pr, dc`` (``fid`` with statistics).
        extractor: ``"auto"``, a name from ``EXTRACTORS`` or an :class:`Extractor` (e.g. a
            :class:`~thoughtlab.metrics.extractors.ModuleExtractor` around your own network).
        cache_dir: folder of the feature cache; ``None`` (default) neither reads nor writes one.
        samples: images drawn from a generator source.
        seed: seeds the metrics (as :func:`evaluate`) and the random-cnn extractor.
        **kwargs: ``weights``, ``resize``, ``size`` (extractor), ``mixed``, ``float_policy``
            (``"round"``: floats in [0, 1] to uint8 as PNG files would be; ``"keep"``: used as given),
            ``batch_size``, ``device``, and any option of :func:`evaluate` (``kid_subsets=``, ``pr_k=`` ...).

    Returns:
        the dict :func:`evaluate` returns, e.g. ``result["fid"]["value"]``.
    """
    return compare_sources(real, fake, metrics, extractor=extractor, cache_dir=cache_dir, samples=samples,
                           seed=seed, **kwargs).metrics
