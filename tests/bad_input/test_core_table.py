"""Bad inputs of ``thoughtlab run``, ``report``, ``runs`` and ``show``: one table each."""

import json
import shutil
from pathlib import Path

import pytest

from thoughtlab.cli import main
from thoughtlab.runs import RESULT_NAME, RunIndex


@pytest.fixture(scope="module")
def done_run(fake_study_path, tmp_path_factory):
    """One complete fake-coin run, made once for the module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(fake_study_path))
        patch.setenv("THOUGHTLAB_STUDIES", "fake_coin_study")
        folder = tmp_path_factory.mktemp("done") / "runs"
        assert main(["run", "fake-coin", "--scale", "smoke", "--runs-dir", str(folder)]) == 0
    return folder


@pytest.fixture
def runs(fake_study, done_run, tmp_path):
    """A copy of the runs folder with one complete fake-coin run (the index's relative paths make copies work)."""
    folder = tmp_path / "runs"
    shutil.copytree(done_run, folder)
    return folder


def result_path(runs: Path) -> Path:
    return next(runs.glob(f"fake-coin/*/{RESULT_NAME}"))


def edit_result(runs: Path, change) -> None:
    path = result_path(runs)
    result = json.loads(path.read_text())
    change(result)
    path.write_text(json.dumps(result))


def corrupt_index(runs: Path) -> None:
    (runs / "index.sqlite").write_bytes(b"SQLite format 3\0" + b"\xff" * 200)


def foreign_index(runs: Path) -> None:
    import sqlite3

    (runs / "index.sqlite").unlink()
    with sqlite3.connect(runs / "index.sqlite") as db:
        db.execute("CREATE TABLE runs (x TEXT)")


def run_id(runs: Path) -> str:
    return result_path(runs).parent.name


def unlink_result(runs: Path) -> list[str]:
    """Remove result.json (a run killed at the end); the argv names the run."""
    path = result_path(runs)
    path.unlink()
    return [path.parent.name]


# setups: (runs folder, tmp_path) -> extra argv; each row of a table: (id, setup, thing, fix)
RUN = [
    ("unknown-study", lambda r, t: ["nope"], "unknown study 'nope'", "choose one of"),
    ("unknown-scale", lambda r, t: ["fake-coin", "--scale", "huge"], "unknown scale 'huge'", "choose one of"),
    ("seeds-0", lambda r, t: ["fake-coin", "--scale", "smoke", "--seeds", "0"], "--seeds", "at least 1"),
    ("seeds-huge", lambda r, t: ["fake-coin", "--scale", "smoke", "--seeds", str(10**9)], "--seeds", "<= 1000"),
    ("seeds-negative", lambda r, t: ["fake-coin", "--scale", "smoke", "--seeds", "-3"], "--seeds", "at least 1"),
    ("seed-negative", lambda r, t: ["fake-coin", "--scale", "smoke", "--seed", "-1"], "--seed", "2**32"),
    ("seed-20-digits", lambda r, t: ["fake-coin", "--scale", "smoke", "--seed", "9" * 20], "--seed", "2**32"),
    ("seed-text", lambda r, t: ["fake-coin", "--scale", "smoke", "--seed", "abc"], "--seed", "--help"),
    ("seed-float", lambda r, t: ["fake-coin", "--scale", "smoke", "--seed", "1.5"], "--seed", "--help"),
    ("last-seed-too-large", lambda r, t: ["fake-coin", "--scale", "smoke", "--seed", str(2**32 - 1), "--seeds", "2"],
     "the last seed", "2**32"),
    ("unknown-device", lambda r, t: ["fake-coin", "--scale", "smoke", "--device", "tpu"], "unknown device 'tpu'",
     "choose one of"),
    ("runs-dir-under-a-file", lambda r, t: ["fake-coin", "--scale", "smoke", "--runs-dir", r / "index.sqlite" / "x"],
     "index.sqlite", "writable --runs-dir"),
    ("runs-dir-is-a-file", lambda r, t: ["fake-coin", "--scale", "smoke", "--runs-dir", r / "index.sqlite"],
     "index.sqlite", "writable --runs-dir"),
    ("corrupt-index", lambda r, t: corrupt_index(r) or ["fake-coin", "--scale", "smoke"], "index.sqlite",
     "move it aside"),
    ("foreign-index", lambda r, t: foreign_index(r) or ["fake-coin", "--scale", "smoke"], "index.sqlite",
     "move it aside"),
    ("missing-study-argument", lambda r, t: [], "study", "--help"),
]


def with_runs_dir(argv: list, runs: Path) -> list:
    return argv if "--runs-dir" in argv else [*argv, "--runs-dir", runs]


@pytest.mark.parametrize("setup, thing, fix", [row[1:] for row in RUN], ids=[row[0] for row in RUN])
def test_run_refuses(runs, tmp_path, refuse, setup, thing, fix):
    argv = setup(runs, tmp_path)
    before = sorted(p.name for p in (runs / "fake-coin").iterdir())
    refuse(["run", *with_runs_dir(argv, runs)], thing, fix)
    assert sorted(p.name for p in (runs / "fake-coin").iterdir()) == before, "a refused run left a run folder"


REPORT = [
    ("out-is-a-file", lambda r, t: ["--scale", "smoke", "--out", r / "index.sqlite"], "--out", "pass a folder"),
    ("out-under-a-file", lambda r, t: ["--scale", "smoke", "--out", r / "index.sqlite" / "rep"], "index.sqlite",
     "folder path"),
    ("unknown-study", lambda r, t: ["--only", "nope", "--out", t / "rep"], "unknown study 'nope'", "choose one of"),
    ("unknown-scale", lambda r, t: ["--scale", "huge", "--out", t / "rep"], "unknown scale 'huge'", "choose one of"),
    ("seed-negative", lambda r, t: ["--seed", "-1", "--out", t / "rep"], "--seed", "2**32"),
    ("seed-huge", lambda r, t: ["--seed", str(2**32), "--out", t / "rep"], "--seed", "2**32"),
    ("corrupt-index", lambda r, t: corrupt_index(r) or ["--scale", "smoke", "--only", "fake-coin", "--out", t / "rep"],
     "index.sqlite", "move it aside"),
    ("result-lacks-claims", lambda r, t: edit_result(r, lambda x: x.pop("claims")) or
     ["--scale", "smoke", "--only", "fake-coin", "--out", t / "rep"], "lacks 'claims'", "run the study again"),
    ("result-not-json", lambda r, t: (result_path(r).write_text("{"),
                                      ["--scale", "smoke", "--only", "fake-coin", "--out", t / "rep"])[1],
     "result.json", "run it again"),
    ("result-metric-lacks-mean", lambda r, t: edit_result(r, lambda x: x["metrics"]["heads"].pop("mean")) or
     ["--scale", "smoke", "--only", "fake-coin", "--out", t / "rep"], "metrics['heads']", "run the study again"),
    ("figure-missing", lambda r, t: next(r.glob("fake-coin/*/figures/heads.png")).unlink() or
     ["--scale", "smoke", "--only", "fake-coin", "--out", t / "rep"], "heads.png", "check the path"),
    ("runs-dir-under-a-file", lambda r, t: ["--scale", "smoke", "--runs-dir", r / "index.sqlite" / "x",
                                            "--out", t / "rep"], "index.sqlite", "writable --runs-dir"),
]


@pytest.mark.parametrize("setup, thing, fix", [row[1:] for row in REPORT], ids=[row[0] for row in REPORT])
def test_report_refuses(runs, tmp_path, refuse, setup, thing, fix):
    argv = setup(runs, tmp_path)
    refuse(["report", *with_runs_dir(argv, runs)], thing, fix)
    assert not (tmp_path / "rep").exists(), "a refused report left a report folder"


RUNS = [
    ("corrupt-index", lambda r, t: corrupt_index(r) or [], "index.sqlite", "move it aside"),
    ("foreign-index", lambda r, t: foreign_index(r) or [], "index.sqlite", "move it aside"),
    ("runs-dir-is-a-file", lambda r, t: ["--runs-dir", r / "index.sqlite"], "index.sqlite", "pass the folder"),
    ("unknown-scale", lambda r, t: ["--scale", "huge"], "unknown scale 'huge'", "choose one of"),
    ("index-is-a-folder", lambda r, t: (r / "index.sqlite").unlink() or (r / "index.sqlite").mkdir() or [],
     "index.sqlite", "another --runs-dir"),
]


@pytest.mark.parametrize("setup, thing, fix", [row[1:] for row in RUNS], ids=[row[0] for row in RUNS])
def test_runs_refuses(runs, tmp_path, refuse, setup, thing, fix):
    refuse(["runs", *with_runs_dir(setup(runs, tmp_path), runs)], thing, fix)


SHOW = [
    ("unknown-run", lambda r, t: ["nothing"], "no run", "thoughtlab runs"),
    ("ambiguous-prefix", lambda r, t: [""], "2 runs", "thoughtlab runs"),
    ("runs-dir-missing", lambda r, t: [run_id(r), "--runs-dir", t / "none"], "does not exist", "pass --runs-dir"),
    ("corrupt-index", lambda r, t: [run_id(r)] if corrupt_index(r) is None else [], "index.sqlite", "move it aside"),
    ("runs-dir-is-a-file", lambda r, t: [run_id(r), "--runs-dir", r / "index.sqlite"], "is a file",
     "pass the folder"),
    ("result-verdict-unknown", lambda r, t: edit_result(r, lambda x: x["claims"][0].update(verdict="maybe")) or
     [run_id(r)], "verdict 'maybe'", "run the study again"),
    ("result-lacks-study", lambda r, t: edit_result(r, lambda x: x.pop("study")) or [run_id(r)], "lacks 'study'",
     "run the study again"),
    ("result-claim-lacks-verdict", lambda r, t: edit_result(r, lambda x: x["claims"][0].pop("verdict")) or
     [run_id(r)], "claims[0] lacks 'verdict'", "run the study again"),
    ("result-is-a-list", lambda r, t: (result_path(r).write_text("[]"), [run_id(r)])[1], "holds a list",
     "run the study again"),
    ("result-not-json", lambda r, t: (result_path(r).write_text("{"), [run_id(r)])[1], "not valid JSON",
     "run it again"),
    ("result-duration-string", lambda r, t: edit_result(r, lambda x: x.update(duration_s="1 s")) or [run_id(r)],
     "duration_s", "run the study again"),
    ("result-figures-lack-file", lambda r, t: edit_result(r, lambda x: x.update(figures=[{}])) or [run_id(r)],
     "figures[0]", "run the study again"),
    ("run-not-complete", lambda r, t: unlink_result(r), "not complete", "rerun it"),
]


@pytest.mark.parametrize("setup, thing, fix", [row[1:] for row in SHOW], ids=[row[0] for row in SHOW])
def test_show_refuses(runs, tmp_path, refuse, fake_study, setup, thing, fix, capsys):
    if fix == "thoughtlab runs" and thing == "2 runs":  # a second run makes the empty prefix ambiguous
        assert main(["run", "fake-coin", "--scale", "smoke", "--runs-dir", str(runs)]) == 0
        capsys.readouterr()
    refuse(["show", *with_runs_dir(setup(runs, tmp_path), runs)], thing, fix)


def test_the_index_stores_paths_relative_to_the_runs_folder_so_a_moved_folder_works(runs, tmp_path, capsys):
    moved = tmp_path / "moved"
    runs.rename(moved)
    (row,) = RunIndex(moved).rows()
    assert Path(row.path).parent.parent == moved and row.complete
    assert main(["show", row.run_id, "--runs-dir", str(moved)]) == 0
    assert str(moved) in capsys.readouterr().out
