"""GraphRNN MMDs: vectorised kernels (CDF-L1 EMD, one cdist per kernel block) vs a direct per-pair loop.

    PYTHONPATH=src python benchmarks/graph_mmd.py [--graphs 200]

The loop is the reference implementation :func:`thoughtlab.generative.graphs.stats.mmd_loop` (pyemd's
EMD per pair, as GraphRNN's ``eval/mmd.py`` does).  Statistics are
computed once; only the MMD step is timed.
"""

from __future__ import annotations

import argparse

from timing import best_of

from thoughtlab.generative.graphs import data, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", type=int, default=200, help="graphs per set (two sets)")
    args = parser.parse_args()
    a = stats.graph_statistics(data.community_graphs(args.graphs, 0))
    b = stats.graph_statistics(data.community_graphs(args.graphs, 1))
    print(f"{'statistic':<11}{'vectorised s':>14}{'loop s':>10}{'speed-up':>10}{'|Δ MMD²|':>12}")
    for stat in stats.STATISTICS:
        fast, _ = best_of(lambda: stats.mmd(stat, a[stat], b[stat]), 3)
        slow, _ = best_of(lambda: stats.mmd_loop(stat, a[stat], b[stat]), 1)
        diff = abs(stats.mmd(stat, a[stat], b[stat]) - stats.mmd_loop(stat, a[stat], b[stat]))
        print(f"{stat:<11}{fast:>14.4f}{slow:>10.2f}{slow / fast:>9.0f}×{diff:>12.1e}")


if __name__ == "__main__":
    main()
