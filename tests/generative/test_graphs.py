"""Graph statistics (GraphRNN MMDs, brute-force orbits), community data, ER baseline, GAN and MADE models."""

from itertools import combinations

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from scipy.stats import wasserstein_distance

from thoughtlab.errors import BadInput
from thoughtlab.generative.graphs import data as D
from thoughtlab.generative.graphs import models as M
from thoughtlab.generative.graphs import stats as S
from thoughtlab.train import Hook

# The connected 4-node graphlets with each node's orbit (Pržulj 2007, fig. 1), as edge lists on 0..3.
TEMPLATES = {
    "path": ([(0, 1), (1, 2), (2, 3)], [4, 5, 5, 4]),
    "star": ([(0, 1), (0, 2), (0, 3)], [7, 6, 6, 6]),
    "cycle": ([(0, 1), (1, 2), (2, 3), (3, 0)], [8, 8, 8, 8]),
    "paw": ([(0, 1), (1, 2), (2, 0), (2, 3)], [10, 10, 11, 9]),
    "diamond": ([(0, 1), (1, 2), (2, 0), (1, 3), (2, 3)], [12, 13, 13, 12]),
    "k4": ([(a, b) for a, b in combinations(range(4), 2)], [14, 14, 14, 14]),
}


def reference_orbits(graph):
    """Orbits 4..14 by networkx isomorphism to the templates (independent of the vectorised code)."""
    counts = np.zeros((graph.number_of_nodes(), S.ORBITS), int)
    for sub in combinations(sorted(graph), 4):
        h = graph.subgraph(sub)
        for edges, orbits in TEMPLATES.values():
            matcher = nx.isomorphism.GraphMatcher(h, nx.Graph(edges))
            if matcher.is_isomorphic():
                for node, t in matcher.mapping.items():
                    counts[node, orbits[t]] += 1
                break
    return counts


@pytest.mark.parametrize("seed", range(4))
def test_four_node_orbits_match_isomorphism_reference(seed):
    graph = nx.gnp_random_graph(9, 0.3 + 0.1 * seed, seed=seed)
    assert np.array_equal(S.orbit_counts(graph)[:, 4:], reference_orbits(graph)[:, 4:])


def test_small_orbits_on_known_graphs():
    k4 = S.orbit_counts(nx.complete_graph(4))
    assert (k4[:, 0] == 3).all() and (k4[:, 3] == 3).all() and (k4[:, 14] == 1).all() and k4[:, [1, 2]].sum() == 0
    c4 = S.orbit_counts(nx.cycle_graph(4))
    assert (c4[:, 1] == 2).all() and (c4[:, 2] == 1).all() and (c4[:, 8] == 1).all()


def test_orbit_counts_refuse_large_graphs():
    with pytest.raises(BadInput, match="20 nodes"):
        S.orbit_counts(nx.path_graph(21))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=12), st.lists(st.floats(0, 1), min_size=2, max_size=12),
       st.sampled_from(["degree", "clustering"]))
def test_cdf_emd_kernel_equals_scipy_wasserstein_and_pyemd(p, q, stat):
    p, q = np.array(p) + 1e-3, np.array(q) + 1e-3
    p, q = p / p.sum(), q / q.sum()
    width = max(len(p), len(q))
    x, y = S._pad([p], width), S._pad([q], width)
    support = np.arange(width) * (0.01 if stat == "clustering" else 1.0)
    d = wasserstein_distance(support, support, x[0], y[0])
    # pyemd's cpp solver (GraphRNN's) rounds masses and costs to integers at MULT_FACTOR = 10⁶ (emd_hat_impl.hpp),
    # so it matches scipy's exact 1-D EMD to (bins + 1)·10⁻⁶ of the largest ground distance, not relatively
    quantisation = (width + 1) * 1e-6 * support[-1]
    assert S.emd(x[0], y[0], support[1]) == pytest.approx(d, rel=0, abs=quantisation + 1e-12)
    assert S.kernel_matrix(stat, x, y)[0, 0] == pytest.approx(np.exp(-d * d / (2 * S.SIGMA[stat] ** 2)), abs=1e-12)


def test_vectorised_mmd_equals_the_pair_loop_and_is_zero_on_itself():
    a = S.graph_statistics(D.community_graphs(12, 0))
    b = S.graph_statistics([nx.gnp_random_graph(15, 0.3, seed=s) for s in range(10)])
    for stat in S.STATISTICS:
        assert S.mmd(stat, a[stat], b[stat]) == pytest.approx(S.mmd_loop(stat, a[stat], b[stat]), abs=1e-5)  # pyemd's cpp solver: ~1e-6 relative
        assert S.mmd(stat, a[stat], a[stat]) == pytest.approx(0.0, abs=1e-12)
        assert S.mmd(stat, a[stat], b[stat]) > 0


def test_empty_generated_graphs_are_dropped_and_all_empty_is_an_error():
    ref = S.graph_statistics(D.community_graphs(5, 0))
    some = S.mmds(ref, [nx.empty_graph(3)] + D.community_graphs(5, 0))
    assert all(v == pytest.approx(0, abs=1e-12) for v in some.values())
    with pytest.raises(BadInput, match="empty"):
        S.mmds(ref, [nx.empty_graph(4)])


def test_community_graphs_follow_the_generator_settings():
    graphs = D.community_graphs(60, 3)
    assert all(12 <= g.number_of_nodes() <= 20 for g in graphs)
    assert all(nx.number_connected_components(g) == 1 or g.number_of_edges() > 0 for g in graphs)
    assert D.community_graphs(3, 1)[0].edges == D.community_graphs(3, 1)[0].edges
    blocks = [(6, 7), (10, 10)]
    dens = [nx.density(D.community_graph(np.random.default_rng(s), sz, p_inter=0.0).subgraph(range(sz[0])))
            for s in range(40) for sz in blocks]
    assert np.mean(dens) == pytest.approx(0.7, abs=0.03)


def test_erdos_renyi_baseline_matches_density_and_sizes():
    graphs = D.community_graphs(50, 0)
    er = D.erdos_renyi_like(graphs, 200, 1)
    assert D.density(er) == pytest.approx(D.density(graphs), abs=0.02)
    assert {g.number_of_nodes() for g in er} <= {g.number_of_nodes() for g in graphs}


def test_adjacency_round_trip_and_bad_sizes():
    graphs = D.community_graphs(4, 0)
    back = D.from_adjacency(D.to_adjacency(graphs, 20, np.random.default_rng(0)))
    assert all(nx.is_isomorphic(a, b) for a, b in zip(graphs, back))
    with pytest.raises(BadInput, match="exceeds"):
        D.to_adjacency([nx.path_graph(21)], 20)
    with pytest.raises(BadInput, match="positive"):
        D.community_graphs(0, 0)


def test_discriminator_is_permutation_invariant():
    adj = torch.from_numpy(D.to_adjacency(D.community_graphs(3, 0), 20))
    perm = torch.randperm(20, generator=torch.Generator().manual_seed(0))
    disc = M.InvariantDiscriminator()
    assert torch.allclose(disc(adj), disc(adj[:, perm][:, :, perm]), atol=1e-5)


def test_generator_edges_are_binary_symmetric_and_within_sampled_sizes():
    gen = M.EdgeGenerator(20, torch.tensor([12, 15]))
    adj = gen(8, torch.Generator().manual_seed(0))
    assert torch.equal(adj, adj.transpose(1, 2)) and set(adj.unique().tolist()) <= {0.0, 1.0}
    assert (adj[:, 15:, :] == 0).all()
    adj.sum().backward()
    assert gen.net[0].weight.grad.abs().sum() > 0  # straight-through: gradients reach the generator


def test_edges_are_listed_node_by_node_and_node_counts_skip_padding():
    i, j = M.edge_index(4)
    assert list(zip(i.tolist(), j.tolist())) == [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
    gap = nx.empty_graph(3)
    gap.add_edge(0, 2)  # node 1 is isolated but inside the graph: it still counts
    adj = D.to_adjacency([gap, nx.complete_graph(5)], 7)
    assert M.node_counts(adj).tolist() == [3, 5]
    assert torch.equal(M.to_matrix(M.edge_vectors(adj), 7), torch.from_numpy(adj))


def test_made_is_autoregressive_size_conditioned_and_size_matched():
    made = M.EdgeMADE(5, 8, torch.tensor([3, 5]))
    x = torch.rand(1, 10, requires_grad=True)
    n = torch.tensor([5])
    jac = torch.autograd.functional.jacobian(lambda v: made.logits(v, n), x)[0, :, 0, :]
    assert torch.all(torch.triu(jac) == 0)  # logit d depends only on inputs < d
    assert not torch.allclose(made.logits(x, n), made.logits(x, torch.tensor([3])))  # ... and on n
    drawn = M.to_matrix(M.EdgeMADE(5, 8, torch.tensor([3])).sample(50, torch.Generator().manual_seed(0)), 5)
    assert drawn[:, :3, :3].sum() > 0 and (drawn[:, 3:, :] == 0).all()  # edges only among the n = 3 nodes
    gen = M.EdgeGenerator(20, torch.tensor([12]))
    made = M.EdgeMADE(20, M.made_hidden_matching(gen), torch.tensor([12]))
    assert abs(M.parameter_count(made) - M.parameter_count(gen)) / M.parameter_count(gen) < 0.02


def test_made_learns_and_gan_trains_on_tiny_data():
    graphs = D.community_graphs(20, 0)
    adj = D.to_adjacency(graphs, 20, np.random.default_rng(0))
    made = M.train_made(adj, 16, 150, 16, 0, lr=3e-3).models["made"]
    data, n = M.edge_vectors(adj), M.node_counts(adj)
    assert made.nll(data, n) < M.EdgeMADE(20, 16, n).nll(data, n) * 0.7
    seen = []
    gan = M.train_gan(adj, 6, 8, 0, hooks=[Hook({3, 6}, lambda st: seen.append(st.step))])
    assert seen == [3, 6] and M.sample_gan(gan.models["gen"], 4, 0).shape == (4, 20, 20)


@pytest.mark.parametrize("model", ["gan", "made"])
def test_training_resumes_bit_exactly(model, tmp_path):
    adj = D.to_adjacency(D.community_graphs(8, 0), 20, np.random.default_rng(0))

    def fitted(steps, checkpoint=None):
        if model == "gan":
            return M.train_gan(adj, steps, 4, 1, checkpoint=checkpoint)
        return M.train_made(adj, 8, steps, 4, 1, checkpoint=checkpoint)

    straight = fitted(4)
    assert fitted(2, tmp_path / "m.pt").step == 2
    resumed = fitted(4, tmp_path / "m.pt")
    for name, net in straight.models.items():
        for a, b in zip(net.state_dict().values(), resumed.models[name].state_dict().values()):
            assert torch.equal(a, b)
