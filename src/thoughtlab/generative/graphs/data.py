"""Two-community graphs (GraphRNN's ``community`` generator, You et al. 2018, ``create_graphs.py``) and the
density-matched Erdős–Rényi baseline.

Each graph has two communities, each G(n_c, p = 0.7); every pair of nodes across them is linked with
p_inter = 0.01, and one cross edge is forced if none appeared.  GraphRNN draws the community sizes once
per dataset; to span the paper's community-small range (12 ≤ |V| ≤ 20) we draw each community's size
per graph from {6, …, 10} (our difference, stated).
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from thoughtlab.errors import BadInput

P_INTRA = 0.7
P_INTER = 0.01
SIZES = (6, 10)
MAX_NODES = 2 * SIZES[1]


def community_graph(rng: np.random.Generator, sizes: tuple[int, int], p_intra: float = P_INTRA,
                    p_inter: float = P_INTER) -> nx.Graph:
    """One two-community graph with the given community sizes."""
    n1, n2 = sizes
    graph = nx.Graph()
    graph.add_nodes_from(range(n1 + n2))
    blocks = (range(n1), range(n1, n1 + n2))
    for block in blocks:
        nodes = list(block)
        for i, u in enumerate(nodes):
            for v in nodes[i + 1:]:
                if rng.random() < p_intra:
                    graph.add_edge(u, v)
    cross = [(u, v) for u in blocks[0] for v in blocks[1] if rng.random() < p_inter]
    if not cross:
        cross = [(int(rng.integers(n1)), int(n1 + rng.integers(n2)))]
    graph.add_edges_from(cross)
    return graph


def community_graphs(count: int, seed: int) -> list[nx.Graph]:
    """``count`` graphs, community sizes drawn per graph from {6..10}."""
    if count < 1:
        raise BadInput(f"graph count must be positive, got {count}")
    rng = np.random.default_rng(seed)
    return [community_graph(rng, tuple(int(s) for s in rng.integers(SIZES[0], SIZES[1] + 1, size=2))) for _ in range(count)]


def density(graphs: list[nx.Graph]) -> float:
    """Mean edge density |E| / C(|V|, 2) over graphs."""
    return float(np.mean([nx.density(g) for g in graphs]))


def erdos_renyi_like(graphs: list[nx.Graph], count: int, seed: int) -> list[nx.Graph]:
    """G(n, p) graphs with n drawn from ``graphs``' sizes and p their mean density (the trivial baseline)."""
    rng = np.random.default_rng(seed)
    sizes = [g.number_of_nodes() for g in graphs]
    p = density(graphs)
    return [nx.gnp_random_graph(int(rng.choice(sizes)), p, seed=int(rng.integers(2**31))) for _ in range(count)]


def bfs_order(graph: nx.Graph, rng: np.random.Generator) -> list[int]:
    """Nodes in BFS order from a random start (GraphRNN's ordering), components one after another."""
    order: list[int] = []
    remaining = set(graph.nodes())
    while remaining:
        start = int(rng.choice(sorted(remaining)))
        component = [start] + [v for _, v in nx.bfs_edges(graph, start)]
        order += component
        remaining -= set(component)
    return order


def to_adjacency(graphs: list[nx.Graph], size: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Dense adjacency (B, size, size), nodes in BFS order if ``rng`` is given else sorted, padded with isolated nodes."""
    out = np.zeros((len(graphs), size, size), dtype=np.float32)
    for k, g in enumerate(graphs):
        if g.number_of_nodes() > size:
            raise BadInput(f"graph with {g.number_of_nodes()} nodes exceeds the model's {size}; raise max nodes")
        order = bfs_order(g, rng) if rng is not None else sorted(g.nodes())
        out[k, : len(order), : len(order)] = nx.to_numpy_array(g, nodelist=order)
    return out


def from_adjacency(adj: np.ndarray) -> list[nx.Graph]:
    """Graphs from binary adjacency matrices, isolated nodes removed (padding and unused nodes)."""
    graphs = []
    for a in adj:
        g = nx.from_numpy_array(np.triu(a, 1) + np.triu(a, 1).T)
        g.remove_nodes_from([v for v, d in dict(g.degree()).items() if d == 0])
        graphs.append(nx.convert_node_labels_to_integers(g))
    return graphs
