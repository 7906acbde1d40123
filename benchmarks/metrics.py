"""Benchmark thoughtlab.metrics against the reference implementations; prints a comparison table.

Measures (each heavy step in its own subprocess, so its peak RSS is its own):
- FID's matrix square root (symmetric formulation) vs ``scipy.linalg.sqrtm`` at d = ``--sqrt-dim``;
- FID (statistics of both sets + distance) and KID (100 × 1000 subsets) at N = ``--n``;
- precision, recall, density, coverage in one pass at N = M = ``--n``, d = ``--dim``, float32;
- the ``prdc`` package at N = ``--prdc-n`` (it holds N×N matrices: about 5.4 GB at 20k) and
  thoughtlab with prdc's conventions (k=5, strict ``<``) at the same N, with the time ratio.

Features are seeded standard normals (the cost does not depend on their distribution).
Peak RSS includes the generated features.  Timings depend on the machine's load, which is printed.

    python benchmarks/metrics.py                       # full size (several minutes)
    python benchmarks/metrics.py --n 5000 --prdc-n 3000 --sqrt-dim 512   # quick check
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np


def _features(n: int, dim: int, seed: int, shift: float = 0.0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim), dtype=np.float32)
    return x + np.float32(shift) if shift else x


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20  # ru_maxrss is in KiB on Linux


def _child(task: str, n: int, dim: int) -> dict:
    """Run one measured task in this (fresh) process and return its figures."""
    from thoughtlab.metrics import compute_kid, compute_knn, feature_stats, frechet_distance

    real, fake = _features(n, dim, 0), _features(n, dim, 1, shift=0.05)
    start = time.perf_counter()
    if task == "fid":
        values = {"fid": frechet_distance(feature_stats(real), feature_stats(fake))}
    elif task == "kid":
        values = {"kid": compute_kid(real, fake, seed=0)["value"]}
    elif task == "knn":
        values = {k: v["value"] for k, v in compute_knn(real, fake).items()}
    elif task == "knn-prdc":
        values = {k: v["value"] for k, v in compute_knn(real, fake, pr_k=5, pr_comparison="<").items()}
    elif task == "prdc":
        import prdc

        with contextlib.redirect_stdout(io.StringIO()):
            values = {k: float(v) for k, v in prdc.compute_prdc(real, fake, nearest_k=5).items()}
    else:
        raise SystemExit(f"unknown task {task}")
    return {"seconds": time.perf_counter() - start, "peak_rss_gib": _peak_rss_gib(), "values": values}


def _run_child(task: str, n: int, dim: int) -> dict:
    command = [sys.executable, __file__, "--child", task, "--n", str(n), "--dim", str(dim)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _sqrt_comparison(dim: int) -> dict:
    """Time tr(Σ₁Σ₂)^{1/2} by the symmetric formulation and by scipy sqrtm on full-rank covariances."""
    import scipy.linalg

    from thoughtlab.metrics.fid import trace_sqrt_product

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((dim, 2 * dim)), rng.standard_normal((dim, 2 * dim))
    s1, s2 = a @ a.T / (2 * dim), b @ b.T / (2 * dim)
    start = time.perf_counter()
    ours = trace_sqrt_product(s1, s2)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    reference = float(np.trace(scipy.linalg.sqrtm(s1 @ s2)).real)
    scipy_s = time.perf_counter() - start
    return {"ours_s": ours_s, "scipy_s": scipy_s, "rel_diff": abs(ours - reference) / abs(reference)}


def _row(name: str, n: int, ours: dict, ref: dict | None = None) -> str:
    def fmt(r: dict | None) -> str:
        if r is None:
            return f"{'-':>9} {'-':>8}"
        if "error" in r:
            return f"{'failed':>9} {'':>8}"
        return f"{r['seconds']:9.1f} {r['peak_rss_gib']:8.2f}"

    ratio = "-"
    if ref and "error" not in ref and "error" not in ours:
        ratio = f"{ref['seconds'] / ours['seconds']:.2f}x"
    return f"{name:<34} {n:>7} {fmt(ours)} {fmt(ref)} {ratio:>7}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="samples per set for FID, KID and P/R/D/C")
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--prdc-n", type=int, default=20_000, help="samples per set for the prdc comparison")
    parser.add_argument("--sqrt-dim", type=int, default=2048)
    parser.add_argument("--skip-prdc", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.n, args.dim)))
        return

    print(f"load average before: {os.getloadavg()}, cpus: {os.cpu_count()}")
    sqrt = _sqrt_comparison(args.sqrt_dim)
    print(f"FID square root at d={args.sqrt_dim}: symmetric (Cholesky + eigvalsh) {sqrt['ours_s']:.2f} s, scipy sqrtm "
          f"{sqrt['scipy_s']:.2f} s, ratio {sqrt['scipy_s'] / sqrt['ours_s']:.1f}x, "
          f"relative difference {sqrt['rel_diff']:.1e}")
    runs = {"fid": _run_child("fid", args.n, args.dim), "kid": _run_child("kid", args.n, args.dim),
            "knn": _run_child("knn", args.n, args.dim)}
    if not args.skip_prdc:
        runs["knn-prdc"] = _run_child("knn-prdc", args.prdc_n, args.dim)
        runs["prdc"] = _run_child("prdc", args.prdc_n, args.dim)
    header = f"{'measure (d=' + str(args.dim) + ', float32)':<34} {'N=M':>7} {'ours s':>9} {'GiB':>8} " \
             f"{'ref s':>9} {'GiB':>8} {'ref/ours':>7}"
    print(header)
    print("-" * len(header))
    print(_row("FID (stats of both sets + distance)", args.n, runs["fid"]))
    print(_row("KID (100 x 1000 subsets)", args.n, runs["kid"]))
    print(_row("P, R (k=3, <=), D, C (k=5, <)", args.n, runs["knn"]))
    if not args.skip_prdc:
        print(_row("P, R, D, C (k=5, <) vs prdc 0.2", args.prdc_n, runs["knn-prdc"], runs["prdc"]))
    print(f"load average after: {os.getloadavg()}")
    print(json.dumps({"sqrt": sqrt, **runs}, indent=1))


if __name__ == "__main__":
    main()
