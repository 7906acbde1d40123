"""Run records: run folders, atomic writes and the SQLite index of runs.

A run lives in ``<runs_dir>/<study>/<run_id>/``::

    config.json     study, scale, seeds, device, study config, versions, git commit
    metrics.jsonl   scalars logged during the run (one JSON object per line)
    figures/*.png   figures drawn by the study
    result.json     measurements, verdicts, figure captions, time taken

A run is *complete* only once ``result.json`` exists; it is written last and
atomically, so a run killed midway is never shown as complete.  The index
(``<runs_dir>/index.sqlite``) records every run's status for the CLI and the
report; both re-check ``result.json`` before trusting a "complete" row.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import sqlite3
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import torch

from thoughtlab.errors import UserError
from thoughtlab.fileio import atomic_write_bytes
from thoughtlab.train.progress import progress_bar
from thoughtlab.train.scalars import append_jsonl

INDEX_NAME = "index.sqlite"
RESULT_NAME = "result.json"
CONFIG_NAME = "config.json"


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UserError(f"{path} does not exist; check the run id with `thoughtlab runs`") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not valid JSON ({exc}); delete the run folder and run it again") from None


def prepare_runs_dir(runs_dir: Path) -> Path:
    """Create ``runs_dir`` if needed and check that it is writable."""
    runs_dir = Path(runs_dir)
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=runs_dir):
            pass
    except OSError as exc:
        raise UserError(f"cannot write to runs dir {runs_dir} ({exc.strerror}); pass a writable --runs-dir") from None
    return runs_dir


def new_run_id(scale: str, seed: int) -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{scale}-s{seed}-{secrets.token_hex(2)}"


class LocalContext:
    """The :class:`thoughtlab.study.RunContext` of one seed of one run."""

    def __init__(self, seed: int, scale: str, run_dir: Path, device: str | torch.device = "cpu",
                 metrics_path: Path | None = None):
        """``run_dir`` holds this seed's files; ``metrics_path`` (default ``run_dir/metrics.jsonl``) may be shared by seeds."""
        self.seed = seed
        self.scale = scale
        self.device = torch.device(device)
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.metrics_path = Path(metrics_path) if metrics_path is not None else self.run_dir / "metrics.jsonl"

    def log(self, step: int | None = None, **scalars: float) -> None:
        """Append one line ``{"seed", "step", "time", **scalars}`` to metrics.jsonl (non-finite values as null)."""
        record = {"seed": self.seed, "step": step, "time": round(time.time(), 3)}
        append_jsonl(self.metrics_path, {**record, **{k: float(v) for k, v in scalars.items()}})

    def progress(self, iterable: Iterable[Any], desc: str = "", total: int | None = None) -> Iterable[Any]:
        return progress_bar(iterable, desc=desc, total=total, leave=False)


class FigureDir:
    """Saves matplotlib figures as PNG (atomically) and remembers their captions."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.saved: list[dict[str, str]] = []

    def save(self, name: str, fig: Any, caption: str) -> None:
        import matplotlib.pyplot as plt

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        file = f"{name}.png"
        atomic_write_bytes(self.folder / file, buffer.getvalue())
        self.saved.append({"file": f"figures/{file}", "caption": caption})


@dataclass(frozen=True)
class RunRow:
    """One row of the index."""

    run_id: str
    study: str
    scale: str
    seeds: str
    device: str
    status: str
    started: float
    duration_s: float | None
    verdicts: str
    path: str

    @property
    def complete(self) -> bool:
        return self.status == "complete" and (Path(self.path) / RESULT_NAME).exists()

    @property
    def shown_status(self) -> str:
        """'complete', 'failed', 'running' (process alive) or 'interrupted'."""
        if self.status == "complete":
            return "complete" if self.complete else "interrupted"
        if self.status == "running" and not _pid_alive(self.path):
            return "interrupted"
        return self.status


def _pid_alive(run_path: str) -> bool:
    try:
        pid = int((Path(run_path) / ".pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


class RunIndex:
    """SQLite index of the runs under one runs dir (stdlib ``sqlite3``)."""

    COLUMNS = "run_id, study, scale, seeds, device, status, started, duration_s, verdicts, path"

    def __init__(self, runs_dir: Path):
        self.path = Path(runs_dir) / INDEX_NAME
        with closing(self._connect()) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, study TEXT, scale TEXT,"
                " seeds TEXT, device TEXT, status TEXT, started REAL, duration_s REAL,"
                " verdicts TEXT, path TEXT)"
            )

    def _connect(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(self.path, timeout=30)
        except sqlite3.Error as exc:
            raise UserError(f"cannot open the run index {self.path} ({exc}); pass another --runs-dir") from None

    def add(self, row: RunRow) -> None:
        with closing(self._connect()) as db, db:
            db.execute(f"INSERT INTO runs ({self.COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", tuple(row.__dict__.values()))

    def finish(self, run_id: str, status: str, duration_s: float, verdicts: str = "") -> None:
        with closing(self._connect()) as db, db:
            db.execute(
                "UPDATE runs SET status=?, duration_s=?, verdicts=? WHERE run_id=?",
                (status, duration_s, verdicts, run_id),
            )

    def rows(self, study: str | None = None, scale: str | None = None) -> list[RunRow]:
        """Runs, newest first, optionally filtered by study and scale."""
        query, args = f"SELECT {self.COLUMNS} FROM runs WHERE 1=1", []
        for column, value in (("study", study), ("scale", scale)):
            if value is not None:
                query += f" AND {column}=?"
                args.append(value)
        with closing(self._connect()) as db:
            return [RunRow(*r) for r in db.execute(query + " ORDER BY started DESC", args)]

    def latest_complete(self, study: str, scale: str) -> RunRow | None:
        return next((r for r in self.rows(study, scale) if r.complete), None)

    def find(self, run_id: str) -> RunRow:
        """The run whose id is ``run_id`` or starts with it (unique prefix)."""
        matches = [r for r in self.rows() if r.run_id.startswith(run_id)]
        if len(matches) != 1:
            how = "no run" if not matches else f"{len(matches)} runs"
            raise UserError(f"{how} in {self.path.parent} match {run_id!r}; list them with `thoughtlab runs`")
        return matches[0]


def load_result(row: RunRow) -> dict[str, Any]:
    """The result.json of a complete run."""
    if not row.complete:
        raise UserError(f"run {row.run_id} is {row.shown_status}, not complete; rerun it with `thoughtlab run {row.study}`")
    return read_json(Path(row.path) / RESULT_NAME)
