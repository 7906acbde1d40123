import json

import pytest

from thoughtlab.errors import BadInput
from thoughtlab.runner import execute
from thoughtlab.runs import RunIndex, read_json
from thoughtlab.study import Outcome


def test_execute_writes_a_complete_record(fake_study, tmp_path):
    run_dir = execute(fake_study, "smoke", [0, 1], tmp_path, "cpu")
    config = read_json(run_dir / "config.json")
    assert config["study"] == "fake-coin" and config["seeds"] == [0, 1] and config["scale"] == "smoke"
    assert config["config"] == {"flips": 2000}
    assert {"torch", "numpy", "python", "thoughtlab"} <= set(config["versions"])
    assert "git_commit" in config and config["device"] == "cpu"
    result = read_json(run_dir / "result.json")
    heads = result["metrics"]["heads"]
    assert len(heads["per_seed"]) == 2 and heads["n"] == 2
    assert heads["mean"] == pytest.approx(sum(heads["per_seed"]) / 2)
    assert len(heads["spread"]) == 2 and heads["spread_kind"]
    assert result["claims"][0]["verdict"] in {"supported", "refuted", "inconclusive"}
    claim = result["claims"][0]
    assert claim["effect"]["n"] == 2 and claim["ledger"] == ["c1"] and len(claim["criterion_hash"]) == 16
    assert claim["criterion_commit"] and "git_dirty" in result and "git_dirty" in config
    assert (run_dir / "figures" / "heads.png").read_bytes()[:4] == b"\x89PNG"
    lines = [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert sorted(l["seed"] for l in lines) == [0, 0, 0, 1, 1, 1]  # seeds run in parallel processes
    assert result["duration_s"] >= 0
    (row,) = RunIndex(tmp_path).rows()
    assert row.complete and row.status == "complete" and row.verdicts == result["claims"][0]["verdict"]


def test_parallel_seeds_give_the_sequential_numbers(fake_study, tmp_path, monkeypatch):
    parallel = read_json(execute(fake_study, "smoke", [0, 1], tmp_path, "cpu") / "result.json")
    monkeypatch.setenv("THOUGHTLAB_WORKERS", "1")
    sequential = read_json(execute(fake_study, "smoke", [0, 1], tmp_path, "cpu") / "result.json")
    assert parallel["metrics"] == sequential["metrics"] and parallel["claims"] == sequential["claims"]


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_bad_worker_count_is_a_user_error(fake_study, tmp_path, monkeypatch, value):
    from thoughtlab.errors import UserError

    monkeypatch.setenv("THOUGHTLAB_WORKERS", value)
    with pytest.raises(UserError, match="THOUGHTLAB_WORKERS"):
        execute(fake_study, "smoke", [0, 1], tmp_path, "cpu")


def test_same_seed_same_numbers(fake_study, tmp_path):
    a = read_json(execute(fake_study, "smoke", [3], tmp_path, "cpu") / "result.json")
    b = read_json(execute(fake_study, "smoke", [3], tmp_path, "cpu") / "result.json")
    assert a["metrics"] == b["metrics"] and a["data"] == b["data"]


def test_failing_study_is_marked_failed(fake_study, tmp_path, monkeypatch):
    import dataclasses

    def broken(cfg, ctx):
        raise RuntimeError("boom")

    study = dataclasses.replace(fake_study, run=broken)
    with pytest.raises(RuntimeError, match="boom"):
        execute(study, "smoke", [0], tmp_path, "cpu")
    (row,) = RunIndex(tmp_path).rows()
    assert row.status == "failed" and not row.complete


def test_nan_metric_is_refused(fake_study, tmp_path):
    import dataclasses

    study = dataclasses.replace(fake_study, run=lambda cfg, ctx: Outcome({"heads": float("nan"), "flips": 1.0}))
    with pytest.raises(BadInput, match="heads"):
        execute(study, "smoke", [0], tmp_path, "cpu")
    assert not RunIndex(tmp_path).rows()[0].complete


def test_seeds_run_at_once_up_to_four_per_core(monkeypatch):
    from thoughtlab.runner import seed_workers
    monkeypatch.delenv("THOUGHTLAB_WORKERS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert [seed_workers(n) for n in (1, 3, 5, 8, 12)] == [1, 3, 5, 8, 8]
    monkeypatch.setenv("THOUGHTLAB_WORKERS", "2")
    assert seed_workers(5) == 2


def test_provenance_is_the_code_at_the_start_of_the_run(fake_study, tmp_path, monkeypatch):
    """A commit made while a run is going must not be recorded as the code that produced it."""
    import thoughtlab.runner as runner

    commits = iter(["aaaa", "bbbb", "cccc", "dddd"])
    monkeypatch.setattr(runner, "git_commit", lambda: next(commits))
    monkeypatch.setattr(runner, "criterion_commit", lambda claim: next(commits))
    monkeypatch.setenv("THOUGHTLAB_WORKERS", "1")
    run_dir = execute(fake_study, "smoke", [0], tmp_path, "cpu")
    config, result = read_json(run_dir / "config.json"), read_json(run_dir / "result.json")
    assert config["git_commit"] == result["git_commit"] == "aaaa"
    assert result["claims"][0]["criterion_commit"] == "bbbb"
