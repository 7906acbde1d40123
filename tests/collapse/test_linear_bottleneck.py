import pytest

from thoughtlab.collapse.linear_bottleneck import DATASETS, STUDY, VARIANTS
from thoughtlab.runs import LocalContext
from thoughtlab.study import Outcome, verdicts


def smoke_run(tmp_path, seed=0):
    return STUDY.run(STUDY.config("smoke"), LocalContext(seed=seed, scale="smoke", run_dir=tmp_path))


def test_smoke_end_to_end(tmp_path, figures):
    cfg = STUDY.config("smoke")
    outcome = smoke_run(tmp_path)
    for key, value in outcome.metrics.items():
        assert isinstance(value, float) and value == value, key
    for dataset in ("digits", "mnist5k"):
        for width in cfg.widths:
            for variant in VARIANTS:
                acc = outcome.metrics[f"acc.{dataset}.w{width}.{variant}"]
                assert 0.0 <= acc <= 100.0
                for f in (0.25, 0.5, 0.75):
                    assert len(outcome.items[f"correct.{dataset}.w{width}.{variant}@{f:g}"]) == len(
                        outcome.items[f"correct.{dataset}.w{width}.{variant}"])
        gap = outcome.metrics[f"acc.{dataset}.w3.linear"] - outcome.metrics[f"acc.{dataset}.w3.relu6"]
        assert abs(outcome.metrics[f"gap.{dataset}.w3"] - gap) < 1e-9
    records = verdicts(STUDY, [outcome])
    assert [r["ledger"] for r in records] == [["c5"], ["c5"]]
    assert all(len(r["curve"]) == 4 for r in records)
    STUDY.plot(cfg, [outcome, outcome], figures)
    STUDY.plot(cfg, [outcome], figures)
    assert set(figures.saved) == {"accuracy_by_width", "gap_by_width"}
    assert (tmp_path / "metrics.jsonl").exists()


def test_smoke_is_deterministic(tmp_path):
    a, b = smoke_run(tmp_path / "a", seed=3), smoke_run(tmp_path / "b", seed=3)
    assert a.metrics == b.metrics and a.items == b.items


def outcome(linear_narrow, relu_narrow, linear_wide, relu_wide, curve_shift=0.0, n=200):
    """Per-image correctness with the given accuracies (first k images correct); ReLU6 lags by ``curve_shift·(1−f)`` at f."""
    def correct(acc):
        k = round(acc * n)
        return [1.0] * k + [0.0] * (n - k)

    items = {}
    for d in DATASETS:
        for w, lin, relu in ((3, linear_narrow, relu_narrow), (24, linear_wide, relu_wide)):
            for variant, acc in (("linear", lin), ("relu6", relu)):
                items[f"correct.{d}.w{w}.{variant}"] = correct(acc)
                for f in (0.25, 0.5, 0.75):
                    shift = curve_shift * (1 - f) if variant == "relu6" else 0.0  # ReLU6 still learning
                    items[f"correct.{d}.w{w}.{variant}@{f:g}"] = correct(max(acc - shift, 0))
    return Outcome({}, items=items)


@pytest.mark.parametrize(
    "accs, expected",
    [
        ((0.95, 0.85, 0.97, 0.96), ("supported", "supported")),  # linear better, more so when narrow
        ((0.90, 0.90, 0.96, 0.96), ("inconclusive", "inconclusive")),  # exact tie: strictly better is not shown
        ((0.85, 0.95, 0.96, 0.97), ("refuted", "refuted")),  # ReLU better, more so when narrow (plateaued)
        ((0.95, 0.85, 0.70, 0.70), ("inconclusive", "inconclusive")),  # control fails: wide twins < 80 %
    ],
)
def test_decision_rules_on_known_inputs(accs, expected):
    records = verdicts(STUDY, [outcome(*accs) for _ in range(3)])
    assert tuple(r["verdict"] for r in records) == expected


def test_refutation_needs_a_plateau():
    records = verdicts(STUDY, [outcome(0.85, 0.95, 0.96, 0.97, curve_shift=0.4) for _ in range(3)])
    assert records[0]["verdict"] == "inconclusive" and "still changing" in records[0]["reason"]
