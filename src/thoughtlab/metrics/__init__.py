"""Generative-model evaluation on feature arrays: FID, KID, k-NN precision/recall/density/coverage,
realism, PRD, the Inception Score and the Geometry Score, plus MS-SSIM diversity on images, each
seeded and returned with the protocol used.  Skill rating (``play_tournament``) plays snapshots
against each other rather than comparing two sample sets, so it is not part of ``evaluate``.

Example::

    from thoughtlab.metrics import evaluate, evaluate_sources
    results = evaluate(real_features, fake_features, metrics=["fid", "kid", "pr", "dc"], seed=0)
    results["fid"]["value"], results["kid"]["std"], results["precision"]["protocol"]["k"]
    # the same dict from images: folders, arrays, saved statistics or a generator sample(n)
    results = evaluate_sources("real_images/", sample, samples=1000, metrics=["fid", "pr"],
                               extractor="digit-cnn", cache_dir="~/.cache/features")
"""

from __future__ import annotations

from thoughtlab.metrics.checks import SmallSampleWarning
from thoughtlab.metrics.fid import (
    FidStats,
    compute_fid,
    feature_stats,
    frechet_distance,
    load_stats,
    save_stats,
)
from thoughtlab.metrics.geometry import (
    compute_geometry_score,
    compute_rlts,
    geometry_score_from_rlts,
)
from thoughtlab.metrics.inception_score import compute_inception_score
from thoughtlab.metrics.kid import compute_kid
from thoughtlab.metrics.knn import compute_knn
from thoughtlab.metrics.msssim import compute_msssim_diversity, ms_ssim
from thoughtlab.metrics.prd import (
    compute_prd,
    compute_prd_from_features,
    prd_to_max_f_beta_pair,
)
from thoughtlab.metrics.skill import (
    Rating,
    glicko2_update,
    play_tournament,
    plot_skill,
    rate_period,
)
from thoughtlab.metrics.sources import Comparison, compare_sources, evaluate_sources
from thoughtlab.metrics.suite import METRICS, OPTIONS, evaluate

__all__ = [
    "METRICS",
    "OPTIONS",
    "Comparison",
    "FidStats",
    "Rating",
    "SmallSampleWarning",
    "compare_sources",
    "compute_fid",
    "compute_geometry_score",
    "compute_inception_score",
    "compute_kid",
    "compute_knn",
    "compute_msssim_diversity",
    "compute_prd",
    "compute_prd_from_features",
    "compute_rlts",
    "evaluate",
    "evaluate_sources",
    "feature_stats",
    "frechet_distance",
    "geometry_score_from_rlts",
    "glicko2_update",
    "load_stats",
    "ms_ssim",
    "play_tournament",
    "plot_skill",
    "prd_to_max_f_beta_pair",
    "rate_period",
    "save_stats",
]
