"""Benchmark thoughtlab.metrics against the reference implementations; prints a comparison table.

Measures (each heavy step in its own subprocess, so its peak RSS is its own):
- FID's matrix square root (symmetric formulation) vs ``scipy.linalg.sqrtm`` at d = ``--sqrt-dim``;
- FID from the two feature arrays to the number (both covariances + the square root) at N = ``--n``
  on Inception-like features (non-negative averages of ReLUs, mean ≈ 0.75 > std ≈ 0.4), and the
  float64 ``np.cov`` reference path (pytorch-fid's statistics) on the same features, with the
  relative FID difference (``--skip-fid-reference`` drops it; it holds two float64 copies);
- KID (100 × 1000 subsets) at N = ``--n``;
- precision, recall, density, coverage in one pass at N = M = ``--n``, d = ``--dim``, float32;
- the ``prdc`` package at N = ``--prdc-n`` (it holds N×N matrices: about 5.4 GB at 20k) and
  thoughtlab with prdc's conventions (k=5, strict ``<``) at the same N, with the time ratio;
- the FID design choices at d = ``--sqrt-dim``: the square root on 1 vs ``--threads`` threads, against the
  nuclear norm of R₂ᵀR₁ (a second Cholesky and a third product), and mirroring the ``syrk`` triangle by
  one transposed add against ``np.triu`` twice.

FID runs with ``threads=--threads`` (default: 2 or the core count, if smaller): torch and BLAS are
limited for the call and restored after.

Other features are seeded standard normals (the cost does not depend on their distribution).
Peak RSS includes the generated features.  Timings depend on the machine's load, which is printed.

    python benchmarks/metrics.py                       # full size (several minutes)
    python benchmarks/metrics.py --n 5000 --prdc-n 3000 --sqrt-dim 512   # quick check
    python benchmarks/metrics.py --only-fid                                  # FID at 50k x 2048 only
    python benchmarks/metrics.py --only-fid --n 5000 --sqrt-dim 512          # FID, small
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
from timing import best_of


def _features(n: int, dim: int, seed: int, shift: float = 0.0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim), dtype=np.float32)
    return x + np.float32(shift) if shift else x


def _inception_like(n: int, dim: int, seed: int, shift: float = 0.0, latent: int = 256, pool: int = 4) -> np.ndarray:
    """Non-negative correlated float32 features: the mean of ``pool`` ReLU(zW + b + noise), like pool3 averages."""
    fixed = np.random.default_rng(1234)
    weights = (fixed.standard_normal((latent, dim)) / np.sqrt(latent)).astype(np.float32)
    bias = (0.5 + 0.3 * fixed.standard_normal(dim)).astype(np.float32)
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, 8192):
        rows = min(8192, n - start)
        total = np.zeros((rows, dim), np.float32)
        for _ in range(pool):
            z = rng.standard_normal((rows, latent), dtype=np.float32) + np.float32(shift)
            total += np.maximum(z @ weights + bias + 0.5 * rng.standard_normal((rows, dim), dtype=np.float32), 0)
        out[start:start + rows] = total / pool
    return out


def _fid_reference(real: np.ndarray, fake: np.ndarray) -> float:
    """FID with pytorch-fid's statistics: ``np.mean`` and ``np.cov`` (float64) of each set, then our square root."""
    from thoughtlab.metrics import FidStats, frechet_distance

    stats = [FidStats(x.astype(np.float64).mean(axis=0), np.cov(x, rowvar=False), len(x)) for x in (real, fake)]
    return frechet_distance(*stats)


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20  # ru_maxrss is in KiB on Linux


def _child(task: str, n: int, dim: int, threads: int) -> dict:
    """Run one measured task in this (fresh) process and return its figures."""
    from thoughtlab.metrics import compute_kid, compute_knn
    from thoughtlab.metrics.fid import feature_stats, frechet_distance, linalg_threads

    with linalg_threads(threads):
        return _measure(task, n, dim, compute_kid, compute_knn, feature_stats, frechet_distance)


def _measure(task: str, n: int, dim: int, compute_kid, compute_knn, feature_stats, frechet_distance) -> dict:

    if task.startswith("fid"):
        real, fake = _inception_like(n, dim, 0), _inception_like(n, dim, 1, shift=0.02)
    else:
        real, fake = _features(n, dim, 0), _features(n, dim, 1, shift=0.05)
    start = time.perf_counter()
    if task == "fid":
        values = {"fid": frechet_distance(feature_stats(real), feature_stats(fake))}
    elif task == "fid-reference":
        values = {"fid": _fid_reference(real, fake)}
        seconds = time.perf_counter() - start
        values["fid_fast"] = frechet_distance(feature_stats(real), feature_stats(fake))  # same features, same process
        return {"seconds": seconds, "peak_rss_gib": _peak_rss_gib(), "values": values}
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


def _run_child(task: str, n: int, dim: int, threads: int) -> dict:
    command = [sys.executable, __file__, "--child", task, "--n", str(n), "--dim", str(dim), "--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _sqrt_comparison(dim: int, threads: int) -> dict:
    """Time tr(Σ₁Σ₂)^{1/2} by the symmetric formulation and by scipy sqrtm on full-rank covariances."""
    import scipy.linalg

    from thoughtlab.metrics.fid import trace_sqrt_product

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((dim, 2 * dim)), rng.standard_normal((dim, 2 * dim))
    s1, s2 = a @ a.T / (2 * dim), b @ b.T / (2 * dim)
    start = time.perf_counter()
    ours = trace_sqrt_product(s1, s2, threads)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    reference = float(np.trace(scipy.linalg.sqrtm(s1 @ s2)).real)
    scipy_s = time.perf_counter() - start
    return {"ours_s": ours_s, "scipy_s": scipy_s, "rel_diff": abs(ours - reference) / abs(reference)}


def _fid_floor(n: int, dim: int, threads: int) -> dict:
    """A lower bound for FID at N = ``n`` on this machine, from its own best-of-3 kernel times.

    The two covariances need 2·N·d(d+1) flops however they are grouped; at the float32 GEMM rate
    measured here (a full XᵀX on one chunk, the fastest float32 product BLAS offers) that is the
    products' floor.  The float64 ``eigvalsh`` of a d × d matrix is the square root's floor (its
    Cholesky and products come on top).  Means, centring and I/O are left out, so FID cannot beat the sum.
    """
    import torch

    from thoughtlab.metrics.fid import CHUNK_ROWS, linalg_threads

    rng = np.random.default_rng(0)
    rows = rng.standard_normal((CHUNK_ROWS, dim), dtype=np.float32)
    same_rows = rows.copy()   # numpy would route X.T @ X on one buffer to syrk
    spd = torch.tensor(np.cov(rng.standard_normal((2 * dim, dim)), rowvar=False))

    with linalg_threads(threads):
        gemm_s = best_of(lambda: rows.T @ same_rows, 3)[0]
        eig_s = best_of(lambda: torch.linalg.eigvalsh(spd), 3)[0]
    gflops = 2 * CHUNK_ROWS * dim * dim / gemm_s / 1e9
    products_s = 2 * n * dim * (dim + 1) / (gflops * 1e9)
    return {"sgemm_gflops": gflops, "products_s": products_s, "eigvalsh_s": eig_s, "floor_s": products_s + eig_s}


def _design_choices(dim: int, threads: int) -> dict:
    """Fastest of 3 for the choices fid.py makes: threads of the square root, its formulation, the mirror."""
    import torch

    from thoughtlab.metrics.fid import linalg_threads, symmetric_factor, trace_sqrt_product

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((dim, 2 * dim)), rng.standard_normal((dim, 2 * dim))
    s1, s2 = a @ a.T / (2 * dim), b @ b.T / (2 * dim)
    upper = np.asfortranarray(np.triu(s1))

    def nuclear_norm() -> float:
        r1, r2 = symmetric_factor(torch.tensor(s1)), symmetric_factor(torch.tensor(s2))
        return float(torch.linalg.matrix_norm(r2.T @ r1, ord="nuc"))

    with linalg_threads(threads):
        times = {"nuclear_norm_s": best_of(nuclear_norm, 3)[0],
                 "mirror_add_s": best_of(lambda: upper + upper.T, 3)[0],
                 "mirror_triu_s": best_of(lambda: np.triu(upper) + np.triu(upper, 1).T, 3)[0]}
    for count in sorted({1, threads}):
        times[f"sqrt_{count}_threads_s"] = best_of(lambda: trace_sqrt_product(s1, s2, count), 3)[0]
    return times


def _steal_ticks() -> int:
    """CPU time the hypervisor gave to other guests (the ``steal`` column of /proc/stat), in clock ticks."""
    with open("/proc/stat") as stat:
        return int(stat.readline().split()[8])


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
    parser.add_argument("--only-fid", action="store_true", help="run the FID measurements only")
    parser.add_argument("--skip-fid-reference", action="store_true", help="skip the float64 np.cov FID reference")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1),
                        help="torch/BLAS threads for FID (default: 2, or fewer cores)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.n, args.dim, args.threads)))
        return

    print(f"load average before: {os.getloadavg()}, cpus: {os.cpu_count()}")
    steal_start, wall_start = _steal_ticks(), time.monotonic()
    floor = _fid_floor(args.n, args.dim, args.threads)
    print(f"FID floor at N={args.n}, d={args.dim} on this machine: both covariance products at the measured "
          f"float32 GEMM rate ({floor['sgemm_gflops']:.0f} GFLOP/s) {floor['products_s']:.2f} s + float64 "
          f"eigvalsh {floor['eigvalsh_s']:.2f} s = {floor['floor_s']:.2f} s")
    sqrt = _sqrt_comparison(args.sqrt_dim, args.threads)
    print(f"FID square root at d={args.sqrt_dim}: symmetric (Cholesky + eigvalsh) {sqrt['ours_s']:.2f} s, scipy sqrtm "
          f"{sqrt['scipy_s']:.2f} s, ratio {sqrt['scipy_s'] / sqrt['ours_s']:.1f}x, "
          f"relative difference {sqrt['rel_diff']:.1e}")
    design = _design_choices(args.sqrt_dim, args.threads)
    print(f"FID choices at d={args.sqrt_dim}: square root on " + ", ".join(
        f"{key.split('_')[1]} thread(s) {value:.2f} s" for key, value in design.items() if key.startswith("sqrt_"))
        + f"; nuclear norm of R2'R1 {design['nuclear_norm_s']:.2f} s; mirror by one transposed add "
        f"{design['mirror_add_s']:.3f} s vs np.triu twice {design['mirror_triu_s']:.3f} s")
    runs = {"fid": _run_child("fid", args.n, args.dim, args.threads)}
    if not args.skip_fid_reference:
        runs["fid-reference"] = _run_child("fid-reference", args.n, args.dim, args.threads)
    if not args.only_fid:
        runs.update(kid=_run_child("kid", args.n, args.dim, args.threads),
                    knn=_run_child("knn", args.n, args.dim, args.threads))
    if not (args.skip_prdc or args.only_fid):
        runs["knn-prdc"] = _run_child("knn-prdc", args.prdc_n, args.dim, args.threads)
        runs["prdc"] = _run_child("prdc", args.prdc_n, args.dim, args.threads)
    header = f"{'measure (d=' + str(args.dim) + ', float32)':<34} {'N=M':>7} {'ours s':>9} {'GiB':>8} " \
             f"{'ref s':>9} {'GiB':>8} {'ref/ours':>7}"
    print(header)
    print("-" * len(header))
    print(_row("FID (features -> value) vs np.cov", args.n, runs["fid"], runs.get("fid-reference")))
    if not args.only_fid:
        print(_row("KID (100 x 1000 subsets)", args.n, runs["kid"]))
        print(_row("P, R (k=3, <=), D, C (k=5, <)", args.n, runs["knn"]))
    if not (args.skip_prdc or args.only_fid):
        print(_row("P, R, D, C (k=5, <) vs prdc 0.2", args.prdc_n, runs["knn-prdc"], runs["prdc"]))
    reference = runs.get("fid-reference", {}).get("values")
    if reference:
        rel = abs(reference["fid_fast"] - reference["fid"]) / abs(reference["fid"])
        print(f"FID {reference['fid']:.6f} (float64 np.cov) vs {reference['fid_fast']:.6f} (float32 syrk): "
              f"relative difference {rel:.1e}")
    steal = (_steal_ticks() - steal_start) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - wall_start) / os.cpu_count()
    print(f"load average after: {os.getloadavg()}; CPU time stolen by the hypervisor during the run: {steal:.0%}")
    print(json.dumps({"floor": floor, "sqrt": sqrt, "design": design, "steal": steal, **runs}, indent=1))


if __name__ == "__main__":
    main()
