"""Execute a study: one ``run`` per seed, figures, verdicts, and the run record.

See :mod:`thoughtlab.runs` for the record's layout and :mod:`thoughtlab.study`
for the study/claim model.
"""

from __future__ import annotations

import dataclasses
import inspect
import multiprocessing
import math
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

import thoughtlab
from thoughtlab import validate
from thoughtlab.errors import BadInput, UserError
from thoughtlab.fileio import atomic_write_json
from thoughtlab.runs import (
    CONFIG_NAME,
    FigureDir,
    LocalContext,
    RESULT_NAME,
    RunIndex,
    RunRow,
    new_run_id,
    prepare_runs_dir,
    write_pid_file,
)
from thoughtlab.study import Claim, Outcome, Study, summarize, verdicts
from thoughtlab.train import pick_device, seed_everything


def git(*args: str, cwd: Path | None = None) -> str | None:
    """Output of ``git args`` in the source tree thoughtlab runs from, or None without git."""
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd or Path(__file__).parent, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit() -> str:
    """The commit of the source tree thoughtlab runs from, or 'unknown'."""
    return git("rev-parse", "HEAD") or "unknown"


def git_dirty() -> bool | None:
    """Whether the source tree has uncommitted changes to tracked files (None without git)."""
    status = git("status", "--porcelain", "--untracked-files=no", "--", str(Path(__file__).parent))
    return None if status is None else bool(status)


def criterion_commit(claim: Claim) -> str:
    """The last commit that changed the source lines of the claim's effect function ('unknown' without git)."""
    try:
        lines, start = inspect.getsourcelines(claim.effect)
        path = Path(inspect.getsourcefile(claim.effect) or "")
    except (OSError, TypeError):
        return "unknown"
    span = f"{start},{start + len(lines) - 1}:{path.name}"
    log = git("log", "-1", "--format=%h %cs", "-L", span, cwd=path.parent)
    return log.splitlines()[0] if log else "unknown"


def versions() -> dict[str, str]:
    import numpy

    return {
        "thoughtlab": thoughtlab.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
    }


def metric_table(outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    """Per metric: mean and std over seeds, the per-seed values, and any within-run spread."""
    table = {}
    for name in outcomes[0].metrics:
        values = [float(o.metrics[name]) for o in outcomes]
        if not all(math.isfinite(v) for v in values):
            raise BadInput(f"metric {name!r} is not finite ({values}); the study must report defined numbers")
        entry = summarize(values) | {"per_seed": values}
        if name in outcomes[0].spread:
            entry["spread"] = [float(o.spread[name]) for o in outcomes]
            entry["spread_kind"] = outcomes[0].spread_kind
        table[name] = entry
    return table


def cpu_threads() -> int:
    """Threads for torch on CPU: ``THOUGHTLAB_THREADS`` or 1.

    One thread by default: the studies' small models run no slower so on two
    cores, and a fixed thread count keeps CPU reductions bit-for-bit reproducible.
    """
    try:
        threads = int(os.environ.get("THOUGHTLAB_THREADS", "1"))
    except ValueError:
        threads = 0
    if threads < 1:
        raise UserError(f"THOUGHTLAB_THREADS={os.environ['THOUGHTLAB_THREADS']!r} is not a positive integer; unset it or set e.g. 2")
    return threads


MAX_SEEDS_PER_CORE = 4  # memory guard: each seed process holds its own data and networks


def seed_workers(n_seeds: int) -> int:
    """Processes for the seeds of one run: ``THOUGHTLAB_WORKERS``, else every seed at once (up to 4 per core).

    The seeds share the cores, so 3 seeds on 2 cores take 1.5 seeds' time instead of 2 in two rounds.
    """
    raw = os.environ.get("THOUGHTLAB_WORKERS", str(min(n_seeds, MAX_SEEDS_PER_CORE * (os.cpu_count() or 1))))
    if not raw.isdigit() or int(raw) < 1:
        raise UserError(f"THOUGHTLAB_WORKERS={raw!r} is not a positive integer; unset it or set e.g. 2")
    return min(int(raw), n_seeds)


def seed_outcome(study: Study, scale: str, seed: int, run_dir: Path, device: str | torch.device) -> Outcome:
    """One seed of ``study``: global RNGs seeded, its own folder, the run's shared metrics.jsonl."""
    seed_everything(seed)
    context = LocalContext(seed, scale, run_dir / f"seed{seed}", device, run_dir / "metrics.jsonl")
    return study.run(study.config(scale), context)


def seed_in_worker(study_id: str, scale: str, seed: int, run_dir: Path, device: str) -> Outcome:
    """A worker process's entry point: the study is looked up by id (studies hold unpicklable lambdas)."""
    from thoughtlab.registry import get_study

    torch.set_num_threads(cpu_threads())
    return seed_outcome(get_study(study_id), scale, seed, run_dir, device)


def run_seeds(study: Study, scale: str, seeds: list[int], run_dir: Path, device: torch.device) -> list[Outcome]:
    """Every seed's outcome, in seed order.

    On CPU the seeds of a registered study run in parallel processes (:func:`seed_workers`); on a GPU,
    or for a study the registry does not know (a test's), one after another in this process.
    """
    from thoughtlab.registry import all_studies

    workers = seed_workers(len(seeds)) if device.type == "cpu" else 1
    if workers == 1 or all_studies().get(study.id) is not study:
        return [seed_outcome(study, scale, seed, run_dir, device) for seed in seeds]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        jobs = [pool.submit(seed_in_worker, study.id, scale, seed, run_dir, str(device)) for seed in seeds]
        return [job.result() for job in jobs]


def execute(
    study: Study,
    scale: str,
    seeds: list[int],
    runs_dir: Path,
    device: str = "auto",
) -> Path:
    """Run ``study`` at ``scale`` for each seed and write a complete run record.

    Returns the run folder.  On failure the run is marked ``failed`` in the
    index and the error propagates; Ctrl-C marks it ``interrupted``; if the
    process is killed the row stays ``running`` with no result.json, which
    readers show as interrupted.
    """
    for seed in seeds:
        validate.seed(seed, f"seed {seed!r} of {study.id}")
    config = study.config(scale)
    torch_device = pick_device(device)
    torch.set_num_threads(cpu_threads())
    runs_dir = prepare_runs_dir(runs_dir)
    index = RunIndex(runs_dir)
    run_id = new_run_id(scale, seeds[0])
    run_dir = runs_dir / study.id / run_id
    run_dir.mkdir(parents=True)
    write_pid_file(run_dir)
    started = time.time()  # indexed before config.json exists: a run killed from here on is never lost
    source = {"git_commit": git_commit(), "git_dirty": git_dirty()}  # the code that runs: read once, before it runs
    criterion_commits = [criterion_commit(claim) for claim in study.claims]
    index.add(RunRow(run_id, study.id, scale, ",".join(map(str, seeds)), str(torch_device), "running", started, None, "", str(run_dir)))
    atomic_write_json(
        run_dir / CONFIG_NAME,
        {
            "study": study.id,
            "scale": scale,
            "seeds": seeds,
            "device": str(torch_device),
            "cpu_threads": torch.get_num_threads(),
            "config": dataclasses.asdict(config) if dataclasses.is_dataclass(config) else config,
            "versions": versions(),
            **source,
            "command": sys.argv,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )
    try:
        outcomes = run_seeds(study, scale, seeds, run_dir, torch_device)
        figures = FigureDir(run_dir / "figures")
        study.plot(config, outcomes, figures)
        metrics = metric_table(outcomes)  # refuses undefined numbers, naming the metric
        claims = verdicts(study, outcomes)
        for record, commit in zip(claims, criterion_commits):
            record["criterion_commit"] = commit
        duration = time.time() - started
        atomic_write_json(
            run_dir / RESULT_NAME,
            {
                "run_id": run_id,
                "study": study.id,
                "title": study.title,
                "thought": study.thought,
                "summary": study.summary,
                "scale": scale,
                "seeds": seeds,
                "device": str(torch_device),
                "duration_s": round(duration, 2),
                **source,
                "claims": claims,
                "metrics": metrics,
                "figures": figures.saved,
                "data": [o.data for o in outcomes],
            },
        )
    except KeyboardInterrupt:  # Ctrl-C: the run was stopped, not broken
        index.finish(run_id, "interrupted", time.time() - started)
        raise
    except BaseException:
        index.finish(run_id, "failed", time.time() - started)
        raise
    index.finish(run_id, "complete", duration, ",".join(c["verdict"] for c in claims))
    return run_dir
