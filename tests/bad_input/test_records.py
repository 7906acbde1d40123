"""Writes that must not lie: atomic statistics, Ctrl-C recorded as interrupted, a reused PID, a moved folder."""

import os
from pathlib import Path

import numpy as np
import pytest

from thoughtlab.cli import main
from thoughtlab.metrics.fid import FidStats, load_stats, save_stats
from thoughtlab.runs import PID_NAME, RunIndex, RunRow, process_start_time, write_pid_file


def test_save_stats_is_atomic(tmp_path, monkeypatch):
    """A crash while writing leaves the previous statistics file whole (and no temporary file)."""
    path = tmp_path / "s.npz"
    save_stats(FidStats(np.zeros(3), np.eye(3), n=10), path)

    def crash(handle, **arrays):
        handle.write(b"PK\x03\x04 torn")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save_stats(FidStats(np.ones(3), 2 * np.eye(3), n=20), path)
    monkeypatch.undo()
    assert load_stats(path).n == 10 and sorted(p.name for p in tmp_path.iterdir()) == ["s.npz"]


def test_ctrl_c_is_recorded_as_interrupted_not_failed(fake_study, tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    import thoughtlab.runner as runner

    monkeypatch.setattr(runner, "verdicts", interrupted)
    assert main(["run", "fake-coin", "--scale", "smoke", "--runs-dir", str(tmp_path)]) == 130
    (row,) = RunIndex(tmp_path).rows()
    assert row.status == "interrupted" and row.shown_status == "interrupted"
    assert capsys.readouterr().err == "thoughtlab: interrupted\n"


def test_a_reused_pid_does_not_make_a_dead_run_look_running(tmp_path):
    run = tmp_path / "s" / "r1"
    run.mkdir(parents=True)
    RunIndex(tmp_path).add(RunRow("r1", "s", "smoke", "0", "cpu", "running", 1.0, None, "", str(run)))
    write_pid_file(run)
    assert RunIndex(tmp_path).rows()[0].shown_status == "running"
    if process_start_time(os.getpid()) is None:
        pytest.skip("no /proc start times here")
    (run / PID_NAME).write_text(f"{os.getpid()} 1")  # this PID, but a process started at another time
    assert RunIndex(tmp_path).rows()[0].shown_status == "interrupted"


def test_old_absolute_paths_still_resolve_after_a_move(tmp_path):
    """Rows written with absolute paths (before paths were relative) fall back to runs_dir/study/run_id."""
    import sqlite3

    old = tmp_path / "old"
    (old / "s" / "r1").mkdir(parents=True)
    index = RunIndex(old)
    with sqlite3.connect(index.path) as db:
        db.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?)",
                   ("r1", "s", "smoke", "0", "cpu", "complete", 1.0, 1.0, "", str(old / "s" / "r1")))
    old.rename(tmp_path / "new")
    (row,) = RunIndex(tmp_path / "new").rows()
    assert Path(row.path) == tmp_path / "new" / "s" / "r1"


def test_a_failed_atomic_write_names_the_destination(tmp_path):
    from thoughtlab.fileio import atomic_writer

    with pytest.raises(OSError) as caught:
        with atomic_writer(tmp_path / "out.json"):
            raise OSError(28, "No space left on device")
    assert caught.value.filename == str(tmp_path / "out.json") and list(tmp_path.iterdir()) == []
