"""GraphRNN statistics and MMDs: ours against the GraphRNN-style computation, side by side in one run.

    PYTHONPATH=src python benchmarks/graph_mmd.py [--graphs 200] [--orbit-graphs 20] [--mmd-graphs 200]

Table 1, statistics per graph (CPU seconds, runs interleaved; identical output checked):
- degree: ``nx.degree_histogram`` normalised, as GraphRNN's ``eval/stats.py`` (ours is the same call);
- clustering: GraphRNN's ``np.histogram(list(nx.clustering(G).values()), bins=100, range=(0, 1))``, normalised,
  against ours (the same networkx call; the row shows the statistic costs what the peer costs);
- orbits: a per-subset networkx computation in GraphRNN's definition (every 4-node subset's induced subgraph
  ``G.subgraph(s)``, kept if connected, each node's orbit from the subgraph's edge count and degrees; 2- and
  3-node orbits from ``nx.triangles`` and degrees) against our brute force over all subsets at once
  (ORCA, GraphRNN's own counter, is C++ and not installed: its PyPI binding is GPL-3).
Table 2, MMD² per set pair: vectorised kernels (CDF-L1 EMD, one cdist per kernel block) against the direct
per-pair loop :func:`thoughtlab.generative.graphs.stats.mmd_loop` (pyemd's EMD per pair, as GraphRNN's
``eval/mmd.py``); statistics computed once, only the MMD step timed.
"""

from __future__ import annotations

import argparse
from itertools import combinations

import networkx as nx
import numpy as np
from timing import best_of, interleaved

from thoughtlab.generative.graphs import data, stats

# orbit of a node in a connected 4-node graphlet, by (edges, sorted degrees) and the node's degree (Pržulj 2007)
GRAPHLET_ORBITS = {(3, (1, 1, 2, 2)): {1: 4, 2: 5}, (3, (1, 1, 1, 3)): {1: 6, 3: 7}, (4, (2, 2, 2, 2)): {2: 8},
                   (4, (1, 2, 2, 3)): {1: 9, 2: 10, 3: 11}, (5, (2, 2, 3, 3)): {2: 12, 3: 13}, (6, (3, 3, 3, 3)): {3: 14}}


def degree_peer(graph: nx.Graph) -> np.ndarray:
    hist = np.array(nx.degree_histogram(graph), dtype=np.float64)
    return hist / hist.sum()


def clustering_peer(graph: nx.Graph) -> np.ndarray:
    hist, _ = np.histogram(list(nx.clustering(graph).values()), bins=100, range=(0.0, 1.0), density=False)
    return hist / max(hist.sum(), 1)


def orbits_peer(graph: nx.Graph) -> np.ndarray:
    """Per-node orbit counts (n × 15) by networkx, one induced subgraph per 4-node subset."""
    nodes = sorted(graph.nodes())
    index = {v: k for k, v in enumerate(nodes)}
    counts = np.zeros((len(nodes), 15), dtype=np.int64)
    triangles = nx.triangles(graph)
    for v in nodes:
        d = graph.degree(v)
        counts[index[v], 0], counts[index[v], 3] = d, triangles[v]
        counts[index[v], 2] = d * (d - 1) // 2 - triangles[v]
        counts[index[v], 1] = sum(graph.degree(u) - 1 for u in graph[v]) - 2 * triangles[v]
    for subset in combinations(nodes, 4):
        sub = graph.subgraph(subset)
        if not nx.is_connected(sub):
            continue
        degrees = dict(sub.degree())
        orbit = GRAPHLET_ORBITS[(sub.number_of_edges(), tuple(sorted(degrees.values())))]
        for v, d in degrees.items():
            counts[index[v], orbit[d]] += 1
    return counts


def statistics_table(graphs: list[nx.Graph], orbit_graphs: list[nx.Graph]) -> None:
    rows = [("degree", graphs, degree_peer, stats.degree_pmf),
            ("clustering", graphs, clustering_peer, stats.clustering_pmf),
            ("orbits", orbit_graphs, orbits_peer, stats.orbit_counts)]
    print(f"{'statistic':<11}{'graphs':>7}{'peer CPU s':>12}{'ours CPU s':>12}{'ratio':>8}  identical")
    for name, gs, peer, ours in rows:
        same = all(np.array_equal(peer(g), ours(g)) for g in gs)
        t_peer, t_ours = interleaved([lambda: [peer(g) for g in gs], lambda: [ours(g) for g in gs]], 3)
        print(f"{name:<11}{len(gs):>7}{t_peer['cpu_best']:>12.4f}{t_ours['cpu_best']:>12.4f}"
              f"{t_peer['cpu_best'] / t_ours['cpu_best']:>7.1f}×  {'yes' if same else 'NO'}")


def mmd_table(n: int) -> None:
    a = stats.graph_statistics(data.community_graphs(n, 0))
    b = stats.graph_statistics(data.community_graphs(n, 1))
    print(f"{'statistic':<11}{'vectorised s':>14}{'loop s':>10}{'speed-up':>10}{'|Δ MMD²|':>12}")
    for stat in stats.STATISTICS:
        fast, _ = best_of(lambda: stats.mmd(stat, a[stat], b[stat]), 3)
        slow, _ = best_of(lambda: stats.mmd_loop(stat, a[stat], b[stat]), 1)
        diff = abs(stats.mmd(stat, a[stat], b[stat]) - stats.mmd_loop(stat, a[stat], b[stat]))
        print(f"{stat:<11}{fast:>14.4f}{slow:>10.2f}{slow / fast:>9.0f}×{diff:>12.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", type=int, default=200, help="graphs per set (two sets)")
    parser.add_argument("--orbit-graphs", type=int, default=20, help="graphs for the orbit-count row (the peer is slow)")
    parser.add_argument("--mmd-graphs", type=int, default=200, help="graphs per set for the MMD table (the loop is slow)")
    args = parser.parse_args()
    graphs = data.community_graphs(args.graphs, 0)
    print(f"Statistics of {args.graphs} two-community graphs (12-20 nodes), CPU seconds, best of 3 interleaved")
    statistics_table(graphs, graphs[: args.orbit_graphs])
    print(f"\nMMD² between two sets of {args.mmd_graphs} graphs, wall seconds")
    mmd_table(args.mmd_graphs)


if __name__ == "__main__":
    main()
