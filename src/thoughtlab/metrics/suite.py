"""The metric suite on features: names, options and :func:`evaluate` (one call for every sample-based metric).

Skill rating (``play_tournament``) plays snapshots against each other rather than comparing two
sample sets, so it is not part of the suite.  :func:`thoughtlab.metrics.sources.evaluate_sources`
puts images, folders, generators and saved statistics in front of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.metrics.checks import as_matrix, same_dim
from thoughtlab.metrics.fid import FidStats, compute_fid
from thoughtlab.metrics.geometry import compute_geometry_score
from thoughtlab.metrics.inception_score import compute_inception_score
from thoughtlab.metrics.kid import compute_kid
from thoughtlab.metrics.knn import compute_knn
from thoughtlab.metrics.msssim import compute_msssim_diversity
from thoughtlab.metrics.prd import compute_prd_from_features

# metric name -> the result keys it produces
METRICS: dict[str, tuple[str, ...]] = {
    "fid": ("fid",),
    "kid": ("kid",),
    "pr": ("precision", "recall"),
    "dc": ("density", "coverage"),
    "realism": ("realism",),
    "prd": ("prd_f_beta", "prd_f_inv_beta", "prd_curve"),
    "is": ("is",),
    "gs": ("gs",),
    "msssim": ("msssim",),
}
IMAGE_OR_SCORE_METRICS = ("is", "msssim")  # take their inputs from options, not from the feature arrays
ALIASES = {"precision": "pr", "recall": "pr", "density": "dc", "coverage": "dc"}
KNN_GROUPS = ("pr", "dc", "realism")

# evaluate option -> (metric names it applies to, keyword of the metric function)
OPTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "fid_repeats": (("fid",), "repeats"), "fid_subset_size": (("fid",), "subset_size"),
    "fid_threads": (("fid",), "threads"),
    "kid_subsets": (("kid",), "subsets"), "kid_subset_size": (("kid",), "subset_size"),
    "kid_degree": (("kid",), "degree"), "kid_gamma": (("kid",), "gamma"), "kid_coef": (("kid",), "coef"),
    "pr_k": (("pr", "realism"), "pr_k"), "pr_comparison": (("pr",), "pr_comparison"),
    "dc_k": (("dc",), "dc_k"), "dc_comparison": (("dc",), "dc_comparison"),
    "realism_percentile": (("realism",), "realism_percentile"),
    "knn_dtype": (KNN_GROUPS, "dtype"), "knn_block_size": (KNN_GROUPS, "block_size"),
    "prd_num_clusters": (("prd",), "num_clusters"), "prd_num_angles": (("prd",), "num_angles"),
    "prd_num_runs": (("prd",), "num_runs"), "prd_enforce_balance": (("prd",), "enforce_balance"),
    "prd_beta": (("prd",), "beta"),
    "fake_logits": (("is",), "scores"), "is_kind": (("is",), "kind"), "is_splits": (("is",), "splits"),
    "is_shuffle": (("is",), "shuffle"), "is_ddof": (("is",), "ddof"),
    "gs_landmarks": (("gs",), "landmarks"), "gs_gamma": (("gs",), "gamma"), "gs_i_max": (("gs",), "i_max"),
    "gs_iterations": (("gs",), "iterations"), "gs_workers": (("gs",), "workers"),
    "gs_bootstrap": (("gs",), "bootstrap"),
    "fake_images": (("msssim",), "fake"), "real_images": (("msssim",), "real"),
    "fake_labels": (("msssim",), "fake_labels"), "real_labels": (("msssim",), "real_labels"),
    "msssim_protocol": (("msssim",), "protocol"), "msssim_pairs": (("msssim",), "pairs"),
    "msssim_batch_size": (("msssim",), "batch_size"), "msssim_batches": (("msssim",), "batches"),
    "msssim_data_range": (("msssim",), "data_range"), "msssim_small_images": (("msssim",), "small_images"),
}


def metric_names(metrics: Iterable[str] | str) -> list[str]:
    """Canonical metric names in request order ("fid,kid" accepted), aliases resolved, duplicates dropped."""
    names = [name.strip() for name in metrics.split(",") if name.strip()] if isinstance(metrics, str) else list(metrics)
    canonical: list[str] = []
    for name in names:
        key = ALIASES.get(name, name)
        if key not in METRICS:
            raise UnknownName("metric", str(name), tuple(METRICS) + tuple(ALIASES))
        if key not in canonical:
            canonical.append(key)
    if not canonical:
        raise BadInput("evaluate: no metric requested; pass metrics=[...] from " + ", ".join(METRICS))
    return canonical


def _options_for(names: list[str], options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per-metric keyword arguments; unknown options and options for metrics not requested are errors."""
    per_metric: dict[str, dict[str, Any]] = {name: {} for name in names}
    for option, value in options.items():
        if option not in OPTIONS:
            raise UnknownName("evaluate option", option, tuple(OPTIONS))
        targets, keyword = OPTIONS[option]
        used = [name for name in targets if name in per_metric]
        if not used:
            raise BadInput(f"option {option} applies to {'/'.join(targets)}, which is not among the requested "
                           f"metrics {names}; drop the option or request the metric")
        for name in used:
            per_metric[name][keyword] = value
    return per_metric


def _feature_pair(real: Any, fake: Any, names: list[str]) -> tuple[Any, Any]:
    """Validated (real, fake) inputs: arrays for every metric, or FidStats when only FID is asked."""
    if any(isinstance(x, FidStats) for x in (real, fake)):
        if names != ["fid"]:
            raise BadInput("saved FID statistics can only give FID; pass feature arrays for " + ", ".join(names))
        return real, fake
    if real is None or fake is None:
        raise BadInput(f"metrics {names} need both real and fake features; pass two (N, d) arrays")
    x, y = as_matrix(real, "real features"), as_matrix(fake, "fake features")
    same_dim(x, y)
    return x, y


def evaluate(real_features: Any, fake_features: Any, metrics: Iterable[str] | str = ("fid", "kid", "pr", "dc"),
             seed: int = 0, **options: Any) -> dict[str, dict[str, Any]]:
    """Compute the requested metrics of fake against real features (numpy arrays or torch tensors, (N, d)).

    Args:
        metrics: names from ``METRICS`` (``"precision"``/``"recall"`` alias ``"pr"``,
            ``"density"``/``"coverage"`` alias ``"dc"``).  ``"pr"``, ``"dc"`` and ``"realism"``
            share one blocked k-NN pass.  ``"is"`` needs ``fake_logits=`` (class scores
            of the fake samples) and no features; ``"msssim"`` needs ``fake_images=`` (and
            ``real_images=`` for the real-data comparison; uint8 (N, [C,] H, W)) and no features.
        seed: seeds every random choice (FID repeats, KID subsets, PRD clustering, IS shuffle,
            geometry-score landmarks, MS-SSIM pairs).
        **options: keys of ``OPTIONS``, e.g. ``kid_subsets=100, pr_k=3, dc_comparison="<"``.

    Returns:
        ``{key: {"value": float, "std": float (where defined), "protocol": {...}}}`` with the
        keys listed in ``METRICS``; ``"realism"`` holds ``"values"`` (one per fake sample) and
        ``"prd_curve"`` holds ``"precision"`` and ``"recall"`` lists instead of a value.
    """
    names = metric_names(metrics)
    kwargs = _options_for(names, options)
    feature_metrics = [name for name in names if name not in IMAGE_OR_SCORE_METRICS]
    results: dict[str, dict[str, Any]] = {}
    if feature_metrics:
        real, fake = _feature_pair(real_features, fake_features, feature_metrics)
    if "fid" in names:
        results["fid"] = compute_fid(real, fake, seed=seed, **kwargs["fid"])
    if "kid" in names:
        results["kid"] = compute_kid(real, fake, seed=seed, **kwargs["kid"])
    knn_names = [name for name in names if name in KNN_GROUPS]
    if knn_names:
        knn_kwargs = {key: value for name in knn_names for key, value in kwargs[name].items()}
        measures = [key for name in knn_names for key in METRICS[name]]
        results.update(compute_knn(real, fake, measures=measures, **knn_kwargs))
    if "prd" in names:
        results.update(compute_prd_from_features(real, fake, seed=seed, **kwargs["prd"]))
    if "is" in names:
        if "scores" not in kwargs["is"]:
            raise BadInput("the inception score needs class scores: pass fake_logits=(N, classes) array")
        results["is"] = compute_inception_score(seed=seed, **kwargs["is"])
    if "gs" in names:
        results["gs"] = compute_geometry_score(real, fake, seed=seed, **kwargs["gs"])
    if "msssim" in names:
        if "fake" not in kwargs["msssim"]:
            raise BadInput("MS-SSIM diversity works on images: pass fake_images=(N, [C,] H, W) uint8 images "
                           "(and real_images= for the real-data comparison)")
        results["msssim"] = compute_msssim_diversity(seed=seed, **kwargs["msssim"])
    return results
