import time


from thoughtlab.collapse.linear_bottleneck import STUDY
from thoughtlab.runs import LocalContext


def smoke_run(tmp_path, seed=0):
    return STUDY.run(STUDY.config("smoke"), LocalContext(seed=seed, scale="smoke", run_dir=tmp_path))


def test_smoke_end_to_end(tmp_path, figures):
    start = time.perf_counter()
    cfg = STUDY.config("smoke")
    outcome = smoke_run(tmp_path)
    for key, value in outcome.metrics.items():
        assert isinstance(value, float) and value == value, key
    for dataset in ("digits", "mnist5k"):
        for width in cfg.widths:
            for variant in ("linear", "relu6"):
                assert 0.0 <= outcome.metrics[f"acc.{dataset}.w{width}.{variant}"] <= 100.0
        gap = outcome.metrics[f"acc.{dataset}.w3.linear"] - outcome.metrics[f"acc.{dataset}.w3.relu6"]
        assert abs(outcome.metrics[f"gap.{dataset}.w3"] - gap) < 1e-9
        assert outcome.metrics[f"growth.{dataset}"] == (
            outcome.metrics[f"gap.{dataset}.narrow"] - outcome.metrics[f"gap.{dataset}.wide"])
    for claim in STUDY.claims:
        assert set(claim.measures) <= set(outcome.metrics)
        assert claim.decide(outcome.metrics) in ("supported", "refuted", "inconclusive")
    STUDY.plot(cfg, [outcome, outcome], figures)
    STUDY.plot(cfg, [outcome], figures)
    assert set(figures.saved) == {"accuracy_by_width", "gap_by_width"}
    assert (tmp_path / "metrics.jsonl").exists()
    assert time.perf_counter() - start < 30


def test_smoke_is_deterministic(tmp_path):
    assert smoke_run(tmp_path / "a", seed=3).metrics == smoke_run(tmp_path / "b", seed=3).metrics


def test_criteria_decide_as_written():
    gaps = dict.fromkeys(STUDY.claims[0].measures, 0.0)
    at_least, grows = STUDY.claims
    assert at_least.decide(gaps) == "supported"
    assert at_least.decide({**gaps, "gap.digits.narrow": -6.0}) == "refuted"
    assert at_least.decide({**gaps, "gap.digits.narrow": -3.0}) == "inconclusive"
    assert grows.decide({"growth.digits": 3.0, "growth.mnist5k": 0.5}) == "supported"
    assert grows.decide({"growth.digits": 3.0, "growth.mnist5k": -0.5}) == "inconclusive"
    assert grows.decide({"growth.digits": 0.0, "growth.mnist5k": -0.5}) == "refuted"
