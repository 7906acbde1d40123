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
