"""The csp-synthetic benchmark: data, the three trained detectors, and their test detections along training.

Liu et al. (CVPR 2019) argue that CSP needs no anchor design.  The study (:mod:`thoughtlab.csp.study`)
trains, with one recipe and backbone:

* ``csp`` — CSP on the default scenes; on the shifted test set its boxes are decoded with the shifted
  distribution's aspect (the median width/height of the shifted *training* people), since CSP predicts
  heights only and takes the aspect as a dataset constant (paper §3.2);
* ``anchor`` — a RetinaNet-style detector whose anchors were designed on the default training people;
* ``anchor_redesigned`` — the control: anchors designed on the shifted training people and trained on
  the shifted training split, i.e. what "designing anchors for each dataset" means.

Each detector's EMA teacher is saved at 25/50/75 % of the training steps; the one with the best
validation MR⁻² is the final model.  Every saved teacher detects on the test sets once, in the training
process, and the study evaluates those detections.

The scenes do not depend on the training seed (``Config.data_seed``), so the seeds of one run, which run in
parallel processes, share them: :func:`shared_folder` gives one folder per data config beside the seed
folders, and its lock lets the first seed write the scenes while the others wait and then read them.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from thoughtlab.csp.anchors import AnchorDesign, design_for_dataset
from thoughtlab.csp.detectors import load_detector, seeded_detector
from thoughtlab.csp.inference import predict, to_eval_detections
from thoughtlab.csp.synth import make_dataset
from thoughtlab.csp.train_config import TrainConfig
from thoughtlab.csp.training import train_detector
from thoughtlab.csp.training_data import ImageSet

DISTRIBUTIONS = ("default", "shifted")
FRACTIONS = (0.25, 0.5, 0.75)
FINAL = 1.0


@dataclass(frozen=True)
class Config:
    """The benchmark (image size, split sizes, data seed) and the shared training recipe.

    ``train`` is a :class:`~thoughtlab.csp.train_config.TrainConfig` preset; the anchor detectors use it
    with CSP's backbone and designed anchors in place of its detector.  ``sizes`` apply to both
    distributions except the test split of the shifted one (``shifted_test``).
    ``parallel``: detectors trained at once, each in its own process.  ``image_intervals``: image-bootstrap
    intervals beside the claims' effects at every budget point, which only a one-seed run reads (a scale that
    runs several seeds judges on their spread and skips them).
    """

    train: TrainConfig
    width: int = 320
    height: int = 240
    sizes: dict[str, int] = field(default_factory=lambda: {"train": 400, "val": 100, "test": 100})
    shifted_test: int = 100
    data_seed: int = 0
    n_anchor_heights: int = 6
    parallel: int = 2
    image_intervals: bool = True


@dataclass(frozen=True)
class Job:
    """One detector to train: its recipe, training data folder, and the test sets it detects on.

    ``tests``: distribution -> (data folder, decode-time overrides of the detector config).
    """

    train: TrainConfig
    data: Path
    tests: dict[str, tuple[Path, dict[str, Any]]]


def anchor_detector(csp_detector: dict[str, Any], design: AnchorDesign) -> dict[str, Any]:
    """An anchor detector's config: CSP's backbone and width, the designed anchors."""
    return {"detector": "anchor", "backbone": csp_detector["backbone"], "width": csp_detector["width"],
            "anchors": design.to_config()}


@contextmanager
def shared_folder(cfg: Config, seed_dir: Path) -> Iterator[Path]:
    """``seed_dir``'s parent ``/ shared-<hash of the data config>``, held under an exclusive lock.

    The seeds of a run are sibling folders, so they find the same folder; the hash keeps runs with other
    scenes apart.  Whoever holds the lock may write into it; the others block (without using a core) until
    it is released.
    """
    data = {"width": cfg.width, "height": cfg.height, "sizes": cfg.sizes, "shifted_test": cfg.shifted_test,
            "data_seed": cfg.data_seed}
    key = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]
    folder = Path(seed_dir).parent / f"shared-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield folder
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def make_benchmark(cfg: Config, root: Path) -> dict[str, Path]:
    """Write the default and the shifted splits (each skipped when already written)."""
    folders = {dist: root / dist for dist in DISTRIBUTIONS}
    common = {"seed": cfg.data_seed, "width": cfg.width, "height": cfg.height}
    for dist, folder in folders.items():
        sizes = dict(cfg.sizes) if dist == "default" else {**cfg.sizes, "test": cfg.shifted_test}
        missing = {split: n for split, n in sizes.items() if not (folder / f"{split}_gt.json").is_file()}
        if missing:
            make_dataset(folder, sizes=missing, preset=dist, **common)
    return folders


def designs(cfg: Config, folders: dict[str, Path]) -> dict[str, AnchorDesign]:
    """Anchors designed on each distribution's training people (heights: quantiles; aspect: the median)."""
    return {dist: design_for_dataset(ImageSet.from_split(folder, "train", cfg.train.min_height), cfg.n_anchor_heights)
            for dist, folder in folders.items()}


def jobs(cfg: Config, folders: dict[str, Path], design: dict[str, AnchorDesign], seed: int) -> dict[str, Job]:
    """The three detectors of the study (see the module docstring)."""
    csp = cfg.train.detector
    shifted_aspect = {"aspect_ratio": design["shifted"].aspects[0]}
    both = {"default": (folders["default"], {}), "shifted": (folders["shifted"], {})}
    return {
        "csp": Job(replace(cfg.train, seed=seed), folders["default"],
                   {**both, "shifted": (folders["shifted"], shifted_aspect)}),
        "anchor": Job(replace(cfg.train, detector=anchor_detector(csp, design["default"]), seed=seed),
                      folders["default"], both),
        "anchor_redesigned": Job(replace(cfg.train, detector=anchor_detector(csp, design["shifted"]), seed=seed),
                                 folders["shifted"], {"shifted": both["shifted"]}),
    }


def snapshot_file(out: Path, fraction: float) -> Path:
    return out / f"teacher@{fraction:g}.pt"


def train_job(name: str, job: Job, out: Path, threads: int) -> tuple[str, dict[str, Any]]:
    """Train one detector (resuming an interrupted run); its detections at every budget point, val history, time.

    Returns ``{"detections": {fraction: {dist: evaluator Detections}}, "val_history", "seconds"}``; the final
    point (1.0) is the teacher with the best validation MR⁻².
    """
    torch.set_num_threads(threads)
    cfg = job.train
    spec = seeded_detector(cfg.detector, cfg.seed)
    train = ImageSet.from_split(job.data, "train", cfg.min_height, cfg.cache_images)
    val = ImageSet.from_split(job.data, "val", 0.0, cfg.cache_images)
    result = train_detector(spec, train, cfg, out, val=val, resume=True, progress=False, snapshots=FRACTIONS)
    best = out / "best.pt" if (out / "best.pt").is_file() else out / "model.pt"
    weights = {**{f: snapshot_file(out, f) for f in FRACTIONS}, FINAL: best}
    tests = {dist: ImageSet.from_split(folder, "test", cache=True) for dist, (folder, _) in job.tests.items()}
    detections = {}
    for fraction, path in weights.items():
        detections[fraction] = {}
        for dist, (_, overrides) in job.tests.items():
            spec_f, model = load_detector(path, overrides)
            data = tests[dist]
            found = predict(spec_f, model, [data.image(i) for i in range(len(data))], cfg.score_threshold)
            detections[fraction][dist] = to_eval_detections(data.annotations.image_ids(), found)
    return name, {"detections": detections, "val_history": [list(h) for h in result.val_history],
                  "seconds": result.seconds}


def train_all(jobs_: dict[str, Job], run_dir: Path, parallel: int) -> dict[str, dict[str, Any]]:
    """Train the detectors, ``parallel`` at a time in separate processes with this process's thread count.

    Each job depends only on its own config and seed, so the weights do not depend on ``parallel``.
    """
    args = [(name, job, run_dir / name, torch.get_num_threads()) for name, job in jobs_.items()]
    if parallel <= 1:
        done = [train_job(*a) for a in args]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=parallel, mp_context=context) as pool:
            done = list(pool.map(train_job, *zip(*args)))
    return dict(done)

