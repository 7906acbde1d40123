"""The relu-collapse study through the study contract, at smoke scale."""

import dataclasses
import json
import math

import pytest
import torch

from thoughtlab.collapse import manifolds as mf
from thoughtlab.collapse.relu_collapse import STUDY, Config, measure_width
from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.runs import FigureDir, LocalContext
from thoughtlab.study import verdicts


@pytest.fixture(scope="module")
def smoke_outcome(tmp_path_factory):
    ctx = LocalContext(seed=0, scale="smoke", run_dir=tmp_path_factory.mktemp("relu_collapse"))
    return STUDY.run(STUDY.config("smoke"), ctx)


def test_smoke_run_plot_and_verdicts(smoke_outcome, tmp_path):
    outcome = smoke_outcome
    assert all(isinstance(v, float) and math.isfinite(v) for v in outcome.metrics.values())
    assert set(outcome.spread) <= set(outcome.metrics)
    json.dumps(outcome.data)
    for claim in STUDY.claims:
        assert set(claim.measures) <= set(outcome.metrics)
    records = verdicts(STUDY, [outcome])
    assert [r["kind"] for r in records] == ["empirical", "empirical", "check", "check", "check"]
    assert [r["verdict"] for r in records][2:4] == ["holds", "holds"]  # algebra holds at any scale (the binomial gap needs draws)
    figures = FigureDir(tmp_path / "figures")
    STUDY.plot(STUDY.config("smoke"), [outcome, outcome], figures)
    names = {entry["file"] for entry in figures.saved}
    assert names == {"figures/panels.png", "figures/metrics_spiral.png", "figures/metrics_circle.png"}
    assert all((tmp_path / name).stat().st_size > 0 for name in names)


def test_smoke_controls_behave(smoke_outcome):
    m = smoke_outcome.metrics
    for manifold in ("spiral", "circle"):
        assert m[f"{manifold}.identity.unrecoverable.max"] == 0.0
        assert m[f"{manifold}.leaky_relu.unrecoverable.max"] == 0.0
        assert m[f"{manifold}.relu.unrecoverable.n2"] > m[f"{manifold}.relu.unrecoverable.n15"]


def test_same_seed_same_metrics(tmp_path):
    cfg = dataclasses.replace(STUDY.config("smoke"), draws=3, points=60, knn_queries=20, chunk=3)
    first, again, other = (
        STUDY.run(cfg, LocalContext(seed=seed, scale="smoke", run_dir=tmp_path / name))
        for seed, name in ((0, "a"), (0, "b"), (1, "c"))
    )
    assert first.metrics == again.metrics and first.data == again.data
    assert other.metrics["spiral.relu.r2.n2"] != first.metrics["spiral.relu.r2.n2"]
    fewer = dataclasses.replace(cfg, dims=(2, 3, 15, 30, 50), panel_dims=(2,))
    subset = STUDY.run(fewer, LocalContext(seed=0, scale="smoke", run_dir=tmp_path / "d"))
    shared = {k: v for k, v in subset.metrics.items() if ".n" in k and "formula" not in k}
    assert shared == {k: first.metrics[k] for k in shared}  # draws at n do not depend on the other widths


def test_batched_measures_match_the_reference_map():
    cfg = Config(draws=6, points=60, chunk=4, knn_queries=20)
    x = mf.manifold_points("circle", cfg.points, 0)[0]
    T = mf.gaussian_embeddings(cfg.draws, 5, torch.Generator().manual_seed(0))
    queries = mf.query_indices(cfg.points, cfg.knn_queries)
    neighbours = mf.input_neighbours(x, cfg.knn_k, queries)
    results = measure_width(cfg, x, T, neighbours, queries)
    _, y = mf.lift_and_reconstruct(x, T, torch.relu)
    assert torch.allclose(results["relu"]["per_draw"]["r2"], mf.affine_r2(y, x))
    assert torch.equal(results["relu"]["per_draw"]["knn"], mf.knn_preservation(y, neighbours, queries))


@pytest.mark.parametrize(
    "change, error",
    [
        ({"dims": (1, 2, 3, 15, 30, 50)}, BadInput),
        ({"dims": (2, 3, 5)}, BadInput),
        ({"draws": 1}, BadInput),
        ({"activations": ("relu", "swish")}, UnknownName),
        ({"manifolds": ("spiral", "torus")}, UnknownName),
        ({"manifolds": ("spiral",)}, BadInput),
    ],
)
def test_bad_configs_raise_user_errors(change, error, tmp_path):
    cfg = dataclasses.replace(STUDY.config("smoke"), **change)
    with pytest.raises(error):
        STUDY.run(cfg, LocalContext(seed=0, scale="smoke", run_dir=tmp_path))


def known_views(knn_small, knn_wide, identity_r2=1.0, regime_err=0.0, gap=0.0, draws=50):
    """Metrics and items with the given per-draw kNN preservation at small and wide n."""
    from thoughtlab.study import Outcome

    items, metrics = {}, {}
    for m in ("spiral", "circle"):
        for n in (2, 3):
            items[f"{m}.relu.knn.n{n}"] = [knn_small] * (draws - 1) + [knn_small + 0.01]
        for n in (15, 30, 50):
            items[f"{m}.relu.knn.n{n}"] = [knn_wide] * (draws - 1) + [min(knn_wide + 0.01, 1.0)]
        metrics |= {f"{m}.identity.r2.min": identity_r2, f"{m}.relu.linear_regime.max_rel_err": regime_err,
                    f"{m}.relu.formula_gap.max": gap}
    return Outcome(metrics, items=items)


@pytest.mark.parametrize(
    "knn_small, knn_wide, expected",
    [
        (0.5, 0.97, ("supported", "supported")),    # half the neighbours lost at n≤3; 97 % kept at n≥15
        (0.8, 0.85, ("inconclusive", "inconclusive")),  # 20 % lost (between 0.10 and 0.25); 85 % kept
        (0.95, 0.6, ("refuted", "refuted")),        # barely any loss at n≤3; most lost at n≥15
    ],
)
def test_empirical_rules_on_known_inputs(knn_small, knn_wide, expected):
    records = verdicts(STUDY, [known_views(knn_small, knn_wide)])
    assert tuple(r["verdict"] for r in records[:2]) == expected


def test_checks_fail_on_broken_algebra():
    records = verdicts(STUDY, [known_views(0.5, 0.97, identity_r2=0.99, regime_err=1e-6, gap=0.2)])
    assert [r["verdict"] for r in records[2:]] == ["fails", "fails", "fails"]
