import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from thoughtlab.cli import main
from thoughtlab.runs import RunIndex, read_json

COMMANDS = ["list", "run", "report", "runs", "show", "oracle"]


def cli(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "thoughtlab.cli", *args], capture_output=True, text=True, env=env, **kw)


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS]])
def test_help_on_every_command(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    assert "usage: thoughtlab" in capsys.readouterr().out


def test_list_shows_studies_and_claims(fake_study, capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "fake-coin" in out and "The coin is fair." in out and "criterion:" in out


def test_run_runs_show(fake_study, tmp_path, capsys):
    runs = str(tmp_path / "runs")
    assert main(["run", "fake-coin", "--scale", "smoke", "--seed", "4", "--seeds", "2", "--runs-dir", runs]) == 0
    out = capsys.readouterr().out
    assert "fake-coin (smoke, seeds [4, 5]" in out
    assert main(["runs", "--runs-dir", runs]) == 0
    table = capsys.readouterr().out
    assert "complete" in table and "fake-coin" in table
    run_id = RunIndex(Path(runs)).rows()[0].run_id
    assert main(["show", run_id, "--runs-dir", runs]) == 0
    shown = capsys.readouterr().out
    assert "criterion:" in shown and "heads =" in shown and "sd over 2 seeds" in shown


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "no-such-study"], "unknown study 'no-such-study'"),
        (["run", "fake-coin", "--scale", "huge"], "unknown scale 'huge'"),
        (["run", "fake-coin", "--scale", "smoke", "--seeds", "0"], "--seeds must be at least 1"),
        (["run", "fake-coin", "--device", "tpu"], "unknown device 'tpu'"),
        (["report", "--only", "nope"], "unknown study 'nope'"),
        (["show", "nothing"], "no run"),
    ],
)
def test_user_errors_exit_2_with_one_line(fake_study, tmp_path, capsys, args, message):
    assert main([*args, "--runs-dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_unwritable_runs_dir_exits_2(fake_study, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["run", "fake-coin", "--scale", "smoke", "--runs-dir", str(tmp_path / "file" / "runs")]) == 2
    assert "pass a writable --runs-dir" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present here")
def test_cuda_asked_but_absent_exits_2(fake_study, tmp_path, capsys):
    assert main(["run", "fake-coin", "--scale", "smoke", "--device", "cuda", "--runs-dir", str(tmp_path)]) == 2
    assert "cuda" in capsys.readouterr().err.lower()


def test_runs_on_empty_dir(tmp_path, capsys):
    assert main(["runs", "--runs-dir", str(tmp_path / "none")]) == 0
    assert "no runs" in capsys.readouterr().out


def test_killed_run_is_never_complete_and_report_redoes_it(fake_study, tmp_path):
    """SIGKILL a run midway: it shows as interrupted; the next report runs it again."""
    runs = tmp_path / "runs"
    env = dict(os.environ, FAKE_SLEEP="60")
    proc = subprocess.Popen(
        [sys.executable, "-m", "thoughtlab.cli", "run", "fake-coin", "--scale", "smoke", "--runs-dir", str(runs)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while not list(runs.glob("fake-coin/*/config.json")) and time.time() < deadline:
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    (killed,) = RunIndex(runs).rows()
    assert killed.shown_status == "interrupted" and not killed.complete
    assert "interrupted" in cli("runs", "--runs-dir", str(runs)).stdout

    out = tmp_path / "report"
    done = cli("report", "--scale", "smoke", "--only", "fake-coin", "--runs-dir", str(runs), "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = RunIndex(runs).rows()
    assert [r.shown_status for r in rows] == ["complete", "interrupted"]
    report = read_json(out / "report.json")
    assert [s["run_id"] for s in report["studies"]] == [rows[0].run_id]
    # A second report reuses the completed run instead of running again.
    assert cli("report", "--scale", "smoke", "--only", "fake-coin", "--runs-dir", str(runs), "--out", str(out)).returncode == 0
    assert len(RunIndex(runs).rows()) == 2
