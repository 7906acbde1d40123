"""Timing shared by the benchmark scripts (imported as a sibling: ``python benchmarks/X.py`` puts this folder on sys.path)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def best_of(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(fastest, median) seconds of ``repeats`` calls of ``fn`` after one untimed warm-up call.

    The warm-up absorbs first-call allocations and lazy initialisation, which are not what we compare.
    """
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def interleaved(fns: list[Callable[[], object]], repeats: int) -> list[dict[str, float]]:
    """Per function: fastest and median wall and CPU (``process_time``) seconds, runs interleaved A B C A B C ...

    Interleaving spreads a busy machine's drift over all functions alike, and CPU seconds (one thread) count
    this process's work only, so a comparison of equal work stays fair when other jobs share the cores.
    One untimed warm-up round first.
    """
    for fn in fns:
        fn()
    wall: list[list[float]] = [[] for _ in fns]
    cpu: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            fn()
            cpu[i].append(time.process_time() - start_cpu)
            wall[i].append(time.perf_counter() - start_wall)
    return [{"wall_best": min(w), "wall_median": statistics.median(w), "cpu_best": min(c),
             "cpu_median": statistics.median(c)} for w, c in zip(wall, cpu)]
