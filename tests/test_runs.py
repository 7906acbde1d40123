import json
import os

import pytest

from thoughtlab.errors import UserError
from thoughtlab.fileio import atomic_write_json
from thoughtlab.runs import RunIndex, RunRow, load_result, prepare_runs_dir, read_json


def row(tmp_path, run_id, status="complete", started=1.0):
    path = tmp_path / "s" / run_id
    path.mkdir(parents=True, exist_ok=True)
    return RunRow(run_id, "s", "smoke", "0", "cpu", status, started, 1.0, "supported", str(path))


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a" / "x.json"
    atomic_write_json(target, {"v": 1})
    atomic_write_json(target, {"v": 2})
    assert read_json(target) == {"v": 2}
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_atomic_write_gives_normal_permissions(tmp_path):
    atomic_write_json(tmp_path / "x.json", {})
    assert (tmp_path / "x.json").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask():
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "x.json"
    atomic_write_json(target, {"v": 1})
    with pytest.raises(ValueError):
        atomic_write_json(target, {"v": float("nan")})
    assert read_json(target) == {"v": 1}
    assert len(list(tmp_path.iterdir())) == 1


def test_read_json_errors_name_the_file(tmp_path):
    with pytest.raises(UserError, match="missing.json does not exist"):
        read_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(UserError, match="bad.json is not valid JSON"):
        read_json(tmp_path / "bad.json")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_runs_dir(tmp_path):
    tmp_path.chmod(0o500)
    with pytest.raises(UserError, match="cannot write to runs dir"):
        prepare_runs_dir(tmp_path / "runs")


def test_runs_dir_under_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="pass a writable --runs-dir"):
        prepare_runs_dir(tmp_path / "file" / "runs")


def test_index_lists_newest_first_and_checks_result_json(tmp_path):
    index = RunIndex(tmp_path)
    old, new = row(tmp_path, "r-old", started=1.0), row(tmp_path, "r-new", started=2.0)
    index.add(old)
    index.add(new)
    assert [r.run_id for r in index.rows()] == ["r-new", "r-old"]
    # "complete" in the index but no result.json: not trusted.
    assert index.latest_complete("s", "smoke") is None
    assert index.rows()[0].shown_status == "interrupted"
    atomic_write_json(tmp_path / "s" / "r-old" / "result.json", {"ok": True})
    assert index.latest_complete("s", "smoke").run_id == "r-old"
    with pytest.raises(UserError, match="lacks 'study'"):
        load_result(index.find("r-o"))
    minimal = {"study": "s", "scale": "smoke", "seeds": [0], "duration_s": 1.0, "claims": [], "metrics": {},
               "figures": []}
    atomic_write_json(tmp_path / "s" / "r-old" / "result.json", minimal)
    assert load_result(index.find("r-o")) == minimal


def test_running_row_without_live_process_is_interrupted(tmp_path):
    index = RunIndex(tmp_path)
    r = row(tmp_path, "r-run", status="running")
    (tmp_path / "s" / "r-run" / ".pid").write_text("999999999")
    index.add(r)
    assert index.rows()[0].shown_status == "interrupted"
    (tmp_path / "s" / "r-run" / ".pid").write_text(str(os.getpid()))
    assert index.rows()[0].shown_status == "running"
    with pytest.raises(UserError, match="not complete"):
        load_result(index.rows()[0])


def test_find_needs_a_unique_prefix(tmp_path):
    index = RunIndex(tmp_path)
    index.add(row(tmp_path, "r-1"))
    index.add(row(tmp_path, "r-2"))
    with pytest.raises(UserError, match="2 runs"):
        index.find("r-")
    with pytest.raises(UserError, match="no run"):
        index.find("zzz")
    assert index.find("r-2").run_id == "r-2"


def test_index_is_plain_sqlite(tmp_path):
    import sqlite3

    RunIndex(tmp_path).add(row(tmp_path, "r-1"))
    with sqlite3.connect(tmp_path / "index.sqlite") as db:
        assert db.execute("SELECT study, status FROM runs").fetchall() == [("s", "complete")]
    json.dumps(RunIndex(tmp_path).rows()[0].__dict__)
